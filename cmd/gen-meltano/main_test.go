package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/tap"
)

// TestGeneratedFilesFresh fails when the committed Meltano definition no
// longer matches the config schema: run `go run ./cmd/gen-meltano`.
func TestGeneratedFilesFresh(t *testing.T) {
	t.Parallel()
	hub, lock, err := render()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{hubFile: hub, lockFile: lock} {
		got, err := os.ReadFile(filepath.Join("..", "..", path))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s is stale (%v): run `go run ./cmd/gen-meltano` (or make generate). Want:\n%s", path, err, want)
		}
	}
}

func TestDefinition(t *testing.T) {
	t.Parallel()
	p, err := definition()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Setting{}
	for _, s := range p.Settings {
		byName[s.Name] = s
	}
	for _, s := range tap.Settings() {
		ms, ok := byName[s.Name]
		if !ok {
			t.Errorf("%s: missing", s.Name)
			continue
		}
		if ms.Sensitive != s.Secret {
			t.Errorf("%s: sensitive %v, secret %v", s.Name, ms.Sensitive, s.Secret)
		}
		if ms.Description == "" || ms.Label == "" {
			t.Errorf("%s: no description or label", s.Name)
		}
	}
	if len(byName) != len(tap.Settings()) {
		t.Errorf("%d settings, schema has %d", len(byName), len(tap.Settings()))
	}
	for name, kind := range map[string]string{"client_id": "string", "start_date": "date_iso8601", "conversion_report_time": "options",
		"ad_account_ids": "array", "analytics_lookback_days": "integer"} {
		if byName[name].Kind != kind {
			t.Errorf("%s: kind %s, want %s", name, byName[name].Kind, kind)
		}
	}
	if !byName["client_secret"].Sensitive || !byName["refresh_token"].Sensitive || byName["client_id"].Sensitive {
		t.Error("client_secret and refresh_token, and only they, are sensitive")
	}
	if g := p.SettingsGroupValidation; len(g) != 1 || len(g[0]) != 3 {
		t.Errorf("settings_group_validation %v, want the three required settings", g)
	}
	if label("ad_account_ids") != "Ad Account IDs" || label("base_url") != "Base URL" {
		t.Error("label")
	}
}

package main

import (
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/catalog"
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

// TestDefaultSelect keeps the definition's select equal to the stream table:
// every stream selected by default, and no other (not pin_analytics, no
// report stream), each with all its properties; and custom_*.*, the custom
// reports a config asks for (selected by default too), a pattern no row of
// the table matches.
func TestDefaultSelect(t *testing.T) {
	t.Parallel()
	p, err := definition()
	if err != nil {
		t.Fatal(err)
	}
	sel := map[string]bool{}
	for _, pat := range p.Select {
		if sel[pat] {
			t.Errorf("select: %s twice", pat)
		}
		sel[pat] = true
	}
	n := 1 // customPattern
	if !sel[customPattern+".*"] {
		t.Errorf("select lacks %s.*", customPattern)
	}
	for _, name := range []string{tap.CustomStreamName("My Spend"), tap.CustomStreamName("x")} {
		if ok, _ := path.Match(customPattern, name); !ok {
			t.Errorf("custom report stream %s does not match %s", name, customPattern)
		}
	}
	for _, s := range catalog.Streams {
		if ok, _ := path.Match(customPattern, s.Name); ok {
			t.Errorf("%s matches %s, the custom reports' pattern", s.Name, customPattern)
		}
		if s.SelectedByDefault != sel[s.Name+".*"] {
			t.Errorf("%s: selected by default %v, in the definition's select %v", s.Name, s.SelectedByDefault, sel[s.Name+".*"])
		}
		if s.SelectedByDefault {
			n++
		}
	}
	if n != len(sel) || n <= 1 {
		t.Errorf("select has %d patterns, the table %d streams selected by default", len(sel), n)
	}
	for _, name := range []string{"pin_analytics", "advertiser_report"} {
		if sel[name+".*"] {
			t.Errorf("%s must not be selected by default", name)
		}
	}
}

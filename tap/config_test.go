package tap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const minimalConfig = `{"client_id":"id","client_secret":"s3cret-value","refresh_token":"rt-value-123"}`

func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		env        []string
		want       string // substring of the one-line error
	}{
		{"not json", `{"client_id":`, nil, "is not a JSON object"},
		{"array", `[1]`, nil, "is not a JSON object"},
		{"missing secrets", `{"client_id":"x"}`, nil, `missing "client_secret", "refresh_token"`},
		{"bad date", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","start_date":"2026-13-01"}`, nil, `setting "start_date": "2026-13-01" is not a date`},
		{"wrong type", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","analytics_lookback_days":"x"}`, nil, `setting "analytics_lookback_days"`},
		{"bad enum", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","entity_statuses":["LIVE"]}`, nil, `entity_statuses`},
		{"bad window", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","click_window_days":5}`, nil, `click_window_days`},
		{"end before start", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","start_date":"2026-02-01","end_date":"2026-01-01"}`, nil, "is before start_date"},
		{"bad column", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","analytics_columns":["NOPE"]}`, nil, `"NOPE" is not a column`},
		{"bad targeting type", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","targeting_types":["AGE"]}`, nil, `targeting_types`},
		{"bad env int", minimalConfig, []string{"TAP_PINTEREST_MAX_CONCURRENCY=many"}, "TAP_PINTEREST_MAX_CONCURRENCY"},
		{"bad base url", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","base_url":"ftp://x"}`, nil, "base_url"},
		{"plain http elsewhere", `{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","base_url":"http://api.example.com/v5"}`, nil, `setting "base_url": "http://api.example.com/v5" is plain http:// to another machine`},
		{"plain http by ip", minimalConfig, []string{"TAP_PINTEREST_BASE_URL=http://10.1.2.3:8080/v5"}, "set allow_insecure_http to true"},
		{"plain http allowed badly", minimalConfig, []string{"TAP_PINTEREST_BASE_URL=http://10.1.2.3/v5", "TAP_PINTEREST_ALLOW_INSECURE_HTTP=maybe"}, "TAP_PINTEREST_ALLOW_INSECURE_HTTP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, t.TempDir(), "config.json", tc.body)
			_, err := LoadConfig([]string{p}, tc.env)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if _, ok := err.(*UsageError); !ok {
				t.Errorf("error %T is not a usage error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			for _, secret := range []string{"bbbbbb", "cccccc", "s3cret-value", "rt-value-123"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret: %q", err)
				}
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig([]string{filepath.Join(t.TempDir(), "nope.json")}, nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadConfigMergeAndDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeFile(t, dir, "a.json", `{"client_id":"first","client_secret":"secret1","refresh_token":"token1","start_date":"2026-01-01","mystery":1}`)
	b := writeFile(t, dir, "b.json", `{"client_id":"second","end_date":"2026-02-01T10:00:00Z"}`)
	cfg, err := LoadConfig([]string{a, b}, []string{"TAP_PINTEREST_AD_ACCOUNT_IDS=1,2", "TAP_PINTEREST_VIEW_WINDOW_DAYS=7", "OTHER=1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientID != "second" {
		t.Errorf("later file must win: client_id = %q", cfg.ClientID)
	}
	if got := cfg.EndDate.Format(time.DateOnly); got != "2026-02-01" {
		t.Errorf("end_date = %s", got)
	}
	if strings.Join(cfg.AdAccountIDs, ",") != "1,2" || cfg.ViewWindowDays != 7 {
		t.Errorf("env not applied: %v %d", cfg.AdAccountIDs, cfg.ViewWindowDays)
	}
	if strings.Join(cfg.EntityStatuses, ",") != "ACTIVE,PAUSED,ARCHIVED,DRAFT" {
		t.Errorf("default entity_statuses = %v", cfg.EntityStatuses)
	}
	if cfg.AnalyticsLookbackDays != 30 || cfg.ClickWindowDays != 30 || cfg.EngagementWindowDays != 30 || cfg.ConversionReportTime != "TIME_OF_AD_ACTION" {
		t.Errorf("defaults: %+v", cfg)
	}
	if len(cfg.AnalyticsColumns) != 175 {
		t.Errorf("default analytics columns = %d", len(cfg.AnalyticsColumns))
	}
	if cfg.BaseURL != "https://api.pinterest.com/v5" || cfg.RatePerMinute["ads_analytics"] != 300 || cfg.MaxRetryWait != 600*time.Second {
		t.Errorf("defaults: %s %v %s", cfg.BaseURL, cfg.RatePerMinute, cfg.MaxRetryWait)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], `unknown setting "mystery"`) {
		t.Errorf("warnings = %q", cfg.Warnings)
	}
}

// SecretSettings (a test helper) are the settings whose values must never be printed.
func SecretSettings() []string {
	var out []string
	for _, s := range Settings() {
		if s.Secret {
			out = append(out, s.Name)
		}
	}
	return out
}

func TestSettingsAndSecrets(t *testing.T) {
	t.Parallel()
	s := Settings()
	if len(s) < 20 || s[0].Name != "client_id" {
		t.Fatalf("settings = %+v", s)
	}
	got := strings.Join(SecretSettings(), ",")
	if got != "client_secret,refresh_token" {
		t.Errorf("secret settings = %s", got)
	}
}

// The missing-setting error is typed, so that --discover can go on without
// credentials without matching on the message.
func TestMissingSettingIsTyped(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]bool{
		`{"client_id":"x"}`: true,
		`{"client_id":" ","client_secret":"bbbbbb","refresh_token":"cccccc"}`:                           true,
		`{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","start_date":"2026-13-01"}`: false,
	} {
		_, err := LoadConfig([]string{writeFile(t, t.TempDir(), "config.json", body)}, nil)
		var ue *UsageError
		if !errors.As(err, &ue) || errors.Is(err, ErrMissingSetting) != want {
			t.Errorf("%s: err = %v, want a UsageError with errors.Is(ErrMissingSetting) = %v", body, err, want)
		}
	}
}

// TestPlainHTTPAllowed: plain http:// is fine to this machine, and to
// another one only with allow_insecure_http (issue 14 item 8).
func TestPlainHTTPAllowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base string
		env  []string
	}{
		{"http://127.0.0.1:8080/v5", nil},
		{"http://localhost:1/v5", nil},
		{"http://[::1]:8080/v5", nil},
		{"https://api.example.com/v5", nil},
		{"http://api.example.com/v5", []string{"TAP_PINTEREST_ALLOW_INSECURE_HTTP=true"}},
	} {
		p := writeFile(t, t.TempDir(), "config.json", minimalConfig)
		cfg, err := LoadConfig([]string{p}, append([]string{"TAP_PINTEREST_BASE_URL=" + tc.base}, tc.env...))
		if err != nil || cfg.BaseURL != tc.base {
			t.Errorf("%s %v: %v", tc.base, tc.env, err)
		}
	}
}

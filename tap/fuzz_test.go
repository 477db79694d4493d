package tap

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

// FuzzLoadConfig: no config file, whatever its bytes, makes LoadConfig panic;
// every rejection is a UsageError.
func FuzzLoadConfig(f *testing.F) {
	for _, s := range []string{
		minimalConfig,
		`{"client_id":"a","client_secret":"bbbbbb","refresh_token":"cccccc","start_date":"2026-01-01","ad_account_ids":["1"],"entity_statuses":["ACTIVE"]}`,
		`{"client_id":1}`, `[]`, `null`, `{"start_date":{}}`, `{"analytics_columns":[null]}`, "\x00", `{"max_concurrency":1e400}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "c.json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Skip()
		}
		cfg, err := LoadConfig([]string{p}, nil)
		if err != nil {
			if _, ok := err.(*UsageError); !ok {
				t.Fatalf("not a usage error: %T %v", err, err)
			}
			return
		}
		if cfg.ClientID == "" || cfg.MaxConcurrency < 1 || len(cfg.AnalyticsColumns) == 0 {
			t.Fatalf("accepted an unusable config: %+v", cfg)
		}
	})
}

// FuzzParseState: no state file makes ParseState panic, and what it accepts
// survives a round trip.
func FuzzParseState(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"bookmarks":{"campaigns":{"partitions":[{"context":{"ad_account_id":"7"},"replication_key":"updated_time","replication_key_value":1700000000}]}}}`,
		`{"type":"STATE","value":{"bookmarks":{"ad_analytics":{"partitions":[{"context":{"ad_account_id":"1"},"replication_key":"DATE","replication_key_value":"2026-10-01"}]}}}}`,
		`{"bookmarks":{"user_account_analytics":{"replication_key_value":"2026-10-01"}}}`, `{"bookmarks":null}`, `{"bookmarks":{"campaigns":{"replication_key_value":"x"}}}`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseState(b, "state.json")
		if err != nil {
			if _, ok := err.(*UsageError); !ok {
				t.Fatalf("not a usage error: %T %v", err, err)
			}
			return
		}
		c := st.clone()
		if c == nil {
			t.Fatal("accepted state does not round-trip")
		}
		for i := range catalog.Streams {
			st.get(&catalog.Streams[i], "1")
		}
	})
}

package tap

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

func TestCustomStreamName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"My Spend":           "custom_my_spend",
		"my_spend":           "custom_my_spend",
		"  Spend -- by DAY ": "custom_spend_by_day",
		"vadim_report":       "custom_vadim_report",
		"CTR%/2026":          "custom_ctr_2026",
		"Été 2026":           "custom_t_2026",
		"!!!":                "",
	} {
		if got := CustomStreamName(in); got != want {
			t.Errorf("CustomStreamName(%q) = %q, want %q", in, got, want)
		}
	}
}

// customConfig loads a config with the given custom_reports.
func customConfig(t *testing.T, reports string) *Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	body := fixtures.DemoConfig("http://127.0.0.1:9/v5", `,"custom_reports":`+reports)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig([]string{p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestCustomReportDiscover(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		report string
		level  string
		stream string
		keys   []string
		props  []string
	}{
		{`{"name":"My Spend","level":"CAMPAIGN","granularity":"DAY","columns":["SPEND_IN_DOLLAR","TOTAL_IMPRESSION"]}`, "CAMPAIGN",
			"custom_my_spend", []string{"CAMPAIGN_ID", "DATE"}, []string{"CAMPAIGN_ID", "DATE", "SPEND_IN_DOLLAR", "TOTAL_IMPRESSION"}},
		{`{"name":"ads","level":"PIN_PROMOTION","granularity":"DAY","columns":["CTR","CTR"]}`, "PIN_PROMOTION",
			"custom_ads", []string{"AD_ID", "DATE"}, []string{"AD_ID", "CTR", "DATE"}},
		{`{"name":"Gender split","level":"AD_GROUP_TARGETING","granularity":"DAY","columns":["TOTAL_CLICKTHROUGH"],"targeting_types":["GENDER"]}`, "AD_GROUP_TARGETING",
			"custom_gender_split", []string{"AD_GROUP_ID", "DATE", "TARGETING_TYPE", "TARGETING_VALUE"},
			[]string{"AD_GROUP_ID", "DATE", "TARGETING_TYPE", "TARGETING_VALUE", "TOTAL_CLICKTHROUGH"}},
	} {
		t.Run(tc.stream, func(t *testing.T) {
			t.Parallel()
			cat, err := Discover(customConfig(t, "["+tc.report+"]"))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(cat.Streams); n != len(catalog.Streams)+1 {
				t.Fatalf("%d streams, want the %d of the table and the custom report", n, len(catalog.Streams)+1)
			}
			e := cat.Find(tc.stream)
			if e == nil {
				t.Fatalf("no stream %s", tc.stream)
			}
			props, err := catalog.SchemaProperties(e.Schema)
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(props)
			root := e.Metadata[0].Metadata
			if !slices.Equal(e.KeyProperties, tc.keys) || !slices.Equal(props, tc.props) || e.ReplicationKey != "DATE" ||
				e.ReplicationMethod != "INCREMENTAL" || root[catalog.SelectedByDefault] != true {
				t.Errorf("keys %v props %v replication %s %s root %v; want keys %v props %v, INCREMENTAL on DATE, selected by default",
					e.KeyProperties, props, e.ReplicationKey, e.ReplicationMethod, root, tc.keys, tc.props)
			}
			// Typed from the spec: as the level's report stream types them.
			var got, base struct{ Properties map[string]any }
			levelSchema, _ := catalog.Schema(catalog.ReportLevelStream(tc.level).Name)
			_ = json.Unmarshal(e.Schema, &got)
			_ = json.Unmarshal(levelSchema, &base)
			for p, typ := range got.Properties {
				if fmt.Sprint(typ) != fmt.Sprint(base.Properties[p]) {
					t.Errorf("%s: type %s, the level's report stream has %s", p, typ, base.Properties[p])
				}
			}
		})
	}
}

// customKeys are a custom stream's record keys as ExpectReport writes them.
func customKeys(t *testing.T, keyProps []string, recs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(keyProps))
		for i, k := range keyProps {
			parts[i] = fmt.Sprint(m[k])
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

// TestCustomReportSync syncs custom reports from the fake's report API:
// exactly the rows ExpectReport says, once each; statuses beyond 6 at a
// level below the filter make two reports a span and the same rows; the
// next run re-reads the attribution look-back only.
func TestCustomReportSync(t *testing.T) {
	t.Parallel()
	eight := `["RUNNING","PAUSED","NOT_STARTED","COMPLETED","ADVERTISER_DISABLED","ARCHIVED","DRAFT","DELETED_DRAFT"]`
	for _, tc := range []struct {
		name, level, granularity, extra string
		reportsPerSpan                  int
	}{
		{"spend", "CAMPAIGN", "DAY", "", 1},
		{"groups", "AD_GROUP", "DAY", `,"campaign_statuses":` + eight + `,"attribution_types":["INDIVIDUAL"],"view_window_days":7`, 2},
		{"targeting", "AD_GROUP_TARGETING", "DAY", "", 1},
		{"weekly", "CAMPAIGN", "WEEK", "", 1},
		{"monthly", "PIN_PROMOTION", "MONTH", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, fixtures.Small, fixtures.Options{RecordRequests: true, Reports: fixtures.ReportOptions{Polls: 1}})
			today := time.Now().UTC().Truncate(24 * time.Hour)
			start := today.AddDate(0, 0, -200)
			acc := srv.Dataset().AdAccountIDs()[0]
			reports := fmt.Sprintf(`[{"name":%q,"level":%q,"granularity":%q,"columns":["SPEND_IN_DOLLAR","TOTAL_IMPRESSION"]%s}]`, tc.name, tc.level, tc.granularity, tc.extra)
			stream := "custom_" + tc.name
			cfg := fmt.Sprintf(`,"start_date":%q,"ad_account_ids":[%q],"custom_reports":%s`, start.Format(time.DateOnly), acc, reports)
			cat, err := Discover(customConfig(t, reports))
			if err != nil {
				t.Fatal(err)
			}
			selectStreams(cat, stream)
			keyProps := cat.Find(stream).KeyProperties
			_, yesterday := analyticsRange(time.Now())
			first := runSync(t, srv, runOpts{catalog: cat, config: cfg})
			if first.err != nil {
				t.Fatalf("%v\n%s", first.err, first.logs)
			}
			rep := &catalog.Report{Granularity: tc.granularity}
			want := expectPeriods(t, srv, rep, tc.level, rep.PeriodStart(start), yesterday, acc)
			if got := customKeys(t, keyProps, first.records[stream]); !slices.Equal(got, want) || len(got) == 0 {
				missing, extra, dups := fixtures.DiffKeys(got, want)
				t.Errorf("%d records, want %d; missing %v, extra %v, twice %v", len(got), len(want), head(missing), head(extra), head(dups))
			}
			if n := srv.CountByOp()[catalog.ReportCreateOp]; n != 2*tc.reportsPerSpan {
				t.Errorf("%d reports created, want %d (200 days: two spans)", n, 2*tc.reportsPerSpan)
			}
			if w := first.final.CheckSelected(mustSelect(t, cat, customConfig(t, reports)), "state.json"); w != "" {
				t.Errorf("the custom report's bookmark is not seen as the selected stream's: %s", w)
			}
			srv.Reset()
			second := runSync(t, srv, runOpts{catalog: cat, config: cfg, state: first.final})
			if second.err != nil {
				t.Fatal(second.err)
			}
			ready, _ := time.Parse(time.DateOnly, srv.LastReadyDay())
			want = expectPeriods(t, srv, rep, tc.level, rep.PeriodStart(ready.AddDate(0, 0, -30)), yesterday, acc)
			if got := customKeys(t, keyProps, second.records[stream]); !slices.Equal(got, want) {
				t.Errorf("incremental run: %d records, want the %d of the look-back", len(got), len(want))
			}
			if n := srv.CountByOp()[catalog.ReportCreateOp]; n != tc.reportsPerSpan {
				t.Errorf("incremental run: %d reports created, want %d", n, tc.reportsPerSpan)
			}
		})
	}
}

// expectPeriods are the keys of the fake's DAY rows over [start, end] with
// each DATE made its period's first day, once each: the rows of reports of
// the period granularity from start (a period's first day).
func expectPeriods(t *testing.T, srv *fixtures.Server, rep *catalog.Report, level string, start, end time.Time, acc string) []string {
	t.Helper()
	days, err := srv.Dataset().ExpectReport(fixtures.ReportQuery{Level: level, Start: start, End: end, AdAccountIDs: []string{acc}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range days {
		parts := strings.Split(k, "|")
		day, _ := time.Parse(time.DateOnly, parts[1])
		parts[1] = rep.PeriodStart(day).Format(time.DateOnly)
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func mustSelect(t *testing.T, cat *catalog.Catalog, cfg *Config) *Selection {
	t.Helper()
	sel, err := Select(cat, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// selectStreams selects the named streams of a discovered catalog only.
func selectStreams(cat *catalog.Catalog, names ...string) {
	for i := range cat.Streams {
		e := &cat.Streams[i]
		e.Metadata[0].Metadata["selected"] = slices.Contains(names, e.Stream)
	}
}

// TestCustomReportBody: the create request carries the report's own
// parameters (lists as arrays, numbers as numbers) and each part's statuses.
func TestCustomReportBody(t *testing.T) {
	t.Parallel()
	cfg := customConfig(t, `[{"name":"x","level":"PIN_PROMOTION","granularity":"DAY","columns":["CTR"],"click_window_days":7,"conversion_report_time":"TIME_OF_CONVERSION","attribution_types":["HOUSEHOLD"],"ad_statuses":["APPROVED","PAUSED","PENDING","REJECTED","ARCHIVED","DRAFT","DELETED_DRAFT"],"ad_group_statuses":["RUNNING"]}]`)
	row := catalog.Find(cfg.Streams(), "custom_x")
	if len(row.Report.Parts) != 2 {
		t.Fatalf("%d parts, want 2 (7 ad statuses)", len(row.Report.Parts))
	}
	s := &Syncer{cfg: cfg}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ads []any
	for _, part := range row.Report.Parts {
		b, _ := json.Marshal(s.reportBody(&reportJob{p: &plan{s: row}, from: day, to: day, part: part}))
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		want := map[string]any{"level": "PIN_PROMOTION", "granularity": "DAY", "click_window_days": 7.0, "engagement_window_days": 30.0, "view_window_days": 1.0,
			"conversion_report_time": "TIME_OF_CONVERSION", "attribution_types": []any{"HOUSEHOLD"}, "ad_group_statuses": []any{"RUNNING"}, "columns": []any{"CTR"}}
		for k, v := range want {
			if fmt.Sprint(m[k]) != fmt.Sprint(v) {
				t.Errorf("%s: %v, want %v (body %s)", k, m[k], v, b)
			}
		}
		ads = append(ads, m["ad_statuses"].([]any)...)
	}
	if len(ads) != 7 {
		t.Errorf("the parts hold ad statuses %v, want the 7 once each", ads)
	}
}

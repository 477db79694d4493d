package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCustomReportErrors: a mistake in custom_reports stops the tap before
// any call: exit 2, one line naming the config file, the report and the
// field, with the nearest name where it is a typo.
func TestCustomReportErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := `"name":"Spend","granularity":"DAY","columns":["SPEND_IN_DOLLAR"]`
	seven := `["RUNNING","PAUSED","NOT_STARTED","COMPLETED","ADVERTISER_DISABLED","ARCHIVED","DRAFT"]`
	for _, tc := range []struct{ name, reports, want string }{
		{"unknown column", `[{"name":"Spend","level":"CAMPAIGN","granularity":"DAY","columns":["SPEND_IN_DOLAR"]}]`,
			`custom report "Spend": field "columns": "SPEND_IN_DOLAR" is not a column of the report API's CAMPAIGN reports (did you mean SPEND_IN_DOLLAR?)`},
		{"column the level refuses", `[{"name":"Items","level":"PRODUCT_ITEM","granularity":"DAY","columns":["AD_ID"]}]`,
			`custom report "Items": field "columns": PRODUCT_ITEM reports do not take the column "AD_ID"`},
		{"no columns", `[{"name":"Spend","level":"CAMPAIGN","granularity":"DAY","columns":[]}]`, `field "columns": list at least one column`},
		{"unknown level", `[{` + ok + `,"level":"CAMPAIGNS"}]`, `field "level": "CAMPAIGNS" is not a report level (did you mean CAMPAIGN?)`},
		{"missing level", `[{` + ok + `}]`, `custom report "Spend": field "level" is required`},
		{"granularity not supported", `[{"name":"Spend","level":"CAMPAIGN","granularity":"TOTAL","columns":["CTR"]}]`, `field "granularity": TOTAL is not supported: the tap keys and bookmarks report rows by their DATE`},
		{"unknown granularity", `[{"name":"Spend","level":"CAMPAIGN","granularity":"DAILY","columns":["CTR"]}]`, `field "granularity": "DAILY" is not one of`},
		{"seven statuses above the filter", `[{` + ok + `,"level":"ADVERTISER","campaign_statuses":` + seven + `}]`,
			`field "campaign_statuses": 7 values, but Pinterest takes at most 6 a report, and splitting them into several reports is not safe at level ADVERTISER`},
		{"unknown status", `[{` + ok + `,"level":"CAMPAIGN","ad_group_statuses":["RUNING"]}]`, `field "ad_group_statuses": "RUNING" is not one of`},
		{"ad statuses at PRODUCT_ITEM", `[{"name":"Items","level":"PRODUCT_ITEM","granularity":"DAY","columns":["CTR"],"ad_statuses":["APPROVED"]}]`, `field "ad_statuses": PRODUCT_ITEM reports take no ad_statuses`},
		{"targeting type on a plain level", `[{` + ok + `,"level":"CAMPAIGN","targeting_types":["GENDER"]}]`,
			`field "targeting_types": level CAMPAIGN does not split rows by targeting; use a level ending in _TARGETING`},
		{"six targeting types", `[{` + ok + `,"level":"CAMPAIGN_TARGETING","targeting_types":["GENDER","COUNTRY","GEO","REGION","APPTYPE","KEYWORD"]}]`, `field "targeting_types": 6 values, but Pinterest takes at most 5`},
		{"unknown targeting type", `[{` + ok + `,"level":"CAMPAIGN_TARGETING","targeting_types":["GENDRE"]}]`, `"GENDRE" is not one of`},
		{"duplicate stream names", `[{` + ok + `,"level":"CAMPAIGN"},{"name":"spend!","level":"AD_GROUP","granularity":"DAY","columns":["CTR"]}]`,
			`custom report "spend!": field "name": "Spend" and "spend!" both make the stream custom_spend`},
		{"name without letters", `[{"name":"--","level":"CAMPAIGN","granularity":"DAY","columns":["CTR"]}]`, `field "name": it needs a letter or digit`},
		{"unknown field", `[{` + ok + `,"level":"CAMPAIGN","colums":["CTR"]}]`, `custom report "Spend": unknown field "colums" (did you mean columns?)`},
		{"window not allowed", `[{` + ok + `,"level":"CAMPAIGN","view_window_days":3}]`, `field "view_window_days": 3 is not one of 0, 1, 7, 14, 30, 60`},
		{"report time typo", `[{` + ok + `,"level":"CAMPAIGN","conversion_report_time":"TIME_OF_CONVERSOIN"}]`, `(did you mean TIME_OF_CONVERSION?)`},
		{"bad start date", `[{` + ok + `,"level":"CAMPAIGN","start_date":"yesterday"}]`, `field "start_date": "yesterday" is not a date`},
		{"entry not an object", `["spend"]`, `setting "custom_reports.0": Invalid type. Expected: object`},
		{"not a list", `{"name":"Spend"}`, `setting "custom_reports"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := write(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".json", demoConfig("http://127.0.0.1:9/v5", `,"custom_reports":`+tc.reports))
			for _, args := range [][]string{{"--config", file}, {"--config", file, "--discover"}} {
				r := runTap(t, nil, args...)
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				if r.code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "CRITICAL "+filepath.Clean(file)+": ") || !strings.Contains(lines[0], tc.want) {
					t.Errorf("%v: exit %d, want 2 and one line naming the file and containing %q; stderr:\n%s", args, r.code, tc.want, r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("stdout must stay empty: %q", r.stdout)
				}
			}
		})
	}
}

package tap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

// Custom reports (the custom_reports setting, shaped like the incumbent's
// so that its entries can be pasted): each entry is one more row of the
// run's stream table, made by catalog.CustomReport from its level's report
// stream, with the entry's own parameters kept as settings named
// "<stream>.<field>" that the row's Params name. The engine reads them as
// it reads every other report stream.

// customReport is one entry of custom_reports.
type customReport struct {
	Name                 string   `json:"name"`
	Level                string   `json:"level"`
	Granularity          string   `json:"granularity"`
	Columns              []string `json:"columns"`
	ClickWindowDays      *int     `json:"click_window_days"`
	EngagementWindowDays *int     `json:"engagement_window_days"`
	ViewWindowDays       *int     `json:"view_window_days"`
	ConversionReportTime string   `json:"conversion_report_time"`
	AttributionTypes     []string `json:"attribution_types"`
	CampaignStatuses     []string `json:"campaign_statuses"`
	AdGroupStatuses      []string `json:"ad_group_statuses"`
	AdStatuses           []string `json:"ad_statuses"`
	TargetingTypes       []string `json:"targeting_types"`
	StartDate            string   `json:"start_date"`
}

// customFields are the fields an entry may have, for typo hints.
var customFields = []string{"name", "level", "granularity", "columns", "click_window_days", "engagement_window_days",
	"view_window_days", "conversion_report_time", "attribution_types", "campaign_statuses", "ad_group_statuses",
	"ad_statuses", "targeting_types", "start_date"}

// The values the report API takes (the spec's AdsAnalyticsCreateAsyncRequest).
var (
	windowDays       = []string{"0", "1", "7", "14", "30", "60"}
	reportTimes      = []string{"TIME_OF_AD_ACTION", "TIME_OF_CONVERSION"}
	attributionTypes = []string{"INDIVIDUAL", "HOUSEHOLD"}
	summaryStatuses  = []string{"RUNNING", "PAUSED", "NOT_STARTED", "COMPLETED", "ADVERTISER_DISABLED", "ARCHIVED", "DRAFT", "DELETED_DRAFT"}
	adStatuses       = []string{"APPROVED", "PAUSED", "PENDING", "REJECTED", "ADVERTISER_DISABLED", "ARCHIVED", "DRAFT", "DELETED_DRAFT"}
	targetingTypes   = []string{"KEYWORD", "APPTYPE", "GENDER", "LOCATION", "PLACEMENT", "COUNTRY", "TARGETED_INTEREST", "PINNER_INTEREST",
		"AUDIENCE_INCLUDE", "GEO", "AGE_BUCKET", "REGION", "MEDIA_TYPE", "AGE_BUCKET_AND_GENDER", "AUDIENCE_MULTIPLIER",
		"CREATIVE_ENHANCEMENTS", "LOCAL_ADS_STORE_CODE"}
	granularities = []string{"TOTAL", "DAY", "HOUR", "WEEK", "MONTH"}
)

// maxFilterValues is how many values Pinterest takes in one status filter.
const maxFilterValues = 6

// statusFilter is a status filter of the report body, and the levels whose
// rows each belong to one entity of the filtered kind, so that reports of
// disjoint status sets cannot return a row twice.
type statusFilter struct {
	field  string
	values []string
	below  []string // levels (without _TARGETING) at or below the filtered kind
}

var statusFilters = []statusFilter{
	{"campaign_statuses", summaryStatuses, []string{"CAMPAIGN", "AD_GROUP", "PIN_PROMOTION", "KEYWORD", "PRODUCT_GROUP"}},
	{"ad_group_statuses", summaryStatuses, []string{"AD_GROUP", "PIN_PROMOTION", "KEYWORD", "PRODUCT_GROUP"}},
	{"ad_statuses", adStatuses, []string{"PIN_PROMOTION"}},
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// CustomStreamName is the stream of a custom report: "custom_" and the
// name lower-cased, every run of other characters one "_" (My Spend →
// custom_my_spend); "" when nothing of the name is left.
func CustomStreamName(name string) string {
	n := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if n == "" {
		return ""
	}
	return "custom_" + n
}

// customReports reads custom_reports into rows of the run's table (after
// the static ones) and their settings.
func (s rawConfig) customReports(cfg *Config) error {
	list, _ := s.m["custom_reports"].([]any)
	if len(list) == 0 {
		return nil
	}
	cfg.streams = slices.Clone(catalog.Streams)
	seen := map[string]string{}
	for i, item := range list {
		cr, err := s.decodeCustom(i, item)
		if err != nil {
			return err
		}
		row, err := s.customRow(cfg, cr)
		if err != nil {
			return err
		}
		if prev, dup := seen[row.Name]; dup {
			return s.customErr(cr, "name", "%q and %q both make the stream %s; give them names that differ in letters or digits", prev, cr.Name, row.Name)
		}
		seen[row.Name] = cr.Name
		cfg.streams = append(cfg.streams, row)
	}
	return nil
}

// decodeCustom decodes one entry, refusing fields the incumbent's shape lacks.
func (s rawConfig) decodeCustom(i int, item any) (*customReport, error) {
	where := fmt.Sprintf("%s: setting \"custom_reports\": entry %d", s.where("custom_reports"), i+1)
	m, ok := item.(map[string]any)
	if !ok {
		return nil, usagef("%s is not an object like {\"name\": ..., \"level\": ..., \"columns\": [...]}", where)
	}
	if n, _ := m["name"].(string); n != "" {
		where = fmt.Sprintf("%s: custom report %q", s.where("custom_reports"), n)
	}
	for k := range m {
		if !slices.Contains(customFields, k) {
			return nil, usagef("%s: unknown field %q%s; the fields are %s", where, k, didYouMean(k, customFields), strings.Join(customFields, ", "))
		}
	}
	b, _ := json.Marshal(m)
	cr := &customReport{}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(cr); err != nil {
		return nil, usagef("%s: %v", where, err)
	}
	for _, req := range []struct{ field, v string }{{"name", cr.Name}, {"level", cr.Level}, {"granularity", cr.Granularity}} {
		if strings.TrimSpace(req.v) == "" {
			return nil, usagef("%s: field %q is required", where, req.field)
		}
	}
	return cr, nil
}

// customErr is a usage error naming the config file, the report and the field.
func (s rawConfig) customErr(cr *customReport, field, format string, a ...any) error {
	return usagef("%s: custom report %q: field %q: %s", s.where("custom_reports"), cr.Name, field, fmt.Sprintf(format, a...))
}

// customRow validates an entry and makes its row and settings.
func (s rawConfig) customRow(cfg *Config, cr *customReport) (catalog.Stream, error) {
	name := CustomStreamName(cr.Name)
	if name == "" {
		return catalog.Stream{}, s.customErr(cr, "name", "it needs a letter or digit, for the stream custom_<name>")
	}
	level, err := s.customLevel(cr)
	if err != nil {
		return catalog.Stream{}, err
	}
	c := customSettings{cfg: cfg, prefix: name + "."}
	for _, check := range []func(*customReport, *catalog.Stream, *customSettings) error{
		s.customColumns, s.customWindows, s.customTargeting, s.customStart,
	} {
		if err := check(cr, level, &c); err != nil {
			return catalog.Stream{}, err
		}
	}
	parts, err := s.customStatuses(cr, level, &c)
	if err != nil {
		return catalog.Stream{}, err
	}
	return catalog.CustomReport(name, level, c.params, parts, cr.Granularity, c.start), nil
}

// customSettings collects a custom report's parameters and their values.
type customSettings struct {
	cfg    *Config
	prefix string
	params []catalog.Param
	start  string
}

// set keeps a value under the report's own setting and adds the parameter
// that sends it.
func (c *customSettings) set(prm catalog.Param, vals []string) {
	prm.Setting = c.prefix + prm.Name
	c.cfg.values[prm.Setting] = vals
	c.params = append(c.params, prm)
}

func (s rawConfig) customLevel(cr *customReport) (*catalog.Stream, error) {
	var levels []string
	for i := range catalog.Streams {
		if st := &catalog.Streams[i]; st.Shape == catalog.ReportRows {
			levels = append(levels, st.Report.Level)
		}
	}
	level := catalog.ReportLevelStream(cr.Level)
	if level == nil {
		return nil, s.customErr(cr, "level", "%q is not a report level%s; the levels are %s", cr.Level, didYouMean(cr.Level, levels), strings.Join(levels, ", "))
	}
	switch {
	case !slices.Contains(granularities, cr.Granularity):
		return nil, s.customErr(cr, "granularity", "%q is not one of %s%s", cr.Granularity, strings.Join(granularities, ", "), didYouMean(cr.Granularity, granularities))
	case cr.Granularity == "TOTAL" || cr.Granularity == "HOUR":
		return nil, s.customErr(cr, "granularity", "%s is not supported: the tap keys and bookmarks report rows by their DATE, which %s rows do not identify (a TOTAL row has none, an HOUR row shares it with the day's other hours); use DAY, WEEK or MONTH", cr.Granularity, cr.Granularity)
	}
	return level, nil
}

// customColumns: the columns of the level's report stream (typed from the
// spec), at least one.
func (s rawConfig) customColumns(cr *customReport, level *catalog.Stream, c *customSettings) error {
	schema, err := catalog.Schema(level.Name)
	if err != nil {
		return err
	}
	props, err := catalog.SchemaProperties(schema)
	if err != nil {
		return err
	}
	cols := dedupe(cr.Columns)
	if len(cols) == 0 {
		return s.customErr(cr, "columns", "list at least one column, e.g. [\"SPEND_IN_DOLLAR\", \"TOTAL_IMPRESSION\"]")
	}
	for _, col := range cols {
		if slices.Contains(props, col) {
			continue
		}
		if slices.Contains(catalog.AnalyticsColumns, col) {
			return s.customErr(cr, "columns", "%s reports do not take the column %q", cr.Level, col)
		}
		return s.customErr(cr, "columns", "%q is not a column of the report API's %s reports%s (see the schema of %s in tap-pinterest --discover)", col, cr.Level, didYouMean(col, props), level.Name)
	}
	c.set(catalog.Param{Name: "columns", Columns: true}, cols)
	c.set(catalog.Param{Name: "granularity"}, []string{cr.Granularity})
	return nil
}

// customWindows: the attribution windows and report time, defaulting to
// the tap's own settings.
func (s rawConfig) customWindows(cr *customReport, _ *catalog.Stream, c *customSettings) error {
	for _, w := range []struct {
		field string
		v     *int
	}{{"click_window_days", cr.ClickWindowDays}, {"engagement_window_days", cr.EngagementWindowDays}, {"view_window_days", cr.ViewWindowDays}} {
		val := strconv.Itoa(s.intv(w.field))
		if w.v != nil {
			val = strconv.Itoa(*w.v)
		}
		if !slices.Contains(windowDays, val) {
			return s.customErr(cr, w.field, "%s is not one of %s", val, strings.Join(windowDays, ", "))
		}
		c.set(catalog.Param{Name: w.field}, []string{val})
	}
	t := cr.ConversionReportTime
	if t == "" {
		t = c.cfg.ConversionReportTime
	}
	if !slices.Contains(reportTimes, t) {
		return s.customErr(cr, "conversion_report_time", "%q is not one of %s%s", t, strings.Join(reportTimes, ", "), didYouMean(t, reportTimes))
	}
	c.set(catalog.Param{Name: "conversion_report_time"}, []string{t})
	if len(cr.AttributionTypes) == 0 {
		return nil
	}
	if err := s.customEnum(cr, "attribution_types", cr.AttributionTypes, attributionTypes); err != nil {
		return err
	}
	c.set(catalog.Param{Name: "attribution_types", List: true}, dedupe(cr.AttributionTypes))
	return nil
}

// customEnum refuses a value that is not one of allowed.
func (s rawConfig) customEnum(cr *customReport, field string, vals, allowed []string) error {
	for _, v := range vals {
		if !slices.Contains(allowed, v) {
			return s.customErr(cr, field, "%q is not one of %s%s", v, strings.Join(allowed, ", "), didYouMean(v, allowed))
		}
	}
	return nil
}

// customTargeting: targeting types only at a _TARGETING level, at most 5.
func (s rawConfig) customTargeting(cr *customReport, level *catalog.Stream, c *customSettings) error {
	tt := dedupe(cr.TargetingTypes)
	if len(tt) == 0 {
		return nil
	}
	if !level.Report.Targeting() {
		return s.customErr(cr, "targeting_types", "level %s does not split rows by targeting; use a level ending in _TARGETING (e.g. %s_TARGETING) or leave targeting_types out", cr.Level, cr.Level)
	}
	if err := s.customEnum(cr, "targeting_types", tt, targetingTypes); err != nil {
		return err
	}
	if len(tt) > 5 {
		return s.customErr(cr, "targeting_types", "%d values, but Pinterest takes at most 5 a report", len(tt))
	}
	c.set(catalog.Param{Name: "targeting_types", List: true}, tt)
	return nil
}

// customStart: the report's own start_date, if any.
func (s rawConfig) customStart(cr *customReport, _ *catalog.Stream, c *customSettings) error {
	if cr.StartDate == "" {
		return nil
	}
	d, err := ParseDate(cr.StartDate)
	if err != nil {
		return s.customErr(cr, "start_date", "%q is not a date; use YYYY-MM-DD (e.g. 2026-01-31)", cr.StartDate)
	}
	c.start = c.prefix + "start_date"
	c.cfg.values[c.start] = []string{d.Format("2006-01-02")}
	return nil
}

// customStatuses: each status filter of at most 6 values is sent as it is;
// one of more is split into reports of at most 6 values each (all the
// combinations where several are), only at levels whose rows belong to one
// entity of the filtered kind, so that no row comes back twice.
func (s rawConfig) customStatuses(cr *customReport, level *catalog.Stream, c *customSettings) ([]map[string][]string, error) {
	parts := []map[string][]string{{}}
	byField := map[string][]string{"campaign_statuses": cr.CampaignStatuses, "ad_group_statuses": cr.AdGroupStatuses, "ad_statuses": cr.AdStatuses}
	for _, f := range statusFilters {
		vals := dedupe(byField[f.field])
		if len(vals) == 0 {
			continue
		}
		if err := s.customEnum(cr, f.field, vals, f.values); err != nil {
			return nil, err
		}
		if f.field == "ad_statuses" && cr.Level == "PRODUCT_ITEM" {
			return nil, s.customErr(cr, f.field, "PRODUCT_ITEM reports take no ad_statuses")
		}
		if len(vals) <= maxFilterValues {
			c.set(catalog.Param{Name: f.field, List: true}, vals)
			continue
		}
		if !slices.Contains(f.below, strings.TrimSuffix(cr.Level, "_TARGETING")) {
			return nil, s.customErr(cr, f.field, "%d values, but Pinterest takes at most %d a report, and splitting them into several reports is not safe at level %s: each of its rows sums several %s, so a row would come back once per report with part of the sum; list at most %d, or use a level at or below the filtered one (%s)",
				len(vals), maxFilterValues, cr.Level, strings.TrimSuffix(f.field, "_statuses")+"s", maxFilterValues, strings.Join(f.below, ", "))
		}
		parts = splitParts(parts, f.field, vals)
	}
	if len(parts) == 1 {
		return nil, nil
	}
	return parts, nil
}

// splitParts makes every part into one part per chunk of at most 6 values.
func splitParts(parts []map[string][]string, field string, vals []string) []map[string][]string {
	var out []map[string][]string
	for _, p := range parts {
		for chunk := range slices.Chunk(vals, maxFilterValues) {
			q := map[string][]string{field: chunk}
			for k, v := range p {
				q[k] = v
			}
			out = append(out, q)
		}
	}
	return out
}

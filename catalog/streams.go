package catalog

import (
	"slices"
	"strings"
	"time"
)

// Shape is how an endpoint answers. The engine has one fetcher per shape;
// a stream's row picks it.
type Shape int

const (
	// Paged answers {"items": [...], "bookmark": "..."}; the next page is
	// asked for with bookmark=<value> until the bookmark is empty.
	Paged Shape = iota + 1
	// Items answers {"items": [...]} in one response (no bookmark).
	Items
	// Object answers one object: the stream has one record per call.
	Object
	// Rows answers a JSON array of flat rows, one per entity and day (ads
	// analytics), for a date window.
	Rows
	// DailyMetrics answers {"all": {"daily_metrics": [...]}}
	// (user_account/analytics), for a date window.
	DailyMetrics
	// ReportRows is a stream read only through the async report API (the
	// row's Report): one report per partition and span of days, whose
	// downloaded rows are the records.
	ReportRows
	// TargetingRows answers {"data": [{"targeting_type": …,
	// "targeting_value": …, "metrics": {<LEVEL>_ID, DATE, columns…}}]}
	// (targeting analytics), for a date window: one record per item, its
	// metrics flattened beside targeting_type and targeting_value.
	TargetingRows
	// KeyedDailyMetrics answers {"<id>": {"<split>": {"daily_metrics":
	// [...]}}} (multi_pins/analytics), for a date window and a batch of
	// ids: one record per daily_metrics item, the id it is filed under
	// added as the row's Batch.Column.
	KeyedDailyMetrics
)

// Windowed reports whether the endpoint is read by date windows.
func (s Shape) Windowed() bool {
	return s == Rows || s == DailyMetrics || s == ReportRows || s == TargetingRows || s == KeyedDailyMetrics
}

// KeyType is the wire type of a replication key's values.
type KeyType int

const (
	// NoKey means the stream has no replication key (FULL_TABLE).
	NoKey KeyType = iota
	// UnixSeconds is an integer (or a JSON number) of seconds since the epoch.
	UnixSeconds
	// UnixMillis is an integer of milliseconds since the epoch.
	UnixMillis
	// DateTime is an ISO 8601 / RFC 3339 date-time string.
	DateTime
	// Day is a YYYY-MM-DD date: the analytics streams' DATE and date.
	Day
)

// Param is a query parameter a stream sends on every call: a fixed value,
// or the value of a setting (a list setting is sent as repeated keys, or
// joined by commas when CSV is set, as the spec's `explode` says).
type Param struct {
	Name    string
	Value   string // a fixed value, when Setting is ""
	Setting string // the config setting whose value is sent
	CSV     bool   // join a list setting with commas (explode: false)
	// Or names a list setting whose first value is sent when Setting has
	// none (catalogs: organic_ad_account_id, else the first of ad_account_ids).
	Or string
	// Columns: the setting's values also select the schema's properties
	// (besides the key properties): the ads analytics `columns`.
	Columns bool
	// Accepts are the values the operation takes (a list setting's values
	// outside them are not sent to it); they are sent when the setting is
	// unset. With PerCall, at most PerCall values go in one call and the
	// engine makes as many calls as it takes to send them all (targeting
	// analytics' targeting_types).
	Accepts []string
	PerCall int
	// List: a JSON array in a report's body even with one value.
	List bool
}

// Batch says that a stream reads the ids of its parent's items in batches:
// Param carries up to Size ids a call (repeated keys), and Column names the
// entity in the rows that come back.
type Batch struct {
	Param  string
	Size   int
	Column string
	// Single is the one-id parameter a list falls back to, one id a call,
	// where Pinterest refuses Param with HTTP 400 (keywords' ad_group_ids is
	// a beta not every ad account has).
	Single string
	// Unfiltered: the list is also read once without ids, for the items
	// that hang off the parent's own parent (account-level keywords).
	Unfiltered bool
}

// GetOne is the endpoint that reads one item of a list by its id.
type GetOne struct {
	Op   string // Pinterest operationId
	Path string // relative to base_url; {Gives} is the id
}

// Window is how far back a windowed endpoint reaches and how many days one
// call may span.
type Window struct {
	Days int // the longest date range of one call, inclusive
	Back int // the oldest day it serves, in days before today
}

// Report says that the days of a windowed stream older than its Window
// reaches are read through Pinterest's asynchronous report API
// (REFERENCE.md §6) at Level, with the same parameters, and written to the
// same stream: a report is created for the partition (POST Path), polled
// (GET Path?token=), and its pre-signed URL downloaded. The download is an
// object keyed by entity id; the id is written to the record's first key
// property, and the row fields in Omit (the level's own name for that id)
// are left out.
type Report struct {
	Level  string
	Path   string // relative to base_url; {placeholders} as in Stream.Path
	Window Window // the longest span of one report and how far back reports reach
	Omit   []string
	// Refused are prefixes of columns the level does not take (PRODUCT_ITEM:
	// no ad or pin-promotion columns); they are neither asked for nor in
	// the schema of a ReportRows stream.
	Refused []string
	// Parts, when set, make each span of days several reports, one per
	// part, whose body members the part adds (a custom report's statuses
	// beyond Pinterest's 6 a filter): only where no row can be in two parts.
	Parts []map[string][]string
	// Granularity is the rows' period: "" (or DAY) a row per day; WEEK
	// (from Monday) or MONTH, a row per period whose DATE is its first day.
	// Reports of a period granularity start and end on period boundaries,
	// so that no period is cut in two by a report or by the re-read.
	Granularity string
	// Rename: row fields of the report written under the stream's own
	// names (a targeting report's TARGETING_TYPE → targeting_type).
	Rename map[string]string
	// Accepts are the values of the row's parameter sent in packs
	// (Param.PerCall: targeting_types) that the report API takes at Level;
	// the others cannot be read through reports, and the run says so. With
	// PerReport, each span of days is one report per pack of at most
	// PerReport values (body member Param.Name, an array).
	Accepts   []string
	PerReport int
}

// PeriodStart returns the first day of the report's period holding day.
func (r *Report) PeriodStart(day time.Time) time.Time {
	switch r.Granularity {
	case "WEEK":
		return day.AddDate(0, 0, -(int(day.Weekday())+6)%7)
	case "MONTH":
		return day.AddDate(0, 0, 1-day.Day())
	}
	return day
}

// Spans cuts [from, to] into the report's spans of at most Window.Days
// days; with a period granularity each span but the last ends the day
// before a period starts.
func (r *Report) Spans(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	for d := from; !d.After(to); {
		end := d.AddDate(0, 0, r.Window.Days-1)
		if end.After(to) {
			end = to
		} else if cut := r.PeriodStart(end.AddDate(0, 0, 1)); cut.After(d) {
			end = cut.AddDate(0, 0, -1)
		}
		out = append(out, [2]time.Time{d, end})
		d = end.AddDate(0, 0, 1)
	}
	return out
}

// Refuses reports whether the report's level does not take a column.
func (r *Report) Refuses(col string) bool {
	if SyncOnlyColumn(col) {
		return true
	}
	for _, p := range r.Refused {
		if strings.HasPrefix(col, p) {
			return true
		}
	}
	return false
}

// Targeting reports whether the level splits rows by targeting value.
func (r *Report) Targeting() bool { return strings.HasSuffix(r.Level, "_TARGETING") }

// The report operations (both ads_analytics), and the one that says
// whether a day's metrics are final (REFERENCE.md §1, §7).
const (
	ReportCreateOp = "analytics/create_report"
	ReportGetOp    = "analytics/get_report"
	ReadyStateOp   = "metrics_ready_state/get"
	ReadyStatePath = "/resources/metrics_ready_state"
)

// asyncReport is the report of a level: 186 days a report, 914 days back
// (one day spared for the UTC day boundary).
func asyncReport(level string, omit ...string) *Report {
	return &Report{Level: level, Path: "/ad_accounts/{ad_account_id}/reports", Window: Window{Days: 186, Back: 913}, Omit: omit}
}

// asyncTargetingTypes are the targeting types of the report API
// (components.schemas.TargetingTypeFilter), in the spec's order, and how
// many one report may carry (its maxItems). AUDIENCE_MULTIPLIER is only
// available at CAMPAIGN_TARGETING and MEDIA_TYPE only at
// PRODUCT_ITEM_TARGETING (the filter's description).
var asyncTargetingTypes = []string{"KEYWORD", "APPTYPE", "GENDER", "LOCATION", "PLACEMENT", "COUNTRY", "TARGETED_INTEREST",
	"PINNER_INTEREST", "AUDIENCE_INCLUDE", "GEO", "AGE_BUCKET", "REGION", "MEDIA_TYPE", "AGE_BUCKET_AND_GENDER",
	"AUDIENCE_MULTIPLIER", "CREATIVE_ENHANCEMENTS", "LOCAL_ADS_STORE_CODE"}

const asyncTargetingPerReport = 5

// targetingReport is the report at a _TARGETING level that backfills a
// targeting analytics row, whose targeting types it is given in the
// synchronous operation's order (params): those the level takes, at most
// 5 a report; TARGETING_TYPE and TARGETING_VALUE become the row's
// targeting_type and targeting_value.
func targetingReport(level string, params []Param, omit ...string) *Report {
	r := asyncReport(level, omit...)
	r.Rename = map[string]string{"TARGETING_TYPE": TargetingKeys[0], "TARGETING_VALUE": TargetingKeys[1]}
	r.PerReport = asyncTargetingPerReport
	for _, prm := range params {
		for _, v := range prm.Accepts {
			switch {
			case !slices.Contains(asyncTargetingTypes, v),
				v == "AUDIENCE_MULTIPLIER" && level != "CAMPAIGN_TARGETING",
				v == "MEDIA_TYPE" && level != "PRODUCT_ITEM_TARGETING":
				continue
			}
			r.Accepts = append(r.Accepts, v)
		}
	}
	return r
}

// SchemaRule says how the stream's schema is derived from the spec
// (cmd/gen-schemas); the record schema itself is the item schema of the
// operation's 200 response, found through the shape.
type SchemaRule struct {
	// Component is the components.schemas entry the record schema must
	// resolve to ("" when the spec declares it inline), so that a spec
	// change that moves a stream to another schema fails loudly.
	Component string
	// DateTimes are top-level fields kept as format date-time (the tap
	// normalises them to RFC 3339 UTC).
	DateTimes []string
	// Keys are fields the tap adds from the parent as non-null string keys.
	Keys []string
	// NullableStrings are top-level ["null","string"] fields that must
	// exist, added if the spec lacks them.
	NullableStrings []string
	// ObservedArrays are top-level fields the real API sends although the
	// spec does not declare them, declared as free-form arrays.
	ObservedArrays []string
}

// Stream is one row of the tap's table of streams: everything the engine,
// discovery, the schema generator, the fake API and the README need to know
// about a stream. Adding a stream is adding a row (and generating its schema).
type Stream struct {
	Name     string // Singer stream and tap_stream_id
	Op       string // Pinterest operationId
	Path     string // relative to base_url; {placeholders} are context keys of ancestors
	Category string // x-ratelimit-category of the operation
	Shape    Shape
	Parent   string // parent stream ("" for a root); parents come first in Streams

	// Gives names the context key under which each item's id is handed to
	// the stream's children (ad_accounts → "ad_account_id").
	Gives string
	// Partition is the context key bookmarks are kept per ("" = one bookmark).
	Partition string

	KeyProperties  []string
	ReplicationKey string // "" for FULL_TABLE
	KeyType        KeyType

	Params []Param // query parameters sent on every call
	Batch  *Batch  // the parent's ids, batched ("" = once per parent item)
	Window *Window // date windows of a windowed shape
	Report *Report // the async report that reads days older than Window reaches
	// Finalised: the bookmark never passes the last day Pinterest calls
	// final for both conversion and non-conversion metrics
	// (metrics_ready_state, a call of the row's Category), so that the next
	// run reads again the days Pinterest was still computing.
	Finalised bool

	// AddFields are context values written into each record where the API
	// leaves them out: record field → context key.
	AddFields map[string]string
	// KeepIDs names a list setting that restricts which items are kept
	// (their records and their children); empty setting = all.
	KeepIDs string
	// GetOne, with KeepIDs, reads an id of the setting that the listing did
	// not return one by one: the operation (GetOne.Op) and path whose
	// {placeholder} is the row's Gives. An id it cannot read either fails the
	// stream after the others were synced.
	GetOne *GetOne
	// Drop are fields never emitted and absent from the schema (secrets).
	Drop []string
	// DeniedHint is what a 403 on one item's children tells the user to do.
	// On a stream whose ancestors have none, a 403 on its own calls stops
	// the stream (not a skipped item) with this hint.
	DeniedHint string
	// PagingLimitHint, when set, says that Pinterest may refuse (HTTP 400) to
	// page the list further part way (board pins past 100,000): the listing
	// keeps what it read, goes on, and the warning tells the user where the
	// rest is. Unset, such a 400 fails the stream.
	PagingLimitHint string
	// EmptyOn is an HTTP status that means "nothing here" for this
	// endpoint: the stream is empty, not failed (product groups: 409 when the
	// user has no catalog). 0 = none.
	EmptyOn int
	// Seconds are integer Unix-time fields that Pinterest sends in seconds or
	// in milliseconds: the tap tells them apart by magnitude and always
	// emits seconds.
	Seconds []string

	Scopes            []string // OAuth scopes the token needs
	SelectedByDefault bool
	Schema            SchemaRule
	// SchemaOf names the row whose generated schema this one uses (a
	// custom report: its level's report stream); "" = its own.
	SchemaOf string
	// StartSetting names a date setting that replaces start_date for this
	// stream (a custom report's own start_date); "" = start_date.
	StartSetting string
}

// SchemaName is the name of the generated schema the stream uses.
func (s *Stream) SchemaName() string {
	if s.SchemaOf != "" {
		return s.SchemaOf
	}
	return s.Name
}

// The parameters every synchronous ads analytics call sends besides the
// dates and ids (REFERENCE.md §5).
var adsAnalyticsParams = []Param{
	{Name: "columns", Setting: "analytics_columns", CSV: true, Columns: true},
	{Name: "granularity", Value: "DAY"},
	{Name: "click_window_days", Setting: "click_window_days"},
	{Name: "engagement_window_days", Setting: "engagement_window_days"},
	{Name: "view_window_days", Setting: "view_window_days"},
	{Name: "conversion_report_time", Setting: "conversion_report_time"},
}

// reportStream is a row read only through async reports of a level: the
// incumbent's report streams (airbyte source-pinterest), keyed by the
// level's id column and DATE (and the targeting type and value at a
// _TARGETING level), incremental on DATE like the analytics streams.
func reportStream(name, idKey string, rep *Report) Stream {
	keys := []string{idKey, "DATE"}
	if rep.Targeting() {
		keys = append(keys, "TARGETING_TYPE", "TARGETING_VALUE")
	}
	return Stream{Name: name, Op: ReportCreateOp, Path: rep.Path, Category: "ads_analytics", Shape: ReportRows, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: keys, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Window: &rep.Window, Report: rep, Finalised: true, Scopes: adsScopes}
}

// productItem: PRODUCT_ITEM reports reach 92 days back, 31 days a report,
// and take no ad or pin-promotion columns (REFERENCE.md §6).
func productItem(level string) *Report {
	return &Report{Level: level, Path: "/ad_accounts/{ad_account_id}/reports", Window: Window{Days: 31, Back: 91},
		Refused: []string{"AD_ID", "AD_NAME", "PIN_PROMOTION", "AD_STATUS", "AD_ENTITY_STATUS"}}
}

var (
	page = []Param{{Name: "page_size", Value: "250"}}
	// businessAccess: the organic endpoints act as the owner of the ad
	// account organic_ad_account_id when it is set (REFERENCE.md §14).
	businessAccess = Param{Name: "ad_account_id", Setting: "organic_ad_account_id"}
	organic        = []Param{businessAccess}
	organicPage    = []Param{{Name: "page_size", Value: "250"}, businessAccess}
	entityPage     = []Param{{Name: "page_size", Value: "250"}, {Name: "entity_statuses", Setting: "entity_statuses"}}
	// The targeting types each level of targeting analytics accepts, in the
	// spec's order (components.schemas.AdsAnalytics*TargetingType), and how
	// many one call may carry (the parameters' maxItems).
	targetingTypes = []string{"KEYWORD", "APPTYPE", "GENDER", "LOCATION", "PLACEMENT", "COUNTRY", "TARGETED_INTEREST",
		"PINNER_INTEREST", "AUDIENCE_INCLUDE", "GEO", "AGE_BUCKET", "REGION"}
	accountTargeting  = targetingParams(append(targetingTypes[:12:12], "AGE_BUCKET_AND_GENDER"), 15)
	campaignTargeting = targetingParams(append(targetingTypes[:12:12], "CREATIVE_TYPE", "AGE_BUCKET_AND_GENDER", "AUDIENCE_MULTIPLIER"), 14)
	adGroupTargeting  = targetingParams(append(targetingTypes[:12:12], "AGE_BUCKET_AND_GENDER", "CREATIVE_ENHANCEMENTS"), 14)
	adTargeting       = targetingParams(append(targetingTypes[:12:12], "QUIZ_RESULT", "AGE_BUCKET_AND_GENDER"), 14)
	// pinAnalyticsParams: every metric, all apps, as the operation user.
	pinAnalyticsParams = []Param{{Name: "metric_types", Value: strings.Join(PinMetricTypes, ","), CSV: true},
		{Name: "app_types", Value: "ALL"}, businessAccess}
	// syncAnalytics: 90 days a call; start_date at most 90 days back, one
	// day spared for the UTC day boundary.
	syncAnalytics = &Window{Days: 90, Back: 89}
	pinSchema     = SchemaRule{Component: "Pin", DateTimes: []string{"created_at"},
		NullableStrings: []string{"board_id", "board_section_id", "note"}, ObservedArrays: []string{"product_tags"}}
	adsScopes     = []string{"ads:read"}
	boardScopes   = []string{"boards:read"}
	pinScopes     = []string{"boards:read", "pins:read"}
	accountScopes = []string{"user_accounts:read"}
	catalogScopes = []string{"catalogs:read"}
	// catalogPage: the catalog endpoints act as the owner of
	// organic_ad_account_id, else of the first of ad_account_ids.
	catalogPage  = []Param{{Name: "page_size", Value: "250"}, {Name: "ad_account_id", Setting: "organic_ad_account_id", Or: "ad_account_ids"}}
	catalogTimes = SchemaRule{DateTimes: []string{"created_at", "updated_at"}}
)

// targetingParams are the parameters of a targeting analytics call: those
// of ads analytics and the level's targeting_types, perCall at most a call.
func targetingParams(accepts []string, perCall int) []Param {
	return append(adsAnalyticsParams[:len(adsAnalyticsParams):len(adsAnalyticsParams)],
		Param{Name: "targeting_types", Setting: "targeting_types", CSV: true, Accepts: accepts, PerCall: perCall})
}

// targetingStream is a targeting analytics row: its level's analytics by
// targeting type and value, keyed by the level's id column, DATE and
// TargetingKeys; the id is filled from the request where Pinterest leaves it
// out (the ad account's, or the batch's single id); older days come from
// the level's _TARGETING reports.
func targetingStream(name, op, path, parent string, batch *Batch, params []Param, rep *Report) Stream {
	idKey, from := "AD_ACCOUNT_ID", "ad_account_id"
	if batch != nil {
		idKey, from = batch.Column, batch.Param
	}
	return Stream{Name: name, Op: op, Path: "/ad_accounts/{ad_account_id}" + path, Category: "ads_analytics", Shape: TargetingRows, Parent: parent,
		Partition: "ad_account_id", KeyProperties: append([]string{idKey, "DATE"}, TargetingKeys...), ReplicationKey: "DATE", KeyType: Day,
		Params: params, Batch: batch, Window: syncAnalytics, Finalised: true, Report: rep, AddFields: map[string]string{idKey: from},
		Scopes: adsScopes, SelectedByDefault: true}
}

// TargetingKeys are the key properties of a targeting analytics row beside
// its level's id column and DATE.
var TargetingKeys = []string{"targeting_type", "targeting_value"}

// Streams is the tap's table of streams, parents before their children.
var Streams = []Stream{
	{Name: "user_account", Op: "user_account/get", Path: "/user_account", Category: "org_read", Shape: Object,
		KeyProperties: []string{"id"}, Params: organic, Scopes: accountScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "Account"}},
	{Name: "user_account_analytics", Op: "user_account/analytics", Path: "/user_account/analytics", Category: "org_analytics", Shape: DailyMetrics,
		KeyProperties: []string{"date"}, ReplicationKey: "date", KeyType: Day, Params: organic, Window: syncAnalytics,
		Scopes: accountScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "AnalyticsDailyMetrics"}},

	{Name: "boards", Op: "boards/list", Path: "/boards", Category: "org_read", Shape: Paged, Gives: "board_id",
		KeyProperties: []string{"id"}, Params: organicPage, Scopes: boardScopes, SelectedByDefault: true,
		Schema: SchemaRule{Component: "Board", DateTimes: []string{"created_at", "board_pins_modified_at"}}},
	{Name: "board_sections", Op: "board_sections/list", Path: "/boards/{board_id}/sections", Category: "org_read", Shape: Paged, Parent: "boards", Gives: "section_id",
		KeyProperties: []string{"id"}, Params: organicPage, AddFields: map[string]string{"board_id": "board_id"},
		Scopes: boardScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "BoardSection", Keys: []string{"board_id"}}},
	{Name: "board_pins", Op: "boards/list_pins", Path: "/boards/{board_id}/pins", Category: "org_read", Shape: Paged, Parent: "boards",
		KeyProperties: []string{"id"}, Params: organicPage, AddFields: map[string]string{"board_id": "board_id"},
		PagingLimitHint: "the board's pins in sections are in board_section_pins, and the user's own pins are all in the pins stream",
		Scopes:          pinScopes, SelectedByDefault: true, Schema: pinSchema},
	{Name: "board_section_pins", Op: "board_sections/list_pins", Path: "/boards/{board_id}/sections/{section_id}/pins", Category: "org_read", Shape: Paged, Parent: "board_sections",
		KeyProperties: []string{"id"}, Params: organicPage, AddFields: map[string]string{"board_id": "board_id", "board_section_id": "section_id"},
		Scopes: pinScopes, SelectedByDefault: true, Schema: pinSchema},
	{Name: "pins", Op: "pins/list", Path: "/pins", Category: "org_read", Shape: Paged,
		KeyProperties: []string{"id"}, Params: []Param{page[0], {Name: "include_protected_pins", Value: "true"}, businessAccess},
		Scopes: pinScopes, SelectedByDefault: true, Schema: pinSchema},
	// pin_analytics: beta, not available to every app; not selected by default.
	{Name: "pin_analytics", Op: "multi_pins/analytics", Path: "/pins/analytics", Category: "org_analytics", Shape: KeyedDailyMetrics, Parent: "pins",
		KeyProperties: []string{"pin_id", "date"}, ReplicationKey: "date", KeyType: Day, Params: pinAnalyticsParams,
		Batch: &Batch{Param: "pin_ids", Size: 100, Column: "pin_id"}, Window: syncAnalytics,
		DeniedHint: "multi_pins/analytics is in beta and not available to every app: ask Pinterest to enable it for your app, or deselect pin_analytics",
		Scopes:     pinScopes, Schema: SchemaRule{Keys: []string{"pin_id"}}},

	{Name: "ad_accounts", Op: "ad_accounts/list", Path: "/ad_accounts", Category: "ads_read", Shape: Paged, Gives: "ad_account_id",
		KeyProperties: []string{"id"}, Params: page, KeepIDs: "ad_account_ids",
		GetOne:     &GetOne{Op: "ad_accounts/get", Path: "/ad_accounts/{ad_account_id}"},
		DeniedHint: "check the user's role on it (Admin, Analyst or Campaign Manager) or leave it out of ad_account_ids",
		Scopes:     adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "AdAccount"}},
	{Name: "ad_account_analytics", Op: "ad_account/analytics", Path: "/ad_accounts/{ad_account_id}/analytics", Category: "ads_analytics", Shape: Rows, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"AD_ACCOUNT_ID", "DATE"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Window: syncAnalytics, Finalised: true, Report: asyncReport("ADVERTISER", "ADVERTISER_ID"), Scopes: adsScopes, SelectedByDefault: true},
	targetingStream("ad_account_targeting_analytics", "ad_account_targeting_analytics/get", "/targeting_analytics", "ad_accounts",
		nil, accountTargeting, targetingReport("ADVERTISER_TARGETING", accountTargeting, "ADVERTISER_ID")),
	{Name: "campaigns", Op: "campaigns/list", Path: "/ad_accounts/{ad_account_id}/campaigns", Category: "ads_read", Shape: Paged, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"id"}, ReplicationKey: "updated_time", KeyType: UnixSeconds,
		Params: entityPage, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "CampaignResponse"}},
	{Name: "campaign_analytics", Op: "campaigns/analytics", Path: "/ad_accounts/{ad_account_id}/campaigns/analytics", Category: "ads_analytics", Shape: Rows, Parent: "campaigns",
		Partition: "ad_account_id", KeyProperties: []string{"CAMPAIGN_ID", "DATE"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Batch: &Batch{Param: "campaign_ids", Size: 250, Column: "CAMPAIGN_ID"}, Window: syncAnalytics, Finalised: true, Report: asyncReport("CAMPAIGN"),
		Scopes: adsScopes, SelectedByDefault: true},
	targetingStream("campaign_targeting_analytics", "campaign_targeting_analytics/get", "/campaigns/targeting_analytics", "campaigns",
		&Batch{Param: "campaign_ids", Size: 250, Column: "CAMPAIGN_ID"}, campaignTargeting, targetingReport("CAMPAIGN_TARGETING", campaignTargeting)),
	{Name: "ad_groups", Op: "ad_groups/list", Path: "/ad_accounts/{ad_account_id}/ad_groups", Category: "ads_read", Shape: Paged, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"id"}, ReplicationKey: "updated_time", KeyType: UnixSeconds,
		Params: entityPage, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "AdGroupResponse"}},
	{Name: "ad_group_analytics", Op: "ad_groups/analytics", Path: "/ad_accounts/{ad_account_id}/ad_groups/analytics", Category: "ads_analytics", Shape: Rows, Parent: "ad_groups",
		Partition: "ad_account_id", KeyProperties: []string{"AD_GROUP_ID", "DATE"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Batch: &Batch{Param: "ad_group_ids", Size: 250, Column: "AD_GROUP_ID"}, Window: syncAnalytics, Finalised: true, Report: asyncReport("AD_GROUP"),
		Scopes: adsScopes, SelectedByDefault: true},
	targetingStream("ad_group_targeting_analytics", "ad_groups_targeting_analytics/get", "/ad_groups/targeting_analytics", "ad_groups",
		&Batch{Param: "ad_group_ids", Size: 250, Column: "AD_GROUP_ID"}, adGroupTargeting, targetingReport("AD_GROUP_TARGETING", adGroupTargeting)),
	{Name: "ads", Op: "ads/list", Path: "/ad_accounts/{ad_account_id}/ads", Category: "ads_read", Shape: Paged, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"id"}, ReplicationKey: "updated_time", KeyType: UnixSeconds,
		Params: entityPage, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "AdResponse"}},
	{Name: "ad_analytics", Op: "ads/analytics", Path: "/ad_accounts/{ad_account_id}/ads/analytics", Category: "ads_analytics", Shape: Rows, Parent: "ads",
		Partition: "ad_account_id", KeyProperties: []string{"AD_ID", "DATE"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Batch: &Batch{Param: "ad_ids", Size: 250, Column: "AD_ID"}, Window: syncAnalytics, Finalised: true, Report: asyncReport("PIN_PROMOTION", "PIN_PROMOTION_ID"),
		Scopes: adsScopes, SelectedByDefault: true},
	targetingStream("ad_targeting_analytics", "ad_targeting_analytics/get", "/ads/targeting_analytics", "ads",
		&Batch{Param: "ad_ids", Size: 250, Column: "AD_ID"}, adTargeting, targetingReport("PIN_PROMOTION_TARGETING", adTargeting, "PIN_PROMOTION_ID")),
	{Name: "audiences", Op: "audiences/list", Path: "/ad_accounts/{ad_account_id}/audiences", Category: "ads_read", Shape: Paged, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"id"}, ReplicationKey: "updated_timestamp", KeyType: UnixSeconds,
		Params: page, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "Audience"}},
	{Name: "conversion_tags", Op: "conversion_tags/list", Path: "/ad_accounts/{ad_account_id}/conversion_tags", Category: "ads_read", Shape: Items, Parent: "ad_accounts",
		KeyProperties: []string{"id"}, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "ConversionTag"}},
	{Name: "customer_lists", Op: "customer_lists/list", Path: "/ad_accounts/{ad_account_id}/customer_lists", Category: "ads_read", Shape: Paged, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"id"}, ReplicationKey: "updated_time", KeyType: UnixSeconds,
		Params: page, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "CustomerList"}},

	{Name: "keywords", Op: "keywords/get", Path: "/ad_accounts/{ad_account_id}/keywords", Category: "ads_read", Shape: Paged, Parent: "ad_groups",
		KeyProperties: []string{"id"}, Params: page, Batch: &Batch{Param: "ad_group_ids", Size: 250, Single: "ad_group_id", Unfiltered: true},
		Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "Keyword"}},

	{Name: "catalogs", Op: "catalogs/list", Path: "/catalogs", Category: "catalogs_read", Shape: Paged,
		KeyProperties: []string{"id"}, ReplicationKey: "updated_at", KeyType: DateTime,
		Params: catalogPage, Scopes: catalogScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "Catalog", DateTimes: catalogTimes.DateTimes}},
	{Name: "catalogs_feeds", Op: "feeds/list", Path: "/catalogs/feeds", Category: "catalogs_read", Shape: Paged,
		KeyProperties: []string{"id"}, Params: catalogPage, Drop: []string{"credentials"},
		Scopes: catalogScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "CatalogsFeed", DateTimes: catalogTimes.DateTimes}},
	{Name: "catalogs_product_groups", Op: "catalogs_product_groups/list", Path: "/catalogs/product_groups", Category: "catalogs_read", Shape: Paged,
		KeyProperties: []string{"id"}, Params: catalogPage, EmptyOn: 409, Seconds: []string{"created_at", "updated_at"},
		Scopes: catalogScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "CatalogsVerticalProductGroup"}},

	reportStream("advertiser_report", "AD_ACCOUNT_ID", asyncReport("ADVERTISER")),
	reportStream("campaign_analytics_report", "CAMPAIGN_ID", asyncReport("CAMPAIGN")),
	reportStream("ad_group_report", "AD_GROUP_ID", asyncReport("AD_GROUP")),
	reportStream("pin_promotion_report", "AD_ID", asyncReport("PIN_PROMOTION")),
	reportStream("product_group_report", "PRODUCT_GROUP_ID", asyncReport("PRODUCT_GROUP")),
	reportStream("product_item_report", "PRODUCT_ITEM_ID", productItem("PRODUCT_ITEM")),
	reportStream("advertiser_targeting_report", "AD_ACCOUNT_ID", asyncReport("ADVERTISER_TARGETING")),
	reportStream("campaign_targeting_report", "CAMPAIGN_ID", asyncReport("CAMPAIGN_TARGETING")),
	reportStream("ad_group_targeting_report", "AD_GROUP_ID", asyncReport("AD_GROUP_TARGETING")),
	reportStream("pin_promotion_targeting_report", "AD_ID", asyncReport("PIN_PROMOTION_TARGETING")),
	reportStream("product_group_targeting_report", "PRODUCT_GROUP_ID", asyncReport("PRODUCT_GROUP_TARGETING")),
	reportStream("keyword_report", "KEYWORD_ID", asyncReport("KEYWORD")),
}

// ReportLevelStream returns the report stream read at a report level, or nil.
func ReportLevelStream(level string) *Stream {
	for i := range Streams {
		if st := &Streams[i]; st.Shape == ReportRows && st.Report.Level == level {
			return st
		}
	}
	return nil
}

// CustomReport is a row made from config (a custom report): the row of its
// level's report stream under another name, with the report's own
// parameters and parts, its own start setting, selected by default.
func CustomReport(name string, level *Stream, params []Param, parts []map[string][]string, granularity, start string) Stream {
	rep := *level.Report
	rep.Parts, rep.Granularity = parts, granularity
	st := reportStream(name, level.KeyProperties[0], &rep)
	st.Params, st.SchemaOf, st.StartSetting, st.SelectedByDefault = params, level.Name, start, true
	return st
}

// Find returns the row of a stream in a table, or nil.
func Find(table []Stream, name string) *Stream {
	for i := range table {
		if table[i].Name == name {
			return &table[i]
		}
	}
	return nil
}

// StreamByName returns the row of a stream, or nil.
func StreamByName(name string) *Stream {
	for i := range Streams {
		if Streams[i].Name == name {
			return &Streams[i]
		}
	}
	return nil
}

// Children returns the rows whose parent is name, in table order.
func Children(name string) []*Stream {
	var out []*Stream
	for i := range Streams {
		if Streams[i].Parent == name {
			out = append(out, &Streams[i])
		}
	}
	return out
}

// Incremental reports whether the stream keeps a bookmark.
func (s *Stream) Incremental() bool { return s.ReplicationKey != "" }

// Ancestors returns the stream's parent, its parent's parent, … (nearest first).
func (s *Stream) Ancestors() []*Stream {
	var out []*Stream
	for p := StreamByName(s.Parent); p != nil; p = StreamByName(p.Parent) {
		out = append(out, p)
	}
	return out
}

// BookmarkProperties are the SCHEMA's bookmark_properties.
func (s *Stream) BookmarkProperties(fullTable bool) []string {
	if s.Incremental() && !fullTable {
		return []string{s.ReplicationKey}
	}
	return nil
}

// AutomaticFields are the fields a catalog cannot deselect: the key
// properties, the replication key and the keys added from the parent.
func (s *Stream) AutomaticFields() map[string]bool {
	auto := map[string]bool{}
	for _, k := range s.KeyProperties {
		auto[k] = true
	}
	if s.Incremental() {
		auto[s.ReplicationKey] = true
	}
	for _, k := range s.Schema.Keys {
		auto[k] = true
	}
	return auto
}

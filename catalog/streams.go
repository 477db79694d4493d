package catalog

import "strings"

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
	return s == Rows || s == DailyMetrics || s == TargetingRows || s == KeyedDailyMetrics
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
}

// Batch says that a stream reads the ids of its parent's items in batches:
// Param carries up to Size ids a call (repeated keys), and Column names the
// entity in the rows that come back.
type Batch struct {
	Param  string
	Size   int
	Column string
}

// Window is how far back a windowed endpoint reaches and how many days one
// call may span.
type Window struct {
	Days int // the longest date range of one call, inclusive
	Back int // the oldest day it serves, in days before today
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

	// AddFields are context values written into each record where the API
	// leaves them out: record field → context key.
	AddFields map[string]string
	// KeepIDs names a list setting that restricts which items are kept
	// (their records and their children); empty setting = all.
	KeepIDs string
	// Drop are fields never emitted and absent from the schema (secrets).
	Drop []string
	// DeniedHint is what a 403 on one item's children tells the user to do.
	// On a stream whose ancestors have none, a 403 on its own calls stops
	// the stream (not a skipped item) with this hint.
	DeniedHint string

	Scopes            []string // OAuth scopes the token needs
	SelectedByDefault bool
	Schema            SchemaRule
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

var (
	page       = []Param{{Name: "page_size", Value: "250"}}
	entityPage = []Param{{Name: "page_size", Value: "250"}, {Name: "entity_statuses", Setting: "entity_statuses"}}
	// The targeting types each level of targeting analytics accepts, in the
	// spec's order (components.schemas.AdsAnalytics*TargetingType), and how
	// many one call may carry (the parameters' maxItems).
	targetingTypes = []string{"KEYWORD", "APPTYPE", "GENDER", "LOCATION", "PLACEMENT", "COUNTRY", "TARGETED_INTEREST",
		"PINNER_INTEREST", "AUDIENCE_INCLUDE", "GEO", "AGE_BUCKET", "REGION"}
	accountTargeting  = targetingParams(append(targetingTypes[:12:12], "AGE_BUCKET_AND_GENDER"), 15)
	campaignTargeting = targetingParams(append(targetingTypes[:12:12], "CREATIVE_TYPE", "AGE_BUCKET_AND_GENDER", "AUDIENCE_MULTIPLIER"), 14)
	adGroupTargeting  = targetingParams(append(targetingTypes[:12:12], "AGE_BUCKET_AND_GENDER", "CREATIVE_ENHANCEMENTS"), 14)
	adTargeting       = targetingParams(append(targetingTypes[:12:12], "QUIZ_RESULT", "AGE_BUCKET_AND_GENDER"), 14)
	// organicPage: a list of the operation user's, who is the owner of
	// organic_ad_account_id when it is set (Business Access).
	organicPage = []Param{{Name: "page_size", Value: "250"}, {Name: "ad_account_id", Setting: "organic_ad_account_id"}}
	// pinAnalyticsParams: every metric, all apps, as the operation user.
	pinAnalyticsParams = []Param{{Name: "metric_types", Value: strings.Join(PinMetricTypes, ","), CSV: true},
		{Name: "app_types", Value: "ALL"}, {Name: "ad_account_id", Setting: "organic_ad_account_id"}}
	// syncAnalytics: 90 days a call; start_date at most 90 days back, one
	// day spared for the UTC day boundary.
	syncAnalytics = &Window{Days: 90, Back: 89}
	pinSchema     = SchemaRule{Component: "Pin", DateTimes: []string{"created_at"},
		NullableStrings: []string{"board_id", "board_section_id", "note"}, ObservedArrays: []string{"product_tags"}}
	adsScopes     = []string{"ads:read"}
	boardScopes   = []string{"boards:read"}
	pinScopes     = []string{"boards:read", "pins:read"}
	accountScopes = []string{"user_accounts:read"}
)

// targetingParams are the parameters of a targeting analytics call: those
// of ads analytics and the level's targeting_types, perCall at most a call.
func targetingParams(accepts []string, perCall int) []Param {
	return append(adsAnalyticsParams[:len(adsAnalyticsParams):len(adsAnalyticsParams)],
		Param{Name: "targeting_types", Setting: "targeting_types", CSV: true, Accepts: accepts, PerCall: perCall})
}

// TargetingKeys are the key properties of a targeting analytics row beside
// its level's id column and DATE.
var TargetingKeys = []string{"targeting_type", "targeting_value"}

// Streams is the tap's table of streams, parents before their children.
var Streams = []Stream{
	{Name: "user_account", Op: "user_account/get", Path: "/user_account", Category: "org_read", Shape: Object,
		KeyProperties: []string{"id"}, Scopes: accountScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "Account"}},
	{Name: "user_account_analytics", Op: "user_account/analytics", Path: "/user_account/analytics", Category: "org_analytics", Shape: DailyMetrics,
		KeyProperties: []string{"date"}, ReplicationKey: "date", KeyType: Day, Window: syncAnalytics,
		Scopes: accountScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "AnalyticsDailyMetrics"}},

	{Name: "boards", Op: "boards/list", Path: "/boards", Category: "org_read", Shape: Paged, Gives: "board_id",
		KeyProperties: []string{"id"}, Params: page, Scopes: boardScopes, SelectedByDefault: true,
		Schema: SchemaRule{Component: "Board", DateTimes: []string{"created_at", "board_pins_modified_at"}}},
	{Name: "board_sections", Op: "board_sections/list", Path: "/boards/{board_id}/sections", Category: "org_read", Shape: Paged, Parent: "boards", Gives: "section_id",
		KeyProperties: []string{"id"}, Params: page, AddFields: map[string]string{"board_id": "board_id"},
		Scopes: boardScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "BoardSection", Keys: []string{"board_id"}}},
	{Name: "board_pins", Op: "boards/list_pins", Path: "/boards/{board_id}/pins", Category: "org_read", Shape: Paged, Parent: "boards",
		KeyProperties: []string{"id"}, Params: page, AddFields: map[string]string{"board_id": "board_id"},
		Scopes: pinScopes, SelectedByDefault: true, Schema: pinSchema},
	{Name: "board_section_pins", Op: "board_sections/list_pins", Path: "/boards/{board_id}/sections/{section_id}/pins", Category: "org_read", Shape: Paged, Parent: "board_sections",
		KeyProperties: []string{"id"}, Params: page, AddFields: map[string]string{"board_id": "board_id", "board_section_id": "section_id"},
		Scopes: pinScopes, SelectedByDefault: true, Schema: pinSchema},

	// pins: the minimal row pin_analytics needs; another branch of issue 12
	// adds the full one (the lead merges the two).
	{Name: "pins", Op: "pins/list", Path: "/pins", Category: "org_read", Shape: Paged,
		KeyProperties: []string{"id"}, Params: organicPage, Scopes: pinScopes, SelectedByDefault: true, Schema: pinSchema},
	// pin_analytics: beta, not available to every app; not selected by default.
	{Name: "pin_analytics", Op: "multi_pins/analytics", Path: "/pins/analytics", Category: "org_analytics", Shape: KeyedDailyMetrics, Parent: "pins",
		KeyProperties: []string{"pin_id", "date"}, ReplicationKey: "date", KeyType: Day, Params: pinAnalyticsParams,
		Batch: &Batch{Param: "pin_ids", Size: 100, Column: "pin_id"}, Window: syncAnalytics,
		DeniedHint: "multi_pins/analytics is in beta and not available to every app: ask Pinterest to enable it for your app, or deselect pin_analytics",
		Scopes:     pinScopes, Schema: SchemaRule{Keys: []string{"pin_id"}}},

	{Name: "ad_accounts", Op: "ad_accounts/list", Path: "/ad_accounts", Category: "ads_read", Shape: Paged, Gives: "ad_account_id",
		KeyProperties: []string{"id"}, Params: page, KeepIDs: "ad_account_ids",
		DeniedHint: "check the user's role on it (Admin, Analyst or Campaign Manager) or leave it out of ad_account_ids",
		Scopes:     adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "AdAccount"}},
	{Name: "ad_account_analytics", Op: "ad_account/analytics", Path: "/ad_accounts/{ad_account_id}/analytics", Category: "ads_analytics", Shape: Rows, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"AD_ACCOUNT_ID", "DATE"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Window: syncAnalytics, Scopes: adsScopes, SelectedByDefault: true},
	{Name: "ad_account_targeting_analytics", Op: "ad_account_targeting_analytics/get", Path: "/ad_accounts/{ad_account_id}/targeting_analytics", Category: "ads_analytics", Shape: TargetingRows, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"AD_ACCOUNT_ID", "DATE", "targeting_type", "targeting_value"}, ReplicationKey: "DATE", KeyType: Day,
		Params: accountTargeting, Window: syncAnalytics, AddFields: map[string]string{"AD_ACCOUNT_ID": "ad_account_id"},
		Scopes: adsScopes, SelectedByDefault: true},
	{Name: "campaigns", Op: "campaigns/list", Path: "/ad_accounts/{ad_account_id}/campaigns", Category: "ads_read", Shape: Paged, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"id"}, ReplicationKey: "updated_time", KeyType: UnixSeconds,
		Params: entityPage, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "CampaignResponse"}},
	{Name: "campaign_analytics", Op: "campaigns/analytics", Path: "/ad_accounts/{ad_account_id}/campaigns/analytics", Category: "ads_analytics", Shape: Rows, Parent: "campaigns",
		Partition: "ad_account_id", KeyProperties: []string{"CAMPAIGN_ID", "DATE"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Batch: &Batch{Param: "campaign_ids", Size: 250, Column: "CAMPAIGN_ID"}, Window: syncAnalytics,
		Scopes: adsScopes, SelectedByDefault: true},
	{Name: "campaign_targeting_analytics", Op: "campaign_targeting_analytics/get", Path: "/ad_accounts/{ad_account_id}/campaigns/targeting_analytics", Category: "ads_analytics", Shape: TargetingRows, Parent: "campaigns",
		Partition: "ad_account_id", KeyProperties: []string{"CAMPAIGN_ID", "DATE", "targeting_type", "targeting_value"}, ReplicationKey: "DATE", KeyType: Day,
		Params: campaignTargeting, Batch: &Batch{Param: "campaign_ids", Size: 250, Column: "CAMPAIGN_ID"}, Window: syncAnalytics,
		AddFields: map[string]string{"CAMPAIGN_ID": "campaign_ids"}, Scopes: adsScopes, SelectedByDefault: true},
	{Name: "ad_groups", Op: "ad_groups/list", Path: "/ad_accounts/{ad_account_id}/ad_groups", Category: "ads_read", Shape: Paged, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"id"}, ReplicationKey: "updated_time", KeyType: UnixSeconds,
		Params: entityPage, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "AdGroupResponse"}},
	{Name: "ad_group_analytics", Op: "ad_groups/analytics", Path: "/ad_accounts/{ad_account_id}/ad_groups/analytics", Category: "ads_analytics", Shape: Rows, Parent: "ad_groups",
		Partition: "ad_account_id", KeyProperties: []string{"AD_GROUP_ID", "DATE"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Batch: &Batch{Param: "ad_group_ids", Size: 250, Column: "AD_GROUP_ID"}, Window: syncAnalytics,
		Scopes: adsScopes, SelectedByDefault: true},
	{Name: "ad_group_targeting_analytics", Op: "ad_groups_targeting_analytics/get", Path: "/ad_accounts/{ad_account_id}/ad_groups/targeting_analytics", Category: "ads_analytics", Shape: TargetingRows, Parent: "ad_groups",
		Partition: "ad_account_id", KeyProperties: []string{"AD_GROUP_ID", "DATE", "targeting_type", "targeting_value"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adGroupTargeting, Batch: &Batch{Param: "ad_group_ids", Size: 250, Column: "AD_GROUP_ID"}, Window: syncAnalytics,
		AddFields: map[string]string{"AD_GROUP_ID": "ad_group_ids"}, Scopes: adsScopes, SelectedByDefault: true},
	{Name: "ads", Op: "ads/list", Path: "/ad_accounts/{ad_account_id}/ads", Category: "ads_read", Shape: Paged, Parent: "ad_accounts",
		Partition: "ad_account_id", KeyProperties: []string{"id"}, ReplicationKey: "updated_time", KeyType: UnixSeconds,
		Params: entityPage, Scopes: adsScopes, SelectedByDefault: true, Schema: SchemaRule{Component: "AdResponse"}},
	{Name: "ad_analytics", Op: "ads/analytics", Path: "/ad_accounts/{ad_account_id}/ads/analytics", Category: "ads_analytics", Shape: Rows, Parent: "ads",
		Partition: "ad_account_id", KeyProperties: []string{"AD_ID", "DATE"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adsAnalyticsParams, Batch: &Batch{Param: "ad_ids", Size: 250, Column: "AD_ID"}, Window: syncAnalytics,
		Scopes: adsScopes, SelectedByDefault: true},
	{Name: "ad_targeting_analytics", Op: "ad_targeting_analytics/get", Path: "/ad_accounts/{ad_account_id}/ads/targeting_analytics", Category: "ads_analytics", Shape: TargetingRows, Parent: "ads",
		Partition: "ad_account_id", KeyProperties: []string{"AD_ID", "DATE", "targeting_type", "targeting_value"}, ReplicationKey: "DATE", KeyType: Day,
		Params: adTargeting, Batch: &Batch{Param: "ad_ids", Size: 250, Column: "AD_ID"}, Window: syncAnalytics,
		AddFields: map[string]string{"AD_ID": "ad_ids"}, Scopes: adsScopes, SelectedByDefault: true},
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

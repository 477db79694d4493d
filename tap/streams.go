package tap

// Kind is how a stream's endpoint answers.
type Kind int

const (
	// List endpoints answer {"items": [...], "bookmark": "..."} and are paged by bookmark.
	List Kind = iota
	// AdsAnalytics endpoints answer a flat array of rows, one per entity and day,
	// for date windows of at most 90 days; entity-level ones take up to 250 ids.
	AdsAnalytics
	// UserAnalytics is user_account/analytics: {"all": {"daily_metrics": [...]}}.
	UserAnalytics
)

// Stream describes one Singer stream. The engine (sync.go) runs every row of
// Streams the same way; adding an endpoint means adding a row and a schema.
type Stream struct {
	Name     string // Singer stream and tap_stream_id
	Op       string // Pinterest operationId
	Path     string // relative to base_url; {placeholders} come from the parent context
	Category string // x-ratelimit-category of the operation
	Kind     Kind
	Parent   string // parent stream, "" for a root

	KeyProperties  []string
	ReplicationKey string // "" for FULL_TABLE

	// ContextKey names the context value this stream's items give to their
	// children (e.g. ad_accounts → "ad_account_id").
	ContextKey string
	// AddFields are parent context values written into each record when the
	// API leaves them out: record field → context key.
	AddFields map[string]string
	// StatusFilter: the list takes entity_statuses (campaigns, ad groups, ads).
	StatusFilter bool
	// Partitioned: bookmarks are kept per ad account (the context's ad_account_id).
	Partitioned bool
	// IDParam and IDColumn: an analytics stream of entities takes their ids in
	// IDParam, up to 250 a call, and names them IDColumn in its rows.
	IDParam  string
	IDColumn string
	// AccountColumn: the ad account analytics' row id column.
	AccountColumn string
}

// Streams is the tap's table of streams, parents before their children.
var Streams = []Stream{
	{Name: "user_account_analytics", Op: "user_account/analytics", Path: "/user_account/analytics", Category: "org_analytics", Kind: UserAnalytics,
		KeyProperties: []string{"date"}, ReplicationKey: "date"},

	{Name: "boards", Op: "boards/list", Path: "/boards", Category: "org_read", Kind: List,
		KeyProperties: []string{"id"}, ContextKey: "board_id"},
	{Name: "board_sections", Op: "board_sections/list", Path: "/boards/{board_id}/sections", Category: "org_read", Kind: List, Parent: "boards",
		KeyProperties: []string{"id"}, ContextKey: "section_id", AddFields: map[string]string{"board_id": "board_id"}},
	{Name: "board_pins", Op: "boards/list_pins", Path: "/boards/{board_id}/pins", Category: "org_read", Kind: List, Parent: "boards",
		KeyProperties: []string{"id"}, AddFields: map[string]string{"board_id": "board_id"}},
	{Name: "board_section_pins", Op: "board_sections/list_pins", Path: "/boards/{board_id}/sections/{section_id}/pins", Category: "org_read", Kind: List, Parent: "board_sections",
		KeyProperties: []string{"id"}, AddFields: map[string]string{"board_id": "board_id", "board_section_id": "section_id"}},

	{Name: "ad_accounts", Op: "ad_accounts/list", Path: "/ad_accounts", Category: "ads_read", Kind: List,
		KeyProperties: []string{"id"}, ContextKey: "ad_account_id"},
	{Name: "ad_account_analytics", Op: "ad_account/analytics", Path: "/ad_accounts/{ad_account_id}/analytics", Category: "ads_analytics", Kind: AdsAnalytics, Parent: "ad_accounts",
		KeyProperties: []string{"AD_ACCOUNT_ID", "DATE"}, ReplicationKey: "DATE", Partitioned: true, AccountColumn: "AD_ACCOUNT_ID"},
	{Name: "campaigns", Op: "campaigns/list", Path: "/ad_accounts/{ad_account_id}/campaigns", Category: "ads_read", Kind: List, Parent: "ad_accounts",
		KeyProperties: []string{"id"}, ReplicationKey: "updated_time", StatusFilter: true, Partitioned: true},
	{Name: "campaign_analytics", Op: "campaigns/analytics", Path: "/ad_accounts/{ad_account_id}/campaigns/analytics", Category: "ads_analytics", Kind: AdsAnalytics, Parent: "campaigns",
		KeyProperties: []string{"CAMPAIGN_ID", "DATE"}, ReplicationKey: "DATE", Partitioned: true, IDParam: "campaign_ids", IDColumn: "CAMPAIGN_ID"},
	{Name: "ad_groups", Op: "ad_groups/list", Path: "/ad_accounts/{ad_account_id}/ad_groups", Category: "ads_read", Kind: List, Parent: "ad_accounts",
		KeyProperties: []string{"id"}, ReplicationKey: "updated_time", StatusFilter: true, Partitioned: true},
	{Name: "ad_group_analytics", Op: "ad_groups/analytics", Path: "/ad_accounts/{ad_account_id}/ad_groups/analytics", Category: "ads_analytics", Kind: AdsAnalytics, Parent: "ad_groups",
		KeyProperties: []string{"AD_GROUP_ID", "DATE"}, ReplicationKey: "DATE", Partitioned: true, IDParam: "ad_group_ids", IDColumn: "AD_GROUP_ID"},
	{Name: "ads", Op: "ads/list", Path: "/ad_accounts/{ad_account_id}/ads", Category: "ads_read", Kind: List, Parent: "ad_accounts",
		KeyProperties: []string{"id"}, ReplicationKey: "updated_time", StatusFilter: true, Partitioned: true},
	{Name: "ad_analytics", Op: "ads/analytics", Path: "/ad_accounts/{ad_account_id}/ads/analytics", Category: "ads_analytics", Kind: AdsAnalytics, Parent: "ads",
		KeyProperties: []string{"AD_ID", "DATE"}, ReplicationKey: "DATE", Partitioned: true, IDParam: "ad_ids", IDColumn: "AD_ID"},
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

// Batched reports whether the stream takes its parent's ids in batches
// (entity analytics) rather than running once per parent item.
func (s *Stream) Batched() bool { return s.IDParam != "" }

// bookmarkProperties are the SCHEMA's bookmark_properties.
func (s *Stream) bookmarkProperties(fullTable bool) []string {
	if s.Incremental() && !fullTable {
		return []string{s.ReplicationKey}
	}
	return nil
}

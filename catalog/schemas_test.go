package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/cmd/gen-schemas/schemagen"
)

// schemaRule is what the schema rules say about one stream (written out here
// independently of the generator's table, so the two check each other).
type schemaRule struct {
	stream string
	// keys are the key properties: non-null "string", with this format ("" = none).
	keys map[string]string
	// dateTimes are the only properties with format date-time (all top-level).
	dateTimes []string
	// mustHave are other top-level properties that must exist.
	mustHave []string
	// analytics: every catalog.AnalyticsColumns entry is a property.
	analytics bool
	// freeArrays are top-level arrays declared without items: fields the real
	// API sends beyond the spec, whose item type nothing documents.
	freeArrays []string
}

var schemaRules = []schemaRule{
	{stream: "user_account_analytics", keys: map[string]string{"date": "date"}, mustHave: []string{"data_status", "metrics"}},
	{stream: "boards", keys: map[string]string{"id": ""}, dateTimes: []string{"board_pins_modified_at", "created_at"},
		mustHave: []string{"name", "description", "privacy", "owner", "media", "pin_count", "follower_count", "collaborator_count", "is_ads_only"}},
	{stream: "board_sections", keys: map[string]string{"id": "", "board_id": ""}, mustHave: []string{"name"}},
	{stream: "board_pins", keys: map[string]string{"id": ""}, dateTimes: []string{"created_at"},
		mustHave:   []string{"board_id", "board_section_id", "title", "description", "link", "media", "pin_metrics", "creative_type", "note", "product_tags"},
		freeArrays: []string{"product_tags"}},
	{stream: "board_section_pins", keys: map[string]string{"id": ""}, dateTimes: []string{"created_at"},
		mustHave:   []string{"board_id", "board_section_id", "title", "description", "link", "media", "pin_metrics", "creative_type", "note", "product_tags"},
		freeArrays: []string{"product_tags"}},
	{stream: "ad_accounts", keys: map[string]string{"id": ""},
		mustHave: []string{"name", "owner", "country", "currency", "permissions", "created_time", "updated_time"}},
	{stream: "campaigns", keys: map[string]string{"id": ""},
		mustHave: []string{"ad_account_id", "name", "status", "objective_type", "daily_spend_cap", "lifetime_spend_cap",
			"start_time", "end_time", "created_time", "updated_time", "tracking_urls", "bid_options", "type"}},
	{stream: "ad_groups", keys: map[string]string{"id": ""},
		mustHave: []string{"ad_account_id", "campaign_id", "name", "status", "budget_in_micro_currency", "bid_in_micro_currency",
			"start_time", "end_time", "created_time", "updated_time", "targeting_spec", "dca_assets", "type"}},
	{stream: "ads", keys: map[string]string{"id": ""},
		mustHave: []string{"ad_account_id", "campaign_id", "ad_group_id", "pin_id", "name", "status", "creative_type",
			"created_time", "updated_time", "quiz_pin_data", "tracking_urls", "type"}},
	{stream: "ad_account_analytics", keys: map[string]string{"AD_ACCOUNT_ID": "", "DATE": "date"}, analytics: true},
	{stream: "campaign_analytics", keys: map[string]string{"CAMPAIGN_ID": "", "DATE": "date"}, analytics: true},
	{stream: "ad_group_analytics", keys: map[string]string{"AD_GROUP_ID": "", "DATE": "date"}, analytics: true},
	{stream: "ad_analytics", keys: map[string]string{"AD_ID": "", "DATE": "date"}, analytics: true},
}

// Nested id-like properties the spec types as numbers (quiz ordinals, not
// Pinterest object ids); every other id-like property must be a string.
var numericNestedIDs = map[string]bool{
	"ads.quiz_pin_data.questions[].question_id":             true,
	"ads.quiz_pin_data.questions[].options[].id":            true,
	"ads.quiz_pin_data.results[].result_id":                 true,
	"ads.quiz_pin_data.tie_breaker_custom_result.result_id": true,
}

func TestSchemaStreams(t *testing.T) {
	var want []string
	for _, r := range catalog.Streams {
		want = append(want, r.Name)
	}
	sort.Strings(want)
	if got := catalog.SchemaStreams(); !reflect.DeepEqual(got, want) {
		t.Fatalf("SchemaStreams() = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "nope", "../catalog", "boards.json", "schemas/boards"} {
		if _, err := catalog.Schema(bad); err == nil {
			t.Errorf("Schema(%q): want an error", bad)
		}
	}
	// The embedded copies are the files on disk.
	for _, s := range want {
		emb, err := catalog.Schema(s)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := os.ReadFile(filepath.Join("schemas", s+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(emb, disk) {
			t.Errorf("embedded %s differs from schemas/%s.json", s, s)
		}
	}
}

// TestSchemasUpToDate regenerates every schema from the spec and requires the
// committed files to be byte-identical.
func TestSchemasUpToDate(t *testing.T) {
	spec, err := schemagen.FindSpec("..")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("cannot check that catalog/schemas is up to date: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := schemagen.Run(spec, dir); err != nil {
		t.Fatalf("generate from %s: %v", spec, err)
	}
	gen, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	have, _ := filepath.Glob(filepath.Join("schemas", "*.json"))
	base := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = filepath.Base(p)
		}
		return out
	}
	if !reflect.DeepEqual(base(gen), base(have)) {
		t.Errorf("generator writes %v, catalog/schemas holds %v", base(gen), base(have))
	}
	for _, name := range base(gen) {
		want, _ := os.ReadFile(filepath.Join(dir, name))
		got, err := os.ReadFile(filepath.Join("schemas", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("catalog/schemas/%s is stale (spec %s): run `go run ./cmd/gen-schemas`; first difference: %s",
				name, spec, firstDiff(got, want))
		}
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ": have " + strconvQuote(gl) + ", want " + strconvQuote(wl)
		}
	}
	return "none"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestSchemasCompile(t *testing.T) {
	for _, s := range catalog.SchemaStreams() {
		t.Run(s, func(t *testing.T) {
			b, err := catalog.Schema(s)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(b)); err != nil {
				t.Fatalf("gojsonschema: %v", err)
			}
		})
	}
}

func TestSchemasDeterministicFormat(t *testing.T) {
	for _, s := range catalog.SchemaStreams() {
		b, _ := catalog.Schema(s)
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), b) {
			t.Errorf("%s.json is not sorted-key, 2-space-indented JSON with a trailing newline", s)
		}
	}
}

var nonNullTypes = map[string]bool{"string": true, "integer": true, "number": true, "boolean": true, "object": true, "array": true}

// allowedKeywords are the only keywords a property schema may use.
var allowedKeywords = map[string]bool{"type": true, "properties": true, "items": true, "format": true}

// forbidden are named for clearer failures; any keyword outside
// allowedKeywords fails anyway.
var forbidden = []string{"$ref", "anyOf", "oneOf", "allOf", "not", "additionalProperties", "patternProperties", "required",
	"enum", "pattern", "maxLength", "minLength", "minimum", "maximum", "multipleOf", "example", "default", "readOnly",
	"nullable", "title", "discriminator", "description"}

func isIDName(name string) bool {
	return name == "id" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ID")
}

func TestSchemaRules(t *testing.T) {
	for _, r := range schemaRules {
		t.Run(r.stream, func(t *testing.T) {
			b, err := catalog.Schema(r.stream)
			if err != nil {
				t.Fatal(err)
			}
			var top map[string]any
			if err := json.Unmarshal(b, &top); err != nil {
				t.Fatal(err)
			}
			for k := range top {
				if k != "type" && k != "properties" {
					t.Errorf("top level has %q; want only type and properties", k)
				}
			}
			if top["type"] != "object" {
				t.Errorf(`top-level type = %v, want "object"`, top["type"])
			}
			props, _ := top["properties"].(map[string]any)
			if len(props) == 0 {
				t.Fatal("top level has no properties")
			}
			for _, k := range r.mustHave {
				if _, ok := props[k]; !ok {
					t.Errorf("missing property %q", k)
				}
			}
			for k, format := range r.keys {
				p, ok := props[k].(map[string]any)
				if !ok {
					t.Errorf("missing key property %q", k)
					continue
				}
				want := map[string]any{"type": "string"}
				if format != "" {
					want["format"] = format
				}
				if !reflect.DeepEqual(p, want) {
					t.Errorf("key %s = %v, want %v", k, p, want)
				}
			}
			for _, k := range r.dateTimes {
				want := map[string]any{"type": []any{"null", "string"}, "format": "date-time"}
				if !reflect.DeepEqual(props[k], want) {
					t.Errorf("%s = %v, want %v", k, props[k], want)
				}
			}
			if r.analytics {
				if len(props) != len(catalog.AnalyticsColumns)+1 { // + DATE; the level id is a column
					t.Errorf("%d properties, want %d columns + DATE", len(props), len(catalog.AnalyticsColumns))
				}
				for _, col := range catalog.AnalyticsColumns {
					if _, isKey := r.keys[col]; isKey {
						continue
					}
					want := map[string]any{"type": []any{"null", catalog.ColumnType(col)}}
					if !reflect.DeepEqual(props[col], want) {
						t.Errorf("column %s = %v, want %v", col, props[col], want)
					}
				}
			}
			if r.stream == "user_account_analytics" {
				m, _ := props["metrics"].(map[string]any)
				mp, _ := m["properties"].(map[string]any)
				if len(mp) != len(catalog.UserAccountMetrics) {
					t.Errorf("metrics has %d properties, want %d", len(mp), len(catalog.UserAccountMetrics))
				}
				for _, k := range catalog.UserAccountMetrics {
					if !reflect.DeepEqual(mp[k], map[string]any{"type": []any{"null", "number"}}) {
						t.Errorf("metrics.%s = %v", k, mp[k])
					}
				}
			}
			for _, k := range sortedKeys(props) {
				_, isKey := r.keys[k]
				walkSchema(t, r, k, k, props[k], isKey, true)
			}
		})
	}
}

// walkSchema checks one property schema (and everything below it).
func walkSchema(t *testing.T, r schemaRule, path, name string, v any, isKey, top bool) {
	t.Helper()
	n, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: schema is %T, want an object", path, v)
		return
	}
	for _, k := range forbidden {
		if _, ok := n[k]; ok {
			t.Errorf("%s: forbidden keyword %q", path, k)
		}
	}
	for k := range n {
		if !allowedKeywords[k] && !slices.Contains(forbidden, k) {
			t.Errorf("%s: unexpected keyword %q", path, k)
		}
	}
	var typ string
	switch tv := n["type"].(type) {
	case string:
		if !isKey {
			t.Errorf("%s: non-null type %q on a non-key property; want [\"null\", %q]", path, tv, tv)
		}
		typ = tv
	case []any:
		if isKey {
			t.Errorf("%s: key property must be the non-null \"string\", got %v", path, tv)
		}
		if len(tv) != 2 || tv[0] != "null" {
			t.Errorf("%s: type %v, want [\"null\", <one type>]", path, tv)
		} else {
			typ, _ = tv[1].(string)
		}
	default:
		t.Errorf("%s: missing or bad type %v", path, n["type"])
		return
	}
	if typ == "" {
		return // already reported
	}
	if !nonNullTypes[typ] {
		t.Errorf("%s: bad type %q", path, typ)
	}
	if isKey && typ != "string" {
		t.Errorf("%s: key property is %q, want string", path, typ)
	}
	if isIDName(name) && typ != "string" && !numericNestedIDs[r.stream+"."+path] {
		t.Errorf("%s: id property is %q, want string", path, typ)
	}
	if f, ok := n["format"]; ok {
		switch {
		case top && isKey && f == r.keys[name]:
		case top && f == "date-time" && slices.Contains(r.dateTimes, name):
		default:
			t.Errorf("%s: format %v not allowed here", path, f)
		}
	}
	if props, ok := n["properties"]; ok {
		if typ != "object" {
			t.Errorf("%s: properties on type %q", path, typ)
		}
		pm, ok := props.(map[string]any)
		if !ok || len(pm) == 0 {
			t.Errorf("%s: properties must be a non-empty object", path)
		}
		for _, k := range sortedKeys(pm) {
			walkSchema(t, r, path+"."+k, k, pm[k], false, false)
		}
	}
	items, hasItems := n["items"]
	if typ == "array" && !hasItems && !(top && slices.Contains(r.freeArrays, name)) {
		t.Errorf("%s: array without items", path)
	}
	if hasItems {
		if typ != "array" {
			t.Errorf("%s: items on type %q", path, typ)
		}
		// Items of an *_ids array are ids too.
		itemName := ""
		if strings.HasSuffix(name, "_ids") {
			itemName = "id"
		}
		walkSchema(t, r, path+"[]", itemName, items, false, false)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Hand-written records shaped like the API's objects, as the tap emits them
// (date-times already normalised to RFC 3339 UTC).
var validRecords = map[string][]string{
	"boards": {
		`{"id":"549755885175","name":"Summer Recipes","description":"My favorite summer recipes","privacy":"PUBLIC",
		  "owner":{"username":"ellie"},"is_ads_only":false,"pin_count":5,"follower_count":13,"collaborator_count":0,
		  "media":{"image_cover_url":"https://i.pinimg.com/400x300/fd/cd/d5/fdcdd5a6d8a80824add0d054125cd957.jpg",
		           "pin_thumbnail_urls":["https://i.pinimg.com/150x150/b4/57/10/b45710f1ede96af55230f4b43935c4af.jpg"]},
		  "created_at":"2021-06-08T09:37:18Z","board_pins_modified_at":"2021-10-25T11:17:56.715000Z"}`,
		`{"id":"549755885176","name":"Empty","description":null,"media":{"image_cover_url":null,"pin_thumbnail_urls":[]},
		  "created_at":null,"board_pins_modified_at":null}`,
	},
	"board_sections": {`{"id":"5007513891924371394","name":"Salads","board_id":"549755885175"}`},
	"board_pins": {
		`{"id":"813744226420795884","created_at":"2020-01-01T20:10:40Z","link":"https://www.pinterest.com/","title":null,
		  "description":"Salad recipe","dominant_color":"#6E7874","alt_text":null,"creative_type":"REGULAR",
		  "board_id":"549755885175","board_section_id":null,"board_owner":{"username":"ellie"},
		  "is_owner":true,"is_standard":true,"has_been_promoted":false,"parent_pin_id":null,
		  "media":{"media_type":"video","cover_image_url":"https://i.pinimg.com/videos/thumbnails/originals/a.jpg",
		           "video_url":null,"duration":15100,"height":1920,"width":1080,
		           "images":{"150x150":{"url":"https://i.pinimg.com/150x150/0d/f6/f1/a.jpg","width":150,"height":150}}},
		  "pin_metrics":{"90d":{"pin_click":7,"impression":2,"clickthrough":3},"lifetime_metrics":{"reaction":10,"comment":2}}}`,
	},
	"board_section_pins": {
		`{"id":"813744226420795885","created_at":"2021-10-25T11:17:56Z","board_id":"549755885175",
		  "board_section_id":"5007513891924371394","pin_metrics":null,
		  "media":{"media_type":"multiple_mixed","items":[
		    {"item_type":"image","title":"a","description":null,"link":null,
		     "images":{"600x":{"url":"https://i.pinimg.com/600x/a.jpg","width":600,"height":800}}},
		    {"item_type":"video","cover_image_url":"https://i.pinimg.com/b.jpg","video_url":"https://v.pinimg.com/b.mp4",
		     "duration":8000.5,"height":null,"width":null}]}}`,
	},
	"ad_accounts": {
		`{"id":"549755885175","name":"ACME Tools","owner":{"id":"12345678","username":"acme"},"country":"US",
		  "currency":"USD","permissions":["OWNER","ANALYST"],"created_time":1602201600,"updated_time":null}`,
	},
	"campaigns": {
		`{"id":"549755885175","ad_account_id":"549755885175","name":"ACME Tools","status":"ACTIVE",
		  "lifetime_spend_cap":1432744744,"daily_spend_cap":null,"order_line_id":"549755885175",
		  "tracking_urls":{"impression":["https://example.com/i"],"click":[],"engagement":[],"buyable_button":[],"audience_verification":[]},
		  "start_time":1580865126,"end_time":1644023526,"summary_status":"RUNNING","is_campaign_budget_optimization":true,
		  "is_flexible_daily_budgets":true,"is_performance_plus":false,"is_automated_campaign":null,
		  "bid_options":{"app_type_multipliers":{"iphone":1.2,"web":0.9},"audience_multipliers":{"123":1.1},"placement_multipliers":null},
		  "objective_type":"AWARENESS","created_time":1432744744,"updated_time":1432744744,"type":"campaign"}`,
	},
	"ad_groups": {
		`{"id":"2680060704746","ad_account_id":"549755885175","campaign_id":"626736533506","name":"Ad Group For Pin: 687195905986",
		  "status":"ACTIVE","budget_in_micro_currency":5000000,"bid_in_micro_currency":5000000,"bid_multiplier":1.5,
		  "budget_type":"DAILY","start_time":5686848000,"end_time":null,"lifetime_frequency_cap":100,
		  "targeting_spec":{"AGE_BUCKET":["35-44","50-54"],"GENDER":["male"],"LOCATION":["US"],"TARGETING_STRATEGY":["CHOOSE_YOUR_OWN"],
		                    "SHOPPING_RETARGETING":[{"lookback_window":30,"exclusion_window":14,"tag_types":[0,6]}],"MINIMUM_AGE":"18"},
		  "tracking_urls":null,"auto_targeting_enabled":true,"placement_group":"ALL","pacing_delivery_type":"STANDARD",
		  "conversion_learning_mode_type":null,"summary_status":"RUNNING","feed_profile_id":"626736533506",
		  "billable_event":"CLICKTHROUGH","type":"adgroup","created_time":1476477189,"updated_time":1476477189,
		  "bid_strategy_type":"AUTOMATIC_BID","targeting_template_ids":["643"],"is_creative_optimization":null,
		  "promotion_id":null,"promotion_application_level":null,"dca_assets":null,
		  "optimization_goal_metadata":{"conversion_tag_v3_goal_metadata":{"attribution_windows":{"click_window_days":30},
		    "conversion_event":"PAGE_VISIT","conversion_tag_id":"549755885175","cpa_goal_value_in_micro_currency":"1000000"}}}`,
	},
	"ads": {
		`{"id":"687195134316","ad_group_id":"2680059592705","ad_account_id":"549755885175","campaign_id":"626736533506",
		  "pin_id":"394205773611545468","name":"ACME Tools","status":"ACTIVE","creative_type":"REGULAR",
		  "destination_url":"https://example.com","review_status":"APPROVED","rejected_reasons":[],"rejection_labels":[],
		  "summary_status":"APPROVED","is_pin_deleted":false,"is_removable":false,"created_time":1451431341,
		  "updated_time":1451431341,"type":"pinpromotion","carousel_destination_urls":null,
		  "quiz_pin_data":{"questions":[{"question_id":1,"question_text":"Where do you thrive?","options":[{"id":1,"text":"Hangout vibes"}]}],
		                   "results":[{"organic_pin_id":"394205773611545468","result_id":1}],"tie_breaker_type":"RANDOM"}}`,
	},
	"ad_account_analytics": {`{"AD_ACCOUNT_ID":"547602124502","DATE":"2021-04-01","SPEND_IN_DOLLAR":30,"TOTAL_CLICKTHROUGH":216}`},
	"campaign_analytics": {
		`{"CAMPAIGN_ID":"626736533506","DATE":"2024-05-01","AD_ACCOUNT_ID":"549755885175","CAMPAIGN_NAME":"Spring",
		  "CAMPAIGN_ENTITY_STATUS":"ACTIVE","CAMPAIGN_OBJECTIVE_TYPE":"CONSIDERATION","IS_PREMIERE_CAMPAIGN":false,
		  "CAMPAIGN_BUDGET_OPTIMIZATION":null,"SPEND_IN_MICRO_DOLLAR":30500000,"SPEND_IN_DOLLAR":30.5,"CTR":0.0123,
		  "TOTAL_IMPRESSION":17560,"ECPC_IN_DOLLAR":null}`,
	},
	"ad_group_analytics": {`{"AD_GROUP_ID":"2680060704746","DATE":"2024-05-01","AD_GROUP_BID_MULTIPLIER":1.5,"AD_GROUP_OPTIMIZATION":"CLICKTHROUGH"}`},
	"ad_analytics":       {`{"AD_ID":"687195134316","DATE":"2024-05-01","PIN_ID":"394205773611545468","PAID_IMPRESSION":12}`},
	"user_account_analytics": {
		`{"date":"2024-05-01","data_status":"READY","metrics":{"IMPRESSION":240,"SAVE_RATE":0.18,"VIDEO_AVG_WATCH_TIME":2507.75}}`,
		`{"date":"2024-05-02","data_status":"PROCESSING","metrics":{}}`,
	},
}

// Records the schemas must reject.
var invalidRecords = map[string][]string{
	// The API's naive "2021-06-08T09:37:18" (REFERENCE §13) is rejected too:
	// the tap must normalise date-times to RFC 3339 UTC before emitting them.
	"boards":                 {`{"id":"1","created_at":"2021-06-08T09:37:18"}`, `{"id":"1","created_at":"Mon, 15 Jan 2024 10:00:00 GMT"}`, `{"id":null}`},
	"campaigns":              {`{"id":549755885175}`, `{"id":"1","created_time":"2020-01-01T00:00:00Z"}`},
	"campaign_analytics":     {`{"CAMPAIGN_ID":"1","DATE":null}`, `{"CAMPAIGN_ID":"1","DATE":"2024-05-01","SPEND_IN_DOLLAR":"30"}`},
	"user_account_analytics": {`{"date":"2024-05-01","metrics":{"IMPRESSION":"240"}}`},
	"board_sections":         {`{"id":"1","name":"x","board_id":null}`},
}

func validate(t *testing.T, stream, record string) *gojsonschema.Result {
	t.Helper()
	b, err := catalog.Schema(stream)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(b), gojsonschema.NewStringLoader(record))
	if err != nil {
		t.Fatalf("%s: %v", stream, err)
	}
	return res
}

func TestExampleRecords(t *testing.T) {
	for _, row := range catalog.Streams {
		if len(validRecords[row.Name]) == 0 { // at least its keys, as the tap emits them
			rec := map[string]string{}
			for _, k := range append(slices.Clone(row.KeyProperties), row.Schema.Keys...) {
				rec[k] = "1"
				if k == "DATE" || k == "date" {
					rec[k] = "2024-05-01"
				}
			}
			b, _ := json.Marshal(rec)
			if res := validate(t, row.Name, string(b)); !res.Valid() {
				t.Errorf("%s: a record of only its keys %s is invalid: %v", row.Name, b, res.Errors())
			}
		}
	}
	for _, s := range sortedKeys(anyMap(validRecords)) {
		for i, rec := range validRecords[s] {
			if res := validate(t, s, rec); !res.Valid() {
				t.Errorf("%s record %d invalid: %v", s, i, res.Errors())
			}
		}
	}
	for _, s := range sortedKeys(anyMap(invalidRecords)) {
		for i, rec := range invalidRecords[s] {
			if res := validate(t, s, rec); res.Valid() {
				t.Errorf("%s bad record %d accepted: %s", s, i, rec)
			}
		}
	}
}

func anyMap(m map[string][]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

package tap

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
)

// conform is conformAt for an object that fills obj (a test helper).
func (c *conformer) conform(dst, obj []byte, ctx map[string]string) ([]byte, item, error) {
	out, it, _, err := c.conformAt(dst, obj, jsonscan.SkipSpace(obj, 0), ctx)
	return out, it, err
}

func TestConform(t *testing.T) {
	t.Parallel()
	sectionSchema := `{"type":"object","properties":{"id":{"type":"string"},"name":{"type":["null","string"]},"board_id":{"type":"string"}}}`
	boardSchema := `{"type":"object","properties":{"id":{"type":"string"},"created_at":{"type":["null","string"],"format":"date-time"},"pin_count":{"type":["null","integer"]},"owner":{"type":["null","object"]}}}`
	rowSchema := `{"type":"object","properties":{"AD_ID":{"type":"string"},"DATE":{"type":"string","format":"date"},"SPEND_IN_DOLLAR":{"type":["null","number"]}}}`
	cases := []struct {
		name, stream, schema, in string
		ctx                      map[string]string
		want                     string
		wantErr                  string
	}{
		{"adds the parent id", "board_sections", sectionSchema, `{"id":"1","name":"a"}`, map[string]string{"board_id": "9"}, `{"id":"1","name":"a","board_id":"9"}`, ""},
		{"keeps the API's own parent id", "board_sections", sectionSchema, `{"id":"1","board_id":"8"}`, map[string]string{"board_id": "9"}, `{"id":"1","board_id":"8"}`, ""},
		{"drops undeclared fields", "board_sections", sectionSchema, `{"id":"1","extra":{"a":[1,2]},"name":null}`, map[string]string{"board_id": "9"}, `{"id":"1","name":null,"board_id":"9"}`, ""},
		{"naive date-time becomes UTC RFC 3339", "boards", boardSchema, `{"id":"1","created_at":"2021-06-08T09:37:18"}`, nil, `{"id":"1","created_at":"2021-06-08T09:37:18.000000Z"}`, ""},
		{"fractional naive date-time", "boards", boardSchema, `{"id":"1","created_at":"2021-10-25T11:17:56.715000"}`, nil, `{"id":"1","created_at":"2021-10-25T11:17:56.715000Z"}`, ""},
		{"zoned date-time converted to UTC", "boards", boardSchema, `{"id":"1","created_at":"2021-10-25T13:17:56+02:00"}`, nil, `{"id":"1","created_at":"2021-10-25T11:17:56.000000Z"}`, ""},
		{"garbage date-time becomes null", "boards", boardSchema, `{"id":"1","created_at":"soon"}`, nil, `{"id":"1","created_at":null}`, ""},
		{"numeric id quoted", "boards", boardSchema, `{"id":12345678901234567890,"pin_count":3}`, nil, `{"id":"12345678901234567890","pin_count":3}`, ""},
		{"pretty-printed nested values compacted", "boards", boardSchema, "{\"id\":\"1\",\n \"owner\": {\n  \"username\": \"x\"\n }\n}", nil, `{"id":"1","owner":{"username":"x"}}`, ""},
		{"analytics row with numeric id", "ad_analytics", rowSchema, `{"AD_ID":123,"DATE":"2026-01-02","SPEND_IN_DOLLAR":1.5,"CTR":0.1}`, nil, `{"AD_ID":"123","DATE":"2026-01-02","SPEND_IN_DOLLAR":1.5}`, ""},
		{"missing key is an error", "ad_analytics", rowSchema, `{"DATE":"2026-01-02"}`, nil, "", "without its key properties"},
		{"null key is an error", "boards", boardSchema, `{"id":null}`, nil, "", "without its key properties"},
		{"escaped strings survive", "board_sections", sectionSchema, `{"id":"1","name":"a \"quoted\" \\ name"}`, map[string]string{"board_id": "9"}, `{"id":"1","name":"a \"quoted\" \\ name","board_id":"9"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := newConformer(catalog.StreamByName(tc.stream), []byte(tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := c.conform([]byte("prefix"), []byte(tc.in), tc.ctx)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if string(got) != "prefix" {
					t.Errorf("dst changed on error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := strings.TrimPrefix(string(got), "prefix")
			if rec != tc.want {
				t.Errorf("\n got %s\nwant %s", rec, tc.want)
			}
			if !json.Valid([]byte(rec)) {
				t.Errorf("invalid JSON %s", rec)
			}
		})
	}
}

func TestConformCapturesIDAndReplicationKey(t *testing.T) {
	t.Parallel()
	c, err := newConformer(catalog.StreamByName("campaigns"), []byte(`{"properties":{"id":{"type":"string"},"updated_time":{"type":["null","integer"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, it, err := c.conform(nil, []byte(`{"id":"42","updated_time":1700000000,"name":"x"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := unixValue(it.repRaw); it.id != "42" || !ok || v != 1700000000 {
		t.Errorf("item = %+v", it)
	}
}

func TestConformReportsDroppedFields(t *testing.T) {
	t.Parallel()
	c, err := newConformer(catalog.StreamByName("boards"), []byte(`{"properties":{"id":{"type":"string"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []string{`{"id":"1","new_field":1}`, `{"id":"2","new_field":2,"other":3}`} {
		if _, _, err := c.conform(nil, []byte(obj), nil); err != nil {
			t.Fatal(err)
		}
	}
	if f, n := c.dropped(); fmt.Sprint(f, n) != "[new_field other] [2 1]" {
		t.Errorf("dropped = %v %v, want each field with its count", f, n)
	}
}

package schemagen

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

func testSpec(t *testing.T, schemas string) *spec {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{"paths":{},"components":{"schemas":`+schemas+`}}`), &doc); err != nil {
		t.Fatal(err)
	}
	s, err := newSpec(doc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func renderJSON(t *testing.T, s *spec, name string) string {
	t.Helper()
	n, err := s.normalize(map[string]any{"$ref": refPrefix + name}, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(render(n))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNormalizeAndRender(t *testing.T) {
	s := testSpec(t, `{
	  "A": {"type":"object","properties":{"x":{"type":"integer","minimum":0},"tags":{"type":"array","items":{"type":"string","enum":["a"]}}}},
	  "B": {"type":"object","properties":{"x":{"type":"number"},"y":{"type":"string","format":"date-time","nullable":true}}},
	  "OneOf": {"oneOf":[{"$ref":"#/components/schemas/A"},{"$ref":"#/components/schemas/B"}],"discriminator":{"propertyName":"x"}},
	  "AllOf": {"allOf":[{"$ref":"#/components/schemas/A"},{"type":"object","properties":{"z":{"allOf":[{"$ref":"#/components/schemas/B"}],"readOnly":true}}}]},
	  "Loose": {"type":"object","properties":{"any":{},"free":{"type":"object"},"map":{"type":"object","properties":{"KEY":{"type":"string"}},"additionalProperties":{"type":"number"}},
	            "strs":{"type":"array","items":{"enum":["P","Q",null]}},"blobs":{"type":"array","items":{}},"noitems":{"type":"array"}}},
	  "Rec": {"type":"object","properties":{"self":{"$ref":"#/components/schemas/Rec"},"name":{"type":"string"}}}
	}`)
	for name, want := range map[string]string{
		"OneOf": `{"properties":{"tags":{"items":{"type":["null","string"]},"type":["null","array"]},"x":{"type":["null","number"]},"y":{"type":["null","string"]}},"type":["null","object"]}`,
		"AllOf": `{"properties":{"tags":{"items":{"type":["null","string"]},"type":["null","array"]},"x":{"type":["null","integer"]},"z":{"properties":{"x":{"type":["null","number"]},"y":{"type":["null","string"]}},"type":["null","object"]}},"type":["null","object"]}`,
		"Loose": `{"properties":{"any":{"type":["null","object"]},"blobs":{"items":{"type":["null","object"]},"type":["null","array"]},"free":{"type":["null","object"]},"map":{"type":["null","object"]},"noitems":{"items":{"type":["null","object"]},"type":["null","array"]},"strs":{"items":{"type":["null","string"]},"type":["null","array"]}},"type":["null","object"]}`,
		"Rec":   `{"properties":{"name":{"type":["null","string"]},"self":{"type":["null","object"]}},"type":["null","object"]}`,
	} {
		if got := renderJSON(t, s, name); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestMergeConflict(t *testing.T) {
	s := testSpec(t, `{"C": {"oneOf":[{"type":"object","properties":{"v":{"type":"string"}}},{"type":"object","properties":{"v":{"type":"boolean"}}}]}}`)
	_, err := s.normalize(map[string]any{"$ref": refPrefix + "C"}, "C", nil)
	if err == nil || !strings.Contains(err.Error(), "C.v") {
		t.Fatalf("want a type clash at C.v, got %v", err)
	}
}

func TestEnumType(t *testing.T) {
	for _, c := range []struct {
		enum []any
		want string
	}{
		{[]any{"a", nil}, "string"},
		{[]any{1.0, 2.0}, "integer"},
		{[]any{1.0, 2.5}, "number"},
		{[]any{"a", 1.0}, ""},
		{[]any{nil}, ""},
	} {
		if got := enumType(c.enum); got != c.want {
			t.Errorf("enumType(%v) = %q, want %q", c.enum, got, c.want)
		}
	}
}

func TestEntityChecks(t *testing.T) {
	rec := &node{Type: "object", Props: map[string]*node{
		"id":         {Type: "string"},
		"created_at": {Type: "string", Format: "date-time"},
		"updated_at": {Type: "string", Format: "date-time"},
	}}
	err := entityProps(Stream{Name: "x", DateTimes: []string{"created_at"}}, rec, map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "updated_at") {
		t.Errorf("undeclared date-time: got %v", err)
	}
	err = entityProps(Stream{Name: "x", DateTimes: []string{"created_at", "missing"}}, rec, map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing date-time: got %v", err)
	}
	props := map[string]any{}
	if err := entityProps(Stream{Name: "x", DateTimes: []string{"created_at", "updated_at"}, AddKeys: []string{"parent_id"}}, rec, props); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(props["parent_id"], keyString) || !reflect.DeepEqual(props["id"], keyString) {
		t.Errorf("keys: %v", props)
	}
	bad := &node{Type: "object", Props: map[string]*node{"id": {Type: "string"}, "owner_id": {Type: "integer"}}}
	if err := checkIDs("x", bad, "", true); err == nil {
		t.Error("integer owner_id accepted")
	}
}

func TestGenerateRealSpec(t *testing.T) {
	path, err := FindSpec("../../..")
	if err != nil {
		t.Skipf("no spec: %v", err)
	}
	a, err := Run(path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(catalog.Streams) {
		t.Fatalf("%d files for %d streams", len(a), len(catalog.Streams))
	}
	for name, b := range a {
		if !strings.HasSuffix(string(b), "}\n") || strings.Contains(string(b), "$ref") || strings.Contains(string(b), "Of\"") {
			t.Errorf("%s: unexpected content", name)
		}
	}
}

package catalog_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

// specOp is what the table test needs of one operation of the spec.
type specOp struct {
	path, category string
	params         map[string]map[string]any // name → schema
	required       map[string]bool
}

// loadOps reads the GET operations of the bundled spec by operationId.
func loadOps(t *testing.T) map[string]specOp {
	t.Helper()
	b, err := os.ReadFile("../fixtures/openapi/openapi-v5.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]json.RawMessage `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	type param struct {
		Ref      string         `json:"$ref"`
		Name     string         `json:"name"`
		Required bool           `json:"required"`
		Schema   map[string]any `json:"schema"`
	}
	ops := map[string]specOp{}
	for path, methods := range doc.Paths {
		var op struct {
			ID         string  `json:"operationId"`
			Category   string  `json:"x-ratelimit-category"`
			Parameters []param `json:"parameters"`
		}
		if raw, ok := methods["get"]; !ok || json.Unmarshal(raw, &op) != nil {
			continue
		}
		o := specOp{path: path, category: op.Category, params: map[string]map[string]any{}, required: map[string]bool{}}
		for _, p := range op.Parameters {
			if p.Ref != "" {
				if err := json.Unmarshal(doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")], &p); err != nil {
					t.Fatal(err)
				}
			}
			o.params[p.Name], o.required[p.Name] = p.Schema, p.Required
		}
		ops[op.ID] = o
	}
	return ops
}

func settings(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../tap/config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for k := range doc.Properties {
		out[k] = true
	}
	return out
}

// TestStreamTable checks the table itself, so that a new row cannot be
// wrong in the usual ways: names, parents and the context they give,
// operations, paths and parameters against the spec, settings, schemas.
func TestStreamTable(t *testing.T) {
	ops, known := loadOps(t), settings(t)
	seen := map[string]bool{}
	for i := range catalog.Streams {
		s := &catalog.Streams[i]
		t.Run(s.Name, func(t *testing.T) {
			checkRow(t, s, seen)
			if s.Shape != catalog.ReportRows { // a POST with a JSON body: TestReportRows holds it to the spec
				checkOp(t, s, ops[s.Op])
				checkParams(t, s, ops[s.Op], known)
			}
			checkSchema(t, s)
		})
		seen[s.Name] = true
	}
}

var snake = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func checkRow(t *testing.T, s *catalog.Stream, seen map[string]bool) {
	if !snake.MatchString(s.Name) || seen[s.Name] {
		t.Fatalf("bad or duplicate name %q", s.Name)
	}
	if s.Parent != "" && !seen[s.Parent] {
		t.Fatalf("parent %q must exist and come before %q", s.Parent, s.Name)
	}
	given := map[string]bool{}
	for _, a := range s.Ancestors() {
		given[a.Gives] = a.Gives != ""
	}
	for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(s.Path, -1) {
		if !given[m[1]] {
			t.Errorf("path %s needs {%s}, which no ancestor gives", s.Path, m[1])
		}
	}
	if s.Batch != nil {
		given[s.Batch.Param] = true // the engine's context holds a batch of one id
	}
	for f, k := range s.AddFields {
		if !given[k] {
			t.Errorf("AddFields %s←%s: no ancestor gives %s", f, k, k)
		}
	}
	if s.Partition != "" && !given[s.Partition] {
		t.Errorf("partition %q is given by no ancestor", s.Partition)
	}
	if s.Incremental() != (s.KeyType != catalog.NoKey) {
		t.Errorf("a replication key needs a key type, and only it")
	}
	if s.Shape.Windowed() != (s.Window != nil) {
		t.Errorf("windowed shapes need a Window, and only they")
	}
	if s.Batch != nil && (s.Parent == "" || s.Batch.Size < 1) {
		t.Errorf("a batched stream has a parent and a size: %+v", s.Batch)
	}
	// windowed rows name the entity of their rows by a key column; a
	// batched list falls back to one id a call and may read its parent's
	// parent too, which a windowed row does not
	if s.Batch != nil && s.Shape.Windowed() && (s.Batch.Column == "" || !slices.Contains(s.KeyProperties, s.Batch.Column) || s.Batch.Single != "" || s.Batch.Unfiltered) {
		t.Errorf("a batched windowed stream has a key column, and neither Single nor Unfiltered: %+v", s.Batch)
	}
	if s.Batch != nil && !s.Shape.Windowed() && s.Batch.Column != "" {
		t.Errorf("a batched list has no key column: %+v", s.Batch)
	}
	if len(s.KeyProperties) == 0 || len(s.Scopes) == 0 {
		t.Errorf("key properties and scopes are required")
	}
}

func checkOp(t *testing.T, s *catalog.Stream, op specOp) {
	if op.params == nil {
		t.Fatalf("operation %q is not a GET of the spec", s.Op)
	}
	if op.path != s.Path || op.category != s.Category {
		t.Errorf("spec: %s is GET %s in category %s; the row says %s, %s", s.Op, op.path, op.category, s.Path, s.Category)
	}
	var want []string
	switch {
	case s.Shape == catalog.Paged:
		want = []string{"bookmark", "page_size"}
	case s.Shape.Windowed():
		want = []string{"start_date", "end_date"}
	}
	if s.Batch != nil {
		want = append(want, s.Batch.Param)
		if s.Batch.Single != "" {
			want = append(want, s.Batch.Single)
		}
	}
	for _, p := range want {
		if op.params[p] == nil {
			t.Errorf("the engine sends %s, which %s does not take", p, s.Op)
		}
	}
	if s.Batch != nil {
		if max, ok := op.params[s.Batch.Param]["maxItems"].(float64); ok && s.Batch.Size > int(max) {
			t.Errorf("batches of %d %s; the spec allows %v", s.Batch.Size, s.Batch.Param, max)
		}
	}
}

func checkParams(t *testing.T, s *catalog.Stream, op specOp, known map[string]bool) {
	sent := map[string]bool{}
	for _, p := range s.Params {
		sent[p.Name] = true
		schema := op.params[p.Name]
		if schema == nil {
			t.Errorf("param %s is not a parameter of %s", p.Name, s.Op)
			continue
		}
		if (p.Setting == "") == (p.Value == "") || (p.Setting != "" && !known[p.Setting]) || (p.Or != "" && !known[p.Or]) {
			t.Errorf("param %s: a fixed value or a known setting, not both (%+v)", p.Name, p)
		}
		if max, ok := schema["maxItems"].(float64); ok && p.PerCall > int(max) {
			t.Errorf("param %s: %d values a call, the spec allows %v", p.Name, p.PerCall, max)
		}
		if max, ok := schema["maximum"].(float64); ok && p.Value != "" {
			if n, _ := strconv.Atoi(p.Value); n > int(max) {
				t.Errorf("param %s=%s above the spec's maximum %v", p.Name, p.Value, max)
			}
		}
	}
	if s.KeepIDs != "" && !known[s.KeepIDs] {
		t.Errorf("KeepIDs names unknown setting %q", s.KeepIDs)
	}
	for name, req := range op.required {
		inPath := strings.Contains(s.Path, "{"+name+"}")
		engine := name == "start_date" || name == "end_date" || (s.Batch != nil && (name == s.Batch.Param || name == s.Batch.Single))
		if req && !inPath && !engine && !sent[name] {
			t.Errorf("%s requires %s, which the row does not send", s.Op, name)
		}
	}
}

func checkSchema(t *testing.T, s *catalog.Stream) {
	schema, err := catalog.Schema(s.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schema)); err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	props, _ := catalog.SchemaProperties(schema)
	for _, k := range append(append([]string{s.ReplicationKey}, s.KeyProperties...), s.Schema.Keys...) {
		if k != "" && !slices.Contains(props, k) {
			t.Errorf("key or replication key %q is not a top-level property", k)
		}
	}
	for f := range s.AddFields {
		if !slices.Contains(props, f) {
			t.Errorf("added field %q is not in the schema", f)
		}
	}
	for _, f := range s.Drop {
		if slices.Contains(props, f) {
			t.Errorf("dropped field %q is in the schema", f)
		}
	}
}

// TestAcceptsMatchSpec: a parameter's Accepts are exactly the values of the
// spec's enum for it (its items' $ref), in the spec's order, so that the
// default ("every type the level accepts") follows the spec.
func TestAcceptsMatchSpec(t *testing.T) {
	b, err := os.ReadFile("../fixtures/openapi/openapi-v5.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []any `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ops := loadOps(t)
	checked := 0
	for _, s := range catalog.Streams {
		for _, p := range s.Params {
			if p.Accepts == nil {
				continue
			}
			items, _ := ops[s.Op].params[p.Name]["items"].(map[string]any)
			ref, _ := items["$ref"].(string)
			var want []string
			for _, v := range doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")].Enum {
				want = append(want, fmt.Sprint(v))
			}
			if len(want) == 0 || !slices.Equal(p.Accepts, want) {
				t.Errorf("%s %s: Accepts %v, the spec's enum (%s) %v", s.Name, p.Name, p.Accepts, ref, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no parameter with Accepts checked")
	}
}

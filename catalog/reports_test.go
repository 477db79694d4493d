package catalog_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

// specSchemas reads components.schemas of the bundled spec.
func specSchemas(t *testing.T) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile("../fixtures/openapi/openapi-v5.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	// The operations are checked here too: the row's Path is both.
	for _, r := range catalog.Streams {
		if r.Report == nil {
			continue
		}
		ops := doc.Paths[r.Report.Path]
		if ops["post"]["operationId"] != catalog.ReportCreateOp || ops["get"]["operationId"] != catalog.ReportGetOp ||
			ops["post"]["x-ratelimit-category"] != r.Category || ops["get"]["x-ratelimit-category"] != r.Category {
			t.Errorf("%s: %s is not POST %s / GET %s of category %s in the spec", r.Name, r.Report.Path, catalog.ReportCreateOp, catalog.ReportGetOp, r.Category)
		}
	}
	return doc.Components.Schemas
}

// properties gathers an object schema's properties through allOf.
func properties(schemas map[string]map[string]any, s map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	if ref, ok := s["$ref"].(string); ok {
		return properties(schemas, schemas[strings.TrimPrefix(ref, "#/components/schemas/")])
	}
	for k, v := range asMap(s["properties"]) {
		out[k] = asMap(v)
	}
	for _, sub := range asSlice(s["allOf"]) {
		for k, v := range properties(schemas, asMap(sub)) {
			out[k] = v
		}
	}
	return out
}

// enum finds a schema's enum through $ref, allOf and items.
func enum(schemas map[string]map[string]any, s map[string]any) []string {
	if ref, ok := s["$ref"].(string); ok {
		return enum(schemas, schemas[strings.TrimPrefix(ref, "#/components/schemas/")])
	}
	var out []string
	for _, v := range asSlice(s["enum"]) {
		out = append(out, v.(string))
	}
	for _, sub := range asSlice(s["allOf"]) {
		out = append(out, enum(schemas, asMap(sub))...)
	}
	if it, ok := s["items"].(map[string]any); ok {
		out = append(out, enum(schemas, it)...)
	}
	return out
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asSlice(v any) []any        { s, _ := v.([]any); return s }

// TestReportRows holds the rows' async reports to the spec: the level, the
// parameters the report body carries, the columns it may ask for, and the
// 186-day / 914-day limits.
func TestReportRows(t *testing.T) {
	schemas := specSchemas(t)
	req := properties(schemas, schemas["AdsAnalyticsCreateAsyncRequest"])
	levels, columns := enum(schemas, req["level"]), enum(schemas, req["columns"])
	if len(levels) == 0 || len(columns) < 600 {
		t.Fatalf("spec: %d levels, %d async columns", len(levels), len(columns))
	}
	for _, r := range catalog.Streams {
		if r.Report == nil {
			continue
		}
		if !slices.Contains(levels, r.Report.Level) {
			t.Errorf("%s: level %q is not a ReportingLevel", r.Name, r.Report.Level)
		}
		if r.Shape == catalog.ReportRows && (r.Op != catalog.ReportCreateOp || r.Path != r.Report.Path || r.Window != &r.Report.Window) {
			t.Errorf("%s: a report stream's operation, path and window are its report's", r.Name)
		}
		for _, p := range r.Params {
			if req[p.Name] == nil {
				t.Errorf("%s: the report body would carry %s, which AdsAnalyticsCreateAsyncRequest lacks", r.Name, p.Name)
			}
		}
		if w := r.Report.Window; w.Days > 186 || w.Back > 913 || (r.Shape != catalog.ReportRows && w.Back <= r.Window.Back) {
			t.Errorf("%s: reports of %d days reaching %d days back; the API allows 186 and 914", r.Name, w.Days, w.Back)
		}
	}
	for _, c := range catalog.AnalyticsColumns {
		if slices.Contains(columns, c) == catalog.SyncOnlyColumn(c) {
			t.Errorf("column %s: SyncOnlyColumn says %v, the spec's ReportingColumnAsync the opposite", c, catalog.SyncOnlyColumn(c))
		}
	}
}

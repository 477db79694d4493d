// Package schemagen derives the Singer stream schemas in catalog/schemas from
// Pinterest's official OpenAPI v5 description. cmd/gen-schemas is its command
// line; catalog's tests call it to check that the committed files are current.
//
// Rules, from shared/singer/CONVENTIONS.md §5.5, §5.6 (the subset of JSON
// Schema that MeltanoLabs and pipelinewise target-postgres, target-jsonl and
// target-csv all accept):
//
//   - The record schema of a stream is the item schema of its operation's 200
//     response, found by following $ref, allOf and `items` (see Stream.Path).
//     The component it resolves to is checked against Stream.Component, so a
//     spec change that moves a stream to another schema fails loudly.
//   - Top level is {"type":"object","properties":{...}}: no additionalProperties
//     (targets should not fail on new fields) and no required (the tap itself
//     enforces the presence of key properties).
//   - No $ref, allOf, anyOf or oneOf anywhere: pipelinewise reads `type`
//     directly and only understands a leading anyOf. allOf is merged into one
//     object (union of properties); oneOf/anyOf of objects becomes one object
//     holding every variant's properties (Pin `media`, one oneOf variant per
//     media_type, becomes a single object). integer and number merge to
//     number; any other type clash is an error, not a guess.
//   - Every property is {"type":["null","<t>"]} with exactly one non-null type,
//     nested ones and array items included. The exceptions are the key
//     properties, which are the plain non-null "string": `id` on entity
//     streams, <LEVEL>_ID and DATE on ads analytics, `date` on
//     user_account_analytics and the added `board_id` on board_sections.
//   - Validation keywords and annotations are dropped: enum, pattern,
//     min/maxLength, minimum, maximum, multipleOf (pipelinewise raises on
//     float multipleOf), example, default, readOnly, nullable, title,
//     discriminator, x-*, and description (to keep the schemas compact).
//   - `format` survives only where the tap relies on it: "date-time" on the
//     top-level fields in Stream.DateTimes (the tap reads these files to know
//     which fields to normalise to RFC 3339 UTC; MeltanoLabs target-postgres
//     parses every date-time value and fails the run on a bad one, so the
//     format must be exactly where normalisation happens), and "date" on the
//     analytics DATE/date keys. The DateTimes lists are cross-checked against
//     the spec in both directions.
//   - Nested objects are {"type":["null","object"],"properties":{...}},
//     recursively. Free-form objects and maps (an object with no properties,
//     or whose additionalProperties is a schema, even if it also lists
//     pseudo-properties naming its keys, as campaigns' bid_options
//     multipliers do), recursive references and values with no
//     declared type (ad groups' dca_assets, pins' pin_metrics) become
//     {"type":["null","object"]}: a property without `type` is silently
//     dropped by pipelinewise and broke older MeltanoLabs versions, and
//     object maps to JSON(B) in every target.
//   - Arrays are {"type":["null","array"],"items":{...}}, items typed by the
//     same rules (["null","string"] for arrays of strings). Items with no type
//     become ["null","object"], unless an enum shows the values are strings
//     (an untyped node with an enum takes the enum values' JSON type).
//   - Ids are strings: a top-level `id`, `*_id` or `*_ID` property that the
//     spec does not type as string is an error, as is a nested one unless it
//     is listed in nestedNonStringIDs (ordinals such as quiz option ids, which
//     the API sends as numbers and the tap passes through unchanged).
//     Integers stay integer (unix-second timestamps included: the tap emits
//     the API's objects with their own names and types), numbers stay number.
//   - Ads analytics rows: the spec declares only <LEVEL>_ID and DATE; every
//     column of catalog.AnalyticsColumns is added as ["null",
//     catalog.ColumnType(col)] (the key column is not duplicated).
//     user_account_analytics gets one ["null",<t>] metric per
//     catalog.UserAccountMetrics, <t> taken from the spec's
//     Metrics.additionalProperties.
//   - Output is deterministic: sorted keys, 2-space indent, trailing newline.
package schemagen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/atomicfile"
)

// Kind tells how a stream's schema is assembled.
type Kind int

const (
	// Entity streams pass an API object through; `id` is the key.
	Entity Kind = iota
	// AdsAnalytics streams emit one flat row per entity and date.
	AdsAnalytics
	// UserAnalytics is user_account/analytics daily_metrics[].
	UserAnalytics
	// ReportRows are the rows of an async report's download, which the
	// spec describes only in prose: the row's key properties as strings,
	// DATE, and every analytics column the spec's ReportingColumnAsync
	// holds and the level takes.
	ReportRows
	// TargetingAnalytics streams emit one row per entity, date, targeting
	// type and value: the item's metrics flattened beside its targeting
	// type and value.
	TargetingAnalytics
	// PinAnalytics is multi_pins/analytics daily_metrics[] with the pin's id.
	PinAnalytics
)

// Stream is what the generator needs of one row of catalog.Streams.
type Stream struct {
	Name        string
	OperationID string
	// Path leads from the 200 response body to the record schema. Steps are
	// "items" (array items), "additionalProperties" (map values) and
	// "properties.<name>". Every step looks through $ref and allOf.
	Path []string
	// Component is the components.schemas entry the record schema must be,
	// or "" when the spec declares it inline.
	Component string
	Kind      Kind
	// KeyID is the <LEVEL>_ID key of an ads analytics stream.
	KeyID string
	// DateTimes are the top-level fields kept as format date-time.
	DateTimes []string
	// AddKeys are non-null string keys the tap adds to the API object.
	AddKeys []string
	// EnsureNullableStrings are top-level ["null","string"] fields that must
	// exist, added if the spec lacks them.
	EnsureNullableStrings []string
	// ObservedArrays are top-level fields the real API sends although the
	// spec does not declare them, declared as free-form ["null","array"].
	ObservedArrays []string
	// Drop are fields left out of the schema (secrets).
	Drop []string
	// Keys are the key properties of a ReportRows stream (besides DATE);
	// Report is its report.
	Keys   []string
	Report *catalog.Report
}

// shapes maps a response shape to where its records sit in the 200
// response and how their schema is assembled.
var shapes = map[catalog.Shape]struct {
	path []string
	kind Kind
}{
	catalog.Paged:             {[]string{"properties.items", "items"}, Entity},
	catalog.Items:             {[]string{"properties.items", "items"}, Entity},
	catalog.Object:            {nil, Entity},
	catalog.Rows:              {[]string{"items"}, AdsAnalytics},
	catalog.DailyMetrics:      {[]string{"additionalProperties", "properties.daily_metrics", "items"}, UserAnalytics},
	catalog.ReportRows:        {nil, ReportRows},
	catalog.TargetingRows:     {[]string{"properties.data"}, TargetingAnalytics}, // the array: its items are a bare object
	catalog.KeyedDailyMetrics: {[]string{"additionalProperties", "additionalProperties", "properties.daily_metrics", "items"}, PinAnalytics},
}

// FromRow derives the generator's view of one row of the stream table.
func FromRow(r *catalog.Stream) (Stream, error) {
	sh, ok := shapes[r.Shape]
	if !ok {
		return Stream{}, fmt.Errorf("stream %s: no schema rule for shape %d", r.Name, r.Shape)
	}
	st := Stream{Name: r.Name, OperationID: r.Op, Path: sh.path, Component: r.Schema.Component, Kind: sh.kind,
		DateTimes: r.Schema.DateTimes, AddKeys: r.Schema.Keys, EnsureNullableStrings: r.Schema.NullableStrings,
		ObservedArrays: r.Schema.ObservedArrays, Drop: r.Drop}
	if sh.kind == AdsAnalytics || sh.kind == TargetingAnalytics {
		st.KeyID = r.KeyProperties[0]
	}
	if sh.kind == ReportRows {
		st.Keys, st.Report = r.KeyProperties, r.Report
	}
	return st, nil
}

// Streams derives the generator's view of every row of catalog.Streams, in table order.
func Streams() ([]Stream, error) {
	out := make([]Stream, 0, len(catalog.Streams))
	for i := range catalog.Streams {
		st, err := FromRow(&catalog.Streams[i])
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// nestedNonStringIDs are nested id-like properties the spec types as numbers.
// They are ordinals inside an ad's quiz (1, 2, 3 in the spec's example), not
// Pinterest object ids; the tap passes nested objects through unchanged, so
// declaring them string would make records fail validation.
var nestedNonStringIDs = map[string]bool{
	"ads.quiz_pin_data.questions[].question_id":             true,
	"ads.quiz_pin_data.questions[].options[].id":            true,
	"ads.quiz_pin_data.results[].result_id":                 true,
	"ads.quiz_pin_data.tie_breaker_custom_result.result_id": true,
	// an advertiser's own product ids inside an audience rule's event data, as the advertiser sent them
	"audiences.rule.event_data.line_items.product_id": true,
}

// SpecCandidates are the places, relative to the repository root, where the
// spec is looked for, in order: the fixtures copy, then the shared reference.
var SpecCandidates = []string{
	filepath.Join("fixtures", "openapi", "openapi-v5.json"),
	filepath.Join("..", "shared", "pinterest-api", "openapi-v5.json"),
}

// FindSpec returns the first of SpecCandidates that exists under root.
func FindSpec(root string) (string, error) {
	var tried []string
	for _, c := range SpecCandidates {
		p := filepath.Join(root, c)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("OpenAPI spec not found (tried %s): %w", strings.Join(tried, ", "), fs.ErrNotExist)
}

// Generate returns the schema file contents keyed by file name (<stream>.json).
func Generate(specJSON []byte) (map[string][]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(specJSON, &doc); err != nil {
		return nil, fmt.Errorf("parse spec: %w", err)
	}
	sp, err := newSpec(doc)
	if err != nil {
		return nil, err
	}
	streams, err := Streams()
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(streams))
	for _, st := range streams {
		schema, err := sp.streamSchema(st)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", st.Name, err)
		}
		b, err := encode(schema)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", st.Name, err)
		}
		files[st.Name+".json"] = b
	}
	return files, nil
}

// Run reads the spec at specPath and writes every schema file into outDir.
// It returns the generated contents, keyed by file name.
func Run(specPath, outDir string) (map[string][]byte, error) {
	b, err := os.ReadFile(specPath)
	if err != nil {
		return nil, err
	}
	files, err := Generate(b)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(files) {
		if err := writeAtomic(filepath.Join(outDir, name), files[name]); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// writeAtomic replaces path in one rename, so a concurrent build never embeds
// a half-written file; an unchanged file is left alone.
func writeAtomic(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return atomicfile.Write(path, b, 0o644)
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // encoding/json sorts map keys
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil { // Encode appends the trailing newline
		return nil, err
	}
	return buf.Bytes(), nil
}

// ---------------------------------------------------------------------------
// Spec navigation

type spec struct {
	schemas map[string]any
	ops     map[string]map[string]any // operationId → operation object
}

func newSpec(doc map[string]any) (*spec, error) {
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if schemas == nil {
		return nil, errors.New("spec has no components.schemas")
	}
	paths, _ := doc["paths"].(map[string]any)
	ops := map[string]map[string]any{}
	for _, p := range paths {
		item, _ := p.(map[string]any)
		for _, o := range item {
			op, ok := o.(map[string]any)
			if !ok {
				continue
			}
			if id, ok := op["operationId"].(string); ok {
				ops[id] = op
			}
		}
	}
	return &spec{schemas: schemas, ops: ops}, nil
}

const refPrefix = "#/components/schemas/"

func (s *spec) deref(node any) (any, string, error) {
	name := ""
	for i := 0; ; i++ {
		m, ok := node.(map[string]any)
		if !ok {
			return node, name, nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return node, name, nil
		}
		if !strings.HasPrefix(ref, refPrefix) {
			return nil, "", fmt.Errorf("unsupported $ref %q", ref)
		}
		name = strings.TrimPrefix(ref, refPrefix)
		target, ok := s.schemas[name]
		if !ok {
			return nil, "", fmt.Errorf("dangling $ref %q", ref)
		}
		if i > 32 {
			return nil, "", fmt.Errorf("$ref chain too long at %q", ref)
		}
		node = target
	}
}

// facets returns node (dereferenced) and, recursively, its allOf members.
func (s *spec) facets(node any) ([]map[string]any, error) {
	n, _, err := s.deref(node)
	if err != nil {
		return nil, err
	}
	m, ok := n.(map[string]any)
	if !ok {
		return nil, nil
	}
	out := []map[string]any{m}
	all, _ := m["allOf"].([]any)
	for _, member := range all {
		f, err := s.facets(member)
		if err != nil {
			return nil, err
		}
		out = append(out, f...)
	}
	return out, nil
}

// recordSchema follows st.Path from the operation's 200 response and returns
// the record schema (a raw spec node) and the component it names, if any.
func (s *spec) recordSchema(st Stream) (any, string, error) {
	op, ok := s.ops[st.OperationID]
	if !ok {
		return nil, "", fmt.Errorf("operation %q not in spec", st.OperationID)
	}
	body, err := dig(op, "responses", "200", "content", "application/json", "schema")
	if err != nil {
		return nil, "", fmt.Errorf("operation %q: %w", st.OperationID, err)
	}
	cands := []any{body}
	for _, step := range st.Path {
		var next []any
		for _, c := range cands {
			fs, err := s.facets(c)
			if err != nil {
				return nil, "", err
			}
			for _, f := range fs {
				var v any
				switch {
				case step == "items" || step == "additionalProperties":
					v = f[step]
				case strings.HasPrefix(step, "properties."):
					props, _ := f["properties"].(map[string]any)
					v = props[strings.TrimPrefix(step, "properties.")]
				default:
					return nil, "", fmt.Errorf("bad path step %q", step)
				}
				if v != nil {
					next = append(next, v)
				}
			}
		}
		if len(next) == 0 {
			return nil, "", fmt.Errorf("operation %q: path step %q leads nowhere", st.OperationID, step)
		}
		cands = next
	}
	// Paginated's generic `items: {type: object}` sits next to the specific
	// item schema in an allOf; keep the specific one.
	var refs, inline []any
	names := map[string]bool{}
	for _, c := range cands {
		_, name, err := s.deref(c)
		if err != nil {
			return nil, "", err
		}
		if name != "" {
			refs = append(refs, c)
			names[name] = true
			continue
		}
		if m, ok := c.(map[string]any); ok && isPlaceholder(m) {
			continue
		}
		inline = append(inline, c)
	}
	switch {
	case len(names) == 1 && len(inline) == 0:
		_, name, _ := s.deref(refs[0])
		if name != st.Component {
			return nil, "", fmt.Errorf("operation %q: record schema is %q, table says %q", st.OperationID, name, st.Component)
		}
		return refs[0], name, nil
	case len(names) == 0 && len(inline) == 1:
		if st.Component != "" {
			return nil, "", fmt.Errorf("operation %q: record schema is inline, table says %q", st.OperationID, st.Component)
		}
		return inline[0], "", nil
	}
	return nil, "", fmt.Errorf("operation %q: ambiguous record schema (%d refs %v, %d inline)", st.OperationID, len(refs), sortedKeys(names), len(inline))
}

// isPlaceholder reports a bare {"type":"object"} (Paginated's item type).
func isPlaceholder(m map[string]any) bool {
	for k, v := range m {
		if k == "description" {
			continue
		}
		if k != "type" || v != "object" {
			return false
		}
	}
	return true
}

func dig(v any, keys ...string) (any, error) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok || m[k] == nil {
			return nil, fmt.Errorf("no %q", k)
		}
		v = m[k]
	}
	return v, nil
}

// ---------------------------------------------------------------------------
// Normalised schema tree

// node is a spec schema with $ref, allOf, oneOf and anyOf resolved away and
// everything but type, format, properties and items dropped.
type node struct {
	Type   string // "" when the spec declares none
	Format string
	Props  map[string]*node // declared properties; nil for free-form objects
	Items  *node            // array items; nil when undeclared
	Addl   *node            // additionalProperties (map values), if a schema
}

var scalarTypes = map[string]bool{"string": true, "integer": true, "number": true, "boolean": true}

func (s *spec) normalize(raw any, path string, stack []string) (*node, error) {
	switch raw.(type) {
	case nil, bool:
		return &node{}, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: schema is %T", path, raw)
	}
	if _, ok := m["$ref"]; ok {
		target, name, err := s.deref(map[string]any{"$ref": m["$ref"]})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, seen := range stack {
			if seen == name { // recursive type: keep it as a free-form object
				return &node{Type: "object"}, nil
			}
		}
		return s.normalize(target, path, append(stack[:len(stack):len(stack)], name))
	}
	if _, ok := m["not"]; ok {
		return nil, fmt.Errorf("%s: `not` is not supported", path)
	}
	n := &node{}
	switch t := m["type"].(type) {
	case nil:
	case string:
		n.Type = t
	case []any: // JSON Schema style type list: allow one non-null type
		for _, e := range t {
			if s, _ := e.(string); s != "null" && s != "" {
				if n.Type != "" {
					return nil, fmt.Errorf("%s: several types %v", path, t)
				}
				n.Type = s
			}
		}
	default:
		return nil, fmt.Errorf("%s: bad type %v", path, t)
	}
	if f, ok := m["format"].(string); ok {
		n.Format = f
	}
	if props, ok := m["properties"].(map[string]any); ok {
		if n.Type == "" {
			n.Type = "object"
		}
		n.Props = map[string]*node{}
		for _, k := range sortedKeys(props) {
			c, err := s.normalize(props[k], path+"."+k, stack)
			if err != nil {
				return nil, err
			}
			n.Props[k] = c
		}
	}
	if items, ok := m["items"]; ok {
		if n.Type == "" {
			n.Type = "array"
		}
		c, err := s.normalize(items, path+"[]", stack)
		if err != nil {
			return nil, err
		}
		n.Items = c
	}
	if addl, ok := m["additionalProperties"].(map[string]any); ok {
		if n.Type == "" {
			n.Type = "object"
		}
		c, err := s.normalize(addl, path+"{}", stack)
		if err != nil {
			return nil, err
		}
		n.Addl = c
	}
	for _, comb := range []string{"allOf", "oneOf", "anyOf"} {
		members, _ := m[comb].([]any)
		for i, member := range members {
			c, err := s.normalize(member, fmt.Sprintf("%s/%s%d", path, comb, i), stack)
			if err != nil {
				return nil, err
			}
			if n, err = merge(n, c, path); err != nil {
				return nil, err
			}
		}
	}
	if n.Type == "" {
		if enum, ok := m["enum"].([]any); ok {
			n.Type = enumType(enum)
		}
	}
	if n.Type != "" && n.Type != "object" && n.Type != "array" && !scalarTypes[n.Type] {
		return nil, fmt.Errorf("%s: unsupported type %q", path, n.Type)
	}
	return n, nil
}

// enumType returns the JSON type shared by an enum's non-null values, or "".
func enumType(enum []any) string {
	t := ""
	for _, v := range enum {
		var vt string
		switch x := v.(type) {
		case nil:
			continue
		case string:
			vt = "string"
		case bool:
			vt = "boolean"
		case float64:
			vt = "number"
			if x == float64(int64(x)) {
				vt = "integer"
			}
		default:
			return ""
		}
		switch {
		case t == "" || t == vt:
			t = vt
		case (t == "integer" && vt == "number") || (t == "number" && vt == "integer"):
			t = "number"
		default:
			return ""
		}
	}
	return t
}

func isEmpty(n *node) bool {
	return n == nil || (n.Type == "" && n.Props == nil && n.Items == nil && n.Addl == nil)
}

// merge combines two normalised schemas: allOf members, or oneOf/anyOf
// variants (which all become one object holding every variant's properties).
// It never modifies its arguments.
func merge(a, b *node, path string) (*node, error) {
	if isEmpty(b) {
		c := clone(a)
		if c.Format == "" && b != nil {
			c.Format = b.Format
		}
		return c, nil
	}
	if isEmpty(a) {
		c := clone(b)
		if a != nil && a.Format != "" && c.Format == "" {
			c.Format = a.Format
		}
		return c, nil
	}
	out := &node{Type: a.Type}
	if a.Type != b.Type {
		num := map[string]bool{"integer": true, "number": true}
		if !(num[a.Type] && num[b.Type]) {
			return nil, fmt.Errorf("%s: cannot merge type %q with %q", path, a.Type, b.Type)
		}
		out.Type = "number"
	}
	switch {
	case a.Format == b.Format || b.Format == "":
		out.Format = a.Format
	case a.Format == "":
		out.Format = b.Format
	} // two different formats: keep none
	if a.Props != nil || b.Props != nil {
		out.Props = map[string]*node{}
		for k, v := range a.Props {
			out.Props[k] = clone(v)
		}
		for k, v := range b.Props {
			if cur, ok := out.Props[k]; ok {
				mv, err := merge(cur, v, path+"."+k)
				if err != nil {
					return nil, err
				}
				out.Props[k] = mv
			} else {
				out.Props[k] = clone(v)
			}
		}
	}
	var err error
	if out.Items, err = mergeOpt(a.Items, b.Items, path+"[]"); err != nil {
		return nil, err
	}
	if out.Addl, err = mergeOpt(a.Addl, b.Addl, path+"{}"); err != nil {
		return nil, err
	}
	return out, nil
}

func mergeOpt(a, b *node, path string) (*node, error) {
	switch {
	case a == nil && b == nil:
		return nil, nil
	case a == nil:
		return clone(b), nil
	case b == nil:
		return clone(a), nil
	}
	return merge(a, b, path)
}

func clone(n *node) *node {
	if n == nil {
		return nil
	}
	c := &node{Type: n.Type, Format: n.Format, Items: clone(n.Items), Addl: clone(n.Addl)}
	if n.Props != nil {
		c.Props = make(map[string]*node, len(n.Props))
		for k, v := range n.Props {
			c.Props[k] = clone(v)
		}
	}
	return c
}

// ---------------------------------------------------------------------------
// Rendering

func nullable(t string) []any { return []any{"null", t} }

var keyString = map[string]any{"type": "string"}

// render turns a normalised node into a Singer-safe property schema.
func render(n *node) map[string]any {
	switch n.Type {
	case "array":
		items := map[string]any{"type": nullable("object")} // untyped items
		if n.Items != nil {
			items = render(n.Items)
		}
		return map[string]any{"type": nullable("array"), "items": items}
	case "", "object":
		// Free-form objects, maps and untyped values: declare an object so
		// every target gets a type (pipelinewise drops a property without
		// one; older MeltanoLabs target-postgres raised) and stores JSON(B).
		// A map (additionalProperties is a schema) is free-form too, even
		// when it also lists a pseudo-property describing its keys, as the
		// campaign bid_options multipliers do ({"APP_TYPE": string} next to
		// number values keyed by app type).
		out := map[string]any{"type": nullable("object")}
		if n.Props != nil && n.Addl == nil {
			props := make(map[string]any, len(n.Props))
			for k, v := range n.Props {
				props[k] = render(v)
			}
			out["properties"] = props
		}
		return out
	default:
		return map[string]any{"type": nullable(n.Type)}
	}
}

func isIDName(name string) bool {
	return name == "id" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ID")
}

// checkIDs enforces "ids are strings" on every id-like property.
func checkIDs(stream string, n *node, path string, top bool) error {
	for _, k := range sortedKeys(n.Props) {
		c := n.Props[k]
		p := k
		if !top {
			p = path + "." + k
		}
		idList := c.Type == "array" && c.Items != nil && c.Items.Type == "string" // audiences' rule.ad_id: a list of ids
		// product groups' filters.all_of[].CREATIVE_ASSETS_ID: a criterion on an id, an object
		criterion := !top && c.Type == "object"
		if isIDName(k) && c.Type != "string" && !idList && !criterion && (top || !nestedNonStringIDs[stream+"."+p]) {
			return fmt.Errorf("id property %s is %q in the spec, not string", p, c.Type)
		}
		if err := checkIDs(stream, c, p, false); err != nil {
			return err
		}
	}
	if n.Items != nil {
		if err := checkIDs(stream, n.Items, path+"[]", false); err != nil {
			return err
		}
	}
	return nil
}

func (s *spec) streamSchema(st Stream) (map[string]any, error) {
	if st.Kind == ReportRows {
		return s.reportSchema(st)
	}
	raw, comp, err := s.recordSchema(st)
	if err != nil {
		return nil, err
	}
	root := st.Name
	if comp != "" {
		root = comp
	}
	rec, err := s.normalize(raw, root, nil)
	if err != nil {
		return nil, err
	}
	if st.Kind == TargetingAnalytics {
		return targetingSchema(st, rec)
	}
	if rec.Type != "object" || rec.Props == nil {
		return nil, fmt.Errorf("record schema %s is not an object with properties", root)
	}
	if err := checkIDs(st.Name, rec, "", true); err != nil {
		return nil, err
	}
	props := map[string]any{}
	switch st.Kind {
	case Entity:
		err = entityProps(st, rec, props)
	case AdsAnalytics:
		err = adsAnalyticsProps(st, rec, props)
	case UserAnalytics:
		err = userAnalyticsProps(rec, props)
	case PinAnalytics:
		err = s.pinAnalyticsProps(st, rec, props)
	default:
		err = fmt.Errorf("unknown kind %d", st.Kind)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"type": "object", "properties": props}, nil
}

func entityProps(st Stream, rec *node, props map[string]any) error {
	for k, v := range rec.Props {
		props[k] = render(v)
	}
	id, ok := rec.Props["id"]
	if !ok || id.Type != "string" {
		return errors.New("record has no string `id`")
	}
	props["id"] = keyString
	for _, k := range st.Drop {
		delete(props, k)
	}
	for _, k := range st.AddKeys {
		if p, ok := rec.Props[k]; ok && p.Type != "string" {
			return fmt.Errorf("added key %s exists in the spec as %q", k, p.Type)
		}
		props[k] = keyString
	}
	for _, k := range st.EnsureNullableStrings {
		if p, ok := rec.Props[k]; ok && p.Type != "string" {
			return fmt.Errorf("%s exists in the spec as %q, not string", k, p.Type)
		}
		props[k] = map[string]any{"type": nullable("string")}
	}
	for _, k := range st.ObservedArrays {
		if _, ok := rec.Props[k]; ok {
			return fmt.Errorf("%s is now in the spec: drop it from ObservedArrays", k)
		}
		props[k] = map[string]any{"type": nullable("array")}
	}
	want := map[string]bool{}
	for _, k := range st.DateTimes {
		want[k] = true
		p, ok := rec.Props[k]
		if !ok || p.Type != "string" || p.Format != "date-time" {
			return fmt.Errorf("%s is listed as date-time but the spec does not declare it a date-time string", k)
		}
		props[k] = map[string]any{"type": nullable("string"), "format": "date-time"}
	}
	for _, k := range sortedKeys(rec.Props) {
		if rec.Props[k].Format == "date-time" && !want[k] {
			return fmt.Errorf("the spec declares %s a date-time: add it to DateTimes (and to the tap's normalisation) or decide otherwise", k)
		}
	}
	return nil
}

func adsAnalyticsProps(st Stream, rec *node, props map[string]any) error {
	for k, v := range rec.Props {
		props[k] = render(v)
	}
	if p, ok := rec.Props[st.KeyID]; !ok || p.Type != "string" {
		return fmt.Errorf("row has no string %s", st.KeyID)
	}
	props[st.KeyID] = keyString
	if p, ok := rec.Props["DATE"]; !ok || p.Type != "string" || p.Format != "date" {
		return errors.New("row has no DATE string of format date")
	}
	props["DATE"] = map[string]any{"type": "string", "format": "date"}
	for _, col := range catalog.AnalyticsColumns {
		if _, ok := props[col]; ok {
			continue // a key, or declared by the spec
		}
		t := catalog.ColumnType(col)
		if !scalarTypes[t] {
			return fmt.Errorf("column %s: bad type %q", col, t)
		}
		props[col] = map[string]any{"type": nullable(t)}
	}
	return nil
}

// targetingSchema: the spec types targeting analytics items only as
// "object" (MetricsResponse.data[]); their shape is its example's:
// targeting_type, targeting_value and a metrics object of <LEVEL>_ID, DATE
// and the requested columns. The row flattens metrics: the keys (ids and
// targeting_value are strings whatever Pinterest sends, REFERENCE.md §13),
// DATE, and every column as in the ads analytics rows.
func targetingSchema(st Stream, rec *node) (map[string]any, error) {
	if rec.Type != "array" || rec.Items == nil || rec.Items.Type != "object" || rec.Items.Props != nil {
		return nil, errors.New("targeting analytics data is no longer an array of bare objects: revisit the generator")
	}
	props := map[string]any{st.KeyID: keyString, "DATE": map[string]any{"type": "string", "format": "date"}}
	for _, k := range catalog.TargetingKeys {
		props[k] = keyString
	}
	for _, col := range catalog.AnalyticsColumns {
		if _, ok := props[col]; ok {
			continue
		}
		t := catalog.ColumnType(col)
		if !scalarTypes[t] {
			return nil, fmt.Errorf("column %s: bad type %q", col, t)
		}
		props[col] = map[string]any{"type": nullable(t)}
	}
	return map[string]any{"type": "object", "properties": props}, nil
}

// pinAnalyticsProps: the daily metrics of user_account_analytics' form,
// their metrics those of catalog.PinMetricTypes, which must be the union
// of the operation's metric_types enums; plus the pin's id (AddKeys).
func (s *spec) pinAnalyticsProps(st Stream, rec *node, props map[string]any) error {
	var want []string
	params, _ := s.ops[st.OperationID]["parameters"].([]any)
	for _, p := range params {
		pm, _ := p.(map[string]any)
		if pm["name"] != "metric_types" {
			continue
		}
		variants, _ := dig(pm, "schema", "items", "oneOf")
		list, _ := variants.([]any)
		for _, v := range list {
			enum, _ := v.(map[string]any)["enum"].([]any)
			for _, e := range enum {
				if name, ok := e.(string); ok && !slices.Contains(want, name) {
					want = append(want, name)
				}
			}
		}
	}
	if !slices.Equal(want, catalog.PinMetricTypes) {
		return fmt.Errorf("metric_types of the spec are %v; catalog.PinMetricTypes says %v", want, catalog.PinMetricTypes)
	}
	if err := dailyMetricsProps(rec, props, catalog.PinMetricTypes); err != nil {
		return err
	}
	for _, k := range st.AddKeys {
		props[k] = keyString
	}
	return nil
}

func userAnalyticsProps(rec *node, props map[string]any) error {
	return dailyMetricsProps(rec, props, catalog.UserAccountMetrics)
}

// dailyMetricsProps: a daily_metrics item, its date a key and its metrics
// map the given metrics, typed as the spec types the map's values.
func dailyMetricsProps(rec *node, props map[string]any, metrics []string) error {
	for k, v := range rec.Props {
		props[k] = render(v)
	}
	if p, ok := rec.Props["date"]; !ok || p.Type != "string" {
		return errors.New("daily metrics have no string `date`")
	}
	props["date"] = map[string]any{"type": "string", "format": "date"}
	m, ok := rec.Props["metrics"]
	if !ok || m.Type != "object" || m.Props != nil || m.Addl == nil || !scalarTypes[m.Addl.Type] {
		return errors.New("daily metrics' `metrics` is no longer a map of scalars: revisit the generator")
	}
	mp := map[string]any{}
	for _, k := range metrics {
		mp[k] = map[string]any{"type": nullable(m.Addl.Type)}
	}
	props["metrics"] = map[string]any{"type": nullable("object"), "properties": mp}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// reportSchema is the schema of a ReportRows stream: its keys (DATE a date,
// the others non-null strings) and a nullable property per analytics column
// the spec's ReportingColumnAsync holds and the level takes.
func (s *spec) reportSchema(st Stream) (map[string]any, error) {
	if st.Report == nil {
		return nil, errors.New("a ReportRows stream without a Report")
	}
	raw, ok := s.schemas["ReportingColumnAsync"].(map[string]any)
	if !ok {
		return nil, errors.New("spec has no ReportingColumnAsync")
	}
	async := map[string]bool{}
	for _, v := range raw["enum"].([]any) {
		async[v.(string)] = true
	}
	props := map[string]any{}
	for _, col := range catalog.AnalyticsColumns {
		if !async[col] || st.Report.Refuses(col) {
			continue
		}
		t := catalog.ColumnType(col)
		if !scalarTypes[t] {
			return nil, fmt.Errorf("column %s: bad type %q", col, t)
		}
		props[col] = map[string]any{"type": nullable(t)}
	}
	for _, k := range st.Keys {
		props[k] = keyString
	}
	props["DATE"] = map[string]any{"type": "string", "format": "date"}
	return map[string]any{"type": "object", "properties": props}, nil
}

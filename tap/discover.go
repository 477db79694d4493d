package tap

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

// streamSchema returns a stream's schema for this config: the generated
// schema, and where a parameter's setting selects the columns (ads
// analytics) only the key properties and those columns.
func streamSchema(s *catalog.Stream, cfg *Config) ([]byte, error) {
	b, err := catalog.Schema(s.SchemaName())
	if err != nil || cfg == nil {
		return b, err
	}
	for _, prm := range s.Params {
		if !prm.Columns {
			continue
		}
		keepCols := map[string]bool{}
		for _, k := range s.KeyProperties {
			keepCols[k] = true
		}
		for _, c := range cfg.Values(prm.Setting) {
			keepCols[c] = true
		}
		return filterProperties(b, func(name string) bool { return keepCols[name] })
	}
	return b, nil
}

// filterProperties returns the schema with only the top-level properties kept by keep.
func filterProperties(schema []byte, keep func(string) bool) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(schema, &doc); err != nil {
		return nil, err
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(doc["properties"], &props); err != nil {
		return nil, err
	}
	for name := range props {
		if !keep(name) {
			delete(props, name)
		}
	}
	pb, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	doc["properties"] = pb
	return json.Marshal(doc)
}

// Discover returns the tap's catalog: every stream, its schema, key
// properties and the metadata of the Singer conventions, in table order.
// It makes no network call.
func Discover(cfg *Config) (*catalog.Catalog, error) {
	cat := &catalog.Catalog{Streams: []catalog.Entry{}}
	table := cfg.Streams()
	for i := range table {
		s := &table[i]
		schema, err := streamSchema(s, cfg)
		if err != nil {
			return nil, err
		}
		props, err := catalog.SchemaProperties(schema)
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", s.Name, err)
		}
		method := "FULL_TABLE"
		root := map[string]any{
			catalog.Inclusion:          catalog.InclusionAvailable,
			catalog.SelectedByDefault:  s.SelectedByDefault,
			catalog.TableKeyProperties: s.KeyProperties,
		}
		var validKeys []string
		if s.Incremental() {
			method = "INCREMENTAL"
			validKeys = []string{s.ReplicationKey}
			root[catalog.ValidReplicationKeys] = validKeys
			root[catalog.ReplicationKey] = s.ReplicationKey
		}
		root[catalog.ForcedReplicationMethod] = method
		root[catalog.ReplicationMethod] = method
		if s.Parent != "" {
			root["parent-tap-stream-id"] = s.Parent
		}
		md := []catalog.MetadataEntry{{Breadcrumb: []string{}, Metadata: root}}
		auto := s.AutomaticFields()
		for _, p := range props {
			inc := catalog.InclusionAvailable
			if auto[p] {
				inc = catalog.InclusionAutomatic
			}
			md = append(md, catalog.MetadataEntry{Breadcrumb: []string{"properties", p}, Metadata: map[string]any{catalog.Inclusion: inc}})
		}
		cat.Streams = append(cat.Streams, catalog.Entry{
			TapStreamID: s.Name, Stream: s.Name, Schema: schema, KeyProperties: s.KeyProperties,
			ReplicationKey: s.ReplicationKey, ReplicationMethod: method, Metadata: md,
		})
	}
	return cat, nil
}

// Selection is what a run syncs: the selected streams with their
// field-selected schemas.
type Selection struct {
	Streams map[string]SelectedStream
	table   []catalog.Stream // the run's stream table (nil: catalog.Streams)
}

// SelectedStream is one stream to sync.
type SelectedStream struct {
	Schema     []byte
	FullTable  bool
	Deselected []string // properties of the tap's schema the catalog leaves out
	// ByDefault: selected by selected-by-default, not by the catalog's
	// "selected" (or with no catalog): a missing scope leaves it out
	// instead of stopping the run.
	ByDefault bool
}

// Select applies a catalog's selection to the tap's own schemas. With no
// catalog every stream is selected. Key properties and replication keys are
// always kept; a property deselected in the catalog is absent from both
// the SCHEMA and the records.
func Select(cat *catalog.Catalog, cfg *Config) (*Selection, error) {
	table := cfg.Streams()
	sel := &Selection{Streams: map[string]SelectedStream{}, table: table}
	if err := checkCatalogStreams(cat, table); err != nil {
		return nil, err
	}
	for i := range table {
		s := &table[i]
		schema, err := streamSchema(s, cfg)
		if err != nil {
			return nil, err
		}
		if cat == nil {
			if s.SelectedByDefault {
				sel.Streams[s.Name] = SelectedStream{Schema: schema, ByDefault: true}
			}
			continue
		}
		e := cat.Find(s.Name)
		if e == nil || !e.IsSelected() {
			continue
		}
		auto := s.AutomaticFields()
		var deselected []string
		filtered, err := filterProperties(schema, func(name string) bool {
			keep := auto[name] || e.PropertySelected(name)
			if !keep {
				deselected = append(deselected, name)
			}
			return keep
		})
		if err != nil {
			return nil, err
		}
		method := e.ReplicationMethod
		if m := e.StreamMetadata(catalog.ReplicationMethod); method == "" && m != "" {
			method = m
		}
		sel.Streams[s.Name] = SelectedStream{Schema: filtered, FullTable: s.Incremental() && method == "FULL_TABLE", Deselected: deselected,
			ByDefault: !e.SelectedExplicitly()}
	}
	return sel, nil
}

// WriteSchemas writes the SCHEMA message of every selected stream, in table
// order, and nothing else (--test=schema: a target can create its tables).
func WriteSchemas(w *singer.Writer, sel *Selection) error {
	table := sel.table
	if table == nil {
		table = catalog.Streams
	}
	for i := range table {
		st := &table[i]
		ss, ok := sel.Streams[st.Name]
		if !ok {
			continue
		}
		if err := w.WriteSchema(st.Name, ss.Schema, st.KeyProperties, st.BookmarkProperties(ss.FullTable)); err != nil {
			return err
		}
	}
	return w.Flush()
}

// checkCatalogStreams refuses a catalog that names streams this tap does
// not have (a catalog of another tap, or a typo), naming each with the
// nearest stream it does have.
func checkCatalogStreams(cat *catalog.Catalog, table []catalog.Stream) error {
	if cat == nil {
		return nil
	}
	names := make([]string, len(table))
	for i := range table {
		names[i] = table[i].Name
	}
	var unknown []string
	for _, e := range cat.Streams {
		name := e.TapStreamID
		if name == "" {
			name = e.Stream
		}
		if catalog.Find(table, name) == nil {
			unknown = append(unknown, fmt.Sprintf("%q%s", name, didYouMean(name, names)))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return usagef("the catalog names streams tap-pinterest does not have: %s; run tap-pinterest --discover for a catalog of this tap", strings.Join(unknown, ", "))
}

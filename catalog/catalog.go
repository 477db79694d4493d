// Package catalog holds the Singer catalog: its types, the metadata the tap
// writes on discovery, the selection rules it applies to a catalog it is given,
// and the stream schemas generated from Pinterest's OpenAPI description.
package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Catalog is a Singer catalog: {"streams": [...]}.
type Catalog struct {
	Streams []Entry `json:"streams"`
}

// Entry is one stream of a catalog. Top-level replication_method,
// replication_key and key_properties are written by Meltano when users set
// metadata in meltano.yml; they override the metadata when present.
type Entry struct {
	TapStreamID       string          `json:"tap_stream_id"`
	Stream            string          `json:"stream"`
	Schema            json.RawMessage `json:"schema"`
	KeyProperties     []string        `json:"key_properties"`
	ReplicationKey    string          `json:"replication_key,omitempty"`
	ReplicationMethod string          `json:"replication_method,omitempty"`
	Metadata          []MetadataEntry `json:"metadata"`
}

// MetadataEntry is one breadcrumb's metadata.
type MetadataEntry struct {
	Breadcrumb []string       `json:"breadcrumb"`
	Metadata   map[string]any `json:"metadata"`
}

// Metadata keys used by the tap.
const (
	Inclusion               = "inclusion"
	Selected                = "selected"
	SelectedByDefault       = "selected-by-default"
	TableKeyProperties      = "table-key-properties"
	ValidReplicationKeys    = "valid-replication-keys"
	ForcedReplicationMethod = "forced-replication-method"
	ReplicationMethod       = "replication-method"
	ReplicationKey          = "replication-key"

	InclusionAutomatic   = "automatic"
	InclusionAvailable   = "available"
	InclusionUnsupported = "unsupported"
)

// Parse decodes a catalog file's bytes. It accepts the legacy
// "selected": "true" strings of the spec's own examples.
func Parse(b []byte) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("not a Singer catalog: %w", err)
	}
	if c.Streams == nil {
		return nil, fmt.Errorf(`not a Singer catalog: no "streams" array`)
	}
	seen := map[string]bool{}
	for i, e := range c.Streams {
		id := e.TapStreamID
		if id == "" {
			id = e.Stream
		}
		if id == "" {
			return nil, fmt.Errorf("streams[%d] has neither tap_stream_id nor stream", i)
		}
		if seen[id] {
			return nil, fmt.Errorf("stream %q appears twice", id)
		}
		seen[id] = true
		c.Streams[i].TapStreamID = id
		if err := checkFlags(id, e.Metadata); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// checkFlags rejects a "selected" or "selected-by-default" that is neither
// a boolean nor the string "true" or "false": read as absent, it would
// silently select or drop a stream or field the user meant otherwise.
func checkFlags(stream string, md []MetadataEntry) error {
	for _, m := range md {
		for _, key := range []string{Selected, SelectedByDefault} {
			v, present := m.Metadata[key]
			if _, ok := boolValue(m.Metadata, key); !present || ok {
				continue
			}
			where := "stream " + stream
			if len(m.Breadcrumb) > 0 {
				where += ", breadcrumb " + strings.Join(m.Breadcrumb, ".")
			}
			b, _ := json.Marshal(v)
			return fmt.Errorf("%s: %q is %s, not a boolean; write true or false", where, key, b)
		}
	}
	return nil
}

// Find returns the entry of a stream, or nil.
func (c *Catalog) Find(stream string) *Entry {
	for i := range c.Streams {
		if c.Streams[i].TapStreamID == stream {
			return &c.Streams[i]
		}
	}
	return nil
}

// metadataAt returns the metadata of a breadcrumb, or nil.
func (e *Entry) metadataAt(breadcrumb ...string) map[string]any {
	for _, m := range e.Metadata {
		if equalPath(m.Breadcrumb, breadcrumb) {
			return m.Metadata
		}
	}
	return nil
}

func equalPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// boolValue reads a metadata flag: true/false, or the strings "true"/"false"
// that the spec's own examples use. ok is false when the key is absent or
// holds something else.
func boolValue(m map[string]any, key string) (value, ok bool) {
	switch v := m[key].(type) {
	case bool:
		return v, true
	case string:
		switch v {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	}
	return false, false
}

// IsSelected applies the stream selection rule: the root breadcrumb's
// "selected" wins; if absent, "selected-by-default"; with neither, a stream
// is selected only when the catalog carries no metadata for it at all.
// "inclusion": "unsupported" is never selected.
func (e *Entry) IsSelected() bool {
	root := e.metadataAt()
	if root == nil {
		return len(e.Metadata) == 0
	}
	if inc, _ := root[Inclusion].(string); inc == InclusionUnsupported {
		return false
	}
	if v, ok := boolValue(root, Selected); ok {
		return v
	}
	if v, ok := boolValue(root, SelectedByDefault); ok {
		return v
	}
	return false
}

// SelectedExplicitly reports whether the root breadcrumb says "selected"
// (true or false), rather than the stream following selected-by-default.
func (e *Entry) SelectedExplicitly() bool {
	_, ok := boolValue(e.metadataAt(), Selected)
	return ok
}

// PropertySelected applies the field rule: automatic fields are always kept,
// unsupported ones never, an explicit selected:false drops a field, and a
// field with no opinion follows selected-by-default and then is kept.
func (e *Entry) PropertySelected(prop string) bool {
	m := e.metadataAt("properties", prop)
	if m == nil {
		return true
	}
	switch inc, _ := m[Inclusion].(string); inc {
	case InclusionAutomatic:
		return true
	case InclusionUnsupported:
		return false
	}
	if v, ok := boolValue(m, Selected); ok {
		return v
	}
	if v, ok := boolValue(m, SelectedByDefault); ok {
		return v
	}
	return true
}

// StreamMetadata returns a string-valued key of the root breadcrumb.
func (e *Entry) StreamMetadata(key string) string {
	s, _ := e.metadataAt()[key].(string)
	return s
}

// SchemaProperties returns the names of the schema's top-level properties, sorted.
func SchemaProperties(schema []byte) ([]string, error) {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	return names, nil
}

package catalog

import "testing"

// FuzzParseCatalog: no catalog file makes Parse or the selection rules panic.
func FuzzParseCatalog(f *testing.F) {
	for _, s := range []string{
		`{"streams":[{"tap_stream_id":"boards","stream":"boards","schema":{"type":"object","properties":{"id":{"type":"string"}}},"key_properties":["id"],"metadata":[{"breadcrumb":[],"metadata":{"selected":true}},{"breadcrumb":["properties","id"],"metadata":{"inclusion":"automatic"}}]}]}`,
		`{"streams":[{"stream":"x","metadata":[{"breadcrumb":[],"metadata":{"selected":"false"}}]}]}`,
		`{"streams":[]}`, `{}`, `[]`, `{"streams":[{"stream":"a"},{"stream":"a"}]}`, `{"streams":[{"metadata":[{"breadcrumb":null,"metadata":null}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		for i := range c.Streams {
			e := &c.Streams[i]
			e.IsSelected()
			e.PropertySelected("id")
			e.StreamMetadata(ReplicationMethod)
			_ = c.Find(e.TapStreamID)
		}
	})
}

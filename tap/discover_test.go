package tap

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

func TestDiscover(t *testing.T) {
	t.Parallel()
	cat, err := Discover(nil)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(cat)
	cat2, _ := Discover(nil)
	b2, _ := json.Marshal(cat2)
	if string(b1) != string(b2) {
		t.Fatal("discovery is not deterministic")
	}
	// The output can be fed back as a catalog.
	parsed, err := catalog.Parse(b1)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range parsed.Streams {
		s := catalog.Streams[i]
		if e.TapStreamID != s.Name || e.Stream != s.Name {
			t.Errorf("stream %d is %s, want %s", i, e.Stream, s.Name)
		}
		if e.IsSelected() != s.SelectedByDefault {
			t.Errorf("%s: selected %v, selected by default %v", s.Name, e.IsSelected(), s.SelectedByDefault)
		}
		root := map[string]any{}
		auto := map[string]bool{}
		for _, m := range e.Metadata {
			if len(m.Breadcrumb) == 0 {
				root = m.Metadata
			} else if m.Metadata["inclusion"] == "automatic" {
				auto[m.Breadcrumb[1]] = true
			}
		}
		for _, k := range []string{"inclusion", "selected-by-default", "table-key-properties", "forced-replication-method"} {
			if _, ok := root[k]; !ok {
				t.Errorf("%s: root metadata lacks %s", s.Name, k)
			}
		}
		if s.Incremental() {
			if root["forced-replication-method"] != "INCREMENTAL" || !auto[s.ReplicationKey] {
				t.Errorf("%s: incremental metadata %v", s.Name, root)
			}
		}
		for _, k := range s.KeyProperties {
			if !auto[k] {
				t.Errorf("%s: key %s not automatic", s.Name, k)
			}
		}
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(nil, []string{"TAP_PINTEREST_CLIENT_ID=a", "TAP_PINTEREST_CLIENT_SECRET=b", "TAP_PINTEREST_REFRESH_TOKEN=c",
		`TAP_PINTEREST_ANALYTICS_COLUMNS=["SPEND_IN_DOLLAR","TOTAL_CLICKTHROUGH"]`})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := Discover(cfg)
	if err != nil {
		t.Fatal(err)
	}
	props, _ := catalog.SchemaProperties(cat.Find("campaign_analytics").Schema)
	if strings.Join(props, ",") != "CAMPAIGN_ID,DATE,SPEND_IN_DOLLAR,TOTAL_CLICKTHROUGH" {
		t.Errorf("analytics columns not narrowed: %v", props)
	}
	// Deselect one stream, one field, and try to deselect a key.
	for i := range cat.Streams {
		e := &cat.Streams[i]
		for j := range e.Metadata {
			m := &e.Metadata[j]
			switch {
			case e.Stream == "boards" && len(m.Breadcrumb) == 0:
				m.Metadata["selected"] = false
			case e.Stream == "campaigns" && len(m.Breadcrumb) == 2 && (m.Breadcrumb[1] == "name" || m.Breadcrumb[1] == "id"):
				m.Metadata["selected"] = false
			case e.Stream == "ads" && len(m.Breadcrumb) == 0:
				m.Metadata["selected"] = "true" // the spec's own examples use strings
			}
		}
	}
	cat.Find("ad_groups").ReplicationMethod = "FULL_TABLE"
	sel, err := Select(cat, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sel.Streams["boards"]; ok {
		t.Error("boards deselected but selected")
	}
	if _, ok := sel.Streams["ads"]; !ok {
		t.Error(`"selected": "true" not honoured`)
	}
	cp, _ := catalog.SchemaProperties(sel.Streams["campaigns"].Schema)
	joined := "," + strings.Join(cp, ",") + ","
	if strings.Contains(joined, ",name,") || !strings.Contains(joined, ",id,") || !strings.Contains(joined, ",updated_time,") {
		t.Errorf("campaigns properties %v", cp)
	}
	if !sel.Streams["ad_groups"].FullTable || sel.Streams["ads"].FullTable {
		t.Error("replication_method override")
	}
	// Without a catalog, every stream selected by default.
	all, _ := Select(nil, cfg)
	for _, s := range catalog.Streams {
		if _, ok := all.Streams[s.Name]; ok != s.SelectedByDefault {
			t.Errorf("%s: selected without a catalog = %v, selected-by-default = %v", s.Name, ok, s.SelectedByDefault)
		}
	}
}

func TestAbout(t *testing.T) {
	t.Parallel()
	b, err := AboutJSON()
	if err != nil {
		t.Fatal(err)
	}
	var about struct {
		Name         string   `json:"name"`
		Capabilities []string `json:"capabilities"`
		Settings     struct {
			Properties map[string]map[string]any `json:"properties"`
			Required   []string                  `json:"required"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(b, &about); err != nil {
		t.Fatal(err)
	}
	if about.Name != "tap-pinterest" || len(about.Capabilities) != 5 || len(about.Settings.Required) != 3 {
		t.Errorf("about = %+v", about)
	}
	if about.Settings.Properties["client_secret"]["secret"] != true || about.Settings.Properties["refresh_token"]["writeOnly"] != true {
		t.Error("secrets not marked")
	}
	md := AboutMarkdown()
	if !strings.Contains(md, "| `client_secret` | yes |") || !strings.Contains(md, "## Capabilities") {
		t.Errorf("markdown:\n%s", md)
	}
}

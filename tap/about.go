package tap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

// Version of the tap; release builds set it with -ldflags "-X ...tap.Version=v1.2.3".
var Version = "0.1.0"

// Description is the tap's one-line description.
const Description = "Singer tap for Pinterest API v5: boards, sections, pins and account analytics; ad accounts, campaigns, ad groups, ads and their daily analytics."

// Capabilities are what the binary implements (and nothing more: Meltano acts on them).
var Capabilities = []string{"catalog", "discover", "state", "about", "test"}

// AboutJSON returns --about --format json in the Meltano SDK's shape.
func AboutJSON() ([]byte, error) {
	var settings map[string]any
	if err := json.Unmarshal(ConfigSchema, &settings); err != nil {
		return nil, err
	}
	delete(settings, "$schema")
	about := struct {
		Name         string         `json:"name"`
		Description  string         `json:"description"`
		Version      string         `json:"version"`
		SDKVersion   *string        `json:"sdk_version"`
		Capabilities []string       `json:"capabilities"`
		Settings     map[string]any `json:"settings"`
	}{"tap-pinterest", Description, Version, nil, Capabilities, settings}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(about); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SettingsTable returns the settings as a Markdown table, the one in --about
// --format markdown and in the README.
func SettingsTable() string {
	var b strings.Builder
	b.WriteString("| Setting | Required | Default | Description |\n|:--|:--:|:--|:--|\n")
	for _, s := range Settings() {
		req := "no"
		if s.Required {
			req = "yes"
		}
		def := s.Default
		if def == "" {
			def = "–"
		} else {
			def = "`" + def + "`"
		}
		desc := s.Description
		if s.Secret {
			desc += " Secret: never logged."
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Name, req, def, strings.ReplaceAll(desc, "|", "\\|"))
	}
	return b.String()
}

// shapeNotes say in the streams table how an endpoint is read.
var shapeNotes = map[catalog.Shape]string{
	catalog.Paged:             "paged by bookmark",
	catalog.Items:             "one response",
	catalog.Object:            "one record",
	catalog.Rows:              "daily rows by date window",
	catalog.DailyMetrics:      "one record per day",
	catalog.ReportRows:        "async reports",
	catalog.TargetingRows:     "daily rows per targeting type and value by date window",
	catalog.KeyedDailyMetrics: "one record per id and day by date window",
}

// StreamsTable returns the Markdown table of the streams, from the stream table.
func StreamsTable() string {
	var b strings.Builder
	b.WriteString("| stream | endpoint | parent | key properties | replication | scopes | selected by default |\n|---|---|---|---|---|---|---|\n")
	for i := range catalog.Streams {
		s := &catalog.Streams[i]
		how := shapeNotes[s.Shape]
		if s.Batch != nil {
			how += fmt.Sprintf(", %d %s a call", s.Batch.Size, s.Batch.Param)
		}
		endpoint := "GET " + s.Path
		if r := s.Report; r != nil && s.Shape == catalog.ReportRows {
			how = fmt.Sprintf("%s, level %s, %d days a report, %d days back", how, r.Level, r.Window.Days, r.Window.Back+1)
			endpoint = "POST " + s.Path
		} else if r != nil {
			how += fmt.Sprintf("; older days by async reports, level %s", r.Level)
		}
		parent, repl, def := "–", "FULL_TABLE", "no"
		if s.Parent != "" {
			parent = s.Parent
		}
		if s.Incremental() {
			repl = "INCREMENTAL on `" + s.ReplicationKey + "`"
		}
		if s.SelectedByDefault {
			def = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s (%s) | %s | %s | %s | %s | %s |\n", s.Name, endpoint, how, parent,
			strings.Join(s.KeyProperties, ", "), repl, strings.Join(s.Scopes, ", "), def)
	}
	return b.String()
}

// AboutMarkdown returns --about --format markdown.
func AboutMarkdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# `tap-pinterest`\n\n%s\n\nVersion %s, a single Go binary.\n\n## Capabilities\n\n", Description, Version)
	for _, c := range Capabilities {
		fmt.Fprintf(&b, "* `%s`\n", c)
	}
	b.WriteString("\n## Settings\n\n")
	b.WriteString(SettingsTable())
	b.WriteString("\n## Streams\n\n")
	b.WriteString(StreamsTable())
	fmt.Fprintf(&b, "\nEvery setting can also be given as an environment variable %s<SETTING> (e.g. %sCLIENT_SECRET).\n", EnvPrefix, EnvPrefix)
	return b.String()
}

// AboutText returns plain --about.
func AboutText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Name: tap-pinterest\nVersion: %s\nDescription: %s\nCapabilities: %s\nSettings:\n", Version, Description, strings.Join(Capabilities, ", "))
	for _, s := range Settings() {
		req := ""
		if s.Required {
			req = " (required)"
		}
		fmt.Fprintf(&b, "  - %s%s: %s\n", s.Name, req, s.Description)
	}
	return b.String()
}

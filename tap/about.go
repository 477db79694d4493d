package tap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
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

// AboutMarkdown returns --about --format markdown.
func AboutMarkdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# `tap-pinterest`\n\n%s\n\nVersion %s, a single Go binary.\n\n## Capabilities\n\n", Description, Version)
	for _, c := range Capabilities {
		fmt.Fprintf(&b, "* `%s`\n", c)
	}
	b.WriteString("\n## Settings\n\n")
	b.WriteString(SettingsTable())
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

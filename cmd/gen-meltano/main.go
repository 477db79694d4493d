// Command gen-meltano writes the Meltano plugin definition of tap-pinterest
// from the same config schema as --about and the README's settings table
// (tap/config.schema.json):
//
//   - fixtures/meltano-hub/tap-pinterest.yml: the Meltano Hub entry
//     (the file for _data/meltano/extractors/tap-pinterest/ in the Hub's repository);
//   - fixtures/meltano-hub/plugins/extractors/tap-pinterest--tap-pinterest.lock:
//     the same definition as the lock file `meltano add` writes from the Hub, so
//     that a project installs the tap with `pip_url` before (or without) the Hub.
//
// The definition carries a default `select` of the streams selected by default
// (catalog.Streams' SelectedByDefault, and custom_*: the custom reports the
// config asks for): Meltano otherwise selects every stream (`*.*`), the beta
// pin_analytics and the costly async report streams too.
//
// `go run ./cmd/gen-meltano` (part of `make generate`); a test fails when the
// files are stale.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap"
	"github.com/tap-pinterest/tap-pinterest/tap/atomicfile"
)

const (
	hubFile  = "fixtures/meltano-hub/tap-pinterest.yml"
	lockFile = "fixtures/meltano-hub/plugins/extractors/tap-pinterest--tap-pinterest.lock"
	repo     = "https://github.com/tap-pinterest/tap-pinterest"
)

// Option is one value of a kind: options setting.
type Option struct {
	Label string `yaml:"label" json:"label"`
	Value string `yaml:"value" json:"value"`
}

// Setting is a Meltano setting definition.
type Setting struct {
	Name        string   `yaml:"name" json:"name"`
	Label       string   `yaml:"label" json:"label"`
	Kind        string   `yaml:"kind" json:"kind"`
	Description string   `yaml:"description" json:"description"`
	Sensitive   bool     `yaml:"sensitive,omitempty" json:"sensitive,omitempty"`
	Options     []Option `yaml:"options,omitempty" json:"options,omitempty"`
}

// Plugin is a Meltano Hub extractor variant (and, with PluginType, a lock file).
type Plugin struct {
	PluginType              string     `yaml:"-" json:"plugin_type"`
	Name                    string     `yaml:"name" json:"name"`
	Namespace               string     `yaml:"namespace" json:"namespace"`
	Variant                 string     `yaml:"variant" json:"variant"`
	Label                   string     `yaml:"label" json:"label"`
	Description             string     `yaml:"description" json:"description"`
	Keywords                []string   `yaml:"keywords" json:"-"`
	MaintenanceStatus       string     `yaml:"maintenance_status" json:"-"`
	DomainURL               string     `yaml:"domain_url" json:"-"`
	LogoURL                 string     `yaml:"logo_url" json:"logo_url"`
	Repo                    string     `yaml:"repo" json:"repo"`
	Docs                    string     `yaml:"docs" json:"docs"`
	PipURL                  string     `yaml:"pip_url" json:"pip_url"`
	Executable              string     `yaml:"executable" json:"executable"`
	Capabilities            []string   `yaml:"capabilities" json:"capabilities"`
	SettingsGroupValidation [][]string `yaml:"settings_group_validation" json:"settings_group_validation"`
	Settings                []Setting  `yaml:"settings" json:"settings"`
	// Select is the default selection (an extra): `<stream>.*` of every
	// stream selected by default. A project's own select replaces it.
	Select []string `yaml:"select" json:"select"`
}

// customPattern matches the streams of custom reports (tap.CustomStreamName),
// which a run makes from config, each selected by default.
const customPattern = "custom_*"

// defaultSelect is the Meltano select of the streams selected by default, in
// table order, then the custom reports'.
func defaultSelect() []string {
	var out []string
	for _, s := range catalog.Streams {
		if s.SelectedByDefault {
			out = append(out, s.Name+".*")
		}
	}
	return append(out, customPattern+".*")
}

// definition builds the plugin from the config schema and tap.Capabilities.
func definition() (Plugin, error) {
	var schema struct {
		Properties map[string]struct {
			Type    any               `json:"type"`
			Enum    []json.RawMessage `json:"enum"`
			Default json.RawMessage   `json:"default"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(tap.ConfigSchema, &schema); err != nil {
		return Plugin{}, err
	}
	p := Plugin{
		PluginType:        "extractors",
		Name:              "tap-pinterest",
		Namespace:         "tap_pinterest",
		Variant:           "tap-pinterest",
		Label:             "Pinterest",
		Description:       "Organic and ads data from the Pinterest API v5",
		Keywords:          []string{"api", "pinterest", "go"},
		MaintenanceStatus: "active",
		DomainURL:         "https://developers.pinterest.com/docs/api/v5/",
		LogoURL:           "/assets/logos/extractors/pinterest.png",
		Repo:              repo,
		Docs:              repo + "#readme",
		PipURL:            "tap-pinterest",
		Executable:        "tap-pinterest",
		Capabilities:      append([]string(nil), tap.Capabilities...),
	}
	var required []string
	for _, s := range tap.Settings() {
		prop := schema.Properties[s.Name]
		ms := Setting{Name: s.Name, Label: label(s.Name), Kind: s.Type, Description: s.Description, Sensitive: s.Secret}
		switch {
		case s.Type == "string" && strings.HasSuffix(s.Name, "_date"):
			ms.Kind = "date_iso8601"
		case s.Type == "string" && len(prop.Enum) > 0:
			ms.Kind = "options"
			for _, e := range prop.Enum {
				var v string
				if err := json.Unmarshal(e, &v); err != nil {
					return Plugin{}, fmt.Errorf("%s: enum %s: %v", s.Name, e, err)
				}
				ms.Options = append(ms.Options, Option{Label: label(strings.ToLower(v)), Value: v})
			}
		case s.Type == "integer" && len(prop.Enum) > 0:
			vals := make([]string, len(prop.Enum))
			for i, e := range prop.Enum {
				vals[i] = string(e)
			}
			ms.Description += " One of " + strings.Join(vals, ", ") + "."
		}
		switch s.Type {
		case "string", "integer", "array", "boolean": // Meltano kinds of the same name
		default:
			return Plugin{}, fmt.Errorf("setting %s: no Meltano kind for JSON type %q", s.Name, s.Type)
		}
		if s.Default != "" && !strings.Contains(ms.Description, "Default") {
			ms.Description += " Default: " + strings.Trim(s.Default, `"`) + "."
		}
		if s.Required {
			required = append(required, s.Name)
		}
		p.Settings = append(p.Settings, ms)
	}
	p.SettingsGroupValidation = [][]string{required}
	p.Select = defaultSelect()
	return p, nil
}

// label turns a setting name into a title: client_id -> Client ID.
func label(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		switch w {
		case "id", "url", "api":
			words[i] = strings.ToUpper(w)
		case "ids":
			words[i] = "IDs"
		default:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// render returns the two files' contents.
func render() (hub, lock []byte, err error) {
	p, err := definition()
	if err != nil {
		return nil, nil, err
	}
	var y bytes.Buffer
	y.WriteString("# Meltano Hub definition of tap-pinterest. Generated by `go run ./cmd/gen-meltano`\n# from tap/config.schema.json: do not edit.\n")
	enc := yaml.NewEncoder(&y)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, nil, err
	}
	var j bytes.Buffer
	je := json.NewEncoder(&j)
	je.SetIndent("", "  ")
	je.SetEscapeHTML(false)
	if err := je.Encode(p); err != nil {
		return nil, nil, err
	}
	return y.Bytes(), j.Bytes(), nil
}

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	hub, lock, err := render()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-meltano:", err)
		os.Exit(1)
	}
	for path, b := range map[string][]byte{hubFile: hub, lockFile: lock} {
		full := filepath.Join(root, path)
		err := os.MkdirAll(filepath.Dir(full), 0o755)
		if err == nil {
			err = atomicfile.Write(full, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen-meltano:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}

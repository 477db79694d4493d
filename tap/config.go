package tap

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xeipuuv/gojsonschema"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// ConfigSchema is the JSON Schema of the tap's settings: the source of
// validation, of defaults, and of --about.
//
//go:embed config.schema.json
var ConfigSchema []byte

// EnvPrefix prefixes the environment variables that may carry settings.
const EnvPrefix = "TAP_PINTEREST_"

// Config is the validated, typed configuration.
type Config struct {
	ClientID, ClientSecret, RefreshToken string
	RefreshTokenFile                     string
	StartDate, EndDate                   time.Time // zero when unset; dates at 00:00 UTC
	BaseURL                              string
	AdAccountIDs                         []string
	EntityStatuses                       []string
	AnalyticsLookbackDays                int
	ClickWindowDays                      int
	EngagementWindowDays                 int
	ViewWindowDays                       int
	ConversionReportTime                 string
	AnalyticsColumns                     []string
	KeepUnknownFields                    bool
	MaxRetryWait                         time.Duration
	MaxRateLimitWait                     time.Duration
	RequestTimeout                       time.Duration
	MaxConcurrency                       int
	RatePerSecond                        int
	RatePerMinute                        map[string]int // rate-limit category → requests per minute

	// Warnings collected while loading (unknown settings, clamped dates), to be logged.
	Warnings []string

	// values holds every setting as the strings a query parameter carries
	// (defaults applied); the stream table's Params name them.
	values map[string][]string
	// streams is the run's stream table when custom_reports adds rows to
	// catalog.Streams (nil: catalog.Streams).
	streams []catalog.Stream
}

// Streams is the stream table of this run: catalog.Streams, and a row per
// custom report. A nil Config has the static table.
func (c *Config) Streams() []catalog.Stream {
	if c == nil || c.streams == nil {
		return catalog.Streams
	}
	return c.streams
}

// Values returns a setting's value as query parameter values: a list
// setting's items, or one string. Unknown settings have none.
func (c *Config) Values(setting string) []string { return c.values[setting] }

// UsageError is a mistake in the tap's input (flags, config, catalog,
// state): exit code 2, one line saying what to fix. Err, when set, names
// the kind of mistake for errors.Is (ErrMissingSetting).
type UsageError struct {
	Msg string
	Err error
}

func (e *UsageError) Error() string { return e.Msg }

func (e *UsageError) Unwrap() error { return e.Err }

// ErrMissingSetting is wrapped by the UsageError of a config that lacks a
// required setting (--discover needs no credentials and goes on without).
var ErrMissingSetting = errors.New("required setting missing")

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// ClientOptions are the settings of the Pinterest client for this config.
func (c *Config) ClientOptions() pinterest.Options {
	return pinterest.Options{
		BaseURL:          c.BaseURL,
		ClientID:         c.ClientID,
		ClientSecret:     c.ClientSecret,
		RefreshToken:     c.RefreshToken,
		RefreshTokenFile: c.RefreshTokenFile,
		RatePerSecond:    c.RatePerSecond,
		RatePerMinute:    c.RatePerMinute,
		RequestTimeout:   c.RequestTimeout,
		MaxRetryWait:     c.MaxRetryWait,
		MaxHintWait:      c.MaxRateLimitWait,
		UserAgent:        "tap-pinterest/" + Version,
	}
}

// LoadRefreshTokenFile returns the refresh token kept in path, "" when the
// file does not exist yet; a file that cannot be read is a usage error.
func LoadRefreshTokenFile(path string) (string, error) {
	tok, err := pinterest.LoadRefreshTokenFile(path)
	if err != nil {
		return "", &UsageError{Msg: err.Error()}
	}
	return tok, nil
}

type schemaProp struct {
	Type    any             `json:"type"`
	Secret  bool            `json:"secret"`
	Default json.RawMessage `json:"default"`
	Desc    string          `json:"description"`
	Items   *schemaProp     `json:"items"`
	Enum    []any           `json:"enum"`
}

// kind is the property's JSON type, its non-null one where it lists two.
func (p schemaProp) kind() string {
	switch t := p.Type.(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				return s
			}
		}
	}
	return ""
}

type configSchemaDoc struct {
	Properties map[string]schemaProp `json:"properties"`
	Required   []string              `json:"required"`
}

func parseConfigSchema() configSchemaDoc {
	var d configSchemaDoc
	if err := json.Unmarshal(ConfigSchema, &d); err != nil {
		panic("config.schema.json: " + err.Error()) // embedded, covered by tests
	}
	return d
}

// Setting is one documented setting, for --about and the README.
type Setting struct {
	Name        string
	Type        string
	Required    bool
	Secret      bool
	Default     string
	Description string
}

// Settings lists the settings in the order of the schema file.
func Settings() []Setting {
	d := parseConfigSchema()
	req := map[string]bool{}
	for _, r := range d.Required {
		req[r] = true
	}
	var out []Setting
	for _, name := range schemaOrder() {
		p := d.Properties[name]
		t, _ := p.Type.(string)
		def := ""
		if len(p.Default) > 0 {
			def = string(p.Default)
		}
		out = append(out, Setting{Name: name, Type: t, Required: req[name], Secret: p.Secret, Default: def, Description: p.Desc})
	}
	return out
}

// schemaOrder returns the property names in the order they appear in the file.
func schemaOrder() []string {
	var names []string
	_ = jsonscan.EachMember(jsonscan.Member(ConfigSchema, "properties"), func(key, _ []byte) error {
		names = append(names, string(key))
		return nil
	})
	return names
}

// LoadConfig reads the config files in order (later files win), then the
// TAP_PINTEREST_<SETTING> environment variables (which win over files),
// validates the result against the schema and returns the typed Config.
// Errors name the file or variable and the setting, and say what to do.
func LoadConfig(paths []string, environ []string) (*Config, error) {
	merged := map[string]any{}
	source := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, usagef("config file %s does not exist: pass the path of a JSON file with client_id, client_secret and refresh_token", p)
			}
			return nil, usagef("config file %s cannot be read: %v", p, rootCause(err))
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || m == nil {
			return nil, usagef("config file %s is not a JSON object: %s; it must look like {\"client_id\": \"...\", ...}", p, jsonErr(b, err))
		}
		if dec.More() {
			return nil, usagef("config file %s has more than one JSON value: it must hold a single object", p)
		}
		for k, v := range m {
			merged[k] = v
			source[k] = p
		}
	}
	doc := parseConfigSchema()
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
		p, declared := doc.Properties[key]
		if !declared {
			continue // TAP_PINTEREST_LOG_LEVEL and friends are not settings
		}
		v, err := envValue(p, val)
		if err != nil {
			return nil, usagef("environment variable %s: %v", name, err)
		}
		merged[key] = v
		source[key] = "environment variable " + name
	}
	return buildConfig(merged, source, doc)
}

func envValue(p schemaProp, val string) (any, error) {
	t, _ := p.Type.(string)
	switch t {
	case "integer":
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", val)
		}
		return json.Number(strconv.Itoa(n)), nil
	case "boolean":
		b, err := strconv.ParseBool(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", val)
		}
		return b, nil
	case "array":
		v := strings.TrimSpace(val)
		if strings.HasPrefix(v, "[") {
			var a []any
			if err := json.Unmarshal([]byte(v), &a); err != nil {
				return nil, fmt.Errorf("not a JSON array: %v", err)
			}
			return a, nil
		}
		var a []any
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				a = append(a, part)
			}
		}
		return a, nil
	default:
		return val, nil
	}
}

func buildConfig(m map[string]any, source map[string]string, doc configSchemaDoc) (*Config, error) {
	s := rawConfig{m: m, source: source, doc: doc, typo: map[string]string{}}
	cfg := &Config{Warnings: s.dropUnknown()}
	if err := s.validate(); err != nil {
		return nil, err
	}
	for _, step := range []func(*Config) error{s.connection, s.dates, s.analytics} {
		if err := step(cfg); err != nil {
			return nil, err
		}
	}
	s.limits(cfg)
	s.values(cfg)
	if err := s.customReports(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// values keeps every setting as the strings a query parameter carries
// (defaults applied, lists normalised), for the stream table's Params.
func (s rawConfig) values(cfg *Config) {
	cfg.values = map[string][]string{}
	for k, p := range s.doc.Properties {
		switch p.kind() {
		case "array":
			if p.Items != nil && p.Items.kind() == "object" {
				continue // custom_reports: each entry's values are its own settings
			}
			cfg.values[k] = s.strs(k)
		case "integer":
			cfg.values[k] = []string{strconv.Itoa(s.intv(k))}
		default:
			if v := s.str(k); v != "" {
				cfg.values[k] = []string{v}
			}
		}
	}
	cfg.values["entity_statuses"] = cfg.EntityStatuses
	cfg.values["analytics_columns"] = cfg.AnalyticsColumns
	cfg.values["conversion_report_time"] = []string{cfg.ConversionReportTime}
}

// rawConfig is the merged config values (m), where each came from (source,
// for messages) and the schema that gives their defaults.
type rawConfig struct {
	m      map[string]any
	source map[string]string
	doc    configSchemaDoc
	typo   map[string]string // a valid setting → the unknown key that is probably it
}

// where names the file or environment variable a setting came from.
func (s rawConfig) where(key string) string {
	if src, ok := s.source[key]; ok {
		return src
	}
	return "config"
}

func (s rawConfig) str(k string) string { v, _ := s.m[k].(string); return v }

func (s rawConfig) intv(k string) int {
	if v, ok := s.m[k]; ok {
		n, _ := strconv.Atoi(fmt.Sprint(v))
		return n
	}
	var n int
	_ = json.Unmarshal(s.doc.Properties[k].Default, &n)
	return n
}

func (s rawConfig) strs(k string) []string {
	a, ok := s.m[k].([]any)
	if !ok {
		var d []string
		_ = json.Unmarshal(s.doc.Properties[k].Default, &d)
		return d
	}
	out := make([]string, 0, len(a))
	for _, v := range a {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// dropUnknown removes the settings the schema does not know and returns a
// warning for each.
func (s rawConfig) dropUnknown() []string {
	var unknown []string
	for k := range s.m {
		if _, ok := s.doc.Properties[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	known := schemaOrder()
	var warnings []string
	for _, k := range unknown {
		if n := nearest(k, known); n != "" {
			s.typo[n] = k
		}
		warnings = append(warnings, fmt.Sprintf("%s: unknown setting %q is ignored%s (see tap-pinterest --about for the settings)", s.where(k), k, didYouMean(k, known)))
		delete(s.m, k)
	}
	return warnings
}

// validate checks the required settings first, with the message users most
// need, then the whole against the config schema.
func (s rawConfig) validate() error {
	var missing []string
	for _, r := range s.doc.Required {
		// Blank counts as missing: the credentials are trimmed below.
		if v, ok := s.m[r]; !ok || v == nil || isBlank(v) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		for _, r := range missing {
			if k, ok := s.typo[r]; ok {
				return &UsageError{Msg: fmt.Sprintf("%s: config is missing %q but has the unknown setting %q: did you mean %s?", s.where(k), r, k, r), Err: ErrMissingSetting}
			}
		}
		return &UsageError{
			Msg: fmt.Sprintf("config is missing %s: set %s in the config file or as %s", strings.Join(quoteAll(missing), ", "), plural(missing, "it", "them"), envNames(missing)),
			Err: ErrMissingSetting,
		}
	}
	res, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(ConfigSchema), gojsonschema.NewGoLoader(jsonable(s.m)))
	if err != nil {
		return fmt.Errorf("validate config: %w", err)
	}
	if !res.Valid() {
		e := res.Errors()[0]
		field := e.Field()
		key, _, _ := strings.Cut(field, ".")
		if key == "(root)" {
			return usagef("config: %s", e.Description())
		}
		return usagef("%s: setting %q: %s (value %s)", s.where(key), field, e.Description(), shortValue(e.Value()))
	}
	return nil
}

func isBlank(v any) bool {
	str, ok := v.(string)
	return ok && strings.TrimSpace(str) == ""
}

// connection sets the credentials and the API's base URL.
func (s rawConfig) connection(cfg *Config) error {
	cfg.ClientID = strings.TrimSpace(s.str("client_id"))
	cfg.ClientSecret = strings.TrimSpace(s.str("client_secret"))
	cfg.RefreshToken = strings.TrimSpace(s.str("refresh_token"))
	cfg.RefreshTokenFile = s.str("refresh_token_file")
	cfg.BaseURL = strings.TrimRight(s.str("base_url"), "/")
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.pinterest.com/v5"
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("%s: setting \"base_url\": %q is not an http(s) URL", s.where("base_url"), cfg.BaseURL)
	}
	if allow, _ := s.m["allow_insecure_http"].(bool); u.Scheme == "http" && !loopback(u.Hostname()) && !allow {
		return usagef("%s: setting \"base_url\": %q is plain http:// to another machine, which would send the client secret and tokens unencrypted; use https://, or set allow_insecure_http to true if that network is trusted", s.where("base_url"), cfg.BaseURL)
	}
	return nil
}

// loopback says whether host is this machine (plain http is safe there).
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dates sets start_date and end_date, each optional, end not before start.
func (s rawConfig) dates(cfg *Config) error {
	for _, k := range []string{"start_date", "end_date"} {
		v := s.str(k)
		if v == "" {
			continue
		}
		d, err := ParseDate(v)
		if err != nil {
			return usagef("%s: setting %q: %q is not a date; use YYYY-MM-DD (e.g. 2026-01-31) or RFC 3339 (e.g. 2026-01-31T00:00:00Z)", s.where(k), k, v)
		}
		if k == "start_date" {
			cfg.StartDate = d
		} else {
			cfg.EndDate = d
		}
	}
	if !cfg.StartDate.IsZero() && !cfg.EndDate.IsZero() && cfg.EndDate.Before(cfg.StartDate) {
		return usagef("%s: setting \"end_date\" (%s) is before start_date (%s)", s.where("end_date"), s.str("end_date"), s.str("start_date"))
	}
	return nil
}

// analytics sets the accounts, statuses, windows and columns of the
// analytics requests; a column Pinterest does not know is an error.
func (s rawConfig) analytics(cfg *Config) error {
	cfg.AdAccountIDs = s.strs("ad_account_ids")
	cfg.EntityStatuses = dedupe(s.strs("entity_statuses"))
	cfg.AnalyticsLookbackDays = s.intv("analytics_lookback_days")
	cfg.ClickWindowDays = s.intv("click_window_days")
	cfg.EngagementWindowDays = s.intv("engagement_window_days")
	cfg.ViewWindowDays = s.intv("view_window_days")
	cfg.ConversionReportTime = s.str("conversion_report_time")
	if cfg.ConversionReportTime == "" {
		cfg.ConversionReportTime = "TIME_OF_AD_ACTION"
	}
	cfg.AnalyticsColumns = dedupe(s.strs("analytics_columns"))
	if len(cfg.AnalyticsColumns) == 0 {
		cfg.AnalyticsColumns = append([]string(nil), catalog.AnalyticsColumns...)
		return nil
	}
	known := map[string]bool{}
	for _, c := range catalog.AnalyticsColumns {
		known[c] = true
	}
	for _, c := range cfg.AnalyticsColumns {
		if !known[c] {
			return usagef("%s: setting \"analytics_columns\": %q is not a column Pinterest's analytics endpoints accept (see the analytics schemas in tap-pinterest --discover)", s.where("analytics_columns"), c)
		}
	}
	return nil
}

// limits sets the retry, timeout, concurrency and rate settings.
func (s rawConfig) limits(cfg *Config) {
	cfg.MaxRetryWait = time.Duration(s.intv("max_retry_wait_seconds")) * time.Second
	cfg.MaxRateLimitWait = time.Duration(s.intv("max_rate_limit_wait_seconds")) * time.Second
	cfg.KeepUnknownFields, _ = s.m["keep_unknown_fields"].(bool)
	cfg.RequestTimeout = time.Duration(s.intv("request_timeout_seconds")) * time.Second
	cfg.MaxConcurrency = s.intv("max_concurrency")
	cfg.RatePerSecond = s.intv("rate_limit_per_second")
	cfg.RatePerMinute = map[string]int{}
	for _, cat := range []string{"ads_analytics", "ads_read", "org_read", "org_analytics", "catalogs_read"} {
		cfg.RatePerMinute[cat] = s.intv("rate_limit_" + cat)
	}
}

// ParseDate accepts YYYY-MM-DD or RFC 3339 and returns the UTC day.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
}

func jsonable(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func quoteAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strconv.Quote(s)
	}
	return out
}

func envNames(in []string) string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = EnvPrefix + strings.ToUpper(s)
	}
	return strings.Join(out, ", ")
}

func plural(in []string, one, many string) string {
	if len(in) == 1 {
		return one
	}
	return many
}

func shortValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// jsonErr describes a JSON syntax error with its line and column.
func jsonErr(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, c := range b[:min(int(se.Offset), len(b))] {
			if c == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("%v at line %d, column %d", se, line, col)
	}
	if err == nil {
		return "it is null"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "the top level is " + te.Value + ", not an object"
	}
	return err.Error()
}

func rootCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

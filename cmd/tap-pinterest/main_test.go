package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
	"github.com/tap-pinterest/tap-pinterest/tap"
)

func TestMain(m *testing.M) {
	retryBase = 20 * time.Millisecond // fault tests retry a lot; real runs start at 1 s
	code := m.Run()
	if builtDir != "" { // the binary built for process tests (~14 MB): not left in the temp dir
		_ = os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// result of one in-process run of the command.
type result struct {
	code           int
	stdout, stderr string
}

func runTap(t *testing.T, env []string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"tap-pinterest"}, args...), &out, &errb, env)
	return result{code, out.String(), errb.String()}
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// quickConfig is demoConfig with a few analytics columns, for the suites
// that care which rows arrive, not about their 175 columns.
func quickConfig(baseURL, extra string) string {
	return demoConfig(baseURL, `,"analytics_columns":["SPEND_IN_MICRO_DOLLAR","TOTAL_IMPRESSION","CTR"]`+extra)
}

func demoConfig(baseURL, extra string) string { return fixtures.DemoConfig(baseURL, extra) }

// secretsIn returns the secrets found in s: the client secret, refresh
// tokens (the configured one and every rotated one) and access tokens.
func secretsIn(s string, extra ...string) []string {
	var found []string
	for _, sec := range append([]string{fixtures.DemoClientSecret, fixtures.DemoRefreshToken, "pina_", "pinr."}, extra...) {
		if sec != "" && strings.Contains(s, sec) {
			found = append(found, sec)
		}
	}
	return found
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := write(t, dir, "good.json", demoConfig("http://127.0.0.1:9/v5", ""))
	cases := []struct {
		name string
		args []string
		env  []string
		code int
		want string
	}{
		{"no config", []string{}, nil, 2, "no --config and no TAP_PINTEREST_* variables"},
		{"config ENV, env incomplete", []string{"--config", "ENV"}, []string{"TAP_PINTEREST_CLIENT_ID=a"}, 2, `missing "client_secret", "refresh_token"`},
		{"unknown flag", []string{"--frobnicate"}, nil, 2, "frobnicate"},
		{"stray argument", []string{"--config", good, "sync"}, nil, 2, `unexpected argument "sync"`},
		{"missing config file", []string{"--config", filepath.Join(dir, "nope.json")}, nil, 2, "nope.json does not exist"},
		{"config not json", []string{"--config", write(t, dir, "bad.json", `{"client_id": "x",`)}, nil, 2, "bad.json is not a JSON object"},
		{"config wrong type", []string{"--config", write(t, dir, "type.json", `{"client_id":"a","client_secret":"zzzzzzzz","refresh_token":"yyyyyyyy","ad_account_ids":"123"}`)}, nil, 2, `setting "ad_account_ids"`},
		{"config missing secret", []string{"--config", write(t, dir, "miss.json", `{"client_id":"a","refresh_token":"yyyyyyyy"}`)}, nil, 2, `missing "client_secret"`},
		{"bad date", []string{"--config", write(t, dir, "date.json", `{"client_id":"a","client_secret":"zzzzzzzz","refresh_token":"yyyyyyyy","start_date":"last tuesday"}`)}, nil, 2, `"last tuesday" is not a date`},
		{"bad env", []string{"--config", good}, []string{"TAP_PINTEREST_ANALYTICS_LOOKBACK_DAYS=lots"}, 2, "TAP_PINTEREST_ANALYTICS_LOOKBACK_DAYS"},
		{"missing catalog", []string{"--config", good, "--catalog", filepath.Join(dir, "cat.json")}, nil, 2, "cat.json cannot be read"},
		{"bad catalog", []string{"--config", good, "--catalog", write(t, dir, "cat2.json", `{"streams": 1}`)}, nil, 2, "cat2.json"},
		{"properties alias", []string{"--config", good, "--properties", write(t, dir, "cat3.json", `[]`)}, nil, 2, "cat3.json"},
		{"bad state", []string{"--config", good, "--state", write(t, dir, "state.json", `{"bookmarks":{"ads":{"partitions":[{"context":{"ad_account_id":"1"},"replication_key_value":"x"}]}}}`)}, nil, 2, "state.json: bookmarks.ads"},
		{"bookmark in the future", []string{"--config", good, "--state", write(t, dir, "future.json", `{"bookmarks":{"user_account_analytics":{"replication_key":"date","replication_key_value":"2999-01-01"}}}`)}, nil, 2, "future.json: bookmarks.user_account_analytics: date 2999-01-01 is in the future"},
		{"partition bookmark in the future", []string{"--config", good, "--state", write(t, dir, "future2.json", `{"bookmarks":{"campaigns":{"partitions":[{"context":{"ad_account_id":"7"},"replication_key":"updated_time","replication_key_value":4102444800}]}}}`)}, nil, 2, "bookmarks.campaigns partition ad account 7: updated_time 4102444800 is in the future"},
		{"state not json", []string{"--config", good, "--state", write(t, dir, "state2.json", `nope`)}, nil, 2, "state2.json is not a JSON object"},
		{"bad log level", []string{"--config", good, "--log-level", "loud"}, nil, 2, "--log-level"},
		{"setting typo", []string{"--config", write(t, dir, "typo.json", `{"client_id":"a","client_secert":"zzzzzzzz","refresh_token":"yyyyyyyy"}`)}, nil, 2, `unknown setting "client_secert": did you mean client_secret?`},
		{"catalog of another tap", []string{"--config", good, "--catalog", write(t, dir, "other.json", `{"streams":[{"tap_stream_id":"orders","stream":"orders","schema":{},"metadata":[]},{"tap_stream_id":"board","stream":"board","schema":{},"metadata":[]}]}`)}, nil, 2, `"orders", "board" (did you mean boards?)`},
		{"selected not a boolean", []string{"--config", good, "--catalog", write(t, dir, "sel.json", `{"streams":[{"tap_stream_id":"boards","schema":{},"metadata":[{"breadcrumb":[],"metadata":{"selected":"yes"}}]}]}`)}, nil, 2, `stream boards: "selected" is "yes", not a boolean; write true or false`},
		{"field selected not a boolean", []string{"--config", good, "--catalog", write(t, dir, "sel2.json", `{"streams":[{"tap_stream_id":"boards","schema":{},"metadata":[{"breadcrumb":["properties","name"],"metadata":{"selected":1}}]}]}`)}, nil, 2, `stream boards, breadcrumb properties.name: "selected" is 1`},
		{"bad about format", []string{"--about", "--format", "yaml"}, nil, 2, "--format"},
		{"bad test value", []string{"--config", good, "--test=foo"}, nil, 2, "--test=foo: --test takes no value, or =all"},
		{"plain http elsewhere", []string{"--config", good}, []string{"TAP_PINTEREST_BASE_URL=http://api.example.com/v5"}, 2, `is plain http:// to another machine`},
		{"token file not a token", []string{"--config", write(t, dir, "tf.json", demoConfig("http://127.0.0.1:9/v5", fmt.Sprintf(`,"refresh_token_file":%q`, write(t, dir, "passwd", "root:x:0:0:root:/root:/bin/bash\nzzzzzzzz:x:1:1::/:/bin/sh\n"))))}, nil, 2, "passwd holds 2 lines, not one refresh token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runTap(t, tc.env, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "CRITICAL ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("want one CRITICAL line containing %q, got:\n%s", tc.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout must stay empty: %q", r.stdout)
			}
			if s := secretsIn(r.stderr, "zzzzzzzz", "yyyyyyyy"); len(s) > 0 {
				t.Errorf("secrets %v in %q", s, r.stderr)
			}
		})
	}
}

func TestUnknownSettingWarnsAndRejectedTokenFails(t *testing.T) {
	t.Parallel()
	srv := fixtures.NewServer(fixtures.NewDataset(1, fixtures.Small, time.Now()), fixtures.Options{})
	defer srv.Close()
	dir := t.TempDir()
	cfg := write(t, dir, "c.json", fmt.Sprintf(`{"client_id":"demo-client","client_secret":"demo-secret","refresh_token":"revoked-refresh-token","base_url":%q,"colour":"blue"}`, srv.URL()))
	r := runTap(t, nil, "--config", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `WARNING `+cfg+`: unknown setting "colour"`) {
		t.Errorf("no warning for the unknown setting:\n%s", r.stderr)
	}
	crit := 0
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "CRITICAL ") {
			crit++
			if !strings.Contains(l, "create a new refresh_token") {
				t.Errorf("the error does not say what to do: %s", l)
			}
		}
	}
	if crit == 0 {
		t.Errorf("no CRITICAL line:\n%s", r.stderr)
	}
	if s := secretsIn(r.stderr+r.stdout, "revoked-refresh-token"); len(s) > 0 {
		t.Errorf("secrets %v printed:\n%s", s, r.stderr)
	}
}

func TestDiscoverAboutVersion(t *testing.T) {
	t.Parallel()
	r := runTap(t, nil, "--discover")
	if r.code != 0 {
		t.Fatalf("discover without config: exit %d\n%s", r.code, r.stderr)
	}
	var cat struct {
		Streams []struct {
			Stream string `json:"stream"`
		} `json:"streams"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cat); err != nil || len(cat.Streams) != len(catalog.Streams) {
		t.Fatalf("catalog: %v, %d streams", err, len(cat.Streams))
	}
	dir := t.TempDir()
	cfg := write(t, dir, "c.json", demoConfig("http://127.0.0.1:9/v5", `,"analytics_columns":["SPEND_IN_DOLLAR"]`))
	r2 := runTap(t, nil, "-c", cfg, "-d")
	if r2.code != 0 || strings.Contains(r2.stdout, "TOTAL_IMPRESSION") {
		t.Errorf("discover with analytics_columns: exit %d", r2.code)
	}
	// Discovery needs no credentials: a config without them still discovers.
	partial := write(t, dir, "partial.json", `{"analytics_columns":["SPEND_IN_DOLLAR"]}`)
	if r3 := runTap(t, nil, "-c", partial, "-d"); r3.code != 0 || !strings.Contains(r3.stdout, `"streams"`) {
		t.Errorf("discover with a config lacking credentials: exit %d\n%s", r3.code, r3.stderr)
	}
	for _, f := range []string{"json", "markdown", "text"} {
		r := runTap(t, nil, "--about", "--format", f)
		if r.code != 0 || !strings.Contains(r.stdout, "client_secret") {
			t.Errorf("--about --format %s: exit %d: %s", f, r.code, r.stdout)
		}
		if strings.Contains(r.stdout, fixtures.DemoClientSecret) {
			t.Error("--about shows a secret")
		}
	}
	if r := runTap(t, nil, "--version"); !strings.Contains(r.stdout+r.stderr, tap.Version) {
		t.Errorf("--version: %q %q", r.stdout, r.stderr)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	srv := fixtures.NewServer(fixtures.NewDataset(1, fixtures.Small, time.Now()), fixtures.Options{})
	defer srv.Close()
	cfg := write(t, t.TempDir(), "c.json", demoConfig(srv.URL(), ""))
	r := runTap(t, nil, "--config", cfg, "--test")
	if r.code != 0 || !strings.Contains(r.stderr, "organic (boards, pins, user account analytics): OK") || !strings.Contains(r.stderr, "2 ad accounts visible") {
		t.Fatalf("--test: exit %d\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("--test wrote to stdout: %q", r.stdout)
	}
	if calls := srv.CountByOp(); len(calls) != 3 {
		t.Errorf("--test made %v calls; want oauth/token, user_account/get and ad_accounts/list once each", calls)
	}
}

// parseOutput reads Singer messages: records by stream, and the last STATE.
type output struct {
	records map[string][]map[string]any
	keys    map[string][]string
	state   json.RawMessage
	states  int
}

func parseOutput(t *testing.T, stdout string) output {
	t.Helper()
	o := output{records: map[string][]map[string]any{}, keys: map[string][]string{}}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var m struct {
			Type   string          `json:"type"`
			Stream string          `json:"stream"`
			Record map[string]any  `json:"record"`
			Value  json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not a JSON message: %q", sc.Text())
		}
		switch m.Type {
		case "RECORD":
			o.records[m.Stream] = append(o.records[m.Stream], m.Record)
			s := catalog.StreamByName(m.Stream)
			parts := make([]string, len(s.KeyProperties))
			for i, k := range s.KeyProperties {
				parts[i] = fmt.Sprint(m.Record[k])
			}
			o.keys[m.Stream] = append(o.keys[m.Stream], strings.Join(parts, "|"))
		case "STATE":
			o.state = m.Value
			o.states++
		}
	}
	for _, k := range o.keys {
		sort.Strings(k)
	}
	return o
}

var buildOnce sync.Once
var builtBinary, builtDir string

// binary builds the tap once per test process, for tests that need a real
// process (signals, pipes).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tap-pinterest-bin")
		if err != nil {
			t.Fatal(err)
		}
		builtDir, builtBinary = dir, filepath.Join(dir, "tap-pinterest")
		cmd := execCommand("go", "build", "-o", builtBinary, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	})
	return builtBinary
}

// TestQuotaExit: a spent daily quota stops one stream; the tap says which,
// why and when to retry in one line, writes a final STATE and exits 1.
func TestQuotaExit(t *testing.T) {
	t.Parallel()
	srv := fixtures.NewServer(fixtures.NewDataset(4, fixtures.Small, time.Now()), fixtures.Options{
		Faults: []fixtures.Fault{{Kind: fixtures.RateLimit8, Op: "campaigns/analytics", RetryAfter: 18 * time.Hour}}})
	defer srv.Close()
	cfg := write(t, t.TempDir(), "c.json", quickConfig(srv.URL(), ""))
	r := runTap(t, nil, "--config", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	var crit []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "CRITICAL") {
			crit = append(crit, l)
		}
	}
	if len(crit) != 1 || !strings.Contains(crit[0], "stream campaign_analytics stopped") || !strings.Contains(crit[0], "retry after 20") || !strings.Contains(crit[0], "ads_analytics") {
		t.Fatalf("want one CRITICAL line naming the stream, the reason and when to retry; got %q", crit)
	}
	o := parseOutput(t, r.stdout)
	if o.state == nil || len(o.records["ad_analytics"]) == 0 || len(o.records["campaign_analytics"]) != 0 {
		t.Errorf("the other streams must finish and a final STATE follow: state %s, ad_analytics %d, campaign_analytics %d", o.state, len(o.records["ad_analytics"]), len(o.records["campaign_analytics"]))
	}
	if strings.Contains(string(o.state), `"campaign_analytics"`) {
		t.Errorf("campaign_analytics has a bookmark although its data was not read: %s", o.state)
	}
	t.Log(crit[0])
}

func TestTestSchema(t *testing.T) {
	t.Parallel()
	cfg := write(t, t.TempDir(), "c.json", demoConfig("http://127.0.0.1:9/v5", ""))
	r := runTap(t, nil, "--config", cfg, "--test=schema")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if want := len(defaultStreams()); len(lines) != want {
		t.Fatalf("%d lines, want %d SCHEMA messages (the streams selected by default)", len(lines), want)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"type":"SCHEMA"`) {
			t.Fatalf("not a SCHEMA: %.80s", l)
		}
	}
}

// defaultStreams are the rows of the stream table selected by default.
func defaultStreams() []string {
	var out []string
	for _, s := range catalog.Streams {
		if s.SelectedByDefault {
			out = append(out, s.Name)
		}
	}
	return out
}

// TestConfigFromEnvironment: a cron job keeps its secrets in TAP_PINTEREST_*
// variables and passes --config ENV, or no --config at all.
func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	srv := fixtures.NewServer(fixtures.NewDataset(1, fixtures.Small, time.Now()), fixtures.Options{})
	defer srv.Close()
	env := []string{"TAP_PINTEREST_CLIENT_ID=" + fixtures.DemoClientID, "TAP_PINTEREST_CLIENT_SECRET=" + fixtures.DemoClientSecret,
		"TAP_PINTEREST_REFRESH_TOKEN=" + fixtures.DemoRefreshToken, "TAP_PINTEREST_BASE_URL=" + srv.URL()}
	cat := write(t, t.TempDir(), "cat.json", `{"streams":[{"tap_stream_id":"boards","stream":"boards","schema":{},"metadata":[{"breadcrumb":[],"metadata":{"selected":true}}]}]}`)
	for _, args := range [][]string{{"--config", "ENV", "--catalog", cat}, {"--catalog", cat}} {
		r := runTap(t, env, args...)
		if r.code != 0 || !strings.Contains(r.stdout, `"type":"RECORD","stream":"boards"`) {
			t.Errorf("%v: exit %d, want a sync of boards:\n%s", args, r.code, r.stderr)
		}
	}
}

// TestDeadTokenInFileFallsBack: a refresh_token_file whose token Pinterest
// (the fake) rejects, next to a valid refresh_token in the config: the run
// falls back to the config's token, says so naming the file, and saves the
// rotated token in the file (issue 14 item 12).
func TestDeadTokenInFileFallsBack(t *testing.T) {
	t.Parallel()
	srv := fixtures.NewServer(fixtures.NewDataset(1, fixtures.Small, time.Now()), fixtures.Options{})
	defer srv.Close()
	dir := t.TempDir()
	file := write(t, dir, "token", "pinr.dead-token-from-an-old-run\n")
	cfg := write(t, dir, "c.json", quickConfig(srv.URL(), fmt.Sprintf(`,"refresh_token_file":%q`, file)))
	r := runTap(t, nil, "--config", cfg, "--test")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "WARNING Pinterest rejected the refresh token in refresh_token_file "+file+"; trying refresh_token from the config instead") {
		t.Errorf("no warning naming the file:\n%s", r.stderr)
	}
	b, _ := os.ReadFile(file)
	if got := strings.TrimSpace(string(b)); got == "pinr.dead-token-from-an-old-run" || got == "" {
		t.Errorf("the file still holds %q", got)
	}
	if s := secretsIn(r.stderr+r.stdout, "pinr.dead-token-from-an-old-run"); len(s) > 0 {
		t.Errorf("secrets %v printed:\n%s", s, r.stderr)
	}
}

// --discover with credentials and refresh_token_file asks the token endpoint
// for the token's scopes and marks the streams it may not read not selected
// by default, saying why in their metadata and on stderr.
func TestDiscoverMarksMissingScopes(t *testing.T) {
	t.Parallel()
	srv := fixtures.NewServer(fixtures.NewDataset(1, fixtures.Small, time.Now()), fixtures.Options{})
	defer srv.Close()
	srv.SetTokenScope("ads:read boards:read pins:read user_accounts:read")
	dir := t.TempDir()
	cfg := write(t, dir, "c.json", demoConfig(srv.URL(), `,"refresh_token_file":"`+filepath.Join(dir, "rt")+`"`))
	r := runTap(t, nil, "--config", cfg, "--discover")
	if r.code != 0 || !strings.Contains(r.stderr, "catalogs (catalogs:read)") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	cat, err := catalog.Parse([]byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cat.Streams {
		root := e.Metadata[0].Metadata
		lacks := strings.HasPrefix(e.TapStreamID, "catalogs")
		byDefault := catalog.StreamByName(e.TapStreamID).SelectedByDefault
		if root[catalog.SelectedByDefault] != (byDefault && !lacks) || (root[tap.MissingScopesKey] != nil) != lacks {
			t.Errorf("%s: %v", e.TapStreamID, root)
		}
	}
	if calls := srv.CountByOp(); len(calls) != 1 || calls["oauth/token"] != 1 {
		t.Errorf("discovery made %v calls; want one token request", calls)
	}
	// That catalog with catalogs selected: exit 1 before any output, one line.
	for i := range cat.Streams {
		cat.Streams[i].Metadata[0].Metadata[catalog.Selected] = cat.Streams[i].TapStreamID == "catalogs"
	}
	b, _ := json.Marshal(cat)
	r = runTap(t, nil, "--config", cfg, "--catalog", write(t, dir, "cat.json", string(b)))
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "CRITICAL the catalog selects streams this token may not read: catalogs need the OAuth scope catalogs:read") {
		t.Errorf("exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	// Without refresh_token_file, discovery stays offline.
	srv.Reset()
	plain := write(t, dir, "p.json", demoConfig(srv.URL(), ""))
	if r := runTap(t, nil, "--config", plain, "--discover"); r.code != 0 || len(srv.CountByOp()) != 0 {
		t.Errorf("exit %d, calls %v", r.code, srv.CountByOp())
	}
}

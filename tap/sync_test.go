package tap

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xeipuuv/gojsonschema"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
	"github.com/tap-pinterest/tap-pinterest/tap/logging"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

// These integration tests run the engine against the fake Pinterest API of
// fixtures/, which answers as strictly as the spec says Pinterest does and
// validates every request the tap sends against the OpenAPI description.

// analyticsRange is the tap's default window: the oldest allowed day to yesterday.
func analyticsRange(now time.Time) (time.Time, time.Time) { return fixtures.DefaultAnalyticsRange(now) }

type syncResult struct {
	records map[string][]json.RawMessage
	schemas map[string]json.RawMessage
	states  []json.RawMessage
	final   *State
	logs    string
	err     error
	lines   int
	raw     []byte // stdout, every message
}

var (
	schemaCacheMu sync.Mutex
	schemaCache   = map[string]*gojsonschema.Schema{}
)

func compiled(t *testing.T, schema []byte) *gojsonschema.Schema {
	t.Helper()
	schemaCacheMu.Lock()
	defer schemaCacheMu.Unlock()
	if s, ok := schemaCache[string(schema)]; ok {
		return s
	}
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schema))
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	schemaCache[string(schema)] = s
	return s
}

// fewColumns keeps the analytics rows small: most tests are about which
// rows arrive, not about their 175 columns (TestFullSync/small has them all).
const fewColumns = `,"analytics_columns":["SPEND_IN_MICRO_DOLLAR","TOTAL_IMPRESSION","TOTAL_CLICKTHROUGH","CTR","CAMPAIGN_NAME"]`

type runOpts struct {
	config     string // extra JSON members for the config file
	allColumns bool   // request every analytics column
	now        func() time.Time
	catalog    *catalog.Catalog
	state      *State
	ctx        context.Context
	baseURL    string // a hostile server in front of the fake, instead of the fake's own URL
}

// runSync runs one sync in-process and checks the Singer rules on its output:
// one JSON message per line, SCHEMA before RECORD, records valid against
// their schema, a STATE last.
func runSync(t *testing.T, srv *fixtures.Server, o runOpts) syncResult {
	t.Helper()
	dir := t.TempDir()
	// Tests do not wait for Pinterest's real rate limits (the pacing has tests of its own).
	base := srv.URL()
	if o.baseURL != "" {
		base = o.baseURL
	}
	body := fixtures.DemoConfig(base, `,"rate_limit_ads_analytics":60000,"rate_limit_ads_read":60000,"rate_limit_org_read":60000,"rate_limit_org_analytics":60000`+o.config)
	p := filepath.Join(dir, "config.json")
	if !o.allColumns && !strings.Contains(o.config, "analytics_columns") {
		body = strings.TrimSuffix(body, "}") + fewColumns + "}"
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig([]string{p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	red := &logging.Redactor{}
	log := logging.NewLogger(&lockedWriter{w: &logs}, logging.LevelInfo, red)
	opts := cfg.ClientOptions()
	opts.RetryBase = 10 * time.Millisecond
	client := pinterest.NewClient(opts, log, red)
	sel, err := Select(o.catalog, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSyncer(cfg, client, log, sel, o.state, Options{Now: o.now, ReportPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = t.Context()
	}
	var out bytes.Buffer
	runErr := s.Run(ctx, singer.NewWriter(&out))
	res := syncResult{records: map[string][]json.RawMessage{}, schemas: map[string]json.RawMessage{}, err: runErr, logs: logs.String(), raw: bytes.Clone(out.Bytes())}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var last string
	for sc.Scan() {
		res.lines++
		var m struct {
			Type          string          `json:"type"`
			Stream        string          `json:"stream"`
			Record        json.RawMessage `json:"record"`
			Schema        json.RawMessage `json:"schema"`
			KeyProperties []string        `json:"key_properties"`
			Value         json.RawMessage `json:"value"`
			TimeExtracted string          `json:"time_extracted"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || !utf8.Valid(sc.Bytes()) {
			t.Fatalf("line %d is not JSON text (UTF-8): %v: %q", res.lines, err, sc.Bytes())
		}
		last = m.Type
		switch m.Type {
		case "SCHEMA":
			if m.KeyProperties == nil {
				t.Fatalf("SCHEMA of %s without key_properties", m.Stream)
			}
			res.schemas[m.Stream] = m.Schema
		case "RECORD":
			schema, ok := res.schemas[m.Stream]
			if !ok {
				t.Fatalf("RECORD of %s before its SCHEMA", m.Stream)
			}
			if _, err := time.Parse(time.RFC3339Nano, m.TimeExtracted); err != nil {
				t.Fatalf("time_extracted %q", m.TimeExtracted)
			}
			// Validating every record costs more than the sync; the first 300 of
			// each stream cover every shape the fake produces.
			if len(res.records[m.Stream]) < 300 {
				r, err := compiled(t, schema).Validate(gojsonschema.NewBytesLoader(m.Record))
				if err != nil || !r.Valid() {
					t.Fatalf("record of %s does not match its schema: %v %v\n%s", m.Stream, err, r.Errors(), m.Record)
				}
			}
			res.records[m.Stream] = append(res.records[m.Stream], m.Record)
		case "STATE":
			res.states = append(res.states, m.Value)
		default:
			t.Fatalf("unexpected message type %q", m.Type)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if res.lines == 0 && runErr != nil {
		return res // failed before writing anything (bad credentials)
	}
	if last != "STATE" {
		t.Fatalf("the last message is %q, not STATE", last)
	}
	st, err := ParseState(res.states[len(res.states)-1], "final")
	if err != nil {
		t.Fatal(err)
	}
	res.final = st
	if v := srv.ContractViolations(); len(v) > 0 {
		t.Fatalf("requests that break the OpenAPI contract:\n%s", strings.Join(v, "\n"))
	}
	return res
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// keys returns the sorted primary keys of records, compound keys joined with "|".
func keys(t *testing.T, stream string, recs []json.RawMessage) []string {
	t.Helper()
	kp := catalog.StreamByName(stream).KeyProperties
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(kp))
		for i, k := range kp {
			s, ok := m[k].(string)
			if !ok {
				t.Fatalf("%s: key %s is %T, not a string: %s", stream, k, m[k], r)
			}
			parts[i] = s
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

// assertComplete checks that every stream holds exactly the expected keys:
// nothing missing, nothing extra, nothing twice.
func assertComplete(t *testing.T, res syncResult, want fixtures.Expectation, streams ...string) {
	t.Helper()
	if len(streams) == 0 {
		streams = defaultStreams()
	}
	for _, s := range streams {
		got := keys(t, s, res.records[s])
		exp := want.Keys[s]
		if strings.Join(got, ",") == strings.Join(exp, ",") {
			continue
		}
		missing, extra, dups := fixtures.DiffKeys(got, exp)
		t.Errorf("%s: %d records, want %d; missing %d %v, extra %d %v, duplicated %d %v", s, len(got), len(exp), len(missing), head(missing), len(extra), head(extra), len(dups), head(dups))
	}
}

// defaultStreams are the streams a run without a catalog syncs.
func defaultStreams() []string {
	var out []string
	for _, r := range catalog.Streams {
		if r.SelectedByDefault {
			out = append(out, r.Name)
		}
	}
	return out
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func newFake(t *testing.T, size fixtures.Size, opts fixtures.Options) *fixtures.Server {
	t.Helper()
	opts.ValidateRequests = true
	srv := fixtures.NewServer(fixtures.NewDataset(7, size, time.Now().UTC()), opts)
	t.Cleanup(srv.Close)
	return srv
}

func TestFullSync(t *testing.T) {
	t.Parallel()
	// Small fits in one page everywhere and asks for every analytics column;
	// Medium needs several pages and several batches of 250 ids per ad account.
	for _, tc := range []struct {
		size fixtures.Size
		all  bool
	}{
		{fixtures.Small, true},
		{fixtures.Medium, false},
	} {
		t.Run(tc.size.Name, func(t *testing.T) {
			t.Parallel()
			testFullSync(t, tc.size, tc.all)
		})
	}
}

func testFullSync(t *testing.T, size fixtures.Size, allColumns bool) {
	srv := newFake(t, size, fixtures.Options{})
	res := runSync(t, srv, runOpts{allColumns: allColumns})
	if res.err != nil {
		t.Fatalf("sync failed: %v\n%s", res.err, res.logs)
	}
	from, to := analyticsRange(time.Now())
	want := srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to})
	assertComplete(t, res, want)
	for _, s := range catalog.Streams {
		if _, ok := res.schemas[s.Name]; ok != s.SelectedByDefault {
			t.Errorf("%s: SCHEMA sent = %v, selected by default = %v", s.Name, ok, s.SelectedByDefault)
		}
	}
	// The default status filter would have hidden archived and draft entities.
	statuses := map[string]int{}
	for _, r := range res.records["campaigns"] {
		var c struct{ Status string }
		_ = json.Unmarshal(r, &c)
		statuses[c.Status]++
	}
	if statuses["ARCHIVED"] == 0 || statuses["DRAFT"] == 0 || statuses["DELETED_DRAFT"] != 0 {
		t.Errorf("campaign statuses %v: ARCHIVED and DRAFT must be synced, DELETED_DRAFT not by default", statuses)
	}
	// Naive date-times come out as RFC 3339 UTC, parent ids are filled in.
	var b struct {
		CreatedAt string `json:"created_at"`
	}
	_ = json.Unmarshal(res.records["boards"][0], &b)
	if !strings.HasSuffix(b.CreatedAt, "Z") {
		t.Errorf("boards.created_at %q is not RFC 3339 UTC", b.CreatedAt)
	}
	for _, r := range res.records["board_sections"] {
		if !bytes.Contains(r, []byte(`"board_id":"`)) {
			t.Fatalf("section without board_id: %s", r)
		}
	}
	// Bookmarks: one per ad account for every incremental ads stream, and the user analytics date.
	for _, name := range []string{"campaigns", "ad_groups", "ads", "ad_account_analytics", "campaign_analytics", "ad_group_analytics", "ad_analytics"} {
		s := catalog.StreamByName(name)
		for _, acct := range srv.Dataset().AdAccountIDs() {
			if _, ok := res.final.get(s, acct); !ok {
				t.Errorf("no bookmark for %s of ad account %s", name, acct)
			}
		}
	}
	if v, ok := res.final.get(catalog.StreamByName("ad_analytics"), srv.Dataset().AdAccountIDs()[0]); !ok || v.Format(time.DateOnly) != srv.LastReadyDay() {
		t.Errorf("ad_analytics bookmark %v, want %s (the last day metrics_ready_state calls final)", v, srv.LastReadyDay())
	}
	if n := srv.CountByOp()[catalog.ReadyStateOp]; n != 3 { // today and yesterday are not final
		t.Errorf("%d metrics_ready_state calls, want 3 (once a run)", n)
	}
	checkCallCounts(t, srv, fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to})
}

// checkCallCounts compares the requests per operation with the fewest a
// complete sync can make: ceil(items/250) pages per list and parent, and
// ceil(ids/250) × windows analytics calls per ad account. The tap must hit
// the bound exactly.
func checkCallCounts(t *testing.T, srv *fixtures.Server, q fixtures.ExpectQuery) {
	t.Helper()
	calls := srv.CountByOp()
	bounds := srv.Dataset().CallLowerBounds(q, 1)
	for op, want := range bounds {
		if calls[op] != want {
			t.Errorf("%s: %d calls, the lower bound is %d", op, calls[op], want)
		}
	}
	if calls["oauth/token"] != 1 {
		t.Errorf("%d token refreshes, want 1", calls["oauth/token"])
	}
}

func TestIncrementalSync(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	first := runSync(t, srv, runOpts{})
	if first.err != nil {
		t.Fatal(first.err)
	}
	mut := srv.Dataset().Mutate(11, time.Now().UTC())
	second := runSync(t, srv, runOpts{state: first.final})
	if second.err != nil {
		t.Fatal(second.err)
	}
	_, to := analyticsRange(time.Now())
	from := to.AddDate(0, 0, -30) // analytics_lookback_days before the bookmark
	statuses := fixtures.TapStatuses
	want := srv.Expect(fixtures.ExpectQuery{Statuses: statuses, Start: from, End: to})
	assertComplete(t, second, want, "user_account_analytics", "boards", "board_sections", "board_pins", "board_section_pins", "ad_accounts")
	// The ads analytics bookmarks stopped at the last day Pinterest called final (metrics_ready_state).
	ready, _ := time.Parse(time.DateOnly, srv.LastReadyDay())
	assertComplete(t, second, srv.Expect(fixtures.ExpectQuery{Statuses: statuses, Start: ready.AddDate(0, 0, -30), End: to}),
		"ad_account_analytics", "campaign_analytics", "ad_group_analytics", "ad_analytics",
		"ad_account_targeting_analytics", "campaign_targeting_analytics", "ad_group_targeting_analytics", "ad_targeting_analytics")
	for _, s := range []string{"campaigns", "ad_groups", "ads"} {
		since := map[string]int64{}
		for _, a := range srv.Dataset().AdAccountIDs() {
			v, ok := first.final.get(catalog.StreamByName(s), a)
			if !ok {
				t.Fatalf("no %s bookmark for %s", s, a)
			}
			since[a] = v.Unix()
		}
		assertComplete(t, second, srv.Expect(fixtures.ExpectQuery{Statuses: statuses, Start: from, End: to, UpdatedSince: since}), s)
	}
	// Everything that changed is in; entities that did not change are not
	// (except those sitting exactly on the bookmark: >= is at-least-once).
	for _, s := range []string{"campaigns", "ad_groups", "ads"} {
		got := map[string]bool{}
		for _, k := range keys(t, s, second.records[s]) {
			got[k] = true
		}
		for _, id := range mut.Changed[s] {
			if !got[id] && statusSynced(t, srv, s, id) {
				t.Errorf("%s %s changed but was not re-emitted", s, id)
			}
		}
		if n := len(second.records[s]); n >= len(first.records[s]) {
			t.Errorf("%s: the incremental run emitted %d records, the full one %d", s, n, len(first.records[s]))
		}
	}
	if n, full := len(second.records["ad_analytics"]), len(first.records["ad_analytics"]); n == 0 || n >= full {
		t.Errorf("ad_analytics: %d rows on the incremental run (look-back window) vs %d on the full one", n, full)
	}
	// A third run with nothing changed emits no entity.
	third := runSync(t, srv, runOpts{state: second.final})
	for _, s := range []string{"campaigns", "ad_groups", "ads"} {
		for _, r := range third.records[s] {
			var e struct {
				UpdatedTime int64 `json:"updated_time"`
			}
			_ = json.Unmarshal(r, &e)
			if e.UpdatedTime < mut.Now.Unix() {
				t.Errorf("%s re-emitted an unchanged entity: %s", s, r)
			}
		}
	}
}

// statusSynced reports whether an entity's status is among the default entity_statuses.
func statusSynced(t *testing.T, srv *fixtures.Server, stream, id string) bool {
	t.Helper()
	x := srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses})
	for _, k := range x.Keys[stream] {
		if k == id {
			return true
		}
	}
	return false
}

func TestFieldSelectionAndFilters(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	cat, err := Discover(nil)
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{"campaigns": true, "campaign_analytics": true}
	for i := range cat.Streams {
		e := &cat.Streams[i]
		for j := range e.Metadata {
			m := &e.Metadata[j]
			if len(m.Breadcrumb) == 0 {
				m.Metadata["selected"] = keep[e.Stream]
			}
			if e.Stream == "campaigns" && len(m.Breadcrumb) == 2 && m.Breadcrumb[1] == "name" {
				m.Metadata["selected"] = false
			}
		}
	}
	accounts := srv.Dataset().AdAccountIDs()
	cfg := fmt.Sprintf(`,"ad_account_ids":[%q],"entity_statuses":["ACTIVE"],"analytics_columns":["SPEND_IN_MICRO_DOLLAR","TOTAL_IMPRESSION"],"start_date":"2020-01-01"`, accounts[0])
	ra := newReportAPI(t, srv) // the days from 913 to 90 days back come from async reports
	res := runSync(t, srv, runOpts{catalog: cat, config: cfg, baseURL: ra.URL()})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.schemas) != 2 {
		t.Errorf("schemas for %d streams, want 2", len(res.schemas))
	}
	if bytes.Contains(res.schemas["campaigns"], []byte(`"name"`)) {
		t.Error("deselected campaigns.name is in the SCHEMA")
	}
	for _, r := range res.records["campaigns"] {
		if bytes.Contains(r, []byte(`"name":`)) {
			t.Fatalf("deselected campaigns.name is in a record: %s", r)
		}
		if !bytes.Contains(r, []byte(`"status":"ACTIVE"`)) {
			t.Fatalf("entity_statuses not applied: %s", r)
		}
	}
	for _, r := range res.records["campaign_analytics"] {
		var m map[string]any
		_ = json.Unmarshal(r, &m)
		for k := range m {
			if k != "CAMPAIGN_ID" && k != "DATE" && k != "SPEND_IN_MICRO_DOLLAR" && k != "TOTAL_IMPRESSION" {
				t.Fatalf("column %s was not asked for: %s", k, r)
			}
		}
	}
	want := wantBackfill(t, srv, res, []string{"ACTIVE"}, accounts[0], time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -913))
	assertComplete(t, res, want, "campaigns", "campaign_analytics")
	if strings.Contains(res.logs, "does not declare") {
		t.Errorf("a field the user deselected was reported as unknown:\n%s", res.logs)
	}
	oldest := time.Now().UTC().AddDate(0, 0, -914).Format(time.DateOnly)
	if n := strings.Count(res.logs, "campaign_analytics: 2020-01-01 to "+oldest+" for ad account "+accounts[0]+" not read: older than the 914 days"); n != 1 {
		t.Errorf("the unread range before the 914-day reach of reports was said %d times, want once with stream, dates and account:\n%s", n, res.logs)
	}
	if calls := srv.CountByOp(); calls["boards/list"] != 0 || calls["ad_groups/list"] != 0 {
		t.Errorf("unselected streams were fetched: %v", calls)
	}
}

func TestDeniedAccountAndDeletedBoard(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	denied := srv.Dataset().AdAccountIDs()[1]
	gone := srv.Dataset().BoardIDs()[0]
	srv.DenyAdAccount(denied)
	srv.DeleteBoardAfterList(gone)
	res := runSync(t, srv, runOpts{})
	if res.err != nil {
		t.Fatalf("a 403 account or a deleted board must not fail the sync: %v", res.err)
	}
	if !strings.Contains(res.logs, "ad account "+denied+" is not readable") || strings.Count(res.logs, "ad account "+denied+" is not readable") != 1 {
		t.Errorf("want one warning naming the denied account:\n%s", res.logs)
	}
	if !strings.Contains(res.logs, "board "+gone) {
		t.Errorf("want a warning naming the deleted board:\n%s", res.logs)
	}
	from, to := analyticsRange(time.Now())
	want := srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to})
	assertComplete(t, res, want)
	if _, ok := res.final.get(catalog.StreamByName("campaigns"), denied); ok {
		t.Error("a bookmark was written for the denied account")
	}
}

func TestQuotaStopsOneStream(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	// The daily analytics quota of ads analytics is spent: Pinterest says come back in 18 hours.
	srv.SetFaults(fixtures.Fault{Kind: fixtures.RateLimit8, Op: "ads/analytics", RetryAfter: 18 * time.Hour})
	res := runSync(t, srv, runOpts{config: `,"max_retry_wait_seconds":60`})
	var se *StreamError
	if !errorsAs(res.err, &se) || len(se.Streams) != 1 || se.Streams["ad_analytics"] == nil {
		t.Fatalf("want ad_analytics alone to fail, got %v", res.err)
	}
	msg := se.Error()
	if !strings.Contains(msg, "ad_analytics") || !strings.Contains(msg, "retry after") || !strings.Contains(msg, "ads_analytics") {
		t.Errorf("error does not say stream, reason and when: %s", msg)
	}
	// Every other stream is complete; ad_analytics has neither rows nor a bookmark.
	from, to := analyticsRange(time.Now())
	want := srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to})
	var others []string
	for _, s := range defaultStreams() {
		if s != "ad_analytics" {
			others = append(others, s)
		}
	}
	assertComplete(t, res, want, others...)
	for _, a := range srv.Dataset().AdAccountIDs() {
		if _, ok := res.final.get(catalog.StreamByName("ad_analytics"), a); ok {
			t.Errorf("ad_analytics bookmark advanced for %s although its data was not read", a)
		}
	}
	if srv.CountByOp()["ads/analytics"] > 2 {
		t.Errorf("%d ads/analytics calls: a spent daily quota must not be hammered", srv.CountByOp()["ads/analytics"])
	}
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }

func TestRefreshTokenRotationIsKept(t *testing.T) {
	t.Parallel()
	// Strict rotation: once a newer refresh token is used, older ones die.
	srv := newFake(t, fixtures.Small, fixtures.Options{RotateStrict: true, RefreshTokenTTL: 10 * 24 * time.Hour})
	dir := t.TempDir()
	file := filepath.Join(dir, "refresh_token")
	cat := onlyStreams(t, "ad_accounts")
	first := runSync(t, srv, runOpts{catalog: cat, config: fmt.Sprintf(`,"refresh_token_file":%q`, file)})
	if first.err != nil {
		t.Fatal(first.err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the rotated refresh token was not saved: %v", err)
	}
	if got := strings.TrimSpace(string(b)); got != srv.CurrentRefreshToken() || got == fixtures.DemoRefreshToken {
		t.Errorf("refresh_token_file holds %q, want the newest token", got)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("refresh_token_file mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(first.logs, "expires on") {
		t.Errorf("no warning for a refresh token that expires in 10 days:\n%s", first.logs)
	}
	if strings.Contains(first.logs, srv.CurrentRefreshToken()) {
		t.Error("the new refresh token was logged")
	}
	// The file's token is preferred over the (now dead) configured one.
	tok, err := LoadRefreshTokenFile(file)
	if err != nil || tok == "" {
		t.Fatal(err)
	}
	second := runSync(t, srv, runOpts{catalog: cat, config: fmt.Sprintf(`,"refresh_token":%q,"refresh_token_file":%q`, tok, file)})
	if second.err != nil {
		t.Fatalf("a run with the kept token failed: %v", second.err)
	}
	// Without the file, the configured (first, now revoked) token fails clearly.
	third := runSync(t, srv, runOpts{catalog: cat})
	var ae *pinterest.AuthError
	if !errorsAs(third.err, &ae) {
		t.Errorf("a revoked refresh token must be an AuthError, got %v", third.err)
	}
}

func TestExpiredAccessTokenMidRun(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{Latency: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { // Pinterest invalidates the access token in the middle of the sync.
		for ctx.Err() == nil {
			total := 0
			for _, n := range srv.CountByOp() {
				total += n
			}
			if total >= 10 {
				srv.ExpireAccessTokens()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	res := runSync(t, srv, runOpts{ctx: ctx})
	if res.err != nil {
		t.Fatalf("an expired access token must be refreshed, not fail the sync: %v", res.err)
	}
	if n := srv.CountByOp()["oauth/token"]; n < 2 {
		t.Errorf("%d token requests, want a second one after the expiry", n)
	}
	from, to := analyticsRange(time.Now())
	assertComplete(t, res, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to}))
}

// onlyStreams returns the discovered catalog with only the named streams selected.
func onlyStreams(t *testing.T, names ...string) *catalog.Catalog {
	t.Helper()
	cat, err := Discover(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for i := range cat.Streams {
		for j := range cat.Streams[i].Metadata {
			if len(cat.Streams[i].Metadata[j].Breadcrumb) == 0 {
				cat.Streams[i].Metadata[j].Metadata["selected"] = want[cat.Streams[i].Stream]
			}
		}
	}
	return cat
}

// TestPacingAvoids429 enforces rate limits in the fake and the same limits in
// the tap's settings: the tap must spread its requests and never be refused.
func TestPacingAvoids429(t *testing.T) {
	t.Parallel()
	limits := map[string]int{"ads_analytics": 120, "ads_read": 240, "org_read": 240, "org_analytics": 60}
	srv := newFake(t, fixtures.Small, fixtures.Options{RateLimits: limits})
	start := time.Now()
	res := runSync(t, srv, runOpts{config: `,"rate_limit_ads_analytics":120,"rate_limit_ads_read":240,"rate_limit_org_read":240,"rate_limit_org_analytics":60`})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if n := srv.FaultCounts(); len(n) > 0 {
		t.Errorf("the fake refused requests although the tap paced them: %v", n)
	}
	// 8 ads analytics calls at 2/s after a burst of 2 cannot take less than 3 s.
	if took := time.Since(start); took < 2500*time.Millisecond {
		t.Errorf("sync took %s: the pacing did not hold the requests back", took)
	}
}

// TestShardsEqualFullSync: users shard big installations by ad_account_ids
// across workers; the shards together must hold exactly what one full sync
// holds (organic streams go to one shard only).
func TestShardsEqualFullSync(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Medium, fixtures.Options{})
	accounts := srv.Dataset().AdAccountIDs()
	adsStreams := []string{"ad_accounts", "ad_account_analytics", "campaigns", "campaign_analytics", "ad_groups", "ad_group_analytics", "ads", "ad_analytics"}
	full := runSync(t, srv, runOpts{catalog: onlyStreams(t, adsStreams...)})
	ids := func(list []string) string {
		b, _ := json.Marshal(list)
		return string(b)
	}
	shardA := runSync(t, srv, runOpts{catalog: onlyStreams(t, adsStreams...), config: `,"ad_account_ids":` + ids(accounts[:1])})
	shardB := runSync(t, srv, runOpts{catalog: onlyStreams(t, adsStreams...), config: `,"ad_account_ids":` + ids(accounts[1:])})
	for _, r := range []syncResult{full, shardA, shardB} {
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	for _, s := range adsStreams {
		union := append(append([]json.RawMessage{}, shardA.records[s]...), shardB.records[s]...)
		got, want := keys(t, s, union), keys(t, s, full.records[s])
		if strings.Join(got, ",") != strings.Join(want, ",") {
			missing, extra, dups := fixtures.DiffKeys(got, want)
			t.Errorf("%s: shards hold %d records, the full sync %d (missing %d, extra %d, duplicated %d)", s, len(got), len(want), len(missing), len(extra), len(dups))
		}
	}
	// Each shard's state names only its own accounts, so shards never overwrite each other's bookmarks.
	if _, ok := shardA.final.get(catalog.StreamByName("ads"), accounts[1]); ok {
		t.Error("shard A wrote a bookmark for an account of shard B")
	}
}

// TestLongURLsAreSplit: 250 ids and 175 columns make URLs of ~11 KB; a
// front end that refuses them must cost calls, never data.
func TestLongURLsAreSplit(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{MaxURLBytes: 5000}) // Small: 30 ads a batch
	res := runSync(t, srv, runOpts{allColumns: true, catalog: onlyStreams(t, "ad_analytics")})
	if res.err != nil {
		t.Fatal(res.err)
	}
	from, to := analyticsRange(time.Now())
	assertComplete(t, res, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to}), "ad_analytics")
	if !strings.Contains(res.logs, "HTTP 414") {
		t.Error("no warning about the split")
	}
}

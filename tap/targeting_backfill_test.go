package tap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// targetingFake is a fake whose history reaches 914 days, its reports
// taking a poll and gzip'd, and one report of each targeting level ending
// FAILED, EXPIRED or DOES_NOT_EXIST once.
func targetingFake(t *testing.T) *fixtures.Server {
	t.Helper()
	size := fixtures.Small
	size.AnalyticsDays = 914
	srv := fixtures.NewServer(fixtures.NewDataset(7, size, time.Now().UTC()), fixtures.Options{ValidateRequests: true, RecordRequests: true,
		Reports: fixtures.ReportOptions{Polls: 1, Gzip: fixtures.GzipObject, FailOnce: []fixtures.ReportMatch{
			{Level: "CAMPAIGN_TARGETING"}, {Level: "AD_GROUP_TARGETING", Status: "EXPIRED"}, {Level: "PIN_PROMOTION_TARGETING", Status: "DOES_NOT_EXIST"}}}})
	t.Cleanup(srv.Close)
	return srv
}

// wantTargeting is every (entity, DATE, type, value) of the targeting
// streams from start to yesterday: the fake's synchronous items, less the
// types a stream's report does not take on the days older than the
// synchronous look-back.
func wantTargeting(srv *fixtures.Server, acc string, start time.Time) fixtures.Expectation {
	syncFrom, yesterday := analyticsRange(time.Now())
	want := srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, AdAccountIDs: []string{acc}, Start: start, End: yesterday})
	for _, name := range targetingStreams {
		accepts := catalog.StreamByName(name).Report.Accepts
		want.Keys[name] = slices.DeleteFunc(want.Keys[name], func(k string) bool {
			f := strings.Split(k, "|")
			return f[1] < syncFrom.Format(time.DateOnly) && !slices.Contains(accepts, f[2])
		})
	}
	return want
}

// TestTargetingBackfill: a start_date 900 days back reads the targeting
// streams in full, the days older than the synchronous look-back through
// _TARGETING reports of at most 5 targeting types (reports that take a
// poll, are gzip'd, end FAILED, EXPIRED or DOES_NOT_EXIST once; the fake
// refuses more than 5 types a report); the types
// the report API lacks at a level are named once with their days; nothing
// comes twice.
func TestTargetingBackfill(t *testing.T) {
	t.Parallel()
	srv := targetingFake(t)
	acc := srv.Dataset().AdAccountIDs()[0]
	today := time.Now().UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -900)
	cfg := fmt.Sprintf(`,"ad_account_ids":[%q],"start_date":%q`, acc, start.Format(time.DateOnly))
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, targetingStreams...), config: cfg})
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.logs)
	}
	assertComplete(t, res, wantTargeting(srv, acc, start), targetingStreams...)
	checkTargetingRecords(t, res)
	syncFrom, _ := analyticsRange(time.Now())
	old := 0
	for _, name := range targetingStreams {
		for _, k := range keys(t, name, res.records[name]) {
			if strings.Split(k, "|")[1] < syncFrom.Format(time.DateOnly) {
				old++
			}
		}
	}
	if old == 0 {
		t.Fatal("no record older than the synchronous look-back")
	}
	calls := srv.CountByOp()
	// 4 levels × 5 spans of ≤186 days × 3 reports of ≤5 types, and 3 created again.
	if calls[catalog.ReportCreateOp] != 63 {
		t.Errorf("%d reports created, want 63", calls[catalog.ReportCreateOp])
	}
	lastOld := syncFrom.AddDate(0, 0, -1).Format(time.DateOnly)
	for _, w := range []string{
		"campaign_targeting_analytics: targeting type CREATIVE_TYPE not read from " + start.Format(time.DateOnly) + " to " + lastOld,
		"ad_targeting_analytics: targeting type QUIZ_RESULT not read from " + start.Format(time.DateOnly) + " to " + lastOld,
	} {
		if strings.Count(res.logs, w) != 1 {
			t.Errorf("the logs do not name once %q:\n%s", w, res.logs)
		}
	}
	for _, name := range []string{"ad_account_targeting_analytics", "ad_group_targeting_analytics"} {
		if strings.Contains(res.logs, name+": targeting type") {
			t.Errorf("%s: its report takes every type, yet a type was said unread:\n%s", name, res.logs)
		}
	}
	t.Logf("%d records older than %s; calls %v", old, syncFrom.Format(time.DateOnly), calls)
}

// TestTargetingReportRowsAreSynchronousRows: the days both APIs serve,
// read once through the synchronous targeting analytics and once through
// reports (a clock 100 days ahead makes every day of the fake older than
// the synchronous look-back), give the same records, field for field, but
// for the types the report API lacks.
func TestTargetingReportRowsAreSynchronousRows(t *testing.T) {
	t.Parallel()
	srv := targetingFake(t)
	acc := srv.Dataset().AdAccountIDs()[0]
	from, to := analyticsRange(time.Now())
	cfg := fmt.Sprintf(`,"ad_account_ids":[%q],"start_date":%q,"end_date":%q`, acc, from.Format(time.DateOnly), to.Format(time.DateOnly))
	synced := runSync(t, srv, runOpts{catalog: onlyStreams(t, targetingStreams...), config: cfg})
	ahead := func() time.Time { return time.Now().AddDate(0, 0, 100) }
	reported := runSync(t, srv, runOpts{catalog: onlyStreams(t, targetingStreams...), config: cfg, now: ahead})
	for _, res := range []syncResult{synced, reported} {
		if res.err != nil {
			t.Fatalf("%v\n%s", res.err, res.logs)
		}
	}
	calls := srv.CountByOp()
	if calls[catalog.ReportCreateOp] == 0 || calls["campaign_targeting_analytics/get"] == 0 {
		t.Fatalf("both APIs were not read: %v", calls)
	}
	for _, name := range targetingStreams {
		accepts := catalog.StreamByName(name).Report.Accepts
		want := canonicalRecords(t, synced.records[name], func(m map[string]any) bool { return slices.Contains(accepts, m["targeting_type"].(string)) })
		got := canonicalRecords(t, reported.records[name], nil)
		if len(got) == 0 || !slices.Equal(got, want) {
			missing, extra, _ := fixtures.DiffKeys(got, want)
			t.Errorf("%s: %d records from reports, %d synchronous; only synchronous %d %v; only from reports %d %v", name, len(got), len(want), len(missing), head(missing), len(extra), head(extra))
		}
	}
}

// canonicalRecords renders each record kept by keep (nil: all) as sorted JSON, sorted.
func canonicalRecords(t *testing.T, recs []json.RawMessage, keep func(map[string]any) bool) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		if keep == nil || keep(m) {
			b, _ := json.Marshal(m) // maps marshal with sorted keys
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return out
}

// holdReports stands in front of the fake and keeps the creates of a level's
// reports from a day on waiting until the tap gives up on them, and notes
// where the level's reports start.
type holdReports struct {
	fake        http.Handler
	level, from string
	mu          sync.Mutex
	holding     bool
	starts      []string // the start_date of every create of the level
}

func (h *holdReports) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/reports") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			Level     string `json:"level"`
			StartDate string `json:"start_date"`
		}
		_ = json.Unmarshal(body, &req)
		h.mu.Lock()
		if req.Level == h.level {
			h.starts = append(h.starts, req.StartDate)
		}
		hold := h.holding && req.Level == h.level && req.StartDate >= h.from
		h.mu.Unlock()
		if hold {
			<-r.Context().Done()
			return
		}
	}
	h.fake.ServeHTTP(w, r)
}

// TestTargetingBackfillInterrupted: a run cancelled (SIGINT) while
// campaign_targeting_analytics waits for the reports of its third span
// ends with a STATE whose bookmark covers its first two spans; the next
// run resumes there (less the look-back), and the two runs together hold
// every row of every targeting stream.
func TestTargetingBackfillInterrupted(t *testing.T) {
	t.Parallel()
	srv := targetingFake(t)
	acc := srv.Dataset().AdAccountIDs()[0]
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -900)
	third := start.AddDate(0, 0, 2*186)
	h := &holdReports{fake: srv, level: "CAMPAIGN_TARGETING", from: third.Format(time.DateOnly), holding: true}
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)
	cfg := fmt.Sprintf(`,"ad_account_ids":[%q],"start_date":%q`, acc, start.Format(time.DateOnly))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// The user presses ^C once the first two spans are written: their
		// last report (a span's reports go one after the other) was created
		// and had time to be read.
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			h.mu.Lock()
			n := len(slices.DeleteFunc(slices.Clone(h.starts), func(d string) bool { return d >= h.from }))
			h.mu.Unlock()
			if n == 6 { // 2 spans × 3 reports of ≤5 types
				time.Sleep(time.Second)
				break
			}
		}
		cancel()
	}()
	first := runSync(t, srv, runOpts{catalog: onlyStreams(t, targetingStreams...), config: cfg, baseURL: front.URL + "/v5", ctx: ctx})
	if !errors.Is(first.err, context.Canceled) {
		t.Fatalf("want the run cancelled, got %v\n%s", first.err, first.logs)
	}
	st := catalog.StreamByName("campaign_targeting_analytics")
	bm, ok := first.final.get(st, acc)
	if stopped := third.AddDate(0, 0, -1); !ok || !bm.Equal(stopped) {
		t.Fatalf("campaign_targeting_analytics bookmark %v after the interrupt, want %s (the end of its second span)", bm, stopped.Format(time.DateOnly))
	}
	h.mu.Lock()
	h.holding, h.starts = false, nil
	h.mu.Unlock()
	second := runSync(t, srv, runOpts{catalog: onlyStreams(t, targetingStreams...), config: cfg, baseURL: front.URL + "/v5", state: first.final})
	if second.err != nil {
		t.Fatalf("%v\n%s", second.err, second.logs)
	}
	h.mu.Lock()
	starts := slices.Clone(h.starts)
	h.mu.Unlock()
	if oldest := slices.Min(starts); oldest != bm.AddDate(0, 0, -30).Format(time.DateOnly) {
		t.Errorf("the next run's reports start at %s, want %s (the bookmark less the look-back)", oldest, bm.AddDate(0, 0, -30).Format(time.DateOnly))
	}
	want := wantTargeting(srv, acc, start)
	for _, name := range targetingStreams {
		union := syncResult{records: map[string][]json.RawMessage{name: dedupeStream(t, name, append(first.records[name], second.records[name]...))}}
		assertComplete(t, union, want, name)
	}
}

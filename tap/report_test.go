package tap

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// reportAPI stands in front of the fake and answers the async report API
// (REFERENCE.md §6) itself, with a download host of its own: reports that
// take several polls, fail once, whose first URL has expired, gzip'd. It
// checks what the tap sends: the create body's limits, a bearer token on
// the API host and none on the storage host.
type reportAPI struct {
	t       *testing.T
	fake    *fixtures.Server
	api     *httptest.Server
	storage *httptest.Server

	polls       int    // IN_PROGRESS answers before FINISHED
	failFirst   bool   // the first report of each level ends FAILED
	expireFirst bool   // the first download URL of each report is refused
	gzip        bool   // downloads are gzip'd
	failLevel   string // reports of this level starting on or after failFrom always fail
	failFrom    string
	extraID     string // an entity in every CAMPAIGN report that the listing does not have
	holdLevel   string // reports of this level starting on or after holdFrom stay IN_PROGRESS
	holdFrom    string
	onDownload  func(rep *fakeReport)

	mu      sync.Mutex
	reports map[string]*fakeReport
	failed  map[string]bool
	creates atomic.Int32
	pollN   atomic.Int32
	dls     atomic.Int32
}

type fakeReport struct {
	acc, level, from, to string
	polls                int
	expired              bool
}

var reportPath = regexp.MustCompile(`^/v5/ad_accounts/([^/]+)/reports$`)

func newReportAPI(t *testing.T, fake *fixtures.Server) *reportAPI {
	ra := &reportAPI{t: t, fake: fake, reports: map[string]*fakeReport{}, failed: map[string]bool{}}
	ra.api = httptest.NewServer(http.HandlerFunc(ra.serveAPI))
	ra.storage = httptest.NewServer(http.HandlerFunc(ra.serveDownload))
	t.Cleanup(ra.api.Close)
	t.Cleanup(ra.storage.Close)
	return ra
}

func (ra *reportAPI) URL() string { return ra.api.URL + "/v5" }

func (ra *reportAPI) serveAPI(w http.ResponseWriter, r *http.Request) {
	m := reportPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		ra.fake.ServeHTTP(w, r)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		ra.fail(w, 401, "no bearer token on the API host")
		return
	}
	switch r.Method {
	case http.MethodPost:
		ra.create(w, r, m[1])
	case http.MethodGet:
		ra.status(w, r)
	default:
		ra.fail(w, 405, "method "+r.Method)
	}
}

func (ra *reportAPI) fail(w http.ResponseWriter, status int, msg string) {
	ra.t.Errorf("report API: %s", msg)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":1,"message":%q}`, msg)
}

func (ra *reportAPI) create(w http.ResponseWriter, r *http.Request, acc string) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.URL.RawQuery != "" {
		ra.fail(w, 400, fmt.Sprintf("create: a JSON body only (%v, query %q)", err, r.URL.RawQuery))
		return
	}
	from, _ := time.Parse(time.DateOnly, fmt.Sprint(body["start_date"]))
	to, _ := time.Parse(time.DateOnly, fmt.Sprint(body["end_date"]))
	today := time.Now().UTC().Truncate(24 * time.Hour)
	cols, _ := body["columns"].([]any)
	_, windowIsNumber := body["click_window_days"].(float64)
	switch {
	case from.IsZero() || to.Before(from) || to.Sub(from) > 185*24*time.Hour || from.Before(today.AddDate(0, 0, -914)):
		ra.fail(w, 400, fmt.Sprintf("create: dates %v to %v out of bounds", body["start_date"], body["end_date"]))
		return
	case body["granularity"] != "DAY" || len(cols) == 0 || !windowIsNumber:
		ra.fail(w, 400, fmt.Sprintf("create: granularity %v, %d columns, click_window_days %v", body["granularity"], len(cols), body["click_window_days"]))
		return
	}
	for _, c := range cols {
		if catalog.SyncOnlyColumn(fmt.Sprint(c)) {
			ra.fail(w, 400, fmt.Sprintf("create: column %v is not a ReportingColumnAsync", c))
			return
		}
	}
	n := ra.creates.Add(1)
	token := fmt.Sprintf("tok-%d", n)
	ra.mu.Lock()
	ra.reports[token] = &fakeReport{acc: acc, level: fmt.Sprint(body["level"]), from: from.Format(time.DateOnly), to: to.Format(time.DateOnly)}
	ra.mu.Unlock()
	fmt.Fprintf(w, `{"token":%q,"report_status":"IN_PROGRESS","message":null}`, token)
}

func (ra *reportAPI) status(w http.ResponseWriter, r *http.Request) {
	ra.pollN.Add(1)
	token := r.URL.Query().Get("token")
	ra.mu.Lock()
	defer ra.mu.Unlock()
	rep := ra.reports[token]
	if rep == nil {
		fmt.Fprint(w, `{"report_status":"DOES_NOT_EXIST","url":null,"size":null}`)
		return
	}
	rep.polls++
	switch {
	case rep.polls <= ra.polls, rep.level == ra.holdLevel && rep.from >= ra.holdFrom:
		fmt.Fprint(w, `{"report_status":"IN_PROGRESS","url":null,"size":null}`)
	case ra.failFirst && !ra.failed[rep.level], rep.level == ra.failLevel && rep.from >= ra.failFrom:
		ra.failed[rep.level] = true
		fmt.Fprint(w, `{"report_status":"FAILED","url":null,"size":null}`)
	default:
		fmt.Fprintf(w, `{"report_status":"FINISHED","url":"%s/dl/%s.json?X-Amz-Signature=s3cr3t","size":1}`, ra.storage.URL, token)
	}
}

func (ra *reportAPI) serveDownload(w http.ResponseWriter, r *http.Request) {
	ra.dls.Add(1)
	if a := r.Header.Get("Authorization"); a != "" {
		ra.t.Errorf("the storage host was sent Authorization %q", a)
	}
	ra.mu.Lock()
	rep := ra.reports[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/dl/"), ".json")]
	expire := rep != nil && ra.expireFirst && !rep.expired
	if expire {
		rep.expired = true
	}
	ra.mu.Unlock()
	if rep == nil || expire {
		w.WriteHeader(403)
		fmt.Fprint(w, `<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
		return
	}
	if ra.onDownload != nil {
		defer ra.onDownload(rep)
	}
	var out = json.NewEncoder(w)
	if ra.gzip {
		zw := gzip.NewWriter(w)
		defer func() { _ = zw.Close() }()
		out = json.NewEncoder(zw)
	}
	_ = out.Encode(ra.rows(rep))
}

// levelIDs are the entities of a report and the name of their id column.
func (ra *reportAPI) levelIDs(rep *fakeReport) ([]string, string) {
	d := ra.fake.Dataset()
	switch rep.level {
	case "ADVERTISER":
		return []string{rep.acc}, "ADVERTISER_ID"
	case "CAMPAIGN":
		return append(d.CampaignIDs(rep.acc), ra.extraID), "CAMPAIGN_ID"
	case "AD_GROUP":
		return d.AdGroupIDs(rep.acc), "AD_GROUP_ID"
	}
	return d.AdIDs(rep.acc), "PIN_PROMOTION_ID"
}

// rows is the report file: every entity has a row every day, its id a number.
func (ra *reportAPI) rows(rep *fakeReport) map[string][]map[string]any {
	ids, col := ra.levelIDs(rep)
	from, _ := time.Parse(time.DateOnly, rep.from)
	to, _ := time.Parse(time.DateOnly, rep.to)
	out := map[string][]map[string]any{}
	for _, id := range ids {
		if id == "" {
			continue
		}
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			out[id] = append(out[id], map[string]any{col: json.Number(id), "DATE": d.Format(time.DateOnly), "SPEND_IN_MICRO_DOLLAR": 1500000, "TOTAL_IMPRESSION": 42})
		}
	}
	return out
}

// adsCatalog selects the ads entity and analytics streams only.
func adsCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := Discover(nil)
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{"ad_account_analytics": true, "campaigns": true, "campaign_analytics": true,
		"ad_groups": true, "ad_group_analytics": true, "ads": true, "ad_analytics": true}
	for i := range cat.Streams {
		e := &cat.Streams[i]
		for j := range e.Metadata {
			if len(e.Metadata[j].Breadcrumb) == 0 {
				e.Metadata[j].Metadata["selected"] = keep[e.Stream]
			}
		}
	}
	return cat
}

var backfillEntity = map[string]string{"campaign_analytics": "campaigns", "ad_group_analytics": "ad_groups", "ad_analytics": "ads"}

// wantBackfill is every (entity, DATE) key of the four analytics streams:
// the fake's own rows for the synchronous days, and a row per listed
// entity and day from start to the day before the synchronous look-back.
func wantBackfill(t *testing.T, srv *fixtures.Server, res syncResult, statuses []string, acc string, start time.Time) fixtures.Expectation {
	t.Helper()
	from, to := analyticsRange(time.Now())
	want := srv.Expect(fixtures.ExpectQuery{Statuses: statuses, AdAccountIDs: []string{acc}, Start: from, End: to})
	for stream := range want.Keys {
		if catalog.StreamByName(stream).Report == nil {
			continue
		}
		ids := []string{acc}
		if parent := backfillEntity[stream]; parent != "" {
			ids = keys(t, parent, res.records[parent])
		}
		for _, id := range ids {
			for d := start; d.Before(from); d = d.AddDate(0, 0, 1) {
				want.Keys[stream] = append(want.Keys[stream], id+"|"+d.Format(time.DateOnly))
			}
		}
		sort.Strings(want.Keys[stream])
	}
	return want
}

// TestBackfill: a start_date 900 days back is read in full, in the same
// streams, through reports that take several polls, fail once, whose first
// URL has expired and that are gzip'd; the bookmark follows report by
// report; rows of entities the listing does not keep are left out.
func TestBackfill(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	ra := newReportAPI(t, srv)
	ra.polls, ra.failFirst, ra.expireFirst, ra.gzip, ra.extraID = 2, true, true, true, "999999999"
	acc := srv.Dataset().AdAccountIDs()[0]
	today := time.Now().UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -900)
	cfg := fmt.Sprintf(`,"ad_account_ids":[%q],"start_date":%q`, acc, start.Format(time.DateOnly))
	res := runSync(t, srv, runOpts{catalog: adsCatalog(t), config: cfg, baseURL: ra.URL()})
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.logs)
	}
	assertComplete(t, res, wantBackfill(t, srv, res, fixtures.TapStatuses, acc, start), "ad_account_analytics", "campaign_analytics", "ad_group_analytics", "ad_analytics")
	// 4 levels × 5 reports of ≤186 days, and one more per level for the report that failed.
	if n := ra.creates.Load(); n != 24 {
		t.Errorf("%d reports created, want 24", n)
	}
	firstEnd := start.AddDate(0, 0, 185).Format(time.DateOnly)
	if !strings.Contains(string(joinStates(res.states)), `"replication_key_value":"`+firstEnd+`"`) {
		t.Errorf("no STATE with the bookmark at the end of the first report (%s)", firstEnd)
	}
	for _, want := range []string{"async reports: 20 read, 0 failed; 24 creates and ", "ended FAILED; creating it again (1 of 3)"} {
		if !strings.Contains(res.logs, want) {
			t.Errorf("the logs lack %q:\n%s", want, res.logs)
		}
	}
	if strings.Contains(res.logs, "not read") || strings.Contains(res.logs, "s3cr3t") {
		t.Errorf("a gap was reported or a URL signature logged:\n%s", res.logs)
	}
	t.Logf("creates %d, polls %d, downloads %d", ra.creates.Load(), ra.pollN.Load(), ra.dls.Load())
}

func joinStates(states []json.RawMessage) []byte {
	var b []byte
	for _, s := range states {
		b = append(b, s...)
	}
	return b
}

// TestBackfillResume: reports that keep failing stop the stream with the
// day its data is complete to; the next run resumes there (less the
// look-back) and the two runs together hold every row.
func TestBackfillResume(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	ra := newReportAPI(t, srv)
	acc := srv.Dataset().AdAccountIDs()[0]
	today := time.Now().UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -900)
	third := start.AddDate(0, 0, 2*186)
	ra.failLevel, ra.failFrom = "CAMPAIGN", third.Format(time.DateOnly)
	cfg := fmt.Sprintf(`,"ad_account_ids":[%q],"start_date":%q`, acc, start.Format(time.DateOnly))
	first := runSync(t, srv, runOpts{catalog: adsCatalog(t), config: cfg, baseURL: ra.URL()})
	stopped := third.AddDate(0, 0, -1).Format(time.DateOnly)
	if first.err == nil || !strings.Contains(first.err.Error(), "stream campaign_analytics stopped") || !strings.Contains(first.err.Error(), "complete up to "+stopped) {
		t.Fatalf("want campaign_analytics stopped with the day its data is complete to (%s); got %v", stopped, first.err)
	}
	if v, ok := first.final.get(catalog.StreamByName("campaign_analytics"), acc); !ok || v.Format(time.DateOnly) != stopped {
		t.Fatalf("campaign_analytics bookmark %v, want %s", v, stopped)
	}
	ra.failLevel = ""
	second := runSync(t, srv, runOpts{catalog: adsCatalog(t), config: cfg, baseURL: ra.URL(), state: first.final})
	if second.err != nil {
		t.Fatal(second.err)
	}
	resume := third.AddDate(0, 0, -1-30).Format(time.DateOnly) // the bookmark less analytics_lookback_days
	var oldest string
	for _, r := range second.records["campaign_analytics"] {
		var m struct{ DATE string }
		_ = json.Unmarshal(r, &m)
		if oldest == "" || m.DATE < oldest {
			oldest = m.DATE
		}
	}
	if oldest != resume {
		t.Errorf("the second run starts at %s, want %s", oldest, resume)
	}
	union := syncResult{records: map[string][]json.RawMessage{}}
	union.records["campaign_analytics"] = dedupeRecords(t, append(first.records["campaign_analytics"], second.records["campaign_analytics"]...))
	want := wantBackfill(t, srv, first, fixtures.TapStatuses, acc, start) // the first run lists every campaign
	assertComplete(t, union, want, "campaign_analytics")
}

// dedupeRecords keeps one record per key, as a target's upsert does.
func dedupeRecords(t *testing.T, recs []json.RawMessage) []json.RawMessage {
	t.Helper()
	seen := map[string]bool{}
	var out []json.RawMessage
	for i, k := range keysInOrder(t, "campaign_analytics", recs) {
		if !seen[k] {
			seen[k] = true
			out = append(out, recs[i])
		}
	}
	return out
}

func keysInOrder(t *testing.T, stream string, recs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = keys(t, stream, []json.RawMessage{r})[0]
	}
	return out
}

// TestBackfillFromFake runs a 900-day backfill against the fake's own report
// API (rows byte-identical to the synchronous ones): every (entity, DATE)
// row of the four levels from start_date to yesterday, nothing twice,
// through reports that take several polls, that end FAILED, EXPIRED or
// DOES_NOT_EXIST once, and that are gzip files.
func TestBackfillFromFake(t *testing.T) {
	t.Parallel()
	size := fixtures.Small
	size.AnalyticsDays = 914
	srv := fixtures.NewServer(fixtures.NewDataset(7, size, time.Now().UTC()), fixtures.Options{ValidateRequests: true, RecordRequests: true,
		Reports: fixtures.ReportOptions{Polls: 2, Gzip: fixtures.GzipObject, FailOnce: []fixtures.ReportMatch{
			{Level: "CAMPAIGN"}, {Level: "AD_GROUP", Status: "EXPIRED"}, {Level: "PIN_PROMOTION", Status: "DOES_NOT_EXIST"}}}})
	t.Cleanup(srv.Close)
	acc := srv.Dataset().AdAccountIDs()[0]
	today := time.Now().UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -900)
	cfg := fmt.Sprintf(`,"ad_account_ids":[%q],"start_date":%q`, acc, start.Format(time.DateOnly))
	res := runSync(t, srv, runOpts{catalog: adsCatalog(t), config: cfg})
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.logs)
	}
	want := srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, AdAccountIDs: []string{acc}, Start: start, End: today.AddDate(0, 0, -1)})
	assertComplete(t, res, want, "ad_account_analytics", "campaign_analytics", "ad_group_analytics", "ad_analytics")
	calls := srv.CountByOp()
	// 4 levels × 5 reports, 3 of them created again; 3 polls each (2 IN_PROGRESS).
	if calls["analytics/create_report"] != 23 || calls["analytics/get_report"] != 69 {
		t.Errorf("creates %d (want 23), polls %d (want 69)", calls["analytics/create_report"], calls["analytics/get_report"])
	}
	for _, d := range srv.Downloads() {
		if d.Authorization {
			t.Fatalf("the download host was sent an Authorization header: %+v", d)
		}
	}
	t.Logf("calls %v; downloads %d", calls, len(srv.Downloads()))
}

// TestFinalisedDays: the ads analytics bookmarks stop at the last day whose
// conversion and non-conversion metrics are both final; other streams'
// bookmarks do not.
func TestFinalisedDays(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{RecordRequests: true, Reports: fixtures.ReportOptions{NotReadyDays: 3, ConversionLagDays: 2}})
	res := runSync(t, srv, runOpts{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	_, yesterday := analyticsRange(time.Now())
	want := map[string]string{"ad_account_analytics": srv.LastReadyDay(), "campaign_analytics": srv.LastReadyDay(),
		"ad_group_analytics": srv.LastReadyDay(), "ad_analytics": srv.LastReadyDay(), "user_account_analytics": yesterday.Format(time.DateOnly)}
	acc := srv.Dataset().AdAccountIDs()[0]
	for name, day := range want {
		if v, _ := res.final.get(catalog.StreamByName(name), acc); v.Format(time.DateOnly) != day {
			t.Errorf("%s bookmark %s, want %s", name, v.Format(time.DateOnly), day)
		}
	}
	if n := srv.CountByOp()[catalog.ReadyStateOp]; n != 6 {
		t.Errorf("%d metrics_ready_state calls, want 6 (today back to the first final day, once a run)", n)
	}
}

var reportStreams = []string{"advertiser_report", "campaign_analytics_report", "ad_group_report", "pin_promotion_report",
	"product_group_report", "product_item_report", "advertiser_targeting_report", "campaign_targeting_report",
	"ad_group_targeting_report", "pin_promotion_targeting_report", "product_group_targeting_report", "keyword_report"}

// TestReportStreams syncs the incumbent's 12 report streams from the fake:
// every row from start_date (200 days back: two reports a level;
// PRODUCT_ITEM reaches 92 and says so), keys unique, bookmarks at the last
// final day; the next run re-reads the attribution look-back only.
func TestReportStreams(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{RecordRequests: true, Reports: fixtures.ReportOptions{Polls: 1, Gzip: fixtures.GzipEncoding}})
	today := time.Now().UTC().Truncate(24 * time.Hour)
	acc := srv.Dataset().AdAccountIDs()[0]
	cfg := fmt.Sprintf(`,"start_date":%q,"ad_account_ids":[%q]`, today.AddDate(0, 0, -200).Format(time.DateOnly), acc)
	first := runSync(t, srv, runOpts{catalog: onlyStreams(t, reportStreams...), config: cfg})
	if first.err != nil {
		t.Fatalf("%v\n%s", first.err, first.logs)
	}
	_, yesterday := analyticsRange(time.Now())
	others := slices.DeleteFunc(slices.Clone(reportStreams), func(s string) bool { return s == "product_item_report" })
	assertComplete(t, first, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: today.AddDate(0, 0, -200), End: yesterday, Reports: true, AdAccountIDs: []string{acc}}), others...)
	assertComplete(t, first, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: today.AddDate(0, 0, -91), End: yesterday, Reports: true, AdAccountIDs: []string{acc}}), "product_item_report")
	for _, name := range reportStreams {
		if len(first.records[name]) == 0 {
			t.Errorf("%s: no records", name)
		}
		if v, _ := first.final.get(catalog.StreamByName(name), acc); v.Format(time.DateOnly) != srv.LastReadyDay() {
			t.Errorf("%s bookmark: %s, want %s", name, v.Format(time.DateOnly), srv.LastReadyDay())
		}
	}
	// 11 levels × 2 reports of ≤186 days + 3 PRODUCT_ITEM reports of ≤31 days.
	if n := srv.CountByOp()[catalog.ReportCreateOp]; n != 11*2+3 {
		t.Errorf("%d reports created, want %d", n, 11*2+3)
	}
	if !strings.Contains(first.logs, "product_item_report: "+today.AddDate(0, 0, -200).Format(time.DateOnly)+" to "+today.AddDate(0, 0, -92).Format(time.DateOnly)) {
		t.Errorf("the days PRODUCT_ITEM reports do not reach were not named:\n%s", first.logs)
	}
	srv.Reset()
	second := runSync(t, srv, runOpts{catalog: onlyStreams(t, reportStreams...), config: cfg, state: first.final})
	if second.err != nil {
		t.Fatal(second.err)
	}
	ready, _ := time.Parse(time.DateOnly, srv.LastReadyDay())
	assertComplete(t, second, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: ready.AddDate(0, 0, -30), End: yesterday, Reports: true, AdAccountIDs: []string{acc}}), reportStreams...)
	if n := srv.CountByOp()[catalog.ReportCreateOp]; n != 11+2 {
		t.Errorf("incremental run: %d reports created, want %d (one per level, two for PRODUCT_ITEM's 31 days)", n, 11+2)
	}
}

// TestBackfillInterrupted: a run cancelled in the middle of the backfill
// (SIGINT) while campaign_analytics waits for its third report ends with a
// STATE whose bookmark covers its first two reports; the next run from it
// resumes there (less the look-back) and the two runs hold every row.
func TestBackfillInterrupted(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	ra := newReportAPI(t, srv)
	acc := srv.Dataset().AdAccountIDs()[0]
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -900)
	third := start.AddDate(0, 0, 2*186)
	ra.holdLevel, ra.holdFrom = "CAMPAIGN", third.Format(time.DateOnly)
	cfg := fmt.Sprintf(`,"ad_account_ids":[%q],"start_date":%q`, acc, start.Format(time.DateOnly))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var campaignReports atomic.Int32
	ra.onDownload = func(rep *fakeReport) {
		if rep.level == "CAMPAIGN" && campaignReports.Add(1) == 2 {
			go func() { // the tap writes the second report's rows and bookmark, then the user presses ^C
				time.Sleep(2 * time.Second) // ample: the held third report keeps the stream from going further
				cancel()
			}()
		}
	}
	first := runSync(t, srv, runOpts{catalog: adsCatalog(t), config: cfg, baseURL: ra.URL(), ctx: ctx})
	if !errors.Is(first.err, context.Canceled) {
		t.Fatalf("want the run cancelled, got %v", first.err)
	}
	bm, ok := first.final.get(catalog.StreamByName("campaign_analytics"), acc)
	if stopped := third.AddDate(0, 0, -1); !ok || !bm.Equal(stopped) {
		t.Fatalf("campaign_analytics bookmark %v after the interrupt, want %s (the end of its second report)", bm, stopped.Format(time.DateOnly))
	}
	ra.holdLevel, ra.onDownload = "", nil
	second := runSync(t, srv, runOpts{catalog: adsCatalog(t), config: cfg, baseURL: ra.URL(), state: first.final})
	if second.err != nil {
		t.Fatal(second.err)
	}
	oldest := "9999"
	for _, r := range second.records["campaign_analytics"] {
		var m struct{ DATE string }
		_ = json.Unmarshal(r, &m)
		oldest = min(oldest, m.DATE)
	}
	if want := bm.AddDate(0, 0, -30).Format(time.DateOnly); oldest != want {
		t.Errorf("the next run starts at %s, want %s (the bookmark less the look-back)", oldest, want)
	}
	want := wantBackfill(t, srv, first, fixtures.TapStatuses, acc, start)
	for _, name := range backfillStreams {
		union := syncResult{records: map[string][]json.RawMessage{name: dedupeStream(t, name, append(first.records[name], second.records[name]...))}}
		assertComplete(t, union, want, name)
	}
}

var backfillStreams = []string{"ad_account_analytics", "campaign_analytics", "ad_group_analytics", "ad_analytics"}

// dedupeStream keeps one record per key, as a target's upsert does.
func dedupeStream(t *testing.T, stream string, recs []json.RawMessage) []json.RawMessage {
	t.Helper()
	seen := map[string]bool{}
	var out []json.RawMessage
	for i, k := range keysInOrder(t, stream, recs) {
		if !seen[k] {
			seen[k] = true
			out = append(out, recs[i])
		}
	}
	return out
}

// TestReportProgress: the progress lines sum the reports up, once per change.
func TestReportProgress(t *testing.T) {
	t.Parallel()
	var r reportStats
	if l := r.progress(); l != "" {
		t.Errorf("no report yet, but %q", l)
	}
	r.start()
	r.start()
	r.add(&reportJob{creates: 2, polls: 5, rows: 100}, nil)
	want := "async reports: 1 read, 0 failed; 2 creates and 5 polls (ads_analytics calls), 100 rows; 1 in progress"
	if l := r.progress(); l != want {
		t.Errorf("progress %q, want %q", l, want)
	}
	if l := r.progress(); l != "" {
		t.Errorf("nothing moved, but %q", l)
	}
}

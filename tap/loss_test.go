package tap

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// Issue 11, "no silent loss": each case below used to exit 0 with data
// missing, or to fail a whole stream for one item.

// A 429 that says "retry in 1 s" while its X-RateLimit-Reset is the daily
// window's reset, 20 hours away, is a short wait, not a spent quota.
func TestRetryAfterBeatsWindowReset(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	srv.SetFaults(fixtures.Fault{Kind: fixtures.RateLimit30, Op: "ads/analytics", Times: 1, RetryAfter: time.Second, Reset: 20 * time.Hour})
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, "ad_analytics")})
	if res.err != nil {
		t.Fatalf("a 429 with Retry-After: 1 must be retried in a second: %v", res.err)
	}
	from, to := analyticsRange(time.Now())
	assertComplete(t, res, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to}), "ad_analytics")
}

// A Retry-After longer than max_rate_limit_wait_seconds is a spent quota:
// the stream stops at once, although max_retry_wait_seconds would allow it.
func TestLongRetryAfterIsAQuotaStop(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	srv.SetFaults(fixtures.Fault{Kind: fixtures.RateLimit30, Op: "ads/analytics", RetryAfter: 400 * time.Second})
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, "ad_analytics"), config: `,"max_retry_wait_seconds":3600`})
	var se *StreamError
	if !errorsAs(res.err, &se) || se.Streams["ad_analytics"] == nil || !strings.Contains(se.Error(), "retry after") {
		t.Fatalf("want ad_analytics stopped with a quota error, got %v", res.err)
	}
	if n := srv.CountByOp()["ads/analytics"]; n > 2 {
		t.Errorf("%d ads/analytics calls for a spent quota", n)
	}
}

// One id Pinterest refuses (HTTP 400) in a batch of 30 costs that id's rows
// only: the batch is halved until it stands alone, the others are synced,
// one warning names it, and the run exits 0 because Pinterest called it
// invalid.
func TestInvalidIDInAnalyticsBatchIsIsolated(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	acct := srv.Dataset().AdAccountIDs()[0]
	bad := srv.Dataset().AdIDs(acct)[7]
	srv.RejectAnalyticsID("ad_ids", bad, "")
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, "ad_analytics")})
	if res.err != nil {
		t.Fatalf("an id Pinterest calls invalid must not fail the stream: %v", res.err)
	}
	from, to := analyticsRange(time.Now())
	assertComplete(t, res, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to}), "ad_analytics")
	if n := strings.Count(res.logs, "refused 1 ids as invalid"); n != 1 || !strings.Contains(res.logs, "ad account "+acct+": "+bad) {
		t.Errorf("want one warning naming the account and the id:\n%s", res.logs)
	}
	if _, ok := res.final.get(catalogStream("ad_analytics"), acct); !ok {
		t.Error("the bookmark of the account did not advance")
	}
}

// A 400 for one id that Pinterest does not call invalid is data we could
// not read: everything else is synced, the id is named, the run fails and
// that account's bookmark stays.
func TestUnexplainedRefusalFailsTheRun(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	acct := srv.Dataset().AdAccountIDs()[0]
	bad := srv.Dataset().AdIDs(acct)[3]
	srv.RejectAnalyticsID("ad_ids", bad, "The request could not be processed.")
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, "ad_analytics")})
	var se *StreamError
	if !errorsAs(res.err, &se) || se.Streams["ad_analytics"] == nil {
		t.Fatalf("want ad_analytics to fail, got %v", res.err)
	}
	if !strings.Contains(res.logs, "without calling them invalid") || !strings.Contains(res.logs, bad) {
		t.Errorf("want a warning naming the id:\n%s", res.logs)
	}
	from, to := analyticsRange(time.Now())
	assertComplete(t, res, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to}), "ad_analytics")
	if _, ok := res.final.get(catalogStream("ad_analytics"), acct); ok {
		t.Error("the bookmark advanced although rows are missing")
	}
}

func catalogStream(name string) *catalog.Stream { return catalog.StreamByName(name) }

// A board Pinterest will not page past (HTTP 400 "Pagination beyond 100.000
// pins are not allowed.") keeps the pins read before it; the warning names
// the board and how many were read; the other boards are complete; exit 0.
func TestBoardPagingStopKeepsWhatWasRead(t *testing.T) {
	t.Parallel()
	size := fixtures.Small
	size.PinsPerBoard = 600 // three pages of 250
	srv := newFake(t, size, fixtures.Options{})
	board := srv.Dataset().BoardIDs()[1]
	srv.StopPagingBoard(board, 250)
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, "boards", "board_pins")})
	if res.err != nil {
		t.Fatalf("a board Pinterest stops paging must not fail board_pins: %v", res.err)
	}
	want := srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses})
	got := keys(t, "board_pins", res.records["board_pins"])
	if len(got) != len(want.Keys["board_pins"])-350 {
		t.Errorf("board_pins: %d records, want %d (all but the 350 pins past the stop)", len(got), len(want.Keys["board_pins"])-350)
	}
	_, extra, dups := fixtures.DiffKeys(got, want.Keys["board_pins"])
	if len(extra)+len(dups) > 0 {
		t.Errorf("extra %v, duplicated %v", head(extra), head(dups))
	}
	if !strings.Contains(res.logs, "stopped paging board "+board+" after 250 items") || !strings.Contains(res.logs, "board_section_pins") {
		t.Errorf("want a warning naming the board, the pins read and where the rest is:\n%s", res.logs)
	}
}

// ad_account_ids naming an account the listing lacks: one the token can
// read (business access) is read with GET /ad_accounts/{id} and synced
// like the others; one it cannot (a typo: 404; a revoked share: 403) fails
// the run after everything else was synced, naming the id and the reason.
func TestAdAccountIDsMissingFromTheListing(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	accounts := srv.Dataset().AdAccountIDs()
	srv.HideAdAccount(accounts[1])
	adsStreams := []string{"ad_accounts", "ad_account_analytics", "campaigns", "campaign_analytics", "ad_groups", "ad_group_analytics", "ads", "ad_analytics"}
	from, to := analyticsRange(time.Now())
	want := srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to, AdAccountIDs: accounts})

	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, adsStreams...), config: `,"ad_account_ids":["` + accounts[0] + `","` + accounts[1] + `"]`})
	if res.err != nil {
		t.Fatalf("an account the token can read must be synced: %v", res.err)
	}
	assertComplete(t, res, want, adsStreams...)

	const typo = "549700000000999"
	res = runSync(t, srv, runOpts{catalog: onlyStreams(t, adsStreams...), config: `,"ad_account_ids":["` + accounts[0] + `","` + accounts[1] + `","` + typo + `"]`})
	var se *StreamError
	if !errorsAs(res.err, &se) || len(se.Streams) != 1 || se.Streams["ad_accounts"] == nil {
		t.Fatalf("want ad_accounts to fail for the unknown id, got %v", res.err)
	}
	if msg := se.Error(); !strings.Contains(msg, typo) || !strings.Contains(msg, "HTTP 404") {
		t.Errorf("the error must name the id and the reason: %s", msg)
	}
	assertComplete(t, res, want, adsStreams...)

	srv.DenyAdAccount(accounts[1])
	res = runSync(t, srv, runOpts{catalog: onlyStreams(t, "ad_accounts"), config: `,"ad_account_ids":["` + accounts[1] + `"]`})
	if !errorsAs(res.err, &se) || !strings.Contains(se.Error(), accounts[1]) || !strings.Contains(se.Error(), "You are not permitted") {
		t.Errorf("want a 403 with Pinterest's message naming the account, got %v", res.err)
	}
}

// organic_ad_account_id: every organic call sends ad_account_id, and the
// sync holds the business's user account, analytics, boards, sections and
// pins, not the token user's own.
func TestOrganicAdAccountIDReadsTheBusiness(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{RecordRequests: true})
	acct := srv.Dataset().AdAccountIDs()[1]
	organic := []string{"user_account", "user_account_analytics", "boards", "board_sections", "board_pins", "board_section_pins"}
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, organic...), config: `,"organic_ad_account_id":"` + acct + `"`})
	if res.err != nil {
		t.Fatal(res.err)
	}
	from, to := analyticsRange(time.Now())
	q := fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to}
	assertComplete(t, res, srv.Business(acct).Expect(q), organic...)
	own := srv.Expect(q).Keys["boards"]
	for _, b := range keys(t, "boards", res.records["boards"]) {
		if slices.Contains(own, b) {
			t.Fatalf("board %s is the token user's own, not the business's", b)
		}
	}
	for _, r := range srv.Requests() {
		if r.Op != "oauth/token" && r.Query.Get("ad_account_id") != acct {
			t.Errorf("%s %s sent no ad_account_id=%s", r.Op, r.Path, acct)
		}
	}
}

// A field Pinterest added is named once (stream.field), and left out; with
// keep_unknown_fields it is passed through, and a SCHEMA declaring it comes
// before the first record that carries it.
func TestAddedFieldsAreNamedOrKept(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	srv.AddField("ad_groups", "placement_traffic_type", "BROWSE")
	cat := onlyStreams(t, "ad_groups")

	res := runSync(t, srv, runOpts{catalog: cat})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if n := strings.Count(res.logs, "ad_groups.placement_traffic_type"); n != 1 {
		t.Errorf("want the field named once, got %d times:\n%s", n, res.logs)
	}
	if strings.Contains(string(res.records["ad_groups"][0]), "placement_traffic_type") {
		t.Error("the field was kept without keep_unknown_fields")
	}

	res = runSync(t, srv, runOpts{catalog: cat, config: `,"keep_unknown_fields":true`})
	if res.err != nil {
		t.Fatal(res.err)
	}
	declared, records := false, 0
	for _, line := range strings.Split(strings.TrimSpace(string(res.raw)), "\n") {
		var m struct {
			Type   string                              `json:"type"`
			Schema struct{ Properties map[string]any } `json:"schema"`
			Record map[string]any                      `json:"record"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case "SCHEMA":
			_, declared = m.Schema.Properties["placement_traffic_type"]
		case "RECORD":
			if m.Record["placement_traffic_type"] != "BROWSE" {
				t.Fatalf("record without the added field: %v", m.Record)
			}
			if !declared {
				t.Fatal("a record carries the field before a SCHEMA declares it")
			}
			records++
		}
	}
	from, to := analyticsRange(time.Now())
	assertComplete(t, res, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to}), "ad_groups")
	if !strings.Contains(res.logs, "kept as an untyped property") {
		t.Errorf("no warning naming the kept field:\n%s", res.logs)
	}
}

package tap

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// TestPinAnalytics selects the beta pin_analytics (not selected by
// default): its parent pins is listed, the pins' ids go 100 a call with
// every metric, as the owner of organic_ad_account_id, and every (pin_id,
// date) arrives once; an incremental run re-reads only the look-back.
func TestPinAnalytics(t *testing.T) {
	t.Parallel()
	if catalog.StreamByName("pin_analytics").SelectedByDefault {
		t.Error("pin_analytics is beta and must not be selected by default")
	}
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	acct := srv.Dataset().AdAccountIDs()[0]
	_, to := analyticsRange(time.Now())
	from := to.AddDate(0, 0, -14) // two weeks of 180 pins keep the test quick
	cfg := `,"organic_ad_account_id":"` + acct + `","start_date":"` + from.Format(time.DateOnly) + `"`
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, "pin_analytics"), config: cfg})
	if res.err != nil {
		t.Fatalf("sync failed: %v\n%s", res.err, res.logs)
	}
	q := fixtures.ExpectQuery{Start: from, End: to, AllStreams: true}
	business := srv.Business(acct) // organic_ad_account_id reads the pins of that account's owner
	assertComplete(t, res, business.Expect(q), "pin_analytics")
	if len(res.records["pins"]) != 0 {
		t.Errorf("pins is not selected but %d records were emitted", len(res.records["pins"]))
	}
	calls := srv.CountByOp()
	if want := business.CallLowerBounds(q, 1)["multi_pins/analytics"]; calls["multi_pins/analytics"] != want || want == 0 {
		t.Errorf("multi_pins/analytics: %d calls, the lower bound is %d", calls["multi_pins/analytics"], want)
	}
	for _, r := range srv.Requests() {
		if (r.Op == "multi_pins/analytics" || r.Op == "pins/list") && r.Query.Get("ad_account_id") != acct {
			t.Errorf("%s without ad_account_id=%s (organic_ad_account_id): %v", r.Op, acct, r.Query)
		}
	}
	var m struct {
		PinID   string             `json:"pin_id"`
		Metrics map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal(res.records["pin_analytics"][0], &m); err != nil || m.PinID == "" || len(m.Metrics) != len(catalog.PinMetricTypes) {
		t.Errorf("record %s: want pin_id and every metric (%v)", res.records["pin_analytics"][0], err)
	}
	second := runSync(t, srv, runOpts{catalog: onlyStreams(t, "pin_analytics"), config: cfg, state: res.final})
	if second.err != nil {
		t.Fatal(second.err)
	}
	// the look-back (30 days) reaches before start_date: the same two weeks again
	assertComplete(t, second, business.Expect(q), "pin_analytics")
	pins := fixtures.Small.Boards * fixtures.Small.PinsPerBoard
	if n, want := srv.CountByOp()["multi_pins/analytics"], 2*((pins+99)/100); n != want {
		t.Errorf("%d multi_pins/analytics calls in two runs, want %d (100 pins a call)", n, want)
	}
}

// TestPinAnalyticsNotEnabled: an app without the beta gets 403 from
// multi_pins/analytics. That is no skipped item but the whole stream: it
// stops with the row's hint (exit 1), and the other streams finish.
func TestPinAnalyticsNotEnabled(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/pins/analytics") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"code":29,"message":"You are not permitted to access that resource."}`))
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(refuse.Close)
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, "pin_analytics", "boards"), config: `,"base_url":"` + refuse.URL + `/v5"`})
	var se *StreamError
	if !errorsAs(res.err, &se) || len(se.Streams) != 1 || se.Streams["pin_analytics"] == nil {
		t.Fatalf("want pin_analytics alone to fail, got %v\n%s", res.err, res.logs)
	}
	if msg := se.Error(); !strings.Contains(msg, "HTTP 403") || !strings.Contains(msg, "beta") || !strings.Contains(msg, "deselect pin_analytics") {
		t.Errorf("the failure does not say what to do: %s", msg)
	}
	if len(res.records["boards"]) == 0 {
		t.Error("boards did not finish")
	}
	if _, ok := res.final.get(catalog.StreamByName("pin_analytics"), ""); ok {
		t.Error("pin_analytics has a bookmark although nothing was read")
	}
}

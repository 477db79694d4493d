package tap

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

var targetingStreams = []string{"ad_account_targeting_analytics", "campaign_targeting_analytics", "ad_group_targeting_analytics", "ad_targeting_analytics"}

// TestTargetingAnalytics syncs the four targeting analytics streams from
// the fake, which sends numeric targeting values and ids and leaves the
// entity id out where the request names the entity alone (the ad account's
// report, a call with one id): every expected (entity, DATE, type, value)
// arrives once, ids and values as strings, the targeting types packed into
// as few calls as the spec's maxItems allow (or as the setting restricts).
func TestTargetingAnalytics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		config   string
		statuses []string
		types    map[string]string // operationId → targeting_types of every call; nil = every type, packed
	}{
		{name: "every type, ids in the rows", statuses: fixtures.TapStatuses},
		{name: "one entity a call, ids from the request", config: `,"entity_statuses":["DELETED_DRAFT"]`, statuses: []string{"DELETED_DRAFT"}},
		{name: "targeting_types setting", config: `,"targeting_types":["GENDER","QUIZ_RESULT","LOCATION"]`, statuses: fixtures.TapStatuses,
			types: map[string]string{"ad_account_targeting_analytics/get": "GENDER,LOCATION", "campaign_targeting_analytics/get": "GENDER,LOCATION",
				"ad_groups_targeting_analytics/get": "GENDER,LOCATION", "ad_targeting_analytics/get": "GENDER,QUIZ_RESULT,LOCATION"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, fixtures.Small, fixtures.Options{})
			res := runSync(t, srv, runOpts{catalog: onlyStreams(t, targetingStreams...), config: tc.config})
			if res.err != nil {
				t.Fatalf("sync failed: %v\n%s", res.err, res.logs)
			}
			from, to := analyticsRange(time.Now())
			q := fixtures.ExpectQuery{Statuses: tc.statuses, Start: from, End: to}
			want := srv.Expect(q)
			if tc.types != nil {
				want = onlyTypes(want, tc.types)
			} else {
				checkTargetingCalls(t, srv, q)
			}
			assertComplete(t, res, want, targetingStreams...)
			checkTargetingRecords(t, res)
			for _, r := range srv.Requests() {
				if tt, ok := tc.types[r.Op]; ok && r.Query.Get("targeting_types") != tt {
					t.Errorf("%s asked for targeting_types=%s, want %s", r.Op, r.Query.Get("targeting_types"), tt)
				}
			}
		})
	}
}

// checkTargetingCalls: the calls are the lower bound (ids and types packed).
func checkTargetingCalls(t *testing.T, srv *fixtures.Server, q fixtures.ExpectQuery) {
	t.Helper()
	bounds, calls := srv.Dataset().CallLowerBounds(q, 1), srv.CountByOp()
	for _, name := range targetingStreams {
		op := catalog.StreamByName(name).Op
		if calls[op] != bounds[op] || calls[op] == 0 {
			t.Errorf("%s: %d calls, the lower bound is %d", op, calls[op], bounds[op])
		}
	}
	if n := calls["campaign_targeting_analytics/get"]; n != 2*len(srv.Dataset().AdAccountIDs()) {
		t.Errorf("campaign targeting analytics: %d calls, want 2 an account (15 types, 14 a call)", n)
	}
}

// checkTargetingRecords: metrics are flattened, ids and values are strings
// (keys() fails on any other type), and the numeric values came through.
func checkTargetingRecords(t *testing.T, res syncResult) {
	t.Helper()
	numeric := 0
	for _, name := range targetingStreams {
		if len(res.records[name]) == 0 {
			t.Errorf("%s: no records", name)
		}
		for _, r := range res.records[name] {
			var m map[string]any
			if err := json.Unmarshal(r, &m); err != nil {
				t.Fatal(err)
			}
			if _, nested := m["metrics"]; nested || m["SPEND_IN_MICRO_DOLLAR"] == nil && m["TOTAL_IMPRESSION"] == nil {
				t.Fatalf("%s: metrics not flattened: %s", name, r)
			}
			if m["targeting_type"] == "LOCATION" || m["targeting_type"] == "AUDIENCE_INCLUDE" {
				numeric++
			}
		}
	}
	if numeric == 0 {
		t.Error("no LOCATION or AUDIENCE_INCLUDE rows: the numeric targeting values were not exercised")
	}
}

// onlyTypes keeps the expected targeting keys whose type the level was asked for.
func onlyTypes(x fixtures.Expectation, types map[string]string) fixtures.Expectation {
	for _, name := range targetingStreams {
		asked := strings.Split(types[catalog.StreamByName(name).Op], ",")
		var keep []string
		for _, k := range x.Keys[name] {
			if slices.Contains(asked, strings.Split(k, "|")[2]) {
				keep = append(keep, k)
			}
		}
		x.Keys[name] = keep
	}
	return x
}

// TestTargetingRowsWithoutTheirID: Pinterest may leave out columns without
// a value, the entity's id among them. A row without it in an answer for
// several ad groups could belong to any of them: the batch is read again in
// halves, down to one ad group a call (whose rows take the id from the
// request), and every row arrives with its ad group, none lost or doubled.
func TestTargetingRowsWithoutTheirID(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	var stripped atomic.Int32
	base := hostile(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/ad_groups/targeting_analytics") || len(r.URL.Query()["ad_group_ids"]) < 2 {
			return false
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		var page struct {
			Data []map[string]any `json:"data"`
		}
		dec := json.NewDecoder(rec.Body)
		dec.UseNumber()
		if err := dec.Decode(&page); err != nil {
			t.Error(err)
		}
		for i, it := range page.Data {
			if m, ok := it["metrics"].(map[string]any); ok && i%7 == 0 {
				delete(m, "AD_GROUP_ID")
				stripped.Add(1)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
		return true
	})
	res := runSync(t, srv, runOpts{catalog: onlyStreams(t, targetingStreams...), baseURL: base})
	if res.err != nil {
		t.Fatalf("sync failed: %v\n%s", res.err, res.logs)
	}
	if stripped.Load() == 0 {
		t.Fatal("the test stripped no id")
	}
	from, to := analyticsRange(time.Now())
	assertComplete(t, res, srv.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to}), targetingStreams...)
	checkTargetingRecords(t, res)
	if !strings.Contains(res.logs, "rows that lack their entity's id; reading such batches in halves") {
		t.Errorf("the halving is not said:\n%s", res.logs)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

func TestAdminMutateAndExpect(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	d := fixtures.NewDataset(3, fixtures.Small, now)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "api", http.StatusTeapot) })
	later := now.Add(time.Hour)
	srv := httptest.NewServer(withAdmin(api, adminHandler(d, func() time.Time { return later })))
	defer srv.Close()

	post := func(path, body string, out any) int {
		t.Helper()
		res, err := http.Post(srv.URL+path, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if out != nil && res.StatusCode == http.StatusOK {
			if err := json.NewDecoder(res.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
		}
		return res.StatusCode
	}
	type counts struct{ Counts map[string]int }
	window := `"start": "2026-01-01", "end": "2026-03-09"`
	var before, after, since counts
	if c := post("/__admin/expect", "{"+window+"}", &before); c != 200 || before.Counts["campaigns"] == 0 {
		t.Fatalf("expect: %d %v", c, before)
	}
	// "reports": the async report streams too (off: 0, as in a default sync).
	var reports counts
	post("/__admin/expect", `{`+window+`, "reports": true}`, &reports)
	if before.Counts["advertiser_report"] != 0 || reports.Counts["advertiser_report"] == 0 ||
		reports.Counts["campaigns"] != before.Counts["campaigns"] {
		t.Errorf("reports: advertiser_report %d without, %d with; campaigns %d vs %d", before.Counts["advertiser_report"],
			reports.Counts["advertiser_report"], before.Counts["campaigns"], reports.Counts["campaigns"])
	}
	var m mutationJSON
	if c := post("/__admin/mutate?seed=7", "", &m); c != 200 {
		t.Fatalf("mutate: %d", c)
	}
	if m.NowUnix != later.Unix() || len(m.Updated["campaigns"]) == 0 || len(m.Added["ads"]) == 0 {
		t.Fatalf("mutation: %+v", m)
	}
	post("/__admin/expect", "{"+window+"}", &after)
	for _, s := range []string{"campaigns", "ad_groups", "ads"} {
		if after.Counts[s] != before.Counts[s]+len(m.Added[s]) {
			t.Errorf("%s: %d after, %d before + %d added", s, after.Counts[s], before.Counts[s], len(m.Added[s]))
		}
	}
	// Bookmarks at the mutation's time: only the changed entities count.
	bm := map[string]int64{}
	for _, id := range d.AdAccountIDs() {
		bm[id] = m.NowUnix
	}
	body, _ := json.Marshal(expectRequest{Start: "2026-03-01", End: "2026-03-09", UpdatedSince: bm})
	post("/__admin/expect", string(body), &since)
	if since.Counts["campaigns"] != len(m.Changed["campaigns"]) {
		t.Errorf("campaigns since the mutation: %d, changed %d", since.Counts["campaigns"], len(m.Changed["campaigns"]))
	}
	for path, body := range map[string]string{
		"/__admin/mutate?seed=x": "",
		"/__admin/expect":        `{"start": "yesterday"}`,
	} {
		if c := post(path, body, nil); c != http.StatusBadRequest {
			t.Errorf("%s %s: %d, want 400", path, body, c)
		}
	}
	if c := post("/__admin/expect", `{"nope": 1}`, nil); c != http.StatusBadRequest {
		t.Errorf("unknown field: %d", c)
	}
	if res, err := http.Get(srv.URL + "/__admin/mutate"); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET mutate: %v %v", err, res)
	} else {
		res.Body.Close()
	}
	if c := post("/v5/user_account", "", nil); c != http.StatusTeapot {
		t.Errorf("api not reached: %d", c)
	}
}

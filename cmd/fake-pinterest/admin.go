package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// adminPrefix is where the admin endpoints live, outside the /v5 API and its
// OAuth: they serve the end-to-end harness on the same loopback listener.
const adminPrefix = "/__admin/"

// mutationJSON is fixtures.MutationSummary as the admin endpoint answers it.
type mutationJSON struct {
	Now           string              `json:"now"`
	NowUnix       int64               `json:"now_unix"`
	Updated       map[string][]string `json:"updated"`
	Added         map[string][]string `json:"added"`
	Changed       map[string][]string `json:"changed"`
	Counts        map[string]int      `json:"counts"`
	RestatedDates []string            `json:"restated_dates"`
}

// expectRequest is the JSON body of POST /__admin/expect: a fixtures.ExpectQuery
// with days as YYYY-MM-DD. Omitted fields take ExpectQuery's defaults.
type expectRequest struct {
	Statuses     []string         `json:"statuses"`
	Start        string           `json:"start"`
	End          string           `json:"end"`
	AdAccountIDs []string         `json:"ad_account_ids"`
	UpdatedSince map[string]int64 `json:"updated_since"`
	Keys         bool             `json:"keys"`
	AllStreams   bool             `json:"all_streams"` // also the streams not selected by default
	Reports      bool             `json:"reports"`     // also the async report streams
}

// adminHandler serves
//
//	POST /__admin/mutate?seed=N  Dataset.Mutate(N, now); answers the mutation summary
//	POST /__admin/expect         Dataset.Expect of the JSON body; answers {"counts": ..., "keys": ...}
//
// now returns the time a mutation happens at.
func adminHandler(d *fixtures.Dataset, now func() time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+adminPrefix+"mutate", func(w http.ResponseWriter, r *http.Request) {
		seed := int64(1)
		if s := r.URL.Query().Get("seed"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				http.Error(w, "seed: "+err.Error(), http.StatusBadRequest)
				return
			}
			seed = n
		}
		sum := d.Mutate(seed, now().UTC())
		writeJSON(w, mutationJSON{
			Now: sum.Now.Format(time.RFC3339), NowUnix: sum.Now.Unix(), Updated: sum.Updated, Added: sum.Added,
			Changed: sum.Changed, Counts: sum.Counts, RestatedDates: sum.RestatedDates,
		})
	})
	mux.HandleFunc("POST "+adminPrefix+"expect", func(w http.ResponseWriter, r *http.Request) {
		var req expectRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		q := fixtures.ExpectQuery{Statuses: req.Statuses, AdAccountIDs: req.AdAccountIDs,
			UpdatedSince: req.UpdatedSince, CountsOnly: !req.Keys, AllStreams: req.AllStreams, Reports: req.Reports}
		for _, f := range []struct {
			name string
			s    string
			t    *time.Time
		}{{"start", req.Start, &q.Start}, {"end", req.End, &q.End}} {
			if f.s == "" {
				continue
			}
			t, err := time.Parse(time.DateOnly, f.s)
			if err != nil {
				http.Error(w, fmt.Sprintf("%s: %v", f.name, err), http.StatusBadRequest)
				return
			}
			*f.t = t
		}
		x := d.Expect(q)
		out := map[string]any{"counts": x.Counts, "now": d.Now().Format(time.RFC3339)}
		if req.Keys {
			out["keys"] = x.Keys
		}
		writeJSON(w, out)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// withAdmin routes adminPrefix to admin and everything else, untouched, to api.
func withAdmin(api, admin http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, adminPrefix) {
			admin.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

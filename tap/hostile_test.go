package tap

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// TestIDsFromAnswersCheckedBeforePaths: a board listing whose first board
// has the id ".." (a proxy in front of the fake rewrites it) must never
// make the tap request /boards/../pins: the child streams of that board
// fail with an error naming it, and the sync exits non-zero (issue 14
// item 16).
func TestIDsFromAnswersCheckedBeforePaths(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	var mu sync.Mutex
	var paths []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath())
		mu.Unlock()
		if r.URL.Path != "/v5/boards" {
			srv.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		var page map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Error(err)
		}
		if items, _ := page["items"].([]any); len(items) > 0 {
			items[0].(map[string]any)["id"] = ".."
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(proxy.Close)
	res := runSync(t, srv, runOpts{baseURL: proxy.URL + "/v5", catalog: onlyStreams(t, "boards", "board_sections", "board_pins")})
	if res.err == nil || !strings.Contains(res.err.Error(), `board_id ".." from Pinterest's answer is not an id`) {
		t.Errorf("err = %v", res.err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		if strings.Contains(p, "..") {
			t.Errorf("requested %s", p)
		}
	}
	if len(res.records["board_pins"]) == 0 {
		t.Error("the other boards' pins were not synced")
	}
}

// These tests put a misbehaving server in front of the fake: it answers
// some requests itself and forwards the rest (the token endpoint, other
// streams) to the fake.

// hostile starts a server that answers a request with route when route
// returns true, and forwards it to the fake otherwise. It returns the
// base_url to configure.
func hostile(t *testing.T, srv *fixtures.Server, route func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !route(w, r) {
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL + u.Path
}

// TestEndlessPagination: a server that repeats a bookmark, cycles, or sends
// empty pages that each name a next page must not be read forever: the
// listing stops with an error naming the endpoint, after a bounded number
// of requests, and the run fails.
func TestEndlessPagination(t *testing.T) {
	t.Parallel()
	page := func(items, next string) string { return fmt.Sprintf(`{"items":[%s],"bookmark":%q}`, items, next) }
	board := func(id string) string { return fmt.Sprintf(`{"id":%q,"name":"b%s","privacy":"PUBLIC"}`, id, id) }
	cases := []struct {
		name  string
		pages func(bookmark string, n int64) string // the answer to the nth request, with its bookmark
		want  string
		most  int64 // requests to the listing at most
	}{
		{"repeated bookmark", func(bm string, _ int64) string {
			if bm == "" {
				return page(board("1"), "A")
			}
			return page(board("2"), "A")
		}, `page 2 names bookmark "A" as the next page, which page 1 already named`, 2},
		{"cycle", func(bm string, _ int64) string {
			switch bm {
			case "":
				return page(board("1"), "A")
			case "A":
				return page(board("2"), "B")
			}
			return page(board("3"), "A")
		}, `page 3 names bookmark "A" as the next page, which page 1 already named`, 3},
		{"empty pages", func(_ string, n int64) string {
			return page("", fmt.Sprintf("p%d", n))
		}, "20 pages in a row without any item", maxEmptyPages},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, fixtures.Small, fixtures.Options{})
			var calls atomic.Int64
			base := hostile(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/boards") {
					return false
				}
				n := calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.pages(r.URL.Query().Get("bookmark"), n)))
				return true
			})
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			res := runSync(t, srv, runOpts{baseURL: base, catalog: onlyStreams(t, "boards"), ctx: ctx})
			if res.err == nil || !strings.Contains(res.err.Error(), "GET /boards: pagination does not end: "+tc.want) {
				t.Fatalf("want an error naming the endpoint and %q, got %v", tc.want, res.err)
			}
			if ctx.Err() != nil || calls.Load() > tc.most {
				t.Errorf("%d requests to the listing, want at most %d", calls.Load(), tc.most)
			}
		})
	}
}

// TestBadValuesOverHTTP: a page with invalid UTF-8, values of the wrong type and duplicate keys becomes records that are
// valid UTF-8 JSON matching their schema, with one warning per field.
func TestBadValuesOverHTTP(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	objs := []string{
		"{\"id\":\"1\",\"name\":\"caf\xe9\",\"pin_count\":1e999,\"created_at\":1700000000,\"owner\":{\"username\":\"\xff\"}}",
		"{\"id\":\"2\",\"name\":\"\xfe\",\"name\":\"again\",\"pin_count\":\"7\",\"follower_count\":3.0,\"is_ads_only\":\"false\"}",
		`{"id":{"nested":"object"},"name":"no usable id"}`,
	}
	base := hostile(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/boards") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[` + strings.Join(objs, ",") + `],"bookmark":null}`))
		return true
	})
	res := runSync(t, srv, runOpts{baseURL: base, catalog: onlyStreams(t, "boards"), config: `,"max_retry_wait_seconds":5`})
	if res.err != nil {
		t.Fatal(res.err)
	}
	got := string(res.records["boards"][0]) + "\n" + string(res.records["boards"][1])
	for _, want := range []string{`"name":"caf` + "\uFFFD" + `"`, `"pin_count":null`, `"created_at":null`, `"owner":{"username":"` + "\uFFFD" + `"}`, `"name":"` + "\uFFFD" + `"`, `"pin_count":7`, `"follower_count":3`, `"is_ads_only":false`} {
		if !strings.Contains(got, want) {
			t.Errorf("records lack %s:\n%s", want, got)
		}
	}
	if len(res.records["boards"]) != 2 {
		t.Errorf("%d records, want 2 (the object whose id is an object is skipped)", len(res.records["boards"]))
	}
	if !strings.Contains(res.logs, "boards: skipped 1 object Pinterest sent without their key properties") {
		t.Errorf("the skipped object is not in the end-of-run summary:\n%s", res.logs)
	}
	for _, w := range []string{"boards: field name: text that is not valid UTF-8", "boards: field owner: text that is not valid UTF-8", "boards: field pin_count: a value that is not an integer (e.g. 1e999)", "boards: field created_at: a value that is not a date-time", "boards: field name: sent twice", "boards: field id: a value that is not a string", "an object without its key properties"} {
		if n := strings.Count(res.logs, w); n != 1 {
			t.Errorf("%d warnings %q, want 1:\n%s", n, w, res.logs)
		}
	}
}

// peakHeap runs f and returns the most heap in use while it ran, sampled.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	return peak.Load()
}

// endless writes prefix, then unit until the client goes away.
func endless(w io.Writer, prefix, unit string) {
	_, _ = io.WriteString(w, prefix)
	chunk := []byte(strings.Repeat(unit, (64<<10)/len(unit)))
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// TestHostileBodies: an endless body and a gzip bomb fail the stream that
// asked, with an error naming it, while the heap stays far below 64 MB (the
// tests run alone, not in parallel, so that the heap is theirs).
func TestHostileBodies(t *testing.T) {
	cases := []struct {
		name  string
		serve func(w http.ResponseWriter)
	}{
		{"endless body", func(w http.ResponseWriter) {
			endless(w, `{"items":[`, `{"id":"1","name":"again and again"},`)
		}},
		{"one huge string", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, `{"items":[{"id":"1","name":"`)
			chunk := []byte(strings.Repeat("a", 64<<10))
			for range 1600 { // 100 MiB
				_, _ = w.Write(chunk)
			}
			_, _ = io.WriteString(w, `"}],"bookmark":null}`)
		}},
		{"gzip bomb", func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "gzip")
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			endless(zw, `{"items":[`, "          ")
			_ = zw.Close()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t, fixtures.Small, fixtures.Options{})
			base := hostile(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/boards") {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				tc.serve(w)
				return true
			})
			var res syncResult
			peak := peakHeap(func() {
				res = runSync(t, srv, runOpts{baseURL: base, catalog: onlyStreams(t, "boards"), config: `,"max_retry_wait_seconds":5`})
			})
			want := "stream boards: GET /boards: the response is larger than 256 MiB (decompressed)"
			if tc.name == "one huge string" {
				want = "stream boards: GET /boards: the response holds a single JSON value larger than 4 MiB"
			}
			if res.err == nil || !strings.Contains(res.err.Error(), want) {
				t.Fatalf("want an error with %q, got %v", want, res.err)
			}
			if peak > 64<<20 {
				t.Errorf("peak heap %d MiB, want < 64", peak>>20)
			}
			t.Logf("peak heap %.1f MiB", float64(peak)/(1<<20))
		})
	}
}

var filler = strings.Repeat("a long description ", 50)

// boardsPage is a page of n boards, ids from 1, the last one cut short
// when broken.
func boardsPage(n int, broken bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%d","name":"board number %d","privacy":"PUBLIC","pin_count":%d,"description":%q}`, i, i, i%1000, filler)
	}
	if broken {
		b.Truncate(b.Len() - 3)
	}
	b.WriteString(`],"bookmark":null}`)
	return b.Bytes()
}

// TestLargeBodyIsStreamed: a page too large for memory is spooled and read
// as a stream: every record arrives once, even when the first answer was
// broken near its end (it is retried, and nothing of it was emitted).
func TestLargeBodyIsStreamed(t *testing.T) {
	t.Parallel()
	const n = 20_000 // about 21 MB: more than the 16 MiB a body may take in memory
	good, bad := boardsPage(n, false), boardsPage(n, true)
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	var calls atomic.Int32
	base := hostile(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/boards") {
			return false
		}
		body := good
		if calls.Add(1) == 1 {
			body = bad
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return true
	})
	res := runSync(t, srv, runOpts{baseURL: base, catalog: onlyStreams(t, "boards")})
	if res.err != nil {
		t.Fatal(res.err)
	}
	got := keys(t, "boards", res.records["boards"])
	_, _, dups := fixtures.DiffKeys(got, got)
	if len(got) != n || len(dups) > 0 || calls.Load() != 2 {
		t.Errorf("%d records (%d duplicated) from %d requests; want %d from 2", len(got), len(dups), calls.Load(), n)
	}
}

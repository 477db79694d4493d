package tap

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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

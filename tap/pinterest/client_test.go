package pinterest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap/logging"
)

// testClient returns a client for a server whose token endpoint always
// succeeds and whose other routes are answered by h.
func testClient(t *testing.T, h http.HandlerFunc, tweak func(*Options)) (*Client, *strings.Builder) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v5/oauth/token" {
			user, pass, ok := r.BasicAuth()
			if !ok || user != "cid" || pass != "csecret-xyz" {
				w.WriteHeader(401)
				fmt.Fprint(w, `{"code":2,"message":"Authentication failed."}`)
				return
			}
			fmt.Fprint(w, `{"access_token":"access-`+r.FormValue("refresh_token")+`","token_type":"bearer","expires_in":3600,"refresh_token":"rotated-token-2","refresh_token_expires_in":5184000,"refresh_token_expires_at":4102444800}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	o := Options{ClientID: "cid", ClientSecret: "csecret-xyz", RefreshToken: "refresh-abc", BaseURL: srv.URL + "/v5",
		RequestTimeout: 2 * time.Second, MaxRetryWait: 5 * time.Second, RatePerSecond: 1000,
		RatePerMinute: map[string]int{"ads_read": 60000}, HTTPClient: srv.Client(), RetryBase: 5 * time.Millisecond}
	if tweak != nil {
		tweak(&o)
	}
	var logs strings.Builder
	red := &logging.Redactor{}
	c := NewClient(o, logging.NewLogger(&syncWriter{w: &logs}, logging.LevelDebug, red), red)
	return c, &logs
}

type syncWriter struct {
	mu atomic.Bool
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	for !s.mu.CompareAndSwap(false, true) {
	}
	defer s.mu.Store(false)
	return s.w.Write(p)
}

func TestClientRetries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fail     func(w http.ResponseWriter, n int32) bool // true: this attempt failed
		wantErr  string
		wantHits int32
	}{
		{"429 then ok", func(w http.ResponseWriter, n int32) bool {
			if n == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(429)
				fmt.Fprint(w, `{"code":30,"message":"rate limited"}`)
				return true
			}
			return false
		}, "", 2},
		{"503 html then ok", func(w http.ResponseWriter, n int32) bool {
			if n < 3 {
				w.WriteHeader(503)
				fmt.Fprint(w, `<html><body>Service Unavailable</body></html>`)
				return true
			}
			return false
		}, "", 3},
		{"truncated body then ok", func(w http.ResponseWriter, n int32) bool {
			if n == 1 {
				fmt.Fprint(w, `{"items":[{"id":"1"`)
				return true
			}
			return false
		}, "", 2},
		{"400 retry-after message", func(w http.ResponseWriter, n int32) bool {
			if n == 1 {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"code":1,"message":"Retry after 0 seconds"}`)
				return true
			}
			return false
		}, "", 2},
		{"400 is final", func(w http.ResponseWriter, n int32) bool {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"code":400,"message":"Invalid parameters."}`)
			return true
		}, "HTTP 400 (code 400): Invalid parameters.", 1},
		{"404 is final", func(w http.ResponseWriter, n int32) bool {
			w.WriteHeader(404)
			fmt.Fprint(w, `{"code":404,"message":"Board not found."}`)
			return true
		}, "Board not found.", 1},
		{"daily quota stops at once", func(w http.ResponseWriter, n int32) bool {
			w.Header().Set("X-RateLimit-Reset", "67150")
			w.WriteHeader(429)
			fmt.Fprint(w, `{"code":8,"message":"Max rate limit exceeded"}`)
			return true
		}, "rate limit of category ads_read reached", 1},
		{"401 refreshes once then succeeds", func(w http.ResponseWriter, n int32) bool {
			if n == 1 {
				w.WriteHeader(401)
				fmt.Fprint(w, `{"code":2,"message":"Authentication failed."}`)
				return true
			}
			return false
		}, "", 2},
		{"401 twice is an auth error", func(w http.ResponseWriter, n int32) bool {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"code":2,"message":"Authentication failed."}`)
			return true
		}, "even with a freshly refreshed access token", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			c, logs := testClient(t, func(w http.ResponseWriter, r *http.Request) {
				n := hits.Add(1)
				if r.Header.Get("Authorization") != "Bearer access-refresh-abc" && r.Header.Get("Authorization") != "Bearer access-rotated-token-2" {
					t.Errorf("authorization %q", r.Header.Get("Authorization"))
				}
				if !tc.fail(w, n) {
					fmt.Fprint(w, `{"items":[],"bookmark":null}`)
				}
			}, nil)
			rep, err := c.Get(context.Background(), Request{Stream: "campaigns", Op: "campaigns/list", Category: "ads_read", Path: "/x"})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				if string(rep.Body) != `{"items":[],"bookmark":null}` {
					t.Errorf("body %s", rep.Body)
				}
				rep.Release()
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if hits.Load() != tc.wantHits {
				t.Errorf("%d requests, want %d", hits.Load(), tc.wantHits)
			}
			for _, secret := range []string{"csecret-xyz", "refresh-abc", "access-refresh-abc", "rotated-token-2"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs show secret %q:\n%s", secret, logs)
				}
			}
		})
	}
}

func TestClientRetryBudget(t *testing.T) {
	t.Parallel()
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		fmt.Fprint(w, `{"code":500,"message":"boom"}`)
	}, func(o *Options) { o.MaxRetryWait = 50 * time.Millisecond })
	_, err := c.Get(context.Background(), Request{Op: "op", Category: "ads_read", Path: "/x"})
	if err == nil || !strings.Contains(err.Error(), "gave up after") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}

func TestClientBadCredentials(t *testing.T) {
	t.Parallel()
	c, logs := testClient(t, func(w http.ResponseWriter, r *http.Request) { t.Error("no data request expected") },
		func(o *Options) { o.ClientSecret = "wrong-secret" })
	_, err := c.Get(context.Background(), Request{Op: "op", Category: "ads_read", Path: "/x"})
	var ae *AuthError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "rejected the OAuth credentials") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error()+logs.String(), "wrong-secret") {
		t.Error("secret leaked")
	}
}

func TestClientCancel(t *testing.T) {
	t.Parallel()
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
	}, func(o *Options) { o.MaxRetryWait = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, Request{Op: "op", Category: "ads_read", Path: "/x"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}

func TestRetryHint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		hdr  map[string]string
		msg  string
		want time.Duration
	}{
		{nil, "", 0},
		{map[string]string{"Retry-After": "3"}, "", 3 * time.Second},
		{map[string]string{"X-RateLimit-Reset": "7"}, "", 7 * time.Second},
		// Retry-After answers this request; the reset is the whole window's (REFERENCE.md §14).
		{map[string]string{"Retry-After": "2", "X-RateLimit-Reset": "72000"}, "", 2 * time.Second},
		{map[string]string{"X-RateLimit-Reset": "72000"}, "Retry after 3 seconds", 3 * time.Second},
		{nil, "Reporting query cost limit exceeded. Retry after 9 seconds", 9 * time.Second},
		{nil, "Retry after 1 second", time.Second},
	}
	for _, tc := range cases {
		h := http.Header{}
		for k, v := range tc.hdr {
			h.Set(k, v)
		}
		if got := retryHint(h, tc.msg); got != tc.want {
			t.Errorf("retryHint(%v, %q) = %s, want %s", tc.hdr, tc.msg, got, tc.want)
		}
	}
	h := http.Header{}
	h.Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Hour).Unix()))
	if got := retryHint(h, ""); got < 59*time.Minute || got > time.Hour {
		t.Errorf("epoch reset: %s", got)
	}
}

package pinterest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDownload runs Download against a storage host of its own: it never
// sends the bearer token there, decodes gzip, retries a 503, turns an
// expired URL into ErrURLExpired and never logs the URL's signature.
func TestDownload(t *testing.T) {
	t.Parallel()
	const body = `{"1":[{"DATE":"2024-01-01"}]}`
	gz := func() []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(body))
		_ = w.Close()
		return b.Bytes()
	}()
	cases := []struct {
		name     string
		serve    func(w http.ResponseWriter, n int32)
		wantErr  error
		wantHits int32
	}{
		{"plain", func(w http.ResponseWriter, _ int32) { fmt.Fprint(w, body) }, nil, 1},
		{"gzip by content", func(w http.ResponseWriter, _ int32) { _, _ = w.Write(gz) }, nil, 1},
		{"gzip by header", func(w http.ResponseWriter, _ int32) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz)
		}, nil, 1},
		{"503 then ok", func(w http.ResponseWriter, n int32) {
			if n == 1 {
				w.WriteHeader(503)
				return
			}
			fmt.Fprint(w, body)
		}, nil, 2},
		{"expired", func(w http.ResponseWriter, _ int32) {
			w.WriteHeader(403)
			fmt.Fprint(w, `<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
		}, ErrURLExpired, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "" {
					t.Errorf("the storage host was sent Authorization: %q", r.Header.Get("Authorization"))
				}
				tc.serve(w, hits.Add(1))
			}))
			defer storage.Close()
			c, logs := testClient(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("API called: %s", r.URL) }, nil)
			if err := c.Authenticate(t.Context()); err != nil {
				t.Fatal(err)
			}
			var got []byte
			err := c.Download(t.Context(), storage.URL+"/reports/r1.json?X-Amz-Signature=secret-sig", func(r io.Reader) error {
				var err error
				got, err = io.ReadAll(r)
				return err
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && string(got) != body {
				t.Errorf("body = %q", got)
			}
			if hits.Load() != tc.wantHits || c.Downloads() != int64(tc.wantHits) {
				t.Errorf("hits = %d, Downloads() = %d, want %d", hits.Load(), c.Downloads(), tc.wantHits)
			}
			if strings.Contains(logs.String(), "secret-sig") || (err != nil && strings.Contains(err.Error(), "secret-sig")) {
				t.Errorf("the URL's signature was logged:\n%s", logs.String())
			}
		})
	}
}

// TestPost sends a JSON body with the bearer token, as report creation does.
func TestPost(t *testing.T) {
	t.Parallel()
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("Authorization") != "Bearer access-refresh-abc" || string(b) != `{"level":"CAMPAIGN"}` {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"code":1,"message":"bad %s %q %q"}`, r.Method, r.Header.Get("Content-Type"), b)
			return
		}
		fmt.Fprint(w, `{"token":"t1","report_status":"IN_PROGRESS"}`)
	}, nil)
	rep, err := c.Post(t.Context(), Request{Op: "analytics/create_report", Category: "ads_analytics", Path: "/ad_accounts/1/reports", JSON: []byte(`{"level":"CAMPAIGN"}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Release()
	if !strings.Contains(string(rep.Body), `"t1"`) {
		t.Errorf("body = %s", rep.Body)
	}
}

package pinterest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// bigRows returns a JSON array of analytics-like rows of about size bytes.
func bigRows(size int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"AD_ID":"%d","DATE":"2026-01-31","SPEND_IN_DOLLAR":%d.25,"TOTAL_IMPRESSION":%d,"CTR":0.0125,"X":true}`, 7000+i, i%100, i*3)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// TestInvalidLargeBodyIsRetriedThenReported: a 2 MiB success body that is
// complete in structure but invalid deep inside (a bad number, a cut
// literal) is a corrupt response: retried, then a clear error naming the
// endpoint, and never handed to the caller.
func TestInvalidLargeBodyIsRetriedThenReported(t *testing.T) {
	t.Parallel()
	body := bigRows(2 << 20)
	at := bytes.LastIndex(body[:len(body)*3/4], []byte(`"SPEND_IN_DOLLAR":`)) + len(`"SPEND_IN_DOLLAR":`)
	bad := bytes.Replace(body[at:], []byte(".25,"), []byte(".2.3,"), 1)
	bad = bytes.Replace(bad, []byte(`"X":true`), []byte(`"X":tru`), 1)
	body = append(body[:at:at], bad...)
	var hits atomic.Int32
	c, logs := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(body)
	}, func(o *Options) {
		// Two or three attempts; a total bound (max_retry_wait_seconds or
		// one timeout) that no slow validation under -race reaches.
		o.MaxRetryWait, o.RetryBase, o.RequestTimeout = 500*time.Millisecond, 200*time.Millisecond, 30*time.Second
	})
	rep, err := c.Get(context.Background(), Request{Op: "ads/analytics", Category: "ads_read", Path: "/ad_accounts/1/ads/analytics"})
	if rep != nil {
		t.Fatalf("an invalid body was returned (%d bytes)", len(rep.Body))
	}
	var ce *corruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "GET /ad_accounts/1/ads/analytics (ads/analytics)") ||
		!strings.Contains(err.Error(), "not valid JSON") || !strings.Contains(err.Error(), "gave up after") {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() < 2 || !strings.Contains(logs.String(), "retrying in") {
		t.Errorf("%d requests, want retries; logs:\n%s", hits.Load(), logs)
	}
	if _, retries := c.Stats(); retries != int64(hits.Load()-1) {
		t.Errorf("%d retries counted for %d requests", retries, hits.Load())
	}
	if !c.budget.TryAcquire(bodyBudget) {
		t.Error("the bodies of the failed attempts were not released")
	}
}

// TestLargeValidBody: the same size, valid, comes back whole.
func TestLargeValidBody(t *testing.T) {
	t.Parallel()
	body := bigRows(2 << 20)
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }, nil)
	rep, err := c.Get(context.Background(), Request{Op: "ads/analytics", Category: "ads_read", Path: "/x"})
	if err != nil || !bytes.Equal(rep.Body, body) {
		t.Fatalf("err %v", err)
	}
	rep.Release()
}

type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestInjectedHTTPClient: every request, the token's included, goes
// through Options.HTTPClient, and Stats counts them all.
func TestInjectedHTTPClient(t *testing.T) {
	t.Parallel()
	var tr countingTransport
	var ua string
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		ua = r.UserAgent()
		fmt.Fprint(w, `{}`)
	}, func(o *Options) {
		tr.next = o.HTTPClient.Transport
		o.HTTPClient = &http.Client{Transport: &tr}
		o.UserAgent = "tap-pinterest/9.9.9"
	})
	for range 2 {
		rep, err := c.Get(context.Background(), Request{Op: "op", Category: "ads_read", Path: "/x"})
		if err != nil {
			t.Fatal(err)
		}
		rep.Release()
	}
	if reqs, retries := c.Stats(); tr.n.Load() != 3 || reqs != 3 || retries != 0 {
		t.Errorf("transport saw %d requests, Stats %d/%d; want 3 (one token, two GETs)", tr.n.Load(), reqs, retries)
	}
	if ua != "tap-pinterest/9.9.9" {
		t.Errorf("User-Agent %q", ua)
	}
}

// TestRotatedRefreshToken: Authenticate refreshes once; the rotated token
// is written to refresh_token_file, or a warning says it is not kept.
func TestRotatedRefreshToken(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "token")
	c, logs := testClient(t, nil, func(o *Options) { o.RefreshTokenFile = file })
	if err := c.Authenticate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Authenticate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reqs, _ := c.Stats(); reqs != 1 {
		t.Errorf("%d token requests, want 1 (the token is cached)", reqs)
	}
	if tok, err := LoadRefreshTokenFile(file); err != nil || tok != "rotated-token-2" {
		t.Errorf("file holds %q, %v", tok, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v %v", fi, err)
	}
	if strings.Contains(logs.String(), "rotated-token-2") || !strings.Contains(logs.String(), "saved the new one") {
		t.Errorf("logs:\n%s", logs)
	}
	c, logs = testClient(t, nil, nil)
	if err := c.Authenticate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "refresh_token_file is not set") {
		t.Errorf("no warning without a file:\n%s", logs)
	}
	if tok, err := LoadRefreshTokenFile(filepath.Join(t.TempDir(), "none")); tok != "" || err != nil {
		t.Errorf("a missing file: %q %v", tok, err)
	}
}

// TestSpooledBody: a body larger than memBody is spooled to a temporary
// file, read back whole through Reader, and the file is removed on Release.
func TestSpooledBody(t *testing.T) {
	t.Parallel()
	body := bigRows(memBody + 1<<20)
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }, nil)
	rep, err := c.Get(context.Background(), Request{Op: "ads/analytics", Category: "ads_read", Path: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Body != nil || rep.file == nil || rep.Size() != int64(len(body)) {
		t.Fatalf("not spooled: %d bytes in memory, size %d", len(rep.Body), rep.Size())
	}
	got, err := io.ReadAll(rep.Reader())
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	name := rep.file.Name()
	rep.Release()
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("temporary file %s left behind: %v", name, err)
	}
	if !c.budget.TryAcquire(bodyBudget) {
		t.Error("the body's budget was not released")
	}
}

package pinterest

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/tap-pinterest/tap-pinterest/tap/logging"
)

// ErrURLExpired means the storage host refused a pre-signed URL (it lives
// five minutes): ask Pinterest for the report again to get a fresh one.
var ErrURLExpired = errors.New("the report's download URL expired")

// Download fetches a pre-signed URL of a storage host (an async report)
// and hands use its body as a stream, gunzipped when it is gzip'd (by
// Content-Encoding or by content). The request carries no credentials:
// the bearer token never leaves Pinterest's API host. What fails before the
// body arrives (connection errors, 429, 5xx) is retried under the client's
// retry policy; a URL the host refuses (403, 404, 410) is ErrURLExpired.
// The URL's query (its signature) is never logged.
func (c *Client) Download(ctx context.Context, rawURL string, use func(r io.Reader) error) error {
	where := redactURL(rawURL)
	p := newPolicy(c.retryBase, c.maxWait, c.maxHint)
	op := func() (*http.Response, error) {
		resp, err := c.fetch(ctx, rawURL, where)
		if err == nil || ctx.Err() != nil || errors.Is(err, ErrURLExpired) {
			return resp, backoff.Permanent(err)
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status != http.StatusTooManyRequests && ae.Status < 500 {
			return nil, backoff.Permanent(err)
		}
		return nil, err
	}
	notify := func(err error, d time.Duration) {
		c.log.Warn(fmt.Sprintf("retrying the download in %s: %v", d.Round(10*time.Millisecond), err))
	}
	resp, err := backoff.RetryNotifyWithData(op, backoff.WithContext(p, ctx), notify)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	defer resp.Body.Close()
	body, err := decoded(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: %w", where, err)
	}
	if err := use(body); err != nil {
		return fmt.Errorf("GET %s: %w", where, err)
	}
	return nil
}

// fetch sends one download attempt and returns a 2xx response.
func (c *Client) fetch(ctx context.Context, rawURL, where string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("report download URL %s: %w", where, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	c.downloads.Add(1)
	start := time.Now()
	resp, err := c.storage.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", where, unwrapURLError(err))
	}
	if c.log.Enabled(ctx, logging.LevelDebug) {
		c.log.Debug(fmt.Sprintf("GET %s -> %d in %s (%d bytes announced)", where, resp.StatusCode, time.Since(start).Round(time.Millisecond), resp.ContentLength))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		return nil, fmt.Errorf("GET %s: HTTP %d: %s: %w", where, resp.StatusCode, snippet(b), ErrURLExpired)
	}
	return nil, &APIError{Method: http.MethodGet, Path: where, Status: resp.StatusCode, Message: snippet(b)}
}

// decoded returns the body, gunzipped when it starts with gzip's magic.
func decoded(body io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// redactURL keeps a URL's scheme, host and path: the query of a
// pre-signed URL is its credential.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
}

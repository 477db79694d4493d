package tap

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/tap-pinterest/tap-pinterest/tap/bufpool"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/logging"
	"golang.org/x/sync/semaphore"
)

// maxBody caps a response body; Pinterest pages are far smaller.
const maxBody = 512 << 20

// bodyBudget is the memory all response bodies held at once may take: a
// large analytics answer waits for room rather than growing the process.
// A body larger than the budget takes all of it.
const bodyBudget = 24 << 20

// unknownLength is what a body without Content-Length is counted as.
const unknownLength = 4 << 20

// DefaultRetryBase is the first backoff interval of a retried request.
// Fault-injection tests lower it; nothing else should.
var DefaultRetryBase = time.Second

// Client is the tap's one HTTP path to Pinterest: pace → authenticate →
// request → classify → retry → validate the JSON body. Every request the tap
// makes, the token refresh included, goes through send.
type Client struct {
	base    string
	hc      *http.Client
	pacer   *pacer
	tokens  *tokenSource
	log     *slog.Logger
	redact  *logging.Redactor
	timeout time.Duration
	maxWait time.Duration
	// retryBase is the first backoff interval (1s; tests make it shorter).
	retryBase time.Duration

	budget *semaphore.Weighted

	requests atomic.Int64
	retries  atomic.Int64
}

// reply is a success body; release it when done with it (its memory is
// counted against bodyBudget and recycled).
type reply struct {
	body   []byte
	weight int64
	c      *Client
}

func (r *reply) release() {
	if r == nil || r.c == nil {
		return
	}
	bufpool.Put(r.body)
	r.body = nil
	r.c.budget.Release(r.weight)
	r.c = nil
}

// call is one logical request.
type call struct {
	method   string
	op       string // operationId, for logs and metrics
	category string // x-ratelimit-category
	path     string // below base, already expanded
	query    url.Values
	form     url.Values // POST body (token endpoint)
	basic    bool       // HTTP Basic client authentication instead of a bearer token
	stream   string     // for metrics
}

// NewClient builds the client for a config. log receives request logs and
// metrics; r redacts secrets from everything the client reports.
func NewClient(cfg *Config, log *slog.Logger, r *logging.Redactor) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c := &Client{
		base:      cfg.BaseURL,
		hc:        &http.Client{Transport: tr},
		pacer:     newPacer(cfg.RatePerSecond, cfg.RatePerMinute, log),
		log:       log,
		redact:    r,
		timeout:   cfg.RequestTimeout,
		maxWait:   cfg.MaxRetryWait,
		retryBase: DefaultRetryBase,
		budget:    semaphore.NewWeighted(bodyBudget),
	}
	c.tokens = newTokenSource(c, cfg)
	return c
}

// Stats returns how many HTTP requests were sent and how many were retries.
func (c *Client) Stats() (requests, retries int64) { return c.requests.Load(), c.retries.Load() }

// get sends an authenticated GET and returns a body that is complete JSON.
func (c *Client) get(ctx context.Context, stream, op, category, path string, q url.Values) (*reply, error) {
	return c.send(ctx, call{method: http.MethodGet, op: op, category: category, path: path, query: q, stream: stream})
}

// outcome of one attempt.
type outcome struct {
	body    *reply
	err     error         // what went wrong (nil on success)
	retry   bool          // err is transient
	hint    time.Duration // the server's own idea of when to retry
	refresh bool          // 401: refresh the access token and retry at once
}

var retryAfterMsg = regexp.MustCompile(`(?i)retry after (\d+) seconds?`)

func (c *Client) send(ctx context.Context, cl call) (*reply, error) {
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval = c.retryBase
	exp.MaxInterval = 60 * time.Second
	exp.MaxElapsedTime = 0
	exp.RandomizationFactor = 0.5
	exp.Reset()
	var waited time.Duration
	refreshed := false
	for attempt := 1; ; attempt++ {
		o := c.attempt(ctx, cl)
		if o.err == nil {
			return o.body, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if o.refresh {
			if refreshed {
				return nil, &AuthError{Msg: "Pinterest answered 401 Unauthorized even with a freshly refreshed access token; check that the app and token have the scopes ads:read, boards:read, pins:read and user_accounts:read", Cause: o.err}
			}
			refreshed = true
			c.retries.Add(1)
			c.log.Info("access token rejected; refreshing it and retrying", "op", cl.op)
			continue
		}
		if !o.retry {
			return nil, o.err
		}
		delay := exp.NextBackOff()
		if o.hint > 0 {
			// The server said when; add a little jitter so that concurrent
			// fetches do not come back in the same millisecond.
			delay = o.hint + time.Duration(rand.Int64N(int64(250*time.Millisecond)))
		}
		if waited+delay > c.maxWait {
			retryAt := time.Now().Add(delay)
			var ae *APIError
			if errors.As(o.err, &ae) && ae.Status == http.StatusTooManyRequests {
				return nil, &QuotaError{Category: cl.category, RetryAt: retryAt, Cause: o.err}
			}
			hint := ""
			if !errors.As(o.err, &ae) {
				hint = fmt.Sprintf("; check base_url (%s) and the network", c.base)
			}
			return nil, fmt.Errorf("gave up after %d attempts and %s of waiting (max_retry_wait_seconds=%d): %w%s", attempt, waited.Round(time.Second), int(c.maxWait/time.Second), o.err, hint)
		}
		c.retries.Add(1)
		c.log.Warn(fmt.Sprintf("retrying in %s (attempt %d): %v", delay.Round(10*time.Millisecond), attempt+1, o.err), "op", cl.op)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		waited += delay
	}
}

func (c *Client) attempt(ctx context.Context, cl call) outcome {
	if err := c.pacer.wait(ctx, cl.category); err != nil {
		return outcome{err: err}
	}
	var token string
	if !cl.basic {
		t, err := c.tokens.token(ctx)
		if err != nil {
			return outcome{err: err}
		}
		token = t
	}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if cl.form != nil {
		body = strings.NewReader(cl.form.Encode())
	}
	req, err := http.NewRequestWithContext(rctx, cl.method, u, body)
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tap-pinterest/"+Version)
	if cl.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cl.basic {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.tokens.clientID+":"+c.tokens.clientSecret)))
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.requestMetric(cl, 0, start)
		if ctx.Err() != nil {
			return outcome{err: ctx.Err()}
		}
		return outcome{err: fmt.Errorf("%s %s: %w", cl.method, cl.path, unwrapURLError(err)), retry: true}
	}
	weight := int64(unknownLength)
	if resp.ContentLength >= 0 {
		weight = resp.ContentLength
	}
	weight = min(max(weight, 1), bodyBudget)
	if err := c.budget.Acquire(ctx, weight); err != nil {
		resp.Body.Close()
		return outcome{err: err}
	}
	b, rerr := readBody(resp)
	resp.Body.Close()
	rep := &reply{body: b, weight: weight, c: c}
	ok := false
	defer func() {
		if !ok {
			rep.release()
		}
	}()
	c.requestMetric(cl, resp.StatusCode, start)
	if c.log.Enabled(ctx, logging.LevelDebug) {
		c.log.Debug(fmt.Sprintf("%s %s -> %d in %s (%d bytes)", cl.method, c.redact.Redact(strings.TrimPrefix(u, c.base)), resp.StatusCode, time.Since(start).Round(time.Millisecond), len(b)))
	}
	if rerr != nil {
		if ctx.Err() != nil {
			return outcome{err: ctx.Err()}
		}
		return outcome{err: fmt.Errorf("%s %s: reading the response: %w", cl.method, cl.path, rerr), retry: true}
	}
	if len(b) > maxBody {
		return outcome{err: fmt.Errorf("%s %s: response larger than %d MiB", cl.method, cl.path, maxBody>>20)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if !wholeJSON(b) {
			return outcome{err: fmt.Errorf("%s %s: HTTP %d with a body that is not complete JSON (%d bytes): %s", cl.method, cl.path, resp.StatusCode, len(b), snippet(b)), retry: true}
		}
		ok = true
		return outcome{body: rep}
	}
	ae := &APIError{Method: cl.method, Path: cl.path, Status: resp.StatusCode}
	var eb struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	if json.Unmarshal(b, &eb) == nil && eb.Message != "" {
		n, _ := eb.Code.Int64()
		ae.Code = int(n)
		ae.Message = eb.Message
	} else {
		ae.Message = snippet(b)
	}
	hint := retryHint(resp.Header, ae.Message)
	switch {
	case resp.StatusCode == http.StatusUnauthorized && !cl.basic:
		c.tokens.invalidate(token)
		return outcome{err: ae, refresh: true}
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return outcome{err: ae, retry: true, hint: hint}
	case resp.StatusCode == http.StatusBadRequest && (retryAfterMsg.MatchString(ae.Message) || ae.Code == 12 || strings.Contains(strings.ToLower(ae.Message), "something went wrong")):
		return outcome{err: ae, retry: true, hint: hint}
	}
	return outcome{err: ae}
}

// readBody reads a response body into a recycled buffer sized by
// Content-Length, so that a large analytics answer is neither copied while
// it grows nor allocated anew for every call.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxBody {
		b := bufpool.Get(int(n))
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			bufpool.Put(b)
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
}

// wholeJSON checks a success body before anything of it is emitted: list
// pages fully (json.Valid), large analytics answers structurally
// (complete), which is what a cut or foreign body fails.
func wholeJSON(b []byte) bool {
	if len(b) < 1<<20 {
		return json.Valid(b)
	}
	return jsonscan.Complete(b)
}

// retryHint reads when the server wants to be asked again: Retry-After
// (seconds or an HTTP date), X-RateLimit-Reset (seconds to wait, or an
// epoch), or "Retry after N seconds" in the message. The largest wins.
func retryHint(h http.Header, message string) time.Duration {
	var d time.Duration
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			d = max(d, time.Duration(n*float64(time.Second)))
		} else if t, err := http.ParseTime(v); err == nil {
			d = max(d, time.Until(t))
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			if n > 1e9 { // an epoch, not a delay
				d = max(d, time.Until(time.Unix(int64(n), 0)))
			} else {
				d = max(d, time.Duration(n*float64(time.Second)))
			}
		}
	}
	if m := retryAfterMsg.FindStringSubmatch(message); m != nil {
		n, _ := strconv.Atoi(m[1])
		d = max(d, time.Duration(n)*time.Second)
	}
	return d
}

func (c *Client) requestMetric(cl call, status int, start time.Time) {
	if !c.log.Enabled(context.Background(), logging.LevelInfo) {
		return
	}
	st := "succeeded"
	if status < 200 || status >= 300 {
		st = "failed"
	}
	tags := map[string]any{"endpoint": cl.op, "http_status_code": status, "status": st}
	if cl.stream != "" {
		tags["stream"] = cl.stream
	}
	logging.Metric(c.log, "timer", "http_request_duration", time.Since(start).Seconds(), tags)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// snippet returns the start of a body for an error message, on one line.
func snippet(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return strings.Join(strings.Fields(s), " ")
}

package pinterest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/logging"
)

// outcome of one attempt.
type outcome struct {
	body    *Reply
	err     error         // what went wrong (nil on success)
	retry   bool          // err is transient
	hint    time.Duration // the server's own idea of when to retry
	refresh bool          // 401: refresh the access token and retry at once
}

// corruptError is a success status whose body is not valid JSON: cut
// short, a foreign page, or broken inside.
type corruptError struct {
	method, path, op string
	status, size     int
	start            string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("%s %s (%s): HTTP %d with a body that is not valid JSON (%d bytes): %s", e.method, e.path, e.op, e.status, e.size, e.start)
}

// attempt sends one HTTP request of a call and judges the answer.
// It ends by the deadline of the whole call at the latest.
func (c *Client) attempt(ctx context.Context, cl call, deadline time.Time) outcome {
	if err := c.pacer.wait(ctx, cl.Category); err != nil {
		return outcome{err: err}
	}
	if c.timeout > 0 && (deadline.IsZero() || time.Now().Add(c.timeout).Before(deadline)) {
		deadline = time.Now().Add(c.timeout)
	}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if !deadline.IsZero() {
		rctx, cancel = context.WithDeadline(ctx, deadline)
	}
	defer cancel()
	if cl.basic {
		rctx = context.WithValue(rctx, tokenCallKey{}, true)
	}
	req, token, err := c.newRequest(rctx, cl)
	if err != nil {
		return outcome{err: err}
	}
	start := time.Now()
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.requestMetric(cl, 0, start)
		if ctx.Err() != nil {
			return outcome{err: ctx.Err()}
		}
		return outcome{err: fmt.Errorf("%s %s: %w", cl.method, cl.Path, unwrapURLError(err)), retry: true}
	}
	rep, rerr := c.readReply(ctx, cl, resp)
	c.requestMetric(cl, resp.StatusCode, start)
	if rep == nil {
		return outcome{err: rerr} // no room in the body budget: the context ended
	}
	if c.log.Enabled(ctx, logging.LevelDebug) {
		c.log.Debug(fmt.Sprintf("%s %s -> %d in %s (%d bytes)", cl.method, c.redact.Redact(strings.TrimPrefix(req.URL.String(), c.base)), resp.StatusCode, time.Since(start).Round(time.Millisecond), rep.size))
	}
	var o outcome
	if rerr != nil {
		o = readFailed(ctx, cl, rerr)
	} else {
		o = c.judge(cl, resp, rep, token)
	}
	if o.err != nil {
		rep.Release()
		return o
	}
	o.body = rep
	return o
}

// newRequest builds the HTTP request of a call, authenticated with the
// client credentials (token endpoint) or a bearer token, which it returns.
func (c *Client) newRequest(ctx context.Context, cl call) (*http.Request, string, error) {
	u := c.base + cl.Path
	if len(cl.Query) > 0 {
		u += "?" + cl.Query.Encode()
	}
	var body io.Reader
	if cl.form != nil {
		body = strings.NewReader(cl.form.Encode())
	} else if cl.JSON != nil {
		body = bytes.NewReader(cl.JSON)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if cl.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if cl.JSON != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.basic {
		req.SetBasicAuth(c.tokens.clientID, c.tokens.clientSecret)
		return req, "", nil
	}
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return nil, "", err
	}
	tok.SetAuthHeader(req)
	return req, tok.AccessToken, nil
}

// readFailed classifies an answer whose body could not be read whole: too
// large (final), corrupt or cut (retried).
func readFailed(ctx context.Context, cl call, err error) outcome {
	var tl *TooLargeError
	var ce *corruptError
	switch {
	case ctx.Err() != nil:
		return outcome{err: ctx.Err()}
	case errors.As(err, &tl):
		return outcome{err: err}
	case errors.As(err, &ce):
		return outcome{err: err, retry: true}
	}
	return outcome{err: fmt.Errorf("%s %s: reading the response: %w", cl.method, cl.Path, err), retry: true}
}

// judge classifies a complete answer: a success whose body is valid JSON,
// or an error, transient or not.
func (c *Client) judge(cl call, resp *http.Response, rep *Reply, token string) outcome {
	b := rep.Body
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return outcome{err: &APIError{Method: cl.method, Path: cl.Path, Status: resp.StatusCode, Message: c.redirectRefused(cl, resp)}}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if rep.file == nil && !jsonscan.Valid(b) { // a spooled body was validated as it was read back
			start := snippet(b)
			if cl.basic {
				start = "(not shown: a token endpoint's body may hold tokens)"
			}
			return outcome{err: &corruptError{cl.method, cl.Path, cl.Op, resp.StatusCode, len(b), start}, retry: true}
		}
		return outcome{}
	}
	ae := newAPIError(cl, resp.StatusCode, b)
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

// maxMessage caps the message of an APIError: a server may send megabytes.
const maxMessage = 500

// oauthCode is an OAuth error code ("invalid_grant"), safe to show.
var oauthCode = regexp.MustCompile(`^[a-z_]{1,40}$`)

// newAPIError reads Pinterest's {code, message} from an error body, or
// keeps the start of a body that is not one. Of the token endpoint's
// answer it keeps only the code (and an OAuth error code): its body may
// echo the credentials.
func newAPIError(cl call, status int, b []byte) *APIError {
	ae := &APIError{Method: cl.method, Path: cl.Path, Status: status}
	var eb struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
		Error   string      `json:"error"`
	}
	ok := json.Unmarshal(b, &eb) == nil
	n, _ := eb.Code.Int64()
	ae.Code = int(n)
	switch {
	case cl.basic && ok && oauthCode.MatchString(eb.Error):
		ae.Message = "(body not shown) error " + eb.Error
	case cl.basic:
		ae.Message = "(body not shown: a token endpoint's body may hold credentials)"
	case ok && eb.Message != "":
		ae.Message = truncate(eb.Message, maxMessage)
	default:
		ae.Code = 0
		ae.Message = snippet(b)
	}
	return ae
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d bytes in all)", len(s))
}

func (c *Client) requestMetric(cl call, status int, start time.Time) {
	if !c.log.Enabled(context.Background(), logging.LevelInfo) {
		return
	}
	st := "succeeded"
	if status < 200 || status >= 300 {
		st = "failed"
	}
	tags := map[string]any{"endpoint": cl.Op, "http_status_code": status, "status": st}
	if cl.Stream != "" {
		tags["stream"] = cl.Stream
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
	s := string(bytes.TrimSpace(b[:min(len(b), 4096)]))
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return strings.Join(strings.Fields(s), " ")
}

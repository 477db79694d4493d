package pinterest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
)

const (
	// maxInterval caps one exponential backoff wait.
	maxInterval = 60 * time.Second
	// hintJitter is added to a wait the server asked for, so that
	// concurrent fetches do not come back in the same millisecond.
	hintJitter = 250 * time.Millisecond
)

// policy is the one retry policy of every request, a backoff.BackOff:
// exponential waits with jitter from the client's RetryBase, capped at
// maxInterval; the server's own wait (Retry-After and kin) instead when it
// gave one; no wait before the retry with a freshly refreshed token; and
// at most maxWait of waiting in all, after which it stops (refused says
// how long the refused wait would have been). A server's wait longer than
// maxHint stops at once: the quota is spent for now.
type policy struct {
	exp     *backoff.ExponentialBackOff
	maxWait time.Duration
	maxHint time.Duration // 0 = no limit of its own
	waited  time.Duration
	hint    time.Duration // the server's wait before the next attempt, 0 if none
	now     bool          // the next attempt goes at once
	refused time.Duration // the wait that would have passed maxWait
	// deadline ends the whole call, attempts included (zero: none).
	deadline time.Time
}

func newPolicy(base, maxWait, maxHint time.Duration) *policy {
	return &policy{maxWait: maxWait, maxHint: maxHint, exp: backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(base),
		backoff.WithMaxInterval(maxInterval),
		backoff.WithRandomizationFactor(0.5),
		backoff.WithMaxElapsedTime(0), // bounded by maxWait of waiting, not by wall time
	)}
}

// NextBackOff implements backoff.BackOff.
func (p *policy) NextBackOff() time.Duration {
	if p.now {
		p.now = false
		return 0
	}
	d := p.exp.NextBackOff()
	hinted := p.hint > 0
	if hinted {
		d = p.hint + time.Duration(rand.Int64N(int64(hintJitter)))
		p.hint = 0
	}
	if p.waited+d > p.maxWait || (hinted && p.maxHint > 0 && d > p.maxHint+hintJitter) ||
		(!p.deadline.IsZero() && time.Now().Add(d).After(p.deadline)) {
		p.refused = d
		return backoff.Stop
	}
	p.waited += d
	return d
}

// Reset implements backoff.BackOff.
func (p *policy) Reset() {
	p.exp.Reset()
	p.waited, p.hint, p.now, p.refused = 0, 0, false, 0
}

// call is one logical request: a Request plus what the token endpoint needs.
type call struct {
	Request
	method string
	form   url.Values // POST body (token endpoint)
	basic  bool       // HTTP Basic client authentication instead of a bearer token
}

// send runs the attempts of one call under the retry policy: transient
// failures (429, 5xx, cut or invalid bodies, connection errors) are
// retried, a 401 refreshes the token once, everything else is final.
func (c *Client) send(ctx context.Context, cl call) (*Reply, error) {
	p := newPolicy(c.retryBase, c.maxWait, c.maxHint)
	// max_retry_wait_seconds bounds the whole call, the time spent inside
	// attempts included (one attempt's timeout at least).
	if total := max(c.maxWait, c.timeout); total > 0 {
		p.deadline = time.Now().Add(total)
	}
	attempts, refreshed, refreshing := 0, false, false
	op := func() (*Reply, error) {
		attempts++
		o := c.attempt(ctx, cl, p.deadline)
		refreshing = false
		switch {
		case o.err == nil:
			return o.body, nil
		case ctx.Err() != nil:
			return nil, backoff.Permanent(ctx.Err())
		case o.refresh && refreshed:
			return nil, backoff.Permanent(&AuthError{Msg: "Pinterest answered 401 Unauthorized even with a freshly refreshed access token; check that the app and token have the scopes ads:read, boards:read, pins:read and user_accounts:read", Cause: o.err})
		case o.refresh:
			refreshed, refreshing, p.now = true, true, true
		case !o.retry:
			return nil, backoff.Permanent(o.err)
		}
		p.hint = o.hint
		return nil, o.err
	}
	notify := func(err error, d time.Duration) {
		c.retries.Add(1)
		if refreshing {
			c.log.Info("access token rejected; refreshing it and retrying", "op", cl.Op)
			return
		}
		c.log.Warn(fmt.Sprintf("retrying in %s (attempt %d): %v", d.Round(10*time.Millisecond), attempts+1, err), "op", cl.Op)
	}
	rep, err := backoff.RetryNotifyWithData(op, backoff.WithContext(p, ctx), notify)
	if err != nil && p.refused > 0 && ctx.Err() == nil {
		return nil, c.gaveUp(cl, err, attempts, p)
	}
	return rep, err
}

// gaveUp is the error of a call whose next wait would pass max_retry_wait:
// a QuotaError for a 429 (the quota is spent for now), else the last error.
func (c *Client) gaveUp(cl call, err error, attempts int, p *policy) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
		return &QuotaError{Category: cl.Category, RetryAt: time.Now().Add(p.refused), Cause: err}
	}
	hint := ""
	var ce *corruptError
	if !errors.As(err, &ae) && !errors.As(err, &ce) {
		hint = fmt.Sprintf("; check base_url (%s) and the network", c.base)
	}
	return fmt.Errorf("gave up after %d attempts in %s, %s of it waiting (max_retry_wait_seconds=%d bounds each request, attempts included): %w%s",
		attempts, time.Since(p.deadline.Add(-max(c.maxWait, c.timeout))).Round(time.Second), p.waited.Round(time.Second), int(c.maxWait/time.Second), err, hint)
}

var retryAfterMsg = regexp.MustCompile(`(?i)retry after (\d+) seconds?`)

// retryHint reads when the server wants to be asked again, trusting the
// answer to this request over the rate-limit window: Retry-After (seconds
// or an HTTP date), else "Retry after N seconds" in the message, and only
// without either X-RateLimit-Reset (seconds, or an epoch), which is the
// reset of the whole window and can be hours away (REFERENCE.md §14).
func retryHint(h http.Header, message string) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return time.Duration(n * float64(time.Second))
		} else if t, err := http.ParseTime(v); err == nil {
			return time.Until(t)
		}
	}
	if m := retryAfterMsg.FindStringSubmatch(message); m != nil {
		n, _ := strconv.Atoi(m[1])
		return time.Duration(n) * time.Second
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			if n > 1e9 { // an epoch, not a delay
				return time.Until(time.Unix(int64(n), 0))
			}
			return time.Duration(n * float64(time.Second))
		}
	}
	return 0
}

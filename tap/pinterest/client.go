package pinterest

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap/logging"
	"golang.org/x/sync/semaphore"
)

// bodyBudget is the memory all response bodies held at once may take: a
// large analytics answer waits for room rather than growing the process.
// One body takes at most memBody of it; a larger one is spooled to a file.
const bodyBudget = 24 << 20

// unknownLength is what a body without Content-Length is counted as.
const unknownLength = 4 << 20

// Options configure a Client.
type Options struct {
	BaseURL, ClientID, ClientSecret, RefreshToken, RefreshTokenFile string
	// FileRefreshToken is the token read from RefreshTokenFile at start-up
	// ("" if none): used before RefreshToken, which stays the fallback
	// when Pinterest rejects it.
	FileRefreshToken string

	RatePerSecond  int            // the universal limit, requests per second
	RatePerMinute  map[string]int // x-ratelimit-category -> requests/min
	RequestTimeout time.Duration  // per attempt; 0 = none beyond the context
	MaxRetryWait   time.Duration  // the most a request waits between its attempts, in all
	MaxHintWait    time.Duration  // the longest wait the server may ask for before it counts as a spent quota; 0 = MaxRetryWait alone
	UserAgent      string         // "tap-pinterest/<version>"
	HTTPClient     *http.Client   // nil = a default one; tests inject their own transport
	RetryBase      time.Duration  // first backoff interval; 0 = 1s (tests set it small)
	MaxBody        int64          // the most a success body may hold, decompressed; 0 = DefaultMaxBody
	// StorageClient fetches pre-signed download URLs (async reports); nil =
	// a default one. It must not add credentials of its own.
	StorageClient *http.Client
}

// Client is the tap's one HTTP path to Pinterest: pace → authenticate →
// request → classify → retry → validate the JSON body.
type Client struct {
	base      string
	hc        *http.Client
	userAgent string
	pacer     *pacer
	tokens    *tokens
	log       *slog.Logger
	redact    *logging.Redactor
	timeout   time.Duration
	maxWait   time.Duration
	maxHint   time.Duration
	retryBase time.Duration
	maxBody   int64

	budget *semaphore.Weighted
	// storage fetches pre-signed report URLs: another host, never sent the
	// bearer token (a client of its own, with no token source).
	storage *http.Client

	requests  atomic.Int64
	retries   atomic.Int64
	downloads atomic.Int64
}

// NewClient builds a client. log receives request logs and metrics; r
// redacts secrets (the client secret, refresh and access tokens, which the
// client adds to it) from everything the client reports.
func NewClient(o Options, log *slog.Logger, r *logging.Redactor) *Client {
	hc := o.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		hc = &http.Client{Transport: tr}
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	// A copy: the redirect policy is the client's own, whoever made hc.
	own := *hc
	hc = &own
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.UserAgent == "" {
		o.UserAgent = "tap-pinterest"
	}
	if r == nil {
		r = &logging.Redactor{}
	}
	r.AddBasic(o.ClientID, o.ClientSecret)
	r.Add(o.RefreshToken)
	r.Add(o.FileRefreshToken)
	c := &Client{
		base:      o.BaseURL,
		hc:        hc,
		userAgent: o.UserAgent,
		pacer:     newPacer(o.RatePerSecond, o.RatePerMinute, log),
		log:       log,
		redact:    r,
		timeout:   o.RequestTimeout,
		maxWait:   o.MaxRetryWait,
		maxHint:   o.MaxHintWait,
		retryBase: o.RetryBase,
		maxBody:   o.MaxBody,
		budget:    semaphore.NewWeighted(bodyBudget),
		storage:   o.StorageClient,
	}
	if c.storage == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableCompression = true // gzip is decoded by Download, whatever the headers say
		c.storage = &http.Client{Transport: tr}
	}
	c.tokens = newTokens(c, o)
	hc.CheckRedirect = c.checkRedirect
	return c
}

// Request is one call of the API.
type Request struct {
	Stream   string     // for metrics; "" outside a stream
	Op       string     // operationId, for logs and metrics
	Category string     // x-ratelimit-category, for pacing
	Path     string     // below BaseURL, placeholders already expanded
	Query    url.Values // nil for none
	JSON     []byte     // the body of a POST (Post only)
}

// Get sends an authenticated GET, retrying what is transient, and returns
// a body that is valid JSON.
func (c *Client) Get(ctx context.Context, r Request) (*Reply, error) {
	return c.send(ctx, call{Request: r, method: http.MethodGet})
}

// Post sends an authenticated POST of r.JSON (Content-Type
// application/json) under the same pacing and retry policy as Get, and
// returns a body that is valid JSON. Only idempotent-enough POSTs use it
// (creating an analytics report: a retried create makes a second report,
// never a second copy of data).
func (c *Client) Post(ctx context.Context, r Request) (*Reply, error) {
	return c.send(ctx, call{Request: r, method: http.MethodPost})
}

// Authenticate obtains an access token now (unless one is still valid), so
// that rejected credentials are one clear error before any output.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.tokens.token(ctx)
	return err
}

// Scopes returns the OAuth scopes the token holds, as the token endpoint
// listed them (space- or comma-separated); known is false before
// Authenticate or when the endpoint did not say.
func (c *Client) Scopes() (scopes []string, known bool) {
	sc := c.tokens.scopes()
	scopes = strings.FieldsFunc(sc, func(r rune) bool { return r == ' ' || r == ',' })
	return scopes, len(scopes) > 0
}

// Stats returns how many HTTP requests were sent (token requests included)
// and how many of them were retries.
// Stats returns how many HTTP requests were sent to Pinterest's API (token
// requests included) and how many of them were retries; downloads of
// pre-signed URLs are counted apart (Downloads).
func (c *Client) Stats() (requests, retries int64) { return c.requests.Load(), c.retries.Load() }

// Downloads returns how many download attempts were sent to storage hosts.
func (c *Client) Downloads() int64 { return c.downloads.Load() }

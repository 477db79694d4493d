// Command fake-pinterest serves the fake Pinterest API v5 of package fixtures
// on a loopback port, for `make demo`, the benchmarks and end-to-end tests.
//
//	fake-pinterest --size medium --ready-file /tmp/fake.url --expect-json /tmp/expect.json
//
// It prints its base URL (http://127.0.0.1:PORT/v5) on stderr, writes it to
// --ready-file once listening, and stops on SIGINT or SIGTERM.
//
// The async report API's pre-signed URLs point at a second listener, the
// download host (--download-addr; its URL is on stderr); --report-* flags set
// fixtures.ReportOptions (polls, URL lifetime and uses, fail-once, gzip).
//
// Outside /v5, on the same loopback listener, POST /__admin/mutate?seed=N changes
// the data as time passes between two syncs (Dataset.Mutate) and POST
// /__admin/expect answers the record counts a sync must emit (Dataset.Expect);
// see adminHandler.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tap-pinterest/tap-pinterest/fixtures"
	"github.com/tap-pinterest/tap-pinterest/tap/atomicfile"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fake-pinterest:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fake-pinterest", flag.ContinueOnError)
	var (
		addr         = fs.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
		seed         = fs.Int64("seed", 1, "dataset seed")
		size         = fs.String("size", "small", "dataset size: small, medium, large or bench")
		latency      = fs.Duration("latency", 0, "latency added to every response, e.g. 50ms")
		faultSpec    = fs.String("faults", "", "faults to inject, e.g. RateLimit30:every=7,Server503HTML:prob=0.05,Truncated:op=ads/list:times=2")
		rateLimits   = fs.Bool("rate-limits", false, "enforce Pinterest's per-category rate limits (per minute) and 100 requests/second")
		clientID     = fs.String("client-id", fixtures.DemoClientID, "OAuth client id")
		clientSecret = fs.String("client-secret", fixtures.DemoClientSecret, "OAuth client secret")
		refreshToken = fs.String("refresh-token", fixtures.DemoRefreshToken, "initially valid refresh token")
		rotateStrict = fs.Bool("rotate-strict", false, "invalidate older refresh tokens once a newer one is used")
		refreshTTL   = fs.Duration("refresh-token-ttl", 60*24*time.Hour, "lifetime of issued refresh tokens")
		readyFile    = fs.String("ready-file", "", "write the base URL to this file once listening")
		expectJSON   = fs.String("expect-json", "", "write the expected complete-sync record counts per stream to this file")
		expectStart  = fs.String("expect-start", "", "first analytics day of --expect-json (default: 89 days ago, as the tap)")
		expectEnd    = fs.String("expect-end", "", "last analytics day of --expect-json (default: yesterday)")
		validate     = fs.Bool("validate-requests", false, "check requests against the OpenAPI description; violations are logged on exit")
		logRequests  = fs.Bool("log-requests", false, "log every request on stderr")
		historyDays  = fs.Int("history-days", 0, "days of analytics history (default: the size's, e.g. 120 for small; 914 reaches the report API's limit)")
		downloadAddr = fs.String("download-addr", "127.0.0.1:0", "listen address of the report download host (the pre-signed URLs)")
		polls        = fs.Int("report-polls", 0, "polls of each report that answer IN_PROGRESS before it is FINISHED")
		urlTTL       = fs.Duration("report-url-ttl", 5*time.Minute, "lifetime of a report's download URL")
		urlUses      = fs.Int("report-url-uses", 0, "downloads one URL serves before it expires (0 = any within its lifetime)")
		failOnce     = fs.String("report-fail-once", "", "reports that fail once, e.g. CAMPAIGN:EXPIRED,ADVERTISER:2024-01-31 (level, start date, ad account id, status)")
		gzipMode     = fs.String("report-gzip", "none", "report downloads: none, encoding (Content-Encoding: gzip) or object (a .json.gz file)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	sz, err := fixtures.SizeByName(*size)
	if err != nil {
		return err
	}
	faults, err := fixtures.ParseFaults(*faultSpec)
	if err != nil {
		return fmt.Errorf("--faults: %w", err)
	}
	if *historyDays > 0 {
		sz.AnalyticsDays = *historyDays
	}
	reports, err := reportOptions(*polls, *urlTTL, *urlUses, *failOnce, *gzipMode)
	if err != nil {
		return err
	}
	dl, err := net.Listen("tcp", *downloadAddr)
	if err != nil {
		return err
	}
	reports.DownloadURL = "http://" + dl.Addr().String()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	now := time.Now().UTC()
	d := fixtures.NewDataset(*seed, sz, now)
	opts := fixtures.Options{
		ClientID: *clientID, ClientSecret: *clientSecret, RefreshToken: *refreshToken,
		Latency: *latency, Faults: faults, RotateStrict: *rotateStrict, RefreshTokenTTL: *refreshTTL,
		ValidateRequests: *validate, Seed: *seed, Reports: reports,
	}
	if *rateLimits {
		opts.RateLimits = fixtures.DefaultRateLimits
		opts.UniversalPerSecond = fixtures.DefaultUniversalPerSecond
	}
	fake := fixtures.NewHandler(d, opts)
	defer fake.Close()

	if *expectJSON != "" {
		if err := writeExpect(*expectJSON, d, now, *expectStart, *expectEnd); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var handler = withAdmin(fake, adminHandler(d, time.Now))
	if *logRequests {
		handler = logged(handler)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String() + "/v5"
	fmt.Fprintf(os.Stderr, "fake-pinterest: serving the %s dataset (seed %d) at %s; report downloads at %s\n", sz.Name, *seed, base, reports.DownloadURL)
	if *readyFile != "" {
		if err := atomicfile.Write(*readyFile, []byte(base+"\n"), 0o600); err != nil {
			return err
		}
	}

	dlSrv := &http.Server{Handler: fake.DownloadHandler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	go func() { errc <- dlSrv.Serve(dl) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fake.Close() // wake up sleeping Slow faults
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if err := dlSrv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	counts, _ := json.Marshal(fake.CountByOp())
	fmt.Fprintf(os.Stderr, "fake-pinterest: stopped; requests per operation %s; faults %v; %d report downloads (%d with an Authorization header)\n",
		counts, fake.FaultCounts(), len(fake.Downloads()), fake.DownloadsWithAuthorization())
	if v := fake.ContractViolations(); len(v) > 0 {
		fmt.Fprintf(os.Stderr, "fake-pinterest: %d contract violations:\n", len(v))
		for _, line := range v {
			fmt.Fprintln(os.Stderr, "  "+line)
		}
	}
	return nil
}

// reportOptions builds the report API's options from the flags.
func reportOptions(polls int, urlTTL time.Duration, urlUses int, failOnce, gzipMode string) (fixtures.ReportOptions, error) {
	o := fixtures.ReportOptions{Polls: polls, URLTTL: urlTTL, URLUses: urlUses}
	var err error
	if o.FailOnce, err = fixtures.ParseReportMatches(failOnce); err != nil {
		return o, fmt.Errorf("--report-fail-once: %w", err)
	}
	if o.Gzip, err = fixtures.ParseGzipMode(gzipMode); err != nil {
		return o, fmt.Errorf("--report-gzip: %w", err)
	}
	return o, nil
}

// writeExpect writes the record counts per stream of a complete sync of every
// entity status over the analytics window [start, end]:
//
//	{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD", "statuses": [...], "counts": {stream: n},
//	 "tap_config": {"start_date": ..., "end_date": ..., "entity_statuses": [...]}}
//
// tap_config holds the tap settings under which the counts hold.
func writeExpect(path string, d *fixtures.Dataset, now time.Time, start, end string) error {
	s, e := fixtures.DefaultAnalyticsRange(now) // what the tap reads with no start_date and no state
	var err error
	if start != "" {
		if s, err = time.Parse(time.DateOnly, start); err != nil {
			return fmt.Errorf("--expect-start: %w", err)
		}
	}
	if end != "" {
		if e, err = time.Parse(time.DateOnly, end); err != nil {
			return fmt.Errorf("--expect-end: %w", err)
		}
	}
	x := d.Expect(fixtures.ExpectQuery{Start: s, End: e, CountsOnly: true})
	out, err := json.MarshalIndent(map[string]any{
		"start":    s.Format(time.DateOnly),
		"end":      e.Format(time.DateOnly),
		"statuses": fixtures.EntityStatuses,
		"counts":   x.Counts,
		"tap_config": map[string]any{
			"start_date":      s.Format(time.DateOnly),
			"end_date":        e.Format(time.DateOnly),
			"entity_statuses": fixtures.EntityStatuses,
		},
	}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(out, '\n'), 0o600)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		fmt.Fprintf(os.Stderr, "%s %s %s %d %v\n", start.Format(time.TimeOnly), r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Microsecond))
	})
}

// Command tap-pinterest is a Singer tap for the Pinterest API v5.
//
// Stdout carries only Singer messages; logs go to stderr. Exit codes: 0 on
// success, 1 when the sync (or a stream of it) failed, 2 for bad input
// (flags, config, catalog, state), 128+N when stopped by signal N.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap"
	"github.com/tap-pinterest/tap-pinterest/tap/logging"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

// Stamped by `make` (-ldflags -X main.commit=... -X main.date=...), with
// tap.Version. A build without them (go install ...@v0.2.0, go build) takes
// the version from the module's build info instead, when it has a real one.
var (
	commit string
	date   string
)

func init() {
	if commit != "" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := moduleVersion(bi.Main.Version); v != "" {
			tap.Version = v
		}
	}
}

// moduleVersion returns the version of a build info's main module without
// its "v": set by `go install <module>/cmd/tap-pinterest@v0.2.0` (and, since
// Go 1.24, by go build in a tagged checkout). None for a development build:
// "(devel)", or a v0.0.0 pseudo-version (nothing tagged), where the default
// in tap.Version says more.
func moduleVersion(v string) string {
	if v == "" || v == "(devel)" || strings.HasPrefix(v, "v0.0.0-") {
		return ""
	}
	return strings.TrimPrefix(v, "v")
}

// versionLine is the output of --version.
func versionLine() string {
	var extra []string
	switch {
	case commit != "" && date != "":
		extra = append(extra, "commit "+commit+" of "+date)
	case commit != "":
		extra = append(extra, "commit "+commit)
	}
	extra = append(extra, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return fmt.Sprintf("tap-pinterest version %s (%s)\n", tap.Version, strings.Join(extra, ", "))
}

func main() {
	// With SIGPIPE notified, a write to a closed stdout returns EPIPE instead
	// of killing the process, so the tap can say that the target is gone.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP) // SIGHUP: the terminal or SSH session closed
	ctx, cancel := context.WithCancel(context.Background())
	var got atomic.Value
	go func() {
		sig := <-sigs
		got.Store(sig)
		fmt.Fprintf(os.Stderr, "INFO received %s: stopping; writing the records fetched so far and a final STATE\n", sig)
		cancel()
		// A last resort: the sync stops within a few seconds; never hang.
		time.AfterFunc(5*time.Second, func() {
			fmt.Fprintln(os.Stderr, "CRITICAL did not stop within 5 seconds of the signal; exiting")
			os.Exit(exitSignal(sig))
		})
	}()
	// Keep the heap small whatever the volume (GOMEMLIMIT overrides): the
	// tap holds at most a few response bodies and chunks of output at once.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(40 << 20)
	}
	stopProfile := startCPUProfile(os.Getenv("TAP_PINTEREST_CPU_PROFILE"))
	code := run(ctx, os.Args, os.Stdout, os.Stderr, os.Environ())
	stopProfile()
	if sig, ok := got.Load().(os.Signal); ok && code != 2 {
		code = exitSignal(sig)
	}
	os.Exit(code)
}

// startCPUProfile starts a CPU profile into path, if set (for profiling:
// TAP_PINTEREST_CPU_PROFILE=cpu.out), and returns what stops it and closes
// the file. main calls that itself: deferred calls do not run on os.Exit.
func startCPUProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
		if err != nil {
			err = errors.Join(err, f.Close())
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "WARNING no CPU profile: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "WARNING CPU profile %s: %v\n", path, err)
		}
	}
}

func exitSignal(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

// retryBase is the client's first backoff interval; 0 is its default (1 s).
// The in-process tests lower it, since their fault injection retries a lot.
var retryBase time.Duration

// run is the whole program, testable in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	redact := &logging.Redactor{}
	level := new(slog.LevelVar)
	level.Set(levelFrom(environ))
	log := logging.NewLogger(stderr, level, redact)
	app := &cli.App{
		Name:            "tap-pinterest",
		Usage:           "Singer tap for the Pinterest API v5",
		Version:         tap.Version,
		HideHelpCommand: true,
		// Our own --help and --version: urfave/cli's are package globals that
		// concurrent runs (the tests) would race on.
		HideHelp:    true,
		HideVersion: true,
		Writer:      stderr,
		ErrWriter:   stderr,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "config", Aliases: []string{"c"}, Usage: "config `FILE` (JSON); may repeat, later files win"},
			&cli.StringFlag{Name: "catalog", Usage: "catalog `FILE` selecting streams and fields"},
			&cli.StringFlag{Name: "properties", Aliases: []string{"p"}, Usage: "legacy alias of --catalog"},
			&cli.StringFlag{Name: "state", Aliases: []string{"s"}, Usage: "state `FILE` from a previous run"},
			&cli.BoolFlag{Name: "discover", Aliases: []string{"d"}, Usage: "print the catalog and exit (no network)"},
			&cli.BoolFlag{Name: "about", Usage: "describe the tap, its capabilities and settings"},
			&cli.StringFlag{Name: "format", Usage: "format of --about: text, json or markdown", Value: "text"},
			&cli.BoolFlag{Name: "test", Usage: "check the credentials with one cheap call per API family (--test=schema: print the SCHEMA messages only)"},
			&cli.BoolFlag{Name: "test-schema", Hidden: true},
			&cli.StringFlag{Name: "log-level", Usage: "debug, info, warning or error (also TAP_PINTEREST_LOG_LEVEL)"},
			&cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print the version"},
			&cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help"},
		},
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &tap.UsageError{Msg: err.Error() + " (see tap-pinterest --help)"}
		},
		Action: func(c *cli.Context) error {
			if c.Bool("help") {
				return cli.ShowAppHelp(c)
			}
			if c.Bool("version") {
				_, err := io.WriteString(stdout, versionLine())
				return err
			}
			if c.NArg() > 0 {
				return &tap.UsageError{Msg: fmt.Sprintf("unexpected argument %q (see tap-pinterest --help)", c.Args().First())}
			}
			if l := c.String("log-level"); l != "" {
				lv, ok := parseLevel(l)
				if !ok {
					return &tap.UsageError{Msg: fmt.Sprintf("--log-level %q: use debug, info, warning or error", l)}
				}
				level.Set(lv)
			}
			return action(c, stdout, log, redact, environ)
		},
	}
	norm, err := normaliseArgs(args)
	if err == nil {
		err = app.RunContext(ctx, norm)
	}
	if err == nil {
		return 0
	}
	var ue *tap.UsageError
	if errors.As(err, &ue) {
		log.Log(context.Background(), logging.LevelCritical, ue.Msg)
		return 2
	}
	if errors.Is(err, context.Canceled) {
		log.Warn("stopped before the sync finished; the last STATE covers every record written, so a run with it resumes without loss")
		return 1
	}
	var se *tap.StreamError
	if errors.As(err, &se) {
		// The error says which streams stopped and why ("stream X stopped:
		// …"); this adds only what it means for the next run.
		log.Log(context.Background(), logging.LevelCritical, se.Error()+"; a stopped stream's bookmark stays where its data stops, so the next run picks it up")
		return 1
	}
	log.Log(context.Background(), logging.LevelCritical, err.Error())
	return 1
}

// normaliseArgs maps the Meltano SDK's optional-value flag: --test=schema
// (print the SCHEMA messages, so that a target can create its tables) and
// --test=all (the credentials check, as --test). Any other value is an error.
func normaliseArgs(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == "--test=schema":
			a = "--test-schema"
		case a == "--test=all" || a == "--test=true":
			a = "--test"
		case strings.HasPrefix(a, "--test="):
			return nil, &tap.UsageError{Msg: fmt.Sprintf("%s: --test takes no value, or =all (check the credentials) or =schema (print the SCHEMA messages)", a)}
		}
		out = append(out, a)
	}
	return out, nil
}

func levelFrom(environ []string) slog.Level {
	for _, key := range []string{"TAP_PINTEREST_LOG_LEVEL", "TAP_PINTEREST_LOGLEVEL", "LOGLEVEL"} {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, key+"="); ok {
				if l, ok := parseLevel(v); ok {
					return l
				}
			}
		}
	}
	return logging.LevelInfo
}

func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return logging.LevelDebug, true
	case "info", "":
		return logging.LevelInfo, true
	case "warning", "warn":
		return logging.LevelWarning, true
	case "error", "critical":
		return slog.LevelError, true
	}
	return 0, false
}

func action(c *cli.Context, stdout io.Writer, log *slog.Logger, redact *logging.Redactor, environ []string) error {
	if c.Bool("about") {
		switch c.String("format") {
		case "json":
			b, err := tap.AboutJSON()
			if err != nil {
				return err
			}
			_, err = stdout.Write(b)
			return err
		case "markdown":
			_, err := io.WriteString(stdout, tap.AboutMarkdown())
			return err
		case "text", "":
			_, err := io.WriteString(stdout, tap.AboutText())
			return err
		default:
			return &tap.UsageError{Msg: fmt.Sprintf("--format %q: use text, json or markdown", c.String("format"))}
		}
	}
	// --config ENV (the Meltano SDK's convention) reads the settings from
	// TAP_PINTEREST_* variables alone, as no --config does.
	paths := slices.DeleteFunc(c.StringSlice("config"), func(p string) bool { return p == "ENV" })
	if c.Bool("discover") {
		// Discovery needs no credentials; a config only narrows the analytics columns.
		var cfg *tap.Config
		if len(paths) > 0 {
			loaded, err := tap.LoadConfig(paths, environ)
			if err != nil {
				if !errors.Is(err, tap.ErrMissingSetting) {
					return err
				}
			} else {
				cfg = loaded
			}
		}
		cat, err := tap.Discover(cfg)
		if err != nil {
			return err
		}
		if cfg != nil {
			if err := markScopes(c.Context, cfg, cat, log, redact); err != nil {
				return err
			}
		}
		b, err := json.MarshalIndent(cat, "", "  ")
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	cfg, err := tap.LoadConfig(paths, environ)
	if err != nil {
		var ue *tap.UsageError
		if len(paths) == 0 && errors.As(err, &ue) {
			return &tap.UsageError{Msg: "no --config and no TAP_PINTEREST_* variables with the credentials: " + ue.Msg + " (see tap-pinterest --about)"}
		}
		return err
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	client, err := newClient(cfg, log, redact, 0)
	if err != nil {
		return err
	}
	if c.Bool("test") {
		return tap.Check(c.Context, client, log)
	}
	var cat *catalog.Catalog
	catPath := c.String("catalog")
	if catPath == "" {
		catPath = c.String("properties")
	}
	if catPath != "" {
		b, err := os.ReadFile(catPath)
		if err != nil {
			return &tap.UsageError{Msg: fmt.Sprintf("catalog file %s cannot be read: %v; run tap-pinterest --discover > catalog.json to make one", catPath, unwrapPath(err))}
		}
		cat, err = catalog.Parse(b)
		if err != nil {
			return &tap.UsageError{Msg: fmt.Sprintf("catalog file %s: %v; run tap-pinterest --discover > catalog.json to make a fresh one", catPath, err)}
		}
	}
	state := &tap.State{Bookmarks: map[string]*tap.Bookmark{}}
	if p := c.String("state"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return &tap.UsageError{Msg: fmt.Sprintf("state file %s cannot be read: %v; omit --state for a full sync", p, unwrapPath(err))}
		}
		state, err = tap.ParseState(b, p)
		if err != nil {
			return err
		}
		for _, w := range state.Warnings {
			log.Warn(w)
		}
	}
	sel, err := tap.Select(cat, cfg)
	if err != nil {
		var ue *tap.UsageError
		if errors.As(err, &ue) && catPath != "" {
			return &tap.UsageError{Msg: fmt.Sprintf("catalog file %s: %s", catPath, ue.Msg)}
		}
		return err
	}
	if w := state.CheckSelected(sel, c.String("state")); w != "" {
		log.Warn(w)
	}
	if c.Bool("test-schema") {
		return tap.WriteSchemas(singer.NewWriter(stdout), sel)
	}
	if len(sel.Streams) == 0 {
		log.Warn("the catalog selects no stream: nothing to sync (mark streams \"selected\": true in its metadata)")
	}
	syncer, err := tap.NewSyncer(cfg, client, log, sel, state, tap.Options{})
	if err != nil {
		var ue *tap.UsageError
		if errors.As(err, &ue) && c.String("state") != "" {
			return &tap.UsageError{Msg: strings.Replace(ue.Msg, "state:", "state file "+c.String("state")+":", 1)}
		}
		return err
	}
	start := time.Now()
	w := singer.NewWriter(stdout)
	err = syncer.Run(c.Context, w)
	reqs, retries := client.Stats()
	counts := syncer.Counts()
	names := make([]string, 0, len(counts))
	var total int64
	for n, v := range counts {
		names = append(names, fmt.Sprintf("%s=%d", n, v))
		total += v
	}
	sort.Strings(names)
	detail := ""
	if len(names) > 0 {
		detail = " (" + strings.Join(names, " ") + ")"
	}
	unread := ""
	if g := syncer.Gaps(); len(g) > 0 {
		unread = fmt.Sprintf("; NOT READ (older than Pinterest serves): %s", strings.Join(g, "; "))
	}
	if k := syncer.Skipped(); len(k) > 0 {
		unread += fmt.Sprintf("; SKIPPED: %s", strings.Join(k, "; "))
	}
	log.Info(fmt.Sprintf("sync finished in %s: %d records%s, %d requests, %d retries%s", time.Since(start).Round(time.Millisecond), total, detail, reqs, retries, unread))
	return err
}

// newClient builds the Pinterest client of a config, starting from the
// newest refresh token kept in refresh_token_file. maxWait > 0 caps the
// retries (discovery's one token request).
func newClient(cfg *tap.Config, log *slog.Logger, redact *logging.Redactor, maxWait time.Duration) (*pinterest.Client, error) {
	fileToken := ""
	if cfg.RefreshTokenFile != "" {
		tok, err := tap.LoadRefreshTokenFile(cfg.RefreshTokenFile)
		if err != nil {
			return nil, err
		}
		if tok != "" {
			redact.Add(tok)
			fileToken = tok
			log.Info("using the newest refresh token, kept in refresh_token_file", "file", cfg.RefreshTokenFile)
		}
	}
	redact.AddBasic(cfg.ClientID, cfg.ClientSecret)
	redact.Add(cfg.RefreshToken)
	opts := cfg.ClientOptions()
	opts.FileRefreshToken = fileToken
	opts.RetryBase = retryBase
	if maxWait > 0 {
		opts.MaxRetryWait = maxWait
	}
	return pinterest.NewClient(opts, log, redact), nil
}

// markScopes asks the token endpoint which scopes the token holds (one
// request, only with refresh_token_file set, so that a rotated refresh token
// is kept) and marks the streams it may not read not selected by default.
// Any failure leaves the catalog as it is, with a warning.
func markScopes(ctx context.Context, cfg *tap.Config, cat *catalog.Catalog, log *slog.Logger, redact *logging.Redactor) error {
	if cfg.RefreshTokenFile == "" {
		log.Info("discovery did not check the token's OAuth scopes (that takes refresh_token_file, to keep the refresh token Pinterest may rotate); a selected stream whose scope the token lacks stops the run")
		return nil
	}
	client, err := newClient(cfg, log, redact, 5*time.Second)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := client.Authenticate(ctx); err != nil {
		log.Warn(fmt.Sprintf("discovery could not ask Pinterest which OAuth scopes the token holds (%v); every stream keeps its default selection", err))
		return nil
	}
	if held, ok := client.Scopes(); ok {
		if line := tap.MarkScopes(cat, held, cfg.Streams()); line != "" {
			log.Warn("streams " + line)
		}
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

package main

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// hostileCase is a misbehaving answer to the boards listing, in front of
// the fake, which answers everything else.
type hostileCase struct {
	name  string
	serve func(w http.ResponseWriter)
}

var hostileCases = []hostileCase{
	{"endless body", func(w http.ResponseWriter) {
		endless(w, `{"items":[`, `{"id":"1","name":"again and again"},`)
	}},
	{"gzip bomb", func(w http.ResponseWriter) {
		w.Header().Set("Content-Encoding", "gzip")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		endless(zw, `{"items":[`, "          ")
		_ = zw.Close()
	}},
}

// endless writes prefix, then unit until the client goes away.
func endless(w io.Writer, prefix, unit string) {
	_, _ = io.WriteString(w, prefix)
	chunk := []byte(strings.Repeat(unit, (64<<10)/len(unit)))
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// hostileResult is one hostile run: its peak RSS, and whether the tap
// stopped the boards stream with the expected error and exit 1.
type hostileResult struct {
	name   string
	maxRSS int64
	wall   time.Duration
	ok     bool
	detail string
}

// runHostile runs a full sync of a small dataset whose boards listing
// answers with c, and measures the tap's peak RSS.
func runHostile(tapBin, outDir string, c hostileCase) (_ hostileResult, err error) {
	res := hostileResult{name: c.name}
	srv := fixtures.NewServer(fixtures.NewDataset(1, fixtures.Small, time.Now().UTC()), fixtures.Options{})
	defer srv.Close()
	u, err := url.Parse(srv.URL())
	if err != nil {
		return res, err
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/boards") {
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		c.serve(w)
	}))
	defer hs.Close()
	name := "hostile-" + strings.ReplaceAll(c.name, " ", "-")
	cfg := filepath.Join(outDir, name+".config.json")
	if err := os.WriteFile(cfg, []byte(fixtures.DemoConfig(hs.URL+u.Path, `,"max_retry_wait_seconds":5`)), 0o600); err != nil {
		return res, err
	}
	logPath := filepath.Join(outDir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, logf.Close()) }()
	cmd := exec.Command(tapBin, "--config", cfg)
	cmd.Stdout, cmd.Stderr = io.Discard, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	hwm := watchPeakRSS(cmd.Process.Pid) // the tap's own peak, not the bench's (see watchPeakRSS)
	runErr := cmd.Wait()
	res.wall = time.Since(start)
	res.maxRSS = hwm()
	if cmd.ProcessState == nil {
		return res, fmt.Errorf("%s: %w", name, runErr)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && res.maxRSS == 0 {
		res.maxRSS = ru.Maxrss * 1024
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		return res, err
	}
	want := "stream boards: GET /boards: the response is larger than 256 MiB"
	res.ok = cmd.ProcessState.ExitCode() == 1 && strings.Contains(string(log), want)
	res.detail = fmt.Sprintf("exit %d", cmd.ProcessState.ExitCode())
	if res.ok {
		res.detail += ", boards stopped at 256 MiB"
	} else {
		res.detail += fmt.Sprintf(", without %q (see %s)", want, logPath)
	}
	return res, nil
}

// runHostiles runs every hostile case.
func runHostiles(tapBin, outDir string) ([]hostileResult, error) {
	var out []hostileResult
	for _, c := range hostileCases {
		fmt.Printf("   hostile: %s ...\n", c.name)
		r, err := runHostile(tapBin, outDir, c)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// hostileRows renders the hostile runs; the bound is 64 MB of peak RSS.
func hostileRows(rs []hostileResult) string {
	var b strings.Builder
	fmt.Fprintln(&b, "\nhostile server (a small full sync; the boards listing misbehaves):")
	for _, r := range rs {
		verdict := "ok"
		if !r.ok || r.maxRSS >= 64e6 {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, "  %-14s peak RSS %5.1f MB (bound 64 MB), %s in %s: %s\n", r.name, float64(r.maxRSS)/1e6, r.detail, r.wall.Round(100*time.Millisecond), verdict)
	}
	return b.String()
}

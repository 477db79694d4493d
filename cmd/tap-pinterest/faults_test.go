package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

var chaos = flag.Bool("chaos", false, "run the long fault-injection suite (make chaos)")

// faultClass is one row of the fault suite: a kind of trouble Pinterest or
// the network causes, injected by the fake.
type faultClass struct {
	name   string
	faults []fixtures.Fault
	config string // extra config members
}

func faultClasses(scale int) []faultClass {
	ms := time.Millisecond
	classes := []faultClass{
		{name: "429 code 30 (Retry-After)", faults: []fixtures.Fault{{Kind: fixtures.RateLimit30, Every: 4, RetryAfter: 50 * ms}}},
		{name: "429 'Retry after N seconds'", faults: []fixtures.Fault{{Kind: fixtures.RetryAfterMessage, Every: 5, RetryAfter: time.Second}}},
		{name: "400 'Retry after N seconds'", faults: []fixtures.Fault{{Kind: fixtures.RetryAfterMessage, Every: 6, Status: 400, RetryAfter: time.Second}}},
		{name: "500 JSON body", faults: []fixtures.Fault{{Kind: fixtures.Server500JSON, Every: 3}}},
		{name: "503 HTML body", faults: []fixtures.Fault{{Kind: fixtures.Server503HTML, Every: 3}}},
		{name: "body cut, connection closed", faults: []fixtures.Fault{{Kind: fixtures.Truncated, Every: 4}}},
		{name: "body cut, response ended", faults: []fixtures.Fault{{Kind: fixtures.TruncatedClean, Every: 4}}},
		{name: "connection reset", faults: []fixtures.Fault{{Kind: fixtures.ConnReset, Every: 4}}},
		{name: "timeout (slow answer)", faults: []fixtures.Fault{{Kind: fixtures.Slow, Every: 7, Times: 2 * scale, Delay: 3 * time.Second}}, config: `,"request_timeout_seconds":1`},
		// A token Pinterest stops accepting mid-run: one refresh and one retry
		// cure it. (Two 401s in a row on one request are a real auth failure.)
		{name: "401 mid-run", faults: []fixtures.Fault{
			{Kind: fixtures.Unauthorized401, Op: "ads/list", Times: 1}, {Kind: fixtures.Unauthorized401, Op: "boards/list_pins", Times: 1},
			{Kind: fixtures.Unauthorized401, Op: "campaigns/analytics", Times: 1}, {Kind: fixtures.Unauthorized401, Op: "board_sections/list", Times: 1}}},
		{name: "200 with HTML body", faults: []fixtures.Fault{{Kind: fixtures.NonJSON200, Every: 5}}},
		{name: "token endpoint 503", faults: []fixtures.Fault{{Kind: fixtures.Server503HTML, Op: "oauth/token", Times: 2}}},
	}
	var all []fixtures.Fault
	for _, c := range classes {
		for _, f := range c.faults {
			if f.Kind == fixtures.Slow {
				continue // timeouts alone are slow; they have their own row
			}
			if f.Op == "" {
				f.Every, f.Prob, f.Times = 0, 0.04, 0
			}
			all = append(all, f)
		}
	}
	return append(classes, faultClass{name: "all together (4% each)", faults: all})
}

// TestFaultSuite runs the full sync against the fake with each fault class
// alone and all together, and compares every run with a fault-free one:
// nothing may be missing and nothing duplicated. It writes its table to
// bin/fault-report.txt (make test prints it).
func TestFaultSuite(t *testing.T) {
	t.Parallel()
	size, scale := fixtures.Small, 1
	if *chaos {
		size, scale = fixtures.Medium, 3
	}
	now := time.Now().UTC()
	dir := t.TempDir()
	type row struct {
		name                                            string
		requests, faults, retries, records, lost, dupes int
		wall                                            time.Duration
		code                                            int
	}
	runClass := func(c faultClass) (row, output, string) {
		srv := fixtures.NewServer(fixtures.NewDataset(3, size, now), fixtures.Options{Faults: c.faults, Seed: 5})
		defer srv.Close()
		cfg := write(t, dir, strings.NewReplacer(" ", "_", "'", "", "(", "", ")", "", ",", "").Replace(c.name)+".json", quickConfig(srv.URL(), c.config+`,"max_retry_wait_seconds":120`))
		start := time.Now()
		r := runTap(t, nil, "--config", cfg)
		wall := time.Since(start)
		o := parseOutput(t, r.stdout)
		rw := row{name: c.name, wall: wall, code: r.code, retries: strings.Count(r.stderr, "WARNING retrying in ") + strings.Count(r.stderr, "refreshing it and retrying")}
		for _, n := range srv.CountByOp() {
			rw.requests += n
		}
		for _, n := range srv.FaultCounts() {
			rw.faults += n
		}
		if s := secretsIn(r.stdout+r.stderr, srv.CurrentRefreshToken()); len(s) > 0 {
			t.Errorf("%s: secrets %v printed", c.name, s)
		}
		return rw, o, r.stderr
	}
	base, baseOut, baseErr := runClass(faultClass{name: "no faults"})
	if base.code != 0 {
		t.Fatalf("fault-free run failed (exit %d):\n%s", base.code, baseErr)
	}
	for _, k := range baseOut.keys {
		base.records += len(k)
	}
	classes := faultClasses(scale)
	rows := make([]row, len(classes))
	// The classes run side by side: most of their time is spent waiting out retries.
	t.Run("classes", func(t *testing.T) {
		for i, c := range classes {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				rw, o, stderr := runClass(c)
				for stream, want := range baseOut.keys {
					got := o.keys[stream]
					rw.records += len(got)
					missing, _, dups := fixtures.DiffKeys(got, want)
					rw.lost += len(missing)
					rw.dupes += len(dups)
					if len(missing) > 0 || len(dups) > 0 {
						t.Errorf("%s lost %d records %v and duplicated %d %v", stream, len(missing), headOf(missing), len(dups), headOf(dups))
					}
				}
				if rw.code != 0 {
					t.Errorf("exit %d; stderr:\n%s", rw.code, tail(stderr, 10))
				}
				if rw.faults == 0 {
					t.Errorf("no fault was injected; the row proves nothing")
				}
				rows[i] = rw
			})
		}
	})
	rows = append([]row{base}, rows...)
	var b strings.Builder
	fmt.Fprintf(&b, "Fault suite (%s dataset): each class alone and all together, compared with the fault-free run\n", size.Name)
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "class\trequests\tfaults injected\tretries\trecords\trecords lost\tduplicated\texit\twall time")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.name, r.requests, r.faults, r.retries, r.records, r.lost, r.dupes, r.code, r.wall.Round(10*time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
	if err := os.MkdirAll("../../bin", 0o755); err == nil {
		_ = os.WriteFile(filepath.Join("../../bin", "fault-report.txt"), []byte(b.String()), 0o644)
	}
}

func headOf(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

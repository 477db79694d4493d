// Command demo shows tap-pinterest end to end with no credentials: it serves
// the fake Pinterest API of fixtures/ on loopback, runs the real tap binary
// against it (a full sync, then an incremental one after the fake's data
// changed), checks every record count against what the fake says a complete
// sync holds, and prints records and API calls per stream next to the
// fewest calls a sync can make.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

func main() {
	tapBin := flag.String("tap", "bin/tap-pinterest", "the tap binary")
	sizeName := flag.String("size", "small", "dataset size: small, medium or large")
	seed := flag.Int64("seed", 1, "dataset seed")
	keep := flag.Bool("keep", false, "keep the working directory (outputs, logs, states) instead of removing it")
	flag.Parse()
	if err := demo(*tapBin, *sizeName, *seed, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func demo(tapBin, sizeName string, seed int64, keep bool) error {
	size, err := fixtures.SizeByName(sizeName)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	srv := fixtures.NewServer(fixtures.NewDataset(seed, size, now), fixtures.Options{})
	defer srv.Close()
	dir, err := os.MkdirTemp("", "tap-pinterest-demo-")
	if err != nil {
		return err
	}
	if !keep { // its outputs take ~17 MB: gone unless asked for
		defer func() { _ = os.RemoveAll(dir) }()
	}
	cfg := filepath.Join(dir, "config.json")
	body := fixtures.DemoConfig(srv.URL(), fmt.Sprintf(`,"refresh_token_file":%q`, filepath.Join(dir, "refresh_token"))) + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return err
	}
	fmt.Printf("Fake Pinterest API (%s dataset, seed %d) at %s\nWorking directory: %s\n\n", size.Name, seed, srv.URL(), dir)

	from, to := fixtures.DefaultAnalyticsRange(now)
	q := fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to, CountsOnly: true}
	want := srv.Expect(q).Counts
	bounds := srv.Dataset().CallLowerBounds(q, 1)

	fmt.Println("1. Full sync: tap-pinterest --config config.json > run1.jsonl")
	r1, err := runTap(tapBin, dir, "run1", "--config", cfg)
	if err != nil {
		return err
	}
	calls := srv.CountByOp()
	ok, err := report(r1, want, calls, bounds, true)
	if err != nil {
		return err
	}

	mut := srv.Dataset().Mutate(seed+1, time.Now().UTC())
	fmt.Printf("\n2. The fake's data changes: %d campaigns, %d ad groups, %d ads updated or added; conversions restated on %d past days.\n",
		mut.Counts["campaigns"], mut.Counts["ad_groups"], mut.Counts["ads"], len(mut.RestatedDates))
	fmt.Println("   Incremental sync: tap-pinterest --config config.json --state state.json > run2.jsonl")
	if err := os.WriteFile(filepath.Join(dir, "state.json"), r1.state, 0o600); err != nil {
		return err
	}
	before := calls
	r2, err := runTap(tapBin, dir, "run2", "--config", cfg, "--state", filepath.Join(dir, "state.json"))
	if err != nil {
		return err
	}
	calls2 := map[string]int{}
	for op, n := range srv.CountByOp() {
		calls2[op] = n - before[op]
	}
	if _, err := report(r2, nil, calls2, nil, false); err != nil {
		return err
	}
	for _, s := range []string{"campaigns", "ad_groups", "ads", "audiences", "customer_lists", "catalogs"} {
		if r2.counts[s] < mut.Counts[s] || r2.counts[s] >= r1.counts[s] {
			fmt.Printf("   %s: %d records on the incremental run, but %d changed: WRONG\n", s, r2.counts[s], mut.Counts[s])
			ok = false
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "state2.json"), r2.state, 0o600)
	if keep {
		fmt.Printf("\nState after run 2: %s/state2.json; logs: %s/run1.log, %s/run2.log\n", dir, dir, dir)
	} else {
		fmt.Println("\nThe working directory was removed (make demo DEMO_FLAGS=--keep keeps it).")
	}
	if !ok {
		return fmt.Errorf("record counts differ from what the fake says a complete sync holds")
	}
	fmt.Println("\nDemo OK: every stream holds exactly the records the fake API has, at the fewest API calls possible.")
	return nil
}

type run struct {
	counts map[string]int
	state  []byte
	wall   time.Duration
}

// runTap runs the binary, keeps its output, and counts records per stream;
// stderr goes to name.log, warnings and errors also to the terminal.
func runTap(bin, dir, name string, args ...string) (_ run, err error) {
	out, err := os.Create(filepath.Join(dir, name+".jsonl"))
	if err != nil {
		return run{}, err
	}
	// Both files are written: a failed Close can mean lost data.
	defer func() { err = errors.Join(err, out.Close()) }()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return run{}, err
	}
	defer func() { err = errors.Join(err, logf.Close()) }()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return run{}, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return run{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run{}, fmt.Errorf("start %s (run `make build` first): %w", bin, err)
	}
	// logged gets the first error writing the log, once stderr is drained.
	logged := make(chan error, 1)
	go func() {
		var werr error
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if _, err := fmt.Fprintln(logf, line); err != nil && werr == nil {
				werr = err
			}
			if strings.HasPrefix(line, "WARNING") || strings.HasPrefix(line, "CRITICAL") {
				fmt.Println("   tap:", line)
			}
		}
		logged <- werr
	}()
	r := run{counts: map[string]int{}}
	sc := bufio.NewScanner(io.TeeReader(stdout, out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte(`{"type":"RECORD"`)):
			var m struct{ Stream string }
			if err := json.Unmarshal(line, &m); err != nil {
				return r, fmt.Errorf("stdout line is not a Singer message: %w", err)
			}
			r.counts[m.Stream]++
		case bytes.HasPrefix(line, []byte(`{"type":"STATE"`)):
			var m struct{ Value json.RawMessage }
			if err := json.Unmarshal(line, &m); err != nil {
				return r, err
			}
			r.state = m.Value
		}
	}
	// Wait closes the pipes, so stderr must be read to its end first.
	if err := <-logged; err != nil {
		return r, fmt.Errorf("writing %s: %w", logf.Name(), err)
	}
	if err := cmd.Wait(); err != nil {
		return r, fmt.Errorf("%s failed (%v); see %s", bin, err, logf.Name())
	}
	r.wall = time.Since(start)
	return r, nil
}

// report prints records and calls per stream; with want it checks counts.
func report(r run, want map[string]int, calls, bounds map[string]int, full bool) (bool, error) {
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	ok := true
	if full {
		fmt.Fprintln(tw, "stream\trecords\texpected\tAPI calls\tlower bound\t")
	} else {
		fmt.Fprintln(tw, "stream\trecords\tAPI calls\t")
	}
	totalRec, totalCalls, totalBound := 0, 0, 0
	for _, s := range catalog.Streams {
		op := s.Op
		got := r.counts[s.Name]
		totalRec += got
		totalCalls += calls[op]
		if full {
			mark := ""
			if got != want[s.Name] {
				mark = "  <-- MISMATCH"
				ok = false
			}
			totalBound += bounds[op]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", s.Name, got, want[s.Name], calls[op], bounds[op], mark)
		} else {
			fmt.Fprintf(tw, "%s\t%d\t%d\t\n", s.Name, got, calls[op])
		}
	}
	if full {
		fmt.Fprintf(tw, "total\t%d\t\t%d\t%d\t\n", totalRec, totalCalls, totalBound)
	} else {
		fmt.Fprintf(tw, "total\t%d\t%d\t\n", totalRec, totalCalls)
	}
	if err := tw.Flush(); err != nil {
		return false, err
	}
	fmt.Printf("   (%d token refresh; %s wall time)\n", calls["oauth/token"], r.wall.Round(time.Millisecond))
	return ok, nil
}

// Command bench measures tap-pinterest against a scaled fake Pinterest API
// on loopback, side by side with the incumbent (Airbyte's source-pinterest),
// and prints one table:
//
//  1. throughput: a full sync to /dev/null with pacing off, the tap on one
//     core (GOMAXPROCS=1): records/s per CPU second, output MB/s, CPU
//     seconds, peak RSS, API calls per stream next to their lower bound;
//  2. latency: the same sync with 50 ms added to every response and the
//     tap's default (Pinterest's published) rate limits: wall time next to
//     what those limits allow;
//  3. the incumbent on the same fake through an intercepting proxy
//     (fixtures/bench/incumbent/run.sh), with a time cap.
//
// Nothing leaves the machine: the fake listens on 127.0.0.1 only.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

func main() {
	tapBin := flag.String("tap", "bin/tap-pinterest", "the tap binary")
	sizeName := flag.String("size", "bench", "dataset size: small, medium, large or bench")
	smoke := flag.Bool("smoke", false, "a short run for CI: medium size, no incumbent")
	latency := flag.Duration("latency", 50*time.Millisecond, "added to every response in the latency run (0 skips the run)")
	incumbent := flag.Bool("incumbent", true, "also run the incumbent (needs PyPI the first time)")
	incumbentTimeout := flag.Duration("incumbent-timeout", 15*time.Minute, "time cap of the incumbent's read")
	out := flag.String("out", "bin/bench", "directory for the reports")
	hostileOnly := flag.Bool("hostile", false, "run only the hostile-server rows (an endless body, a gzip bomb)")
	withBackfill := flag.Bool("backfill", true, "also run the 914-day backfill (async reports) and its 1 GB report")
	onlyBackfill := flag.Bool("only-backfill", false, "run only the backfill row")
	bigDays := flag.Int("big-report-days", 100, "days of the Bench dataset's ads in the large report (100: about 1.5 GB)")
	flag.Parse()
	if *onlyBackfill {
		if err := runBackfill(*tapBin, *out, *sizeName, *smoke, *bigDays); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *hostileOnly {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "bench failed:", err)
			os.Exit(1)
		}
		rs, err := runHostiles(*tapBin, *out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench failed:", err)
			os.Exit(1)
		}
		fmt.Print(hostileRows(rs))
		return
	}
	if *smoke {
		*sizeName, *incumbent, *latency = "medium", false, 20*time.Millisecond
	}
	if err := bench(*tapBin, *sizeName, *latency, *incumbent, *incumbentTimeout, *out, *smoke); err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
	if *withBackfill && !*smoke {
		if err := runBackfill(*tapBin, *out, *sizeName, *smoke, *bigDays); err != nil {
			fmt.Fprintln(os.Stderr, "bench failed:", err)
			os.Exit(1)
		}
	}
}

// narrowColumns are a typical dashboard's analytics columns.
const narrowColumns = `["SPEND_IN_MICRO_DOLLAR","PAID_IMPRESSION","TOTAL_IMPRESSION","TOTAL_CLICKTHROUGH","CTR","CPC_IN_MICRO_DOLLAR","CPM_IN_MICRO_DOLLAR","TOTAL_ENGAGEMENT","TOTAL_CONVERSIONS","TOTAL_CHECKOUT","TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR","CAMPAIGN_NAME"]`

// result of one run of the tap.
type result struct {
	records int64
	bytes   int64
	wall    time.Duration
	cpu     time.Duration
	maxRSS  int64 // bytes
	calls   map[string]int
}

func bench(tapBin, sizeName string, latency time.Duration, withIncumbent bool, incTimeout time.Duration, outDir string, smoke bool) error {
	size, err := fixtures.SizeByName(sizeName)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	now := time.Now().UTC()
	data := fixtures.NewDataset(1, size, now)
	from, to := fixtures.DefaultAnalyticsRange(now)
	q := fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: from, End: to, CountsOnly: true}
	want := data.Expect(q).Counts
	bounds := data.CallLowerBounds(q, 1)
	var wantTotal int
	for _, n := range want {
		wantTotal += n
	}
	fmt.Printf("Workload: %s dataset: %d ad accounts × %d campaigns, %d ad groups, %d ads; %d boards, %d pins; %d records in a complete sync.\n\n",
		size.Name, size.AdAccounts, size.CampaignsPerAccount, size.AdGroupsPerAccount, size.AdsPerAccount, size.Boards, size.Boards*size.PinsPerBoard, wantTotal)

	// 1. Throughput: pacing off, one core.
	fmt.Println("1/3 throughput run (pacing off, GOMAXPROCS=1) ...")
	thr, err := runOnce(tapBin, data, fixtures.Options{}, outDir, "throughput", `,"rate_limit_ads_analytics":1000000,"rate_limit_ads_read":1000000,"rate_limit_org_read":1000000,"rate_limit_org_analytics":1000000,"rate_limit_per_second":100000,"max_concurrency":4`, "GOMAXPROCS=1")
	if err != nil {
		return err
	}
	if thr.records != int64(wantTotal) {
		return fmt.Errorf("the throughput run emitted %d records, the complete sync holds %d", thr.records, wantTotal)
	}
	// The same with a dozen analytics columns: records of ~0.4 KB instead of
	// ~3 KB show the per-record cost apart from the per-byte cost.
	fmt.Println("   and again with 12 analytics columns ...")
	narrow, err := runOnce(tapBin, data, fixtures.Options{}, outDir, "throughput-narrow", `,"rate_limit_ads_analytics":1000000,"rate_limit_ads_read":1000000,"rate_limit_org_read":1000000,"rate_limit_org_analytics":1000000,"rate_limit_per_second":100000,"max_concurrency":4,"analytics_columns":`+narrowColumns, "GOMAXPROCS=1")
	if err != nil {
		return err
	}

	// 2. Latency: Pinterest's limits, 50 ms per response.
	var lat *result
	if latency > 0 {
		fmt.Printf("2/3 latency run (%s per response, default rate limits) ...\n", latency)
		r, err := runOnce(tapBin, data, fixtures.Options{Latency: latency}, outDir, "latency", "", "")
		if err != nil {
			return err
		}
		lat = &r
	}

	fmt.Println("   and against a hostile server ...")
	hostile, err := runHostiles(tapBin, outDir)
	if err != nil {
		return err
	}

	// 3. The incumbent.
	var inc *incumbentResult
	if withIncumbent {
		fmt.Printf("3/3 incumbent (Airbyte source-pinterest through mitmproxy, capped at %s) ...\n", incTimeout)
		r, err := runIncumbent(data, outDir, incTimeout)
		if err != nil {
			fmt.Println("   the incumbent could not be run:", err)
		} else {
			inc = r
		}
	}
	text, err := report(size, thr, narrow, lat, latency, inc, want, bounds)
	if err != nil {
		return err
	}
	text += keywordsLine(data, thr, want, bounds)
	text += hostileRows(hostile)
	fmt.Print(text)
	reportPath := filepath.Join(outDir, "report.txt")
	if err := os.WriteFile(reportPath, []byte(text), 0o644); err != nil {
		return fmt.Errorf("saving the report: %w", err)
	}
	fmt.Printf("\nReport saved to %s\n", reportPath)
	if smoke {
		// CI keeps the claims honest on a small scale.
		for op, b := range bounds {
			if thr.calls[op] != b {
				return fmt.Errorf("%s: %d calls, lower bound %d", op, thr.calls[op], b)
			}
		}
	}
	return nil
}

// runOnce serves data in this process and runs the tap as a child, its
// stdout counted and discarded.
func runOnce(tapBin string, data *fixtures.Dataset, opts fixtures.Options, outDir, name, extraConfig, env string) (_ result, err error) {
	srv := fixtures.NewServer(data, opts)
	defer srv.Close()
	return runOn(tapBin, srv, outDir, name, extraConfig, env)
}

// runOn runs the tap as a child against srv, with args after --config.
func runOn(tapBin string, srv *fixtures.Server, outDir, name, extraConfig, env string, args ...string) (_ result, err error) {
	cfg := filepath.Join(outDir, name+".config.json")
	body := fixtures.DemoConfig(srv.URL(), extraConfig)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return result{}, err
	}
	logf, err := os.Create(filepath.Join(outDir, name+".log"))
	if err != nil {
		return result{}, err
	}
	defer func() { err = errors.Join(err, logf.Close()) }()
	cmd := exec.Command(tapBin, append([]string{"--config", cfg}, args...)...)
	cmd.Env = os.Environ()
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("start %s (run make build first): %w", tapBin, err)
	}
	var r result
	hwm := watchPeakRSS(cmd.Process.Pid)
	br := bufio.NewReaderSize(stdout, 1<<20)
	recordPrefix := []byte(`{"type":"RECORD"`)
	atLineStart := true
	for {
		line, err := br.ReadSlice('\n')
		r.bytes += int64(len(line))
		if atLineStart && bytes.HasPrefix(line, recordPrefix) {
			r.records++
		}
		atLineStart = err == nil // a line longer than the buffer comes in pieces
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			return r, err
		}
	}
	if err := cmd.Wait(); err != nil {
		return r, fmt.Errorf("%s run failed: %v (see %s)", name, err, logf.Name())
	}
	r.wall = time.Since(start)
	r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	r.maxRSS = hwm()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && r.maxRSS == 0 {
		// Without /proc: getrusage's figure, which on Linux also counts the
		// parent's memory the child shared until its exec.
		r.maxRSS = ru.Maxrss * 1024
	}
	r.calls = srv.CountByOp()
	return r, nil
}

// watchPeakRSS follows the process's VmHWM (its peak resident set since
// exec, /proc/<pid>/status) every 20 ms; the returned func stops and gives
// the last value in bytes (0 without /proc). getrusage's ru_maxrss of a
// child is not used: on Linux it includes this process's own RSS, which
// the child shared between fork and exec (the fake's data: 200 MB).
func watchPeakRSS(pid int) func() int64 {
	var peak atomic.Int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		defer close(stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil && kb*1024 > peak.Load() {
							peak.Store(kb * 1024)
						}
					}
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}

type incumbentResult struct {
	Partial       bool           `json:"partial"`
	WallSeconds   float64        `json:"wall_seconds"`
	CPUSeconds    float64        `json:"cpu_seconds"`
	PeakRSSKB     int64          `json:"peak_rss_kb"`
	Records       map[string]int `json:"records_by_stream"`
	RecordsTotal  int            `json:"records_total"`
	RequestsTotal int            `json:"requests_total"`
	requestsByOp  map[string]int // counted by the fake, the same yardstick as ours
	// projectedCalls: what its complete sync would need (one call per entity
	// per 30-day window), and how long its 300/min budget makes that.
	projectedCalls int
	projectedWall  time.Duration
}

func runIncumbent(data *fixtures.Dataset, outDir string, timeout time.Duration) (_ *incumbentResult, err error) {
	srv := fixtures.NewServer(data, fixtures.Options{})
	defer srv.Close()
	dir, err := filepath.Abs(filepath.Join(outDir, "incumbent"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("bash", "fixtures/bench/incumbent/run.sh")
	// Without start_date the incumbent keeps every entity (with one it drops
	// those not updated since, and their analytics), so both sides read the
	// same entities; its analytics window is today-89 either way.
	cmd.Env = append(os.Environ(), "FAKE_URL="+srv.URL(), "OUT_DIR="+dir, fmt.Sprintf("INCUMBENT_TIMEOUT=%d", int(timeout.Seconds())), "INCUMBENT_START_DATE=none")
	logPath := filepath.Join(outDir, "incumbent.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, logf.Close()) }()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v (see %s)", err, logPath)
	}
	b, err := os.ReadFile(filepath.Join(dir, "incumbent.json"))
	if err != nil {
		return nil, err
	}
	var r incumbentResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("incumbent.json: %w", err)
	}
	r.requestsByOp = srv.CountByOp()
	// Its complete sync: lists as it pages them (observed or at least ours),
	// analytics one call per entity (ACTIVE, PAUSED, ARCHIVED: all it can ask
	// for) per 30-day window, 3 windows for 90 days.
	now := data.Now()
	from, to := fixtures.DefaultAnalyticsRange(now)
	c := data.Expect(fixtures.ExpectQuery{Statuses: []string{"ACTIVE", "PAUSED", "ARCHIVED"}, Start: from, End: to, CountsOnly: true}).Counts
	accounts := len(data.AdAccountIDs())
	analytics := 3 * (c["campaigns"] + c["ad_groups"] + c["ads"] + accounts)
	r.projectedCalls = analytics + 3
	for op, n := range r.requestsByOp {
		if !strings.HasSuffix(op, "analytics") {
			r.projectedCalls += n
		}
	}
	r.projectedWall = time.Duration(float64(analytics) / 300 * float64(time.Minute))
	return &r, nil
}

// rateBound is the least wall time Pinterest's published limits allow for
// the calls made: per category calls ÷ (limit per minute ÷ 60), and all
// calls ÷ 100 per second; the largest wins.
func rateBound(calls map[string]int) (time.Duration, string) {
	perCat := map[string]int{}
	total := 0
	seen := map[string]bool{} // the report streams share their operations
	for _, s := range catalog.Streams {
		if !seen[s.Op] {
			seen[s.Op] = true
			perCat[s.Category] += calls[s.Op]
			total += calls[s.Op]
		}
	}
	limits := map[string]float64{"ads_analytics": 300, "ads_read": 1000, "org_read": 1000, "org_analytics": 60}
	best, why := time.Duration(float64(total)/100*float64(time.Second)), "universal 100/s"
	for cat, n := range perCat {
		d := time.Duration(float64(n) / (limits[cat] / 60) * float64(time.Second))
		if d > best {
			best, why = d, fmt.Sprintf("%s: %d calls at %.0f/min", cat, n, limits[cat])
		}
	}
	return best, why
}

// report renders the benchmark's tables, for the terminal and report.txt.
func report(size fixtures.Size, thr, narrow result, lat *result, latency time.Duration, inc *incumbentResult, want, bounds map[string]int) (string, error) {
	var w strings.Builder
	fmt.Fprintf(&w, "\n== tap-pinterest benchmark (%s dataset) ==\n\n", size.Name)
	tw := tabwriter.NewWriter(&w, 2, 4, 2, ' ', tabwriter.AlignRight)
	mb := float64(thr.bytes) / 1e6
	fmt.Fprintln(tw, "metric\ttap-pinterest\tincumbent\tratio\t")
	row := func(name, ours, theirs, ratio string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", name, ours, theirs, ratio)
	}
	ratio := func(a, b float64) string {
		if a == 0 || b == 0 || math.IsNaN(a/b) {
			return "–"
		}
		return fmt.Sprintf("%.1f×", a/b)
	}
	incRecs, incCPU, incWall, incRSS, incCalls := 0.0, 0.0, 0.0, 0.0, 0.0
	incNote := "–"
	if inc != nil {
		incRecs, incCPU, incWall, incRSS = float64(inc.RecordsTotal), inc.CPUSeconds, inc.WallSeconds, float64(inc.PeakRSSKB*1024)
		for _, n := range inc.requestsByOp {
			incCalls += float64(n)
		}
		incNote = ""
		if inc.Partial {
			incNote = " (capped, partial)"
		}
	}
	rps := float64(thr.records) / thr.cpu.Seconds()
	incRps := 0.0
	if incCPU > 0 {
		incRps = incRecs / incCPU
	}
	row("records", fmt.Sprint(thr.records), fmtF(incRecs, "%.0f")+incNote, "")
	row("records per CPU second (one core)", fmt.Sprintf("%.0f", rps), fmtF(incRps, "%.0f"), ratio(rps, incRps))
	row("output MB/s (per CPU second)", fmt.Sprintf("%.1f", mb/thr.cpu.Seconds()), "–", "")
	row("  same, 12 analytics columns: records/CPU s", fmt.Sprintf("%.0f (%.1f MB/s)", float64(narrow.records)/narrow.cpu.Seconds(), float64(narrow.bytes)/1e6/narrow.cpu.Seconds()), "–", "")
	row("CPU seconds", fmt.Sprintf("%.2f", thr.cpu.Seconds()), fmtF(incCPU, "%.2f"), ratio(incCPU, thr.cpu.Seconds()))
	row("wall time, pacing off", thr.wall.Round(10*time.Millisecond).String(), fmtF(incWall, "%.1fs"), ratio(incWall, thr.wall.Seconds()))
	// Peak RSS of every tap run (getrusage of the child), the largest first:
	// the README's memory figure is that one, on this dataset.
	peak := max(thr.maxRSS, narrow.maxRSS)
	if lat != nil {
		peak = max(peak, lat.maxRSS)
	}
	row("peak RSS, largest of the tap's runs", fmt.Sprintf("%.1f MB", float64(peak)/1e6), fmtF(incRSS/1e6, "%.1f MB"), ratio(incRSS, float64(peak)))
	row("  one core, pacing off", fmt.Sprintf("%.1f MB", float64(thr.maxRSS)/1e6), "", "")
	row("  one core, 12 analytics columns", fmt.Sprintf("%.1f MB", float64(narrow.maxRSS)/1e6), "", "")
	if lat != nil {
		row("  all cores, latency + rate limits", fmt.Sprintf("%.1f MB", float64(lat.maxRSS)/1e6), "", "")
	}
	totalCalls, totalBound := 0, 0
	for _, s := range benchStreams() {
		totalCalls += thr.calls[s.Op]
		totalBound += bounds[s.Op]
	}
	row("API calls", fmt.Sprint(totalCalls), fmtF(incCalls, "%.0f")+incNote, ratio(incCalls, float64(totalCalls)))
	if inc != nil {
		row("API calls for a complete sync", fmt.Sprint(totalCalls), fmt.Sprintf("%d (projected)", inc.projectedCalls), ratio(float64(inc.projectedCalls), float64(totalCalls)))
		ourAnalytics := 0
		for _, s := range benchStreams() {
			if strings.HasSuffix(s.Name, "analytics") {
				ourAnalytics += thr.calls[s.Op]
			}
		}
		incAnalytics := inc.projectedCalls
		for op, n := range inc.requestsByOp {
			if !strings.HasSuffix(op, "analytics") {
				incAnalytics -= n
			}
		}
		row("  of which analytics", fmt.Sprint(ourAnalytics), fmt.Sprint(incAnalytics), ratio(float64(incAnalytics), float64(ourAnalytics)))
		row("  its wall time at its own 300/min analytics budget", "", inc.projectedWall.Round(time.Minute).String(), "")
	}
	if lat != nil {
		b, why := rateBound(lat.calls)
		row(fmt.Sprintf("wall time, %s latency + rate limits", latency), lat.wall.Round(100*time.Millisecond).String(), "–", "")
		row("  least the rate limits allow", fmt.Sprintf("%s (%s)", b.Round(100*time.Millisecond), why), "", fmt.Sprintf("%.2f× the bound", lat.wall.Seconds()/b.Seconds()))
	}
	if err := tw.Flush(); err != nil {
		return "", err
	}
	fmt.Fprintln(&w)
	tw = tabwriter.NewWriter(&w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stream\trecords\tAPI calls\tlower bound\tincumbent calls\tincumbent records\t")
	for _, s := range benchStreams() {
		ic, ir := "–", "–"
		if inc != nil {
			ic, ir = fmt.Sprint(inc.requestsByOp[s.Op]), fmt.Sprint(inc.Records[s.Name])
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t\n", s.Name, want[s.Name], thr.calls[s.Op], bounds[s.Op], ic, ir)
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t\t\t\n", totalCalls, totalBound)
	if err := tw.Flush(); err != nil {
		return "", err
	}
	if inc != nil && inc.Partial {
		fmt.Fprintln(&w, "\nThe incumbent was stopped at its time cap: its figures cover only what it did until then.")
	}
	return w.String(), nil
}

// keywordsLine compares the keywords calls with the incumbent's way of
// reading them, one ad group a call.
func keywordsLine(data *fixtures.Dataset, thr result, want, bounds map[string]int) string {
	incumbent := 0
	for _, a := range data.AdAccountIDs() {
		_, n := data.KeywordCalls(a, fixtures.TapStatuses)
		incumbent += n
	}
	calls := thr.calls["keywords/get"]
	return fmt.Sprintf("\nkeywords: %d calls (lower bound %d) for %d keywords of %d ad groups and their ad accounts;"+
		" one ad group a call, as the incumbent reads them, takes %d calls (%s) and misses the account-level keywords\n",
		calls, bounds["keywords/get"], want["keywords"], incumbent, incumbent, fmtF(float64(incumbent)/float64(max(1, calls)), "%.1f× more"))
}

// benchStreams are the rows a run without a catalog syncs (the report
// streams are not selected by default; the backfill row measures reports).
func benchStreams() []*catalog.Stream {
	var out []*catalog.Stream
	for i := range catalog.Streams {
		if catalog.Streams[i].SelectedByDefault {
			out = append(out, &catalog.Streams[i])
		}
	}
	return out
}

func fmtF(v float64, f string) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf(f, v)
}

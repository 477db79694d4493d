package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
	"github.com/tap-pinterest/tap-pinterest/tap"
)

// The 914-day backfill: the four ads analytics streams from a start_date
// 913 days back, the days older than the synchronous 90 read through async
// reports. One run counts the calls (creates, polls, downloads) against the
// fewest reports the history needs and against the incumbent's; another
// measures peak RSS while the tap reads one report of more than 1 GB.

var backfillStreams = []string{"ad_account_analytics", "campaign_analytics", "ad_group_analytics", "ad_analytics"}

// selectionCatalog writes a catalog that selects only names.
func selectionCatalog(path string, names ...string) error {
	cat, err := tap.Discover(nil)
	if err != nil {
		return err
	}
	for i := range cat.Streams {
		e := &cat.Streams[i]
		for j := range e.Metadata {
			if len(e.Metadata[j].Breadcrumb) == 0 {
				e.Metadata[j].Metadata["selected"] = slices.Contains(names, e.Stream)
			}
		}
	}
	b, err := json.Marshal(cat)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

type backfillResult struct {
	days                                  int
	creates, polls, downloads             int
	reportBound, incumbentReports         int
	records, want                         int64
	wall                                  time.Duration
	rss                                   int64
	bigReportBytes                        int64
	bigRSS                                int64
	bigWall                               time.Duration
	analyticsCalls, analyticsBoundMinutes int
}

const noPacing = `,"rate_limit_ads_analytics":1000000,"rate_limit_ads_read":1000000,"rate_limit_org_read":1000000,"rate_limit_org_analytics":1000000,"rate_limit_per_second":100000`

// backfill runs both measurements. calls: a dataset of size with 914 days
// of history; big: the Bench dataset, one report of about bigDays days of
// its ads.
func backfill(tapBin, outDir string, size fixtures.Size, bigDays int) (backfillResult, error) {
	var r backfillResult
	size.AnalyticsDays = 914
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	data := fixtures.NewDataset(1, size, now)
	cat := filepath.Join(outDir, "backfill.catalog.json")
	if err := selectionCatalog(cat, backfillStreams...); err != nil {
		return r, err
	}
	start := today.AddDate(0, 0, -913)
	r.days = 913
	cfg := fmt.Sprintf(`,"start_date":%q,"analytics_columns":%s%s`, start.Format(time.DateOnly), narrowColumns, noPacing)
	srv := fixtures.NewServer(data, fixtures.Options{})
	res, err := runOn(tapBin, srv, outDir, "backfill", cfg, "", "--catalog", cat)
	srv.Close()
	if err != nil {
		return r, err
	}
	r.records, r.wall, r.rss = res.records, res.wall, res.maxRSS
	want := data.Expect(fixtures.ExpectQuery{Statuses: fixtures.TapStatuses, Start: start, End: today.AddDate(0, 0, -1), CountsOnly: true}).Counts
	for _, s := range backfillStreams {
		r.want += int64(want[s])
	}
	if r.records != r.want {
		return r, fmt.Errorf("the backfill run emitted %d records, the history holds %d", r.records, r.want)
	}
	r.creates, r.polls, r.downloads = res.calls[catalog.ReportCreateOp], res.calls[catalog.ReportGetOp], len(srv.Downloads())
	accounts := len(data.AdAccountIDs())
	// The fewest: one report per level, account and 186 days of the 824
	// days before the synchronous 90, each created, polled once, downloaded.
	r.reportBound = accounts * len(backfillStreams) * ceilDiv(913-89, 186)
	// The incumbent reads the same history only through its report streams,
	// 185-day slices from today-913: as many reports, each polled every 10 s.
	r.incumbentReports = accounts * len(backfillStreams) * ceilDiv(914, 185)
	for op, n := range res.calls {
		if strings.HasSuffix(op, "analytics") || op == catalog.ReportCreateOp || op == catalog.ReportGetOp || op == catalog.ReadyStateOp {
			r.analyticsCalls += n
		}
	}
	r.analyticsBoundMinutes = ceilDiv(r.analyticsCalls, 300)
	return r, bigReport(tapBin, outDir, today, bigDays, &r)
}

// bigReport reads one PIN_PROMOTION report of bigDays days of the Bench
// dataset's first ad account and records its size and the tap's peak RSS.
func bigReport(tapBin, outDir string, today time.Time, bigDays int, r *backfillResult) error {
	size := fixtures.Bench
	size.AnalyticsDays = 914
	data := fixtures.NewDataset(1, size, time.Now().UTC())
	cat := filepath.Join(outDir, "bigreport.catalog.json")
	if err := selectionCatalog(cat, "ad_analytics"); err != nil {
		return err
	}
	start := today.AddDate(0, 0, -89-bigDays)
	cfg := fmt.Sprintf(`,"start_date":%q,"end_date":%q,"ad_account_ids":[%q]%s`, start.Format(time.DateOnly),
		today.AddDate(0, 0, -90).Format(time.DateOnly), data.AdAccountIDs()[0], noPacing)
	srv := fixtures.NewServer(data, fixtures.Options{})
	defer srv.Close()
	res, err := runOn(tapBin, srv, outDir, "bigreport", cfg, "", "--catalog", cat)
	if err != nil {
		return err
	}
	for _, d := range srv.Downloads() {
		r.bigReportBytes = max(r.bigReportBytes, d.Bytes)
	}
	r.bigRSS, r.bigWall = res.maxRSS, res.wall
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// backfillReport renders the backfill's table.
func backfillReport(r backfillResult) (string, error) {
	var w strings.Builder
	fmt.Fprintf(&w, "\n== %d-day backfill of the four ads analytics streams (async reports) ==\n\n", r.days+1)
	tw := tabwriter.NewWriter(&w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\ttap-pinterest\tlower bound\tincumbent\t")
	fmt.Fprintf(tw, "records (every entity and day)\t%d\t%d\t–\t\n", r.records, r.want)
	fmt.Fprintf(tw, "reports created\t%d\t%d\t≥ %d\t\n", r.creates, r.reportBound, r.incumbentReports)
	fmt.Fprintf(tw, "polls\t%d\t%d\t≥ %d (every 10 s)\t\n", r.polls, r.reportBound, r.incumbentReports)
	fmt.Fprintf(tw, "downloads\t%d\t%d\t≥ %d\t\n", r.downloads, r.reportBound, r.incumbentReports)
	fmt.Fprintf(tw, "ads_analytics calls (sync + reports + ready state)\t%d\t\t\t\n", r.analyticsCalls)
	fmt.Fprintf(tw, "  least wall time at 300/min\t%d min\t\t\t\n", r.analyticsBoundMinutes)
	fmt.Fprintf(tw, "wall time, pacing off\t%s\t\t\t\n", r.wall.Round(100*time.Millisecond))
	fmt.Fprintf(tw, "peak RSS\t%.1f MB\t\t\t\n", float64(r.rss)/1e6)
	fmt.Fprintf(tw, "one report of %.2f GB: peak RSS\t%.1f MB\t\t\t\n", float64(r.bigReportBytes)/1e9, float64(r.bigRSS)/1e6)
	fmt.Fprintf(tw, "  its wall time\t%s\t\t\t\n", r.bigWall.Round(100*time.Millisecond))
	if err := tw.Flush(); err != nil {
		return "", err
	}
	return w.String(), nil
}

// runBackfill runs the backfill row (on the medium dataset; small for a
// smoke run) and prints and saves its table.
func runBackfill(tapBin, outDir, _ string, smoke bool, bigDays int) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	size := fixtures.Medium
	if smoke {
		size, bigDays = fixtures.Small, 10
	}
	fmt.Printf("backfill run (%s dataset, 914 days, 12 analytics columns; then one report of %d days of the bench dataset's ads) ...\n", size.Name, bigDays)
	r, err := backfill(tapBin, outDir, size, bigDays)
	if err != nil {
		return err
	}
	text, err := backfillReport(r)
	if err != nil {
		return err
	}
	fmt.Print(text)
	return os.WriteFile(filepath.Join(outDir, "backfill.txt"), []byte(text), 0o644)
}

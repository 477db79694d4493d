package tap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// The asynchronous report API (REFERENCE.md §6): a report is created for a
// partition and a span of days, polled until it is FINISHED, and its
// pre-signed URL downloaded at once and parsed as a stream (an object keyed
// by entity id, each an array of rows), so that memory stays flat however
// large the report. Creates and polls are ads_analytics calls, paced and
// counted like every other; the download goes to a storage host without
// the bearer token.

const (
	// reportsInFlight bounds the reports under way at once in a run
	// (created and not yet read): Pinterest builds them in parallel, and
	// their polls share the ads_analytics quota with everything else.
	reportsInFlight = 8
	// reportRecreates is how many times a report that ends FAILED,
	// EXPIRED, DOES_NOT_EXIST or CANCELLED is created anew.
	reportRecreates = 3
	// reportRefetches is how many times an expired download URL is
	// replaced by polling the report again.
	reportRefetches = 3
	// reportPollMax caps one wait between polls; reportPollTotal is how
	// long a report may stay IN_PROGRESS.
	reportPollMax   = time.Minute
	reportPollTotal = 30 * time.Minute
)

// reportJob is one report: a level, a partition and a span of days.
type reportJob struct {
	p        *plan
	pctx     map[string]string
	path     string
	from, to time.Time
	keep     func(id string) bool // the entities whose rows are written
	part     map[string][]string  // body members of this one of the span's reports
	em       *emitter
	row      []byte // the row being rebuilt with its key, reused
	creates  int
	polls    int
	rows     int
}

func (j *reportJob) String() string {
	return fmt.Sprintf("%s report %s to %s for %s", j.p.s.Report.Level, j.from.Format(time.DateOnly), j.to.Format(time.DateOnly), describeContext(j.p.s, j.pctx))
}

// reportEnded is a report Pinterest gave up on.
type reportEnded struct{ status, message string }

func (e *reportEnded) Error() string {
	if e.message != "" {
		return fmt.Sprintf("the report ended %s (%s)", e.status, e.message)
	}
	return "the report ended " + e.status
}

// runReports reads a stream that only async reports serve, for one
// partition: its whole window, report by report.
func (s *Syncer) runReports(ctx context.Context, p *plan, pctx map[string]string) error {
	from, to, ok, _ := s.window(p, pctx[p.s.Partition])
	if !ok || !p.selected {
		return nil
	}
	// A period's row is read whole: from its first day, where reports reach.
	from = maxTime(p.s.Report.PeriodStart(from), s.today.AddDate(0, 0, -p.s.Report.Window.Back))
	return s.backfill(ctx, p, pctx, from, to, func(string) bool { return true })
}

// backfill reads the days [from, to] of a partition through reports of at
// most the row's Report.Window.Days each, several at once; the bookmark
// moves to the end of each report as soon as it and every older one are
// written, so that an interrupted backfill resumes at the first unfinished
// report. On a failure the later reports are abandoned, and the error says
// where the stream's data stops.
func (s *Syncer) backfill(ctx context.Context, p *plan, pctx map[string]string, from, to time.Time, keep func(string) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	path, err := expand(p.s.Report.Path, pctx)
	if err != nil {
		return err
	}
	spans := p.s.Report.Spans(from, to)
	if _, _, lacking := s.reportValues(p.s); len(lacking) > 0 && p.selected {
		s.unread.add(p.s, lacking, from, to)
	}
	done := make([]chan error, len(spans))
	var wg sync.WaitGroup
	for i, w := range spans {
		done[i] = make(chan error, 1)
		j := &reportJob{p: p, pctx: pctx, path: path, from: w[0], to: w[1], keep: keep}
		wg.Add(1)
		go func() {
			defer wg.Done()
			done[i] <- s.runReport(ctx, j)
		}()
	}
	defer wg.Wait()
	for i, w := range spans {
		if err := <-done[i]; err != nil {
			cancel()
			return fmt.Errorf("%s reports: %s to %s: %w; %s", p.s.Report.Level, w[0].Format(time.DateOnly), w[1].Format(time.DateOnly), err, dataUntil(w[0]))
		}
		if p.selected && !p.fullTable {
			day, err := s.bookmarkDay(ctx, p, w[1])
			if err != nil {
				return err
			}
			s.out.send(ctx, msg{stream: p.s.Name, bookmark: &bookmarkUpdate{s: p.s, partition: pctx[p.s.Partition], value: day}})
		}
	}
	return nil
}

func dataUntil(first time.Time) string {
	return "the data is complete up to " + first.AddDate(0, 0, -1).Format(time.DateOnly) + " and the bookmark stays there; the next run starts again from it"
}

// runReport reads a job's span of days: one report, or one per part of the
// row's Report.Parts, each after the other.
func (s *Syncer) runReport(ctx context.Context, j *reportJob) error {
	select {
	case s.reports <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.reports }()
	j.em = s.newEmitter(j.p)
	defer j.em.flush(ctx)
	for _, part := range s.reportParts(j.p.s) {
		j.part, j.creates, j.polls, j.rows = part, 0, 0, 0
		if err := s.readPart(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// reportParts are the reports of one span of days: the row's
// Report.Parts, or one report per pack of at most Report.PerReport values
// of its packed parameter that the report takes (none: no report).
func (s *Syncer) reportParts(st *catalog.Stream) []map[string][]string {
	r := st.Report
	if r.PerReport == 0 {
		if len(r.Parts) == 0 {
			return []map[string][]string{nil}
		}
		return r.Parts
	}
	name, vals, _ := s.reportValues(st)
	var out []map[string][]string
	for len(vals) > 0 {
		n := min(r.PerReport, len(vals))
		out = append(out, map[string][]string{name: vals[:n:n]})
		vals = vals[n:]
	}
	return out
}

// reportValues splits the values of the row's packed parameter (its
// setting's, or every value the operation accepts) into those the report
// takes and those it lacks.
func (s *Syncer) reportValues(st *catalog.Stream) (name string, taken, lacking []string) {
	for _, prm := range st.Params {
		if prm.PerCall == 0 {
			continue
		}
		for _, v := range s.paramValues(prm) {
			if slices.Contains(st.Report.Accepts, v) {
				taken = append(taken, v)
			} else {
				lacking = append(lacking, v)
			}
		}
		return prm.Name, taken, lacking
	}
	return "", nil, nil
}

// readPart reads one report of the job (its part of the span's reports),
// creating it anew when Pinterest gives up on it, at most reportRecreates
// times.
func (s *Syncer) readPart(ctx context.Context, j *reportJob) error {
	s.reportStats.start()
	for {
		err := s.createAndRead(ctx, j)
		var ended *reportEnded
		if !errors.As(err, &ended) || j.creates > reportRecreates {
			s.reportDone(j, err)
			return err
		}
		s.log.Warn(fmt.Sprintf("%s: %v; creating it again (%d of %d)", j, err, j.creates, reportRecreates))
	}
}

// reportDone logs a report's lifecycle and adds it to the run's summary.
func (s *Syncer) reportDone(j *reportJob, err error) {
	s.reportStats.add(j, err)
	outcome := "read"
	if err != nil {
		outcome = "failed: " + err.Error()
	}
	s.log.Debug(fmt.Sprintf("%s: %s after %d create(s) and %d poll(s), %d rows", j, outcome, j.creates, j.polls, j.rows))
}

// createAndRead creates the report, waits for it and reads it; an expired
// download URL is replaced by polling again.
func (s *Syncer) createAndRead(ctx context.Context, j *reportJob) error {
	token, err := s.createReport(ctx, j)
	if err != nil {
		return err
	}
	for refetch := 0; ; refetch++ {
		link, err := s.pollReport(ctx, j, token)
		if err != nil || link == "" {
			return err
		}
		err = s.client.Download(ctx, link, func(r io.Reader) error { return s.readReport(ctx, j, r) })
		if !errors.Is(err, pinterest.ErrURLExpired) || refetch >= reportRefetches {
			return err
		}
		s.log.Debug(fmt.Sprintf("%s: the download URL expired; asking for a new one", j))
	}
}

// createReport sends the report's request and returns its token.
func (s *Syncer) createReport(ctx context.Context, j *reportJob) (string, error) {
	body, err := json.Marshal(s.reportBody(j))
	if err != nil {
		return "", err
	}
	j.creates++
	var token string
	err = s.call(ctx, j, pinterest.Request{Op: catalog.ReportCreateOp, JSON: body}, func(b []byte) error {
		token, _ = jsonscan.StringValue(jsonscan.Member(b, "token"))
		if token == "" {
			return fmt.Errorf("no report token in Pinterest's answer: %s", snippet(b))
		}
		return nil
	})
	s.log.Debug(fmt.Sprintf("%s: created", j))
	return token, err
}

// reportBody is the create request: the row's parameters as JSON (lists as
// arrays, whole numbers as numbers), the days and the level.
func (s *Syncer) reportBody(j *reportJob) map[string]any {
	m := map[string]any{
		"start_date": j.from.Format(time.DateOnly),
		"end_date":   j.to.Format(time.DateOnly),
		"level":      j.p.s.Report.Level,
	}
	for name, vals := range s.query(j.p.s) {
		prm := paramNamed(j.p.s, name)
		switch {
		case prm.Columns:
			m[name] = reportColumns(j.p.s.Report, s.cfg.Values(prm.Setting))
		case len(vals) != 1 || prm.List:
			m[name] = vals
		default:
			if n, err := strconv.Atoi(vals[0]); err == nil {
				m[name] = n
			} else {
				m[name] = vals[0]
			}
		}
	}
	for name, vals := range j.part {
		m[name] = vals
	}
	return m
}

func paramNamed(st *catalog.Stream, name string) catalog.Param {
	for _, prm := range st.Params {
		if prm.Name == name {
			return prm
		}
	}
	return catalog.Param{}
}

// reportColumns leaves out the columns the report's level does not take.
func reportColumns(r *catalog.Report, cols []string) []string {
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		if !r.Refuses(c) {
			out = append(out, c)
		}
	}
	return out
}

// pollReport asks for the report's status, waiting longer between polls
// (each costs an ads_analytics call), until it is FINISHED: it returns its
// URL ("" for a report without data), or a reportEnded.
func (s *Syncer) pollReport(ctx context.Context, j *reportJob, token string) (string, error) {
	wait, waited := s.reportPoll, time.Duration(0)
	for {
		if err := sleep(ctx, wait); err != nil {
			return "", err
		}
		waited += wait
		j.polls++
		var status, link, message string
		err := s.call(ctx, j, pinterest.Request{Op: catalog.ReportGetOp, Query: url.Values{"token": {token}}}, func(b []byte) error {
			status, _ = jsonscan.StringValue(jsonscan.Member(b, "report_status"))
			link, _ = jsonscan.StringValue(jsonscan.Member(b, "url"))
			message, _ = jsonscan.StringValue(jsonscan.Member(b, "message"))
			return nil
		})
		if err != nil {
			return "", err
		}
		s.log.Debug(fmt.Sprintf("%s: %s (poll %d)", j, status, j.polls))
		switch status {
		case "FINISHED":
			return link, nil
		case "FAILED", "EXPIRED", "DOES_NOT_EXIST", "CANCELLED":
			return "", &reportEnded{status: status, message: message}
		}
		if waited >= reportPollTotal {
			return "", fmt.Errorf("the report is still %s after %s of polling", status, waited.Round(time.Second))
		}
		wait = min(2*wait, reportPollMax)
	}
}

// call sends one report request (a POST when it has a body) through the
// client and hands use the body.
func (s *Syncer) call(ctx context.Context, j *reportJob, r pinterest.Request, use func([]byte) error) error {
	r.Stream, r.Category, r.Path = j.p.s.Name, j.p.s.Category, j.path
	send := s.client.Get
	if r.JSON != nil {
		send = s.client.Post
	}
	rep, err := send(ctx, r)
	if err != nil {
		return err
	}
	defer rep.Release()
	if rep.Body == nil && rep.Size() > 0 { // spooled: far larger than any report status
		return fmt.Errorf("%s %s: an answer of %d bytes is not a report status", r.Op, r.Path, rep.Size())
	}
	return use(rep.Body)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readReport parses a downloaded report as a stream, one row at a time:
// {"<entity id>": [{row}, ...], ...}. The rows of entities keep refuses are
// skipped; the others are written with the id as the first key property.
func (s *Syncer) readReport(ctx context.Context, j *reportJob, r io.Reader) error {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); errors.Is(err, io.EOF) {
		return nil // an empty file: no rows
	} else if err != nil || tok != json.Delim('{') {
		return fmt.Errorf("the report is not a JSON object keyed by entity id (%v)", err)
	}
	var raw json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("reading the report: %w", err)
		}
		id, _ := tok.(string)
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return fmt.Errorf("the report's entry %q is not an array of rows (%v)", id, err)
		}
		keep := j.keep(id)
		for dec.More() {
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("reading the report's rows of %q: %w", id, err)
			}
			if keep {
				if err := s.reportRow(ctx, j, id, raw); err != nil {
					return err
				}
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("reading the report: %w", err)
		}
	}
	_, err := dec.Token()
	if err != nil {
		return fmt.Errorf("reading the report: %w", err)
	}
	return nil
}

// reportRow writes one row: the entity id as the stream's first key
// property, then the row's members but that one and the Omit fields.
func (s *Syncer) reportRow(ctx context.Context, j *reportJob, id string, row []byte) error {
	col := j.p.s.KeyProperties[0]
	b := append(j.row[:0], '{', '"')
	b = append(b, col...)
	b = append(b, '"', ':')
	b = strconv.AppendQuote(b, id)
	err := jsonscan.EachMember(row, func(key, val []byte) error {
		k := string(key)
		if k == col || containsString(j.p.s.Report.Omit, k) {
			return nil
		}
		b = append(b, ',', '"')
		if to, ok := j.p.s.Report.Rename[k]; ok {
			b = append(b, to...)
		} else {
			b = append(b, key...)
		}
		b = append(b, '"', ':')
		b = append(b, val...)
		return nil
	})
	j.row = append(b, '}')
	if err != nil {
		return fmt.Errorf("a row of %q: %w", id, err)
	}
	_, _, ok, err := j.em.conform(j.row, 0, j.pctx)
	if ok {
		j.rows++
		j.em.add(ctx)
	}
	return err
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reportStats summarise the run's reports for the final lines.
type reportStats struct {
	mu                                        sync.Mutex
	inFlight, read, failed, creates, polls, n int
	said                                      string // the last progress line
}

func (r *reportStats) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight++
}

func (r *reportStats) add(j *reportJob, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	if err != nil {
		r.failed++
	} else {
		r.read++
	}
	r.creates += j.creates
	r.polls += j.polls
	r.n += j.rows
}

// line is the run's report summary, "" when no report was made.
func (r *reportStats) line() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.creates == 0 && r.inFlight == 0 {
		return ""
	}
	return fmt.Sprintf("async reports: %d read, %d failed; %d creates and %d polls (ads_analytics calls), %d rows", r.read, r.failed, r.creates, r.polls, r.n)
}

// progress is the progress line of the reports, "" when nothing moved.
func (r *reportStats) progress() string {
	l := r.line()
	r.mu.Lock()
	defer r.mu.Unlock()
	if l == "" || l == r.said {
		return ""
	}
	r.said = l
	return fmt.Sprintf("%s; %d in progress", l, r.inFlight)
}

// unreadValues are the values of a packed parameter (targeting types) that
// the report API does not take at a row's level, and the days of the row
// read through reports: said once per stream at the end of the run, with
// the gaps.
type unreadValues struct {
	mu sync.Mutex
	by map[string]*unreadSpan
}

type unreadSpan struct {
	level    string
	values   []string
	from, to time.Time
}

func (u *unreadValues) add(st *catalog.Stream, values []string, from, to time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.by == nil {
		u.by = map[string]*unreadSpan{}
	}
	x := u.by[st.Name]
	if x == nil {
		u.by[st.Name] = &unreadSpan{level: st.Report.Level, values: values, from: from, to: to}
		return
	}
	x.from, x.to = minTime(x.from, from), maxTime(x.to, to)
}

// lines returns one message per stream, sorted.
func (u *unreadValues) lines() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for name, x := range u.by {
		out = append(out, fmt.Sprintf("%s: %s %s not read from %s to %s: those days are older than the synchronous analytics reach, and Pinterest's async report API does not take %s at level %s",
			name, plural(x.values, "targeting type", "targeting types"), strings.Join(x.values, ", "), x.from.Format(time.DateOnly), x.to.Format(time.DateOnly),
			plural(x.values, "it", "them"), x.level))
	}
	sort.Strings(out)
	return out
}

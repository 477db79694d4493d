package tap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap/bufpool"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

const (
	pageSize   = 250 // the largest page Pinterest serves
	idsPerCall = 250 // the most entity ids an analytics call takes
	// analyticsInFlight bounds the analytics calls under way at once
	// (ads_analytics allows only 5 a second anyway); the memory their
	// bodies take is bounded by the client's body budget.
	analyticsInFlight = 3
	// chunkBytes is how much RECORD output a fetcher hands the writer at once.
	chunkBytes   = 512 << 10
	windowDays   = 90 // the longest analytics date range (end - start ≤ 90 days)
	lookbackDays = 89 // how far back analytics may start: 90 days, one spare for the UTC day boundary
)

// plan is one stream of a run: its table row and what the catalog says.
type plan struct {
	s         *Stream
	selected  bool // records are emitted
	needed    bool // selected, or a parent of a selected stream
	fullTable bool // the catalog asks for FULL_TABLE: bookmarks are neither read nor written
	schema    []byte
	quoted    []byte
	conf      *conformer
}

func (p *plan) bookmarkProperties() []string { return p.s.bookmarkProperties(p.fullTable) }

// Syncer runs one sync.
type Syncer struct {
	cfg    *Config
	client *pinterest.Client
	log    *slog.Logger
	plans  map[string]*plan
	order  []*plan
	start  *State // bookmarks at the start of the run (read-only)
	out    *output
	today  time.Time
	now    time.Time

	clampOnce  sync.Once
	urlTooLong sync.Once
	// sems bound the items of each parent stream whose children run at once
	// (ad accounts, boards, sections): one semaphore per level, so that a
	// parent holding a slot never waits for a slot of its own level.
	sems       map[string]chan struct{}
	deniedOnce sync.Map
	analytics  chan struct{} // analyticsInFlight slots
	failures   failures
}

// Options are the parts of a run that tests change.
type Options struct {
	Now func() time.Time
}

// NewSyncer prepares a sync of the selected streams of cat (every stream when cat is nil).
func NewSyncer(cfg *Config, client *pinterest.Client, log *slog.Logger, sel *Selection, state *State, opt Options) (*Syncer, error) {
	now := time.Now().UTC()
	if opt.Now != nil {
		now = opt.Now().UTC()
	}
	if state == nil {
		state = &State{Bookmarks: map[string]*Bookmark{}}
	}
	s := &Syncer{cfg: cfg, client: client, log: log, plans: map[string]*plan{}, start: state.clone(), now: now,
		today: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC),
		sems:  map[string]chan struct{}{}, analytics: make(chan struct{}, analyticsInFlight)}
	for i := range Streams {
		st := &Streams[i]
		p := &plan{s: st}
		if ss, ok := sel.Streams[st.Name]; ok {
			p.selected = true
			p.schema = ss.Schema
			p.fullTable = ss.FullTable
			c, err := newConformer(st, ss.Schema, ss.Deselected...)
			if err != nil {
				return nil, err
			}
			p.conf = c
			p.quoted = singer.QuoteStream(st.Name)
		}
		s.plans[st.Name] = p
		s.order = append(s.order, p)
		if st.ContextKey != "" {
			s.sems[st.Name] = make(chan struct{}, cfg.MaxConcurrency)
		}
	}
	// A parent is walked when any descendant is selected (children come after parents in the table).
	for i := len(s.order) - 1; i >= 0; i-- {
		p := s.order[i]
		if p.selected {
			p.needed = true
		}
		if p.needed && p.s.Parent != "" {
			s.plans[p.s.Parent].needed = true
		}
	}
	s.out = newOutput(state.clone(), log) // the caller's state is never modified
	return s, nil
}

// Run syncs and writes Singer messages to w. It returns an error that
// names every stream that did not complete; the final STATE covers exactly
// what was written.
func (s *Syncer) Run(ctx context.Context, w *singer.Writer) error {
	// Credentials first: a rejected refresh token is one clear error, before any output.
	if err := s.client.Authenticate(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var schemas []*plan
	for _, p := range s.order {
		if p.selected {
			schemas = append(schemas, p)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.out.run(w, schemas, cancel) }()

	var wg sync.WaitGroup
	for _, p := range s.order {
		if p.s.Parent != "" || !p.needed {
			continue
		}
		wg.Add(1)
		go func(p *plan) {
			defer wg.Done()
			s.runRoot(ctx, p)
		}(p)
	}
	wg.Wait()
	for _, p := range s.order {
		if p.conf == nil {
			continue
		}
		if n, field := p.conf.dropped(); n > 0 {
			s.log.Warn(fmt.Sprintf("%s: Pinterest sent %d values of fields the schema does not declare (e.g. %q); they were left out of the records. A newer tap-pinterest (or make generate) includes them", p.s.Name, n, field))
		}
	}
	close(s.out.ch)
	werr := <-done
	if werr != nil {
		return werr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.failures.err()
}

func (s *Syncer) runRoot(ctx context.Context, p *plan) {
	var err error
	switch p.s.Kind {
	case UserAnalytics:
		err = s.runUserAnalytics(ctx, p)
	case List:
		err = s.runList(ctx, p, map[string]string{})
	}
	if err != nil {
		s.fail(p, err)
	}
}

// fail records that a stream stopped. Other streams go on, unless the
// credentials are bad or the run was cancelled.
func (s *Syncer) fail(p *plan, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.failures.add(p.s.Name, err)
	var ae *pinterest.AuthError
	if errors.As(err, &ae) {
		s.out.abort(err)
	}
}

// expand fills the {placeholders} of a path from the context.
func expand(path string, ctx map[string]string) string {
	for k, v := range ctx {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	return path
}

// skippable says whether an error of a child request means "this parent
// is gone or not ours" (warn and go on) rather than a failure.
func skippable(err error) (int, bool) {
	var ae *pinterest.APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound || ae.Status == http.StatusConflict) {
		return ae.Status, true
	}
	return 0, false
}

// runList pages through a list endpoint, emits its records (when selected),
// runs the per-item children for its items (an ad account's entities, a
// board's sections and pins) and hands the item ids, 250 at a time, to its
// batched children (entity analytics), which run alongside the listing.
func (s *Syncer) runList(ctx context.Context, p *plan, pctx map[string]string) error {
	st := p.s
	account := pctx["ad_account_id"]
	var since int64
	hasSince := false
	if st.Incremental() && p.selected && !p.fullTable {
		if v, ok := s.start.get(st, account); ok {
			since, hasSince = v.(int64), true
		}
	}
	maxSeen := int64(-1)

	// Entity analytics of this list's items run alongside the listing.
	var batchers []*batcher
	var bwg sync.WaitGroup
	for _, child := range Children(st.Name) {
		cp := s.plans[child.Name]
		if !cp.needed || !child.Batched() {
			continue
		}
		b := newBatcher()
		batchers = append(batchers, b)
		bwg.Add(1)
		go func() {
			defer bwg.Done()
			if err := s.runEntityAnalytics(ctx, cp, pctx, b); err != nil {
				s.fail(cp, err)
			}
		}()
	}
	var perItem []*plan
	for _, child := range Children(st.Name) {
		if cp := s.plans[child.Name]; cp.needed && !child.Batched() {
			perItem = append(perItem, cp)
		}
	}
	var cwg sync.WaitGroup
	listErr := func() error {
		q := url.Values{"page_size": {strconv.Itoa(pageSize)}}
		if st.StatusFilter {
			q["entity_statuses"] = s.cfg.EntityStatuses
		}
		path := expand(st.Path, pctx)
		bookmark := ""
		for {
			if bookmark != "" {
				q.Set("bookmark", bookmark)
			}
			rep, err := s.client.Get(ctx, pinterest.Request{Stream: st.Name, Op: st.Op, Category: st.Category, Path: path, Query: q})
			if err != nil {
				return err
			}
			items := jsonscan.Member(rep.Body, "items")
			bookmark, _ = jsonscan.StringValue(jsonscan.Member(rep.Body, "bookmark"))
			var lines []byte
			if p.selected {
				lines = bufpool.Get(len(items) + len(items)/8 + 4096)[:0]
			}
			n := 0
			extracted := singer.FormatTime(time.Now())
			var children []map[string]string
			var rec []byte
			err = jsonscan.EachObject(items, func(b []byte, at int) (int, error) {
				var it item
				end := at
				if p.selected {
					var cerr error
					rec, it, end, cerr = p.conf.conformAt(rec[:0], b, at, pctx)
					var skipped *skippedError
					if errors.As(cerr, &skipped) {
						s.out.warn(cerr.Error())
						return end, nil
					}
					if cerr != nil {
						return end, cerr
					}
				} else {
					var verr error
					if end, verr = jsonscan.SkipValue(b, at); verr != nil {
						return end, verr
					}
					obj := b[at:end]
					it.id, _ = jsonscan.StringValue(jsonscan.Member(obj, "id"))
					if st.Incremental() {
						it.repRaw = jsonscan.Member(obj, st.ReplicationKey)
					}
				}
				if st.Name == "ad_accounts" && !s.wantAccount(it.id) {
					return end, nil
				}
				emit := p.selected
				if st.Incremental() {
					if v, ok := unixValue(it.repRaw); ok {
						maxSeen = max(maxSeen, v)
						if hasSince && v < since {
							emit = false
						}
					}
				}
				if emit {
					lines = singer.AppendRecord(lines, p.quoted, rec, extracted)
					n++
				}
				if it.id != "" {
					for _, b := range batchers {
						b.add(ctx, it.id)
					}
					if st.ContextKey != "" && len(perItem) > 0 {
						cctx := make(map[string]string, len(pctx)+1)
						for k, v := range pctx {
							cctx[k] = v
						}
						cctx[st.ContextKey] = it.id
						children = append(children, cctx)
					}
				}
				return end, nil
			})
			rep.Release() // before waiting on anything: the page was copied into lines and children
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if n > 0 {
				s.out.send(ctx, msg{stream: st.Name, lines: lines, n: n})
			} else {
				bufpool.Put(lines)
			}
			sem := s.sems[st.Name]
			for _, cctx := range children {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
				cwg.Add(1)
				go func(cctx map[string]string) {
					defer cwg.Done()
					defer func() { <-sem }()
					s.runChildren(ctx, perItem, cctx)
				}(cctx)
			}
			if bookmark == "" {
				return nil
			}
		}
	}()
	for _, b := range batchers {
		b.finish(ctx, listErr == nil)
	}
	bwg.Wait()
	cwg.Wait()
	if listErr != nil {
		return listErr
	}
	if st.Incremental() && p.selected && !p.fullTable && maxSeen >= 0 {
		// The largest updated_time seen, never past the run's start: an entity
		// changed during the run is then read again next time.
		s.out.send(ctx, msg{stream: st.Name, bookmark: &bookmarkUpdate{s: st, account: account, value: min(maxSeen, s.now.Unix())}})
	}
	return nil
}

// runChildren runs the per-item children of one parent item, side by side
// (an ad account's campaigns, ad groups, ads and analytics; a board's
// sections and pins). A 403, 404 or 409 means the parent is not readable or
// is gone: a warning, not a failure.
func (s *Syncer) runChildren(ctx context.Context, children []*plan, cctx map[string]string) {
	var wg sync.WaitGroup
	for _, cp := range children {
		wg.Add(1)
		go func(cp *plan) {
			defer wg.Done()
			var err error
			if cp.s.Kind == AdsAnalytics {
				err = s.runAccountAnalytics(ctx, cp, cctx)
			} else {
				err = s.runList(ctx, cp, cctx)
			}
			if err == nil {
				return
			}
			if status, ok := skippable(err); ok {
				if acct := cctx["ad_account_id"]; status == http.StatusForbidden && acct != "" {
					if _, dup := s.deniedOnce.LoadOrStore(acct, true); !dup {
						s.out.warn(fmt.Sprintf("ad account %s is not readable with this token (HTTP 403: %v); its campaigns, ad groups, ads and analytics are skipped: check the user's role on it (Admin, Analyst or Campaign Manager) or leave it out of ad_account_ids", acct, err))
					}
					return
				}
				s.out.warn(fmt.Sprintf("%s skipped for %s: HTTP %d (%v); it was probably deleted during the sync", cp.s.Name, describeContext(cctx), status, err))
				return
			}
			s.fail(cp, fmt.Errorf("%s: %w", describeContext(cctx), err))
		}(cp)
	}
	wg.Wait()
}

func describeContext(ctx map[string]string) string {
	var parts []string
	for _, k := range []string{"ad_account_id", "board_id", "section_id"} {
		if v, ok := ctx[k]; ok {
			parts = append(parts, strings.TrimSuffix(k, "_id")+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

func (s *Syncer) wantAccount(id string) bool {
	if len(s.cfg.AdAccountIDs) == 0 {
		return true
	}
	for _, a := range s.cfg.AdAccountIDs {
		if a == id {
			return true
		}
	}
	return false
}

// window returns the analytics days to read for a partition, inclusive.
func (s *Syncer) window(p *plan, account string) (from, to time.Time, ok bool) {
	oldest := s.today.AddDate(0, 0, -lookbackDays)
	to = s.today.AddDate(0, 0, -1) // yesterday: the last complete day
	if !s.cfg.EndDate.IsZero() {
		to = s.cfg.EndDate
		if to.After(s.today) {
			to = s.today
		}
	}
	from = oldest
	if !s.cfg.StartDate.IsZero() {
		from = s.cfg.StartDate
	}
	if !p.fullTable {
		if v, ok := s.start.get(p.s, account); ok {
			resume := v.(time.Time).AddDate(0, 0, -s.cfg.AnalyticsLookbackDays)
			if resume.After(from) {
				from = resume
			}
		}
	}
	if from.Before(oldest) {
		if !s.cfg.StartDate.IsZero() && s.cfg.StartDate.Before(oldest) {
			s.clampOnce.Do(func() {
				s.log.Warn(fmt.Sprintf("start_date %s is older than Pinterest's 90-day analytics look-back; analytics start at %s (entities are not affected)", s.cfg.StartDate.Format("2006-01-02"), oldest.Format("2006-01-02")))
			})
		}
		from = oldest
	}
	return from, to, !from.After(to)
}

// windows splits [from, to] into spans Pinterest accepts in one call.
func windows(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, windowDays) {
		end := d.AddDate(0, 0, windowDays-1)
		if end.After(to) {
			end = to
		}
		out = append(out, [2]time.Time{d, end})
	}
	return out
}

func (s *Syncer) analyticsQuery(from, to time.Time) url.Values {
	return url.Values{
		"start_date":             {from.Format("2006-01-02")},
		"end_date":               {to.Format("2006-01-02")},
		"granularity":            {"DAY"},
		"columns":                {strings.Join(s.cfg.AnalyticsColumns, ",")},
		"click_window_days":      {strconv.Itoa(s.cfg.ClickWindowDays)},
		"engagement_window_days": {strconv.Itoa(s.cfg.EngagementWindowDays)},
		"view_window_days":       {strconv.Itoa(s.cfg.ViewWindowDays)},
		"conversion_report_time": {s.cfg.ConversionReportTime},
	}
}

// emitRows conforms and sends the rows of one analytics response.
func (s *Syncer) emitRows(ctx context.Context, p *plan, rows []byte, pctx map[string]string) error {
	if !p.selected {
		return nil
	}
	var rec []byte
	lines := bufpool.Get(chunkBytes + chunkBytes/4)[:0]
	n := 0
	extracted := singer.FormatTime(time.Now())
	err := jsonscan.EachObject(rows, func(b []byte, at int) (int, error) {
		var err error
		var end int
		rec, _, end, err = p.conf.conformAt(rec[:0], b, at, pctx)
		var skipped *skippedError
		if errors.As(err, &skipped) {
			s.out.warn(err.Error())
			return end, nil
		}
		if err != nil {
			return end, err
		}
		lines = singer.AppendRecord(lines, p.quoted, rec, extracted)
		n++
		if len(lines) > chunkBytes { // keep what is in flight bounded
			s.out.send(ctx, msg{stream: p.s.Name, lines: lines, n: n})
			lines, n = bufpool.Get(chunkBytes + chunkBytes/4)[:0], 0
		}
		return end, nil
	})
	if n > 0 {
		s.out.send(ctx, msg{stream: p.s.Name, lines: lines, n: n})
	} else {
		bufpool.Put(lines)
	}
	return err
}

// fetchRows reads one analytics call and emits its rows, holding one of the
// analyticsInFlight slots while the response is in memory.
func (s *Syncer) fetchRows(ctx context.Context, p *plan, path string, q url.Values, pctx map[string]string, rows func([]byte) []byte) error {
	select {
	case s.analytics <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.analytics }()
	rep, err := s.client.Get(ctx, pinterest.Request{Stream: p.s.Name, Op: p.s.Op, Category: p.s.Category, Path: path, Query: q})
	if err != nil {
		return err
	}
	defer rep.Release()
	body := rep.Body
	if rows != nil {
		body = rows(body)
		if body == nil {
			return nil
		}
	}
	if err := s.emitRows(ctx, p, body, pctx); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// runAccountAnalytics reads ad_account_analytics for one ad account.
func (s *Syncer) runAccountAnalytics(ctx context.Context, p *plan, pctx map[string]string) error {
	account := pctx["ad_account_id"]
	from, to, ok := s.window(p, account)
	if !ok {
		return nil
	}
	path := expand(p.s.Path, pctx)
	for _, w := range windows(from, to) {
		if err := s.fetchRows(ctx, p, path, s.analyticsQuery(w[0], w[1]), pctx, nil); err != nil {
			return err
		}
	}
	s.commitDate(ctx, p, account, to)
	return nil
}

func (s *Syncer) commitDate(ctx context.Context, p *plan, account string, day time.Time) {
	if p.selected && !p.fullTable {
		s.out.send(ctx, msg{stream: p.s.Name, bookmark: &bookmarkUpdate{s: p.s, account: account, value: day}})
	}
}

// runEntityAnalytics reads campaign, ad group or ad analytics for the ids
// the parent listing hands over, 250 ids and 90 days a call.
func (s *Syncer) runEntityAnalytics(ctx context.Context, p *plan, pctx map[string]string, b *batcher) error {
	account := pctx["ad_account_id"]
	from, to, ok := s.window(p, account)
	path := expand(p.s.Path, pctx)
	var failed error
	for ids := range b.ch {
		if !ok || failed != nil {
			continue // drain, so that the listing never blocks
		}
		for _, w := range windows(from, to) {
			if err := s.fetchBatch(ctx, p, path, ids, w, pctx); err != nil {
				failed = err
				break
			}
		}
	}
	if failed != nil {
		if status, skip := skippable(failed); skip && status == http.StatusForbidden {
			s.out.warn(fmt.Sprintf("%s skipped for ad account %s: HTTP 403 (%v)", p.s.Name, account, failed))
			return nil
		}
		return fmt.Errorf("ad account %s: %w", account, failed)
	}
	if !b.complete() {
		return nil // the listing failed; its own error says so, and the bookmark stays
	}
	if ok {
		s.commitDate(ctx, p, account, to)
	}
	return nil
}

// fetchBatch reads the analytics of a batch of ids for one window. Pinterest
// takes 250 ids, but 250 ids and 175 columns make a URL of about 11 KB; if a
// front end refuses it (414), the batch is halved until it passes.
func (s *Syncer) fetchBatch(ctx context.Context, p *plan, path string, ids []string, w [2]time.Time, pctx map[string]string) error {
	q := s.analyticsQuery(w[0], w[1])
	q[p.s.IDParam] = ids
	err := s.fetchRows(ctx, p, path, q, pctx, nil)
	var ae *pinterest.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusRequestURITooLong && len(ids) > 1 {
		s.urlTooLong.Do(func() {
			s.log.Warn(fmt.Sprintf("Pinterest refused a URL of %d ids as too long (HTTP 414); splitting analytics batches, which costs more calls", len(ids)))
		})
		half := len(ids) / 2
		if err := s.fetchBatch(ctx, p, path, ids[:half], w, pctx); err != nil {
			return err
		}
		return s.fetchBatch(ctx, p, path, ids[half:], w, pctx)
	}
	return err
}

// runUserAnalytics reads user_account/analytics: one record per day.
func (s *Syncer) runUserAnalytics(ctx context.Context, p *plan) error {
	from, to, ok := s.window(p, "")
	if !ok {
		return nil
	}
	for _, w := range windows(from, to) {
		q := url.Values{"start_date": {w[0].Format("2006-01-02")}, "end_date": {w[1].Format("2006-01-02")}}
		// One record per day of the "all" split; no data for the user in the window means no key.
		days := func(body []byte) []byte { return jsonscan.Member(jsonscan.Member(body, "all"), "daily_metrics") }
		if err := s.fetchRows(ctx, p, p.s.Path, q, nil, days); err != nil {
			return err
		}
	}
	s.commitDate(ctx, p, "", to)
	return nil
}

// batcher hands a listing's ids to its analytics stream, 250 at a time.
type batcher struct {
	ch   chan []string
	buf  []string
	ok   bool
	once sync.Once
}

func newBatcher() *batcher { return &batcher{ch: make(chan []string, 2)} }

func (b *batcher) add(ctx context.Context, id string) {
	b.buf = append(b.buf, id)
	if len(b.buf) == idsPerCall {
		b.flush(ctx)
	}
}

func (b *batcher) flush(ctx context.Context) {
	if len(b.buf) == 0 {
		return
	}
	select {
	case b.ch <- b.buf:
	case <-ctx.Done():
	}
	b.buf = nil
}

// finish sends the last ids and closes; ok says the listing was complete.
func (b *batcher) finish(ctx context.Context, ok bool) {
	b.once.Do(func() {
		if ok {
			b.flush(ctx)
		}
		b.ok = ok
		close(b.ch)
	})
}

// complete may be read after the channel is drained.
func (b *batcher) complete() bool { return b.ok }

// failures collects the streams that stopped.
type failures struct {
	mu   sync.Mutex
	errs map[string]error
}

func (f *failures) add(stream string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs == nil {
		f.errs = map[string]error{}
	}
	if _, ok := f.errs[stream]; !ok {
		f.errs[stream] = err
	}
}

// StreamError lists the streams that did not complete.
type StreamError struct{ Streams map[string]error }

func (e *StreamError) Error() string {
	names := make([]string, 0, len(e.Streams))
	for n := range e.Streams {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("stream %s stopped: %v", n, e.Streams[n]))
	}
	return strings.Join(parts, "; ")
}

func (f *failures) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) == 0 {
		return nil
	}
	m := make(map[string]error, len(f.errs))
	for k, v := range f.errs {
		m[k] = v
	}
	return &StreamError{Streams: m}
}

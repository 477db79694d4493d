package tap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

// The engine runs every row of the run's stream table (Config.Streams:
// catalog.Streams and the custom reports) the same way; nothing in it
// names a stream or a field. A stream's shape picks its fetcher (shapes.go):
// lists are paged, emitted and fanned out to their children (list.go),
// windowed endpoints are read by date window and id batch (analytics.go).

const (
	// analyticsInFlight bounds the windowed calls under way at once
	// (ads_analytics allows only 5 a second anyway); the memory their
	// bodies take is bounded by the client's body budget.
	analyticsInFlight = 3
	// chunkBytes is how much RECORD output a fetcher hands the writer at once.
	chunkBytes = 512 << 10
)

// plan is one stream of a run: its table row and what the catalog says.
type plan struct {
	s         *catalog.Stream
	selected  bool // records are emitted
	needed    bool // selected, or a parent of a selected stream
	fullTable bool // the catalog asks for FULL_TABLE: bookmarks are neither read nor written
	byDefault bool // selected by selected-by-default only (see applyScopes)
	schema    []byte
	quoted    []byte
	conf      *conformer
	perItem   []*plan // needed children that run once per item
	batched   []*plan // needed children that take the items' ids in batches
}

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

	gaps             gaps
	unread           unreadValues
	skipped          skipped
	urlTooLong       sync.Once
	unattributedOnce sync.Once
	// sems bound the items of each parent stream whose children run at once
	// (ad accounts, boards, sections): one semaphore per level, so that a
	// parent holding a slot never waits for a slot of its own level.
	sems       map[string]chan struct{}
	deniedOnce sync.Map
	analytics  chan struct{} // analyticsInFlight slots
	failures   failures
	runCtx     context.Context // Run's, for the messages a conformer sends (widen)

	reports     chan struct{} // reportsInFlight slots
	reportPoll  time.Duration // the first wait before polling a report
	reportStats reportStats
	ready       readyState
}

// Options are the parts of a run that tests change.
type Options struct {
	Now func() time.Time
	// ReportPoll is the first wait between creating an async report and
	// polling it (doubled after each poll); 0 = 1s.
	ReportPoll time.Duration
}

// NewSyncer prepares a sync of the selected streams.
func NewSyncer(cfg *Config, client *pinterest.Client, log *slog.Logger, sel *Selection, state *State, opt Options) (*Syncer, error) {
	now := time.Now().UTC()
	if opt.Now != nil {
		now = opt.Now().UTC()
	}
	if state == nil {
		state = &State{Bookmarks: map[string]*Bookmark{}}
	}
	s := &Syncer{cfg: cfg, client: client, log: log, plans: map[string]*plan{}, now: now,
		today: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC),
		sems:  map[string]chan struct{}{}, analytics: make(chan struct{}, analyticsInFlight),
		reports: make(chan struct{}, reportsInFlight), reportPoll: opt.ReportPoll}
	if s.reportPoll <= 0 {
		s.reportPoll = time.Second
	}
	table := cfg.Streams()
	state, err := state.forTable(table)
	if err != nil {
		return nil, err
	}
	s.start = state.clone()
	for i := range table {
		p, err := newPlan(&table[i], sel)
		if err != nil {
			return nil, err
		}
		if p.conf != nil && cfg.KeepUnknownFields {
			p.conf.keepUnknown, p.conf.onNew = true, s.widen(p)
		}
		if p.selected && !p.fullTable {
			if err := state.checkFuture(p.s, now); err != nil {
				return nil, err
			}
		}
		s.plans[p.s.Name] = p
		s.order = append(s.order, p)
		if p.s.Gives != "" {
			s.sems[p.s.Name] = make(chan struct{}, cfg.MaxConcurrency)
		}
	}
	s.linkChildren()
	s.out = newOutput(state.clone(), log) // the caller's state is never modified
	for _, p := range s.order {
		if p.conf != nil {
			p.conf.warn = s.out.warn
		}
	}
	s.out.progress = s.reportStats.progress
	return s, nil
}

func newPlan(st *catalog.Stream, sel *Selection) (*plan, error) {
	p := &plan{s: st}
	ss, ok := sel.Streams[st.Name]
	if !ok {
		return p, nil
	}
	c, err := newConformer(st, ss.Schema, ss.Deselected...)
	if err != nil {
		return nil, err
	}
	p.selected, p.schema, p.fullTable, p.conf, p.byDefault = true, ss.Schema, ss.FullTable, c, ss.ByDefault
	p.quoted = singer.QuoteStream(st.Name)
	return p, nil
}

// linkChildren marks a parent needed when any descendant is selected
// (children come after parents in the table) and lists its needed children.
func (s *Syncer) linkChildren() {
	for i := len(s.order) - 1; i >= 0; i-- {
		p := s.order[i]
		if p.selected {
			p.needed = true
		}
		if !p.needed || p.s.Parent == "" {
			continue
		}
		parent := s.plans[p.s.Parent]
		parent.needed = true
		if p.s.Batch != nil {
			parent.batched = append([]*plan{p}, parent.batched...)
		} else {
			parent.perItem = append([]*plan{p}, parent.perItem...)
		}
	}
}

// Run syncs and writes Singer messages to w. It returns an error that
// names every stream that did not complete; the final STATE covers exactly
// what was written.
func (s *Syncer) Run(ctx context.Context, w *singer.Writer) error {
	// Credentials first: a rejected refresh token is one clear error, before any output.
	if err := s.client.Authenticate(ctx); err != nil {
		return err
	}
	if err := s.applyScopes(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.runCtx = ctx
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
		if p.s.Parent == "" && p.needed {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.runStream(ctx, p, map[string]string{}); err != nil {
					s.fail(p, err)
				}
			}()
		}
	}
	wg.Wait()
	s.warnDropped()
	if l := s.reportStats.line(); l != "" {
		s.log.Info(l)
	}
	for _, g := range append(s.Gaps(), s.skipped.lines()...) {
		s.log.Warn(g)
	}
	close(s.out.ch)
	if werr := <-done; werr != nil {
		return werr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.failures.err()
}

// runStream runs one stream for one parent context with its shape's fetcher.
func (s *Syncer) runStream(ctx context.Context, p *plan, pctx map[string]string) error {
	if p.s.Shape == catalog.ReportRows {
		return s.runReports(ctx, p, pctx)
	}
	if p.s.Shape.Windowed() {
		return s.runWindows(ctx, p, pctx, nil)
	}
	return s.runList(ctx, p, pctx)
}

// warnDropped names, once each, the fields Pinterest sent that the
// schemas do not declare (Pinterest adds fields over time).
func (s *Syncer) warnDropped() {
	for _, p := range s.order {
		if p.conf == nil {
			continue
		}
		fields, counts := p.conf.dropped()
		for i, f := range fields {
			what := "left out of the records (set keep_unknown_fields to keep such fields; a newer tap-pinterest declares them)"
			if s.cfg.KeepUnknownFields {
				what = "kept as an untyped property (keep_unknown_fields); the SCHEMA sent before its first record declares it"
			}
			s.log.Warn(fmt.Sprintf("%s.%s: Pinterest sent a field the schema does not declare (%d values); %s", p.s.Name, f, counts[i], what))
		}
	}
}

// widen is a conformer's onNew with keep_unknown_fields: it sends the
// stream's SCHEMA again with the new field as an untyped property, ahead of
// every record that carries it (the conformer holds its lock meanwhile).
func (s *Syncer) widen(p *plan) func(field string) {
	var wide []byte // the latest schema sent; guarded by the conformer's lock
	return func(field string) {
		if wide == nil {
			wide = p.schema
		}
		var doc map[string]json.RawMessage
		var props map[string]json.RawMessage
		if json.Unmarshal(wide, &doc) != nil || json.Unmarshal(doc["properties"], &props) != nil {
			return
		}
		props[field] = json.RawMessage(`{}`)
		doc["properties"], _ = json.Marshal(props)
		b, err := json.Marshal(doc)
		if err != nil {
			return
		}
		wide = b
		s.out.send(s.runCtx, msg{stream: p.s.Name, schema: b, schemaOf: p})
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

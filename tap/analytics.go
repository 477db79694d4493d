package tap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// window returns the days to read for a partition, inclusive: from the
// bookmark less the look-back (or start_date, or as far back as the
// endpoint reaches) to yesterday, the last complete day (or end_date). The
// days older than the endpoint reaches are old: read through the row's
// async report when it has one and they are within its reach; what is
// older still is a gap, said at the end of the run.
func (s *Syncer) window(p *plan, partition string) (from, to time.Time, ok bool, old span) {
	oldest := s.today.AddDate(0, 0, -p.s.Window.Back)
	to = s.today.AddDate(0, 0, -1)
	if !s.cfg.EndDate.IsZero() {
		to = s.cfg.EndDate
		if to.After(s.today) {
			to = s.today
		}
	}
	from = oldest
	if start := s.startDate(p.s); !start.IsZero() {
		from = start
	}
	if !p.fullTable {
		if v, ok := s.start.get(p.s, partition); ok {
			resume := v.AddDate(0, 0, -s.cfg.AnalyticsLookbackDays)
			if resume.After(from) {
				from = resume
			}
		}
	}
	if from.Before(oldest) {
		old = s.oldDays(p, partition, from, minTime(oldest.AddDate(0, 0, -1), to))
		from = oldest
	}
	return from, to, !from.After(to), old
}

// startDate is where the stream's history starts: its own start setting
// (a custom report's start_date), else start_date; zero when neither is set.
func (s *Syncer) startDate(st *catalog.Stream) time.Time {
	if v := s.cfg.Values(st.StartSetting); st.StartSetting != "" && len(v) == 1 {
		if d, err := ParseDate(v[0]); err == nil {
			return d
		}
	}
	return s.cfg.StartDate
}

// span is a range of days, inclusive; empty when from is zero.
type span struct{ from, to time.Time }

func (d span) empty() bool { return d.from.IsZero() }

// oldDays returns the part of [from, to] the row's report reaches, and
// records the rest as a gap.
func (s *Syncer) oldDays(p *plan, partition string, from, to time.Time) span {
	if !p.selected {
		return span{}
	}
	back, reach := p.s.Window.Back, span{}
	if r := p.s.Report; r != nil {
		back = r.Window.Back
		oldest := s.today.AddDate(0, 0, -r.Window.Back)
		if !to.Before(oldest) {
			reach = span{from: maxTime(from, oldest), to: to}
		}
		to = minTime(to, oldest.AddDate(0, 0, -1))
	}
	if !from.After(to) {
		s.gaps.add(p.s, describePartition(p.s, partition), from, to, back+1)
	}
	return reach
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// describePartition names a partition for messages ("ad account 42").
func describePartition(st *catalog.Stream, partition string) string {
	if st.Partition == "" {
		return ""
	}
	return strings.ReplaceAll(strings.TrimSuffix(st.Partition, "_id"), "_", " ") + " " + partition
}

// gaps are the days a run was asked for but could not read, because they
// are older than an endpoint reaches: said per stream at the end of the run
// and in its summary, never clamped in silence.
type gaps struct {
	mu sync.Mutex
	by map[string]*gap
}

type gap struct {
	from, to time.Time
	parts    []string
	back     int
}

func (g *gaps) add(st *catalog.Stream, part string, from, to time.Time, back int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.by == nil {
		g.by = map[string]*gap{}
	}
	x := g.by[st.Name]
	if x == nil {
		x = &gap{from: from, to: to, back: back}
		g.by[st.Name] = x
	}
	if from.Before(x.from) {
		x.from = from
	}
	if to.After(x.to) {
		x.to = to
	}
	if part != "" {
		x.parts = append(x.parts, part)
	}
}

// lines returns one message per stream with a gap, sorted.
func (g *gaps) lines() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for name, x := range g.by {
		where := ""
		if len(x.parts) > 0 {
			sort.Strings(x.parts)
			where = " for " + strings.Join(x.parts, ", ")
		}
		out = append(out, fmt.Sprintf("%s: %s to %s%s not read: older than the %d days Pinterest's analytics reach back (start_date or the bookmark asked for them); entities are not affected", name,
			x.from.Format(time.DateOnly), x.to.Format(time.DateOnly), where, x.back))
	}
	sort.Strings(out)
	return out
}

// Gaps lists the date ranges the run could not read, one line per stream
// (and per stream whose report lacks some of its targeting types).
func (s *Syncer) Gaps() []string { return append(s.gaps.lines(), s.unread.lines()...) }

// windows splits [from, to] into spans of at most days days.
func windows(from, to time.Time, days int) [][2]time.Time {
	var out [][2]time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, days) {
		end := d.AddDate(0, 0, days-1)
		if end.After(to) {
			end = to
		}
		out = append(out, [2]time.Time{d, end})
	}
	return out
}

// runWindows reads a windowed stream for one partition: every date window
// once, or, for a batched stream, every window of every batch of ids the
// parent listing hands over; days older than the endpoint reaches first,
// through async reports (backfill). The bookmark moves to the last day read
// only when everything was read.
func (s *Syncer) runWindows(ctx context.Context, p *plan, pctx map[string]string, b *batcher) error {
	partition := pctx[p.s.Partition]
	from, to, ok, old := s.window(p, partition)
	path, err := expand(p.s.Path, pctx)
	if err != nil {
		b.drain()
		return err
	}
	read := func(ids []string) error {
		if !ok {
			return nil
		}
		return s.readWindows(ctx, p, path, ids, from, to, pctx)
	}
	if err := s.readPartition(ctx, p, pctx, b, old, read); err != nil || (b != nil && !b.complete()) {
		return err // a failed listing says so itself, and the bookmark stays
	}
	if ok && p.selected && !p.fullTable {
		day, err := s.bookmarkDay(ctx, p, to)
		if err != nil {
			return err
		}
		s.out.send(ctx, msg{stream: p.s.Name, bookmark: &bookmarkUpdate{s: p.s, partition: partition, value: day}})
	}
	return nil
}

// readPartition reads a partition's days: plainly, by the batches of ids
// the listing hands over, or with the days older than the endpoint reaches
// backfilled through reports first. Ids Pinterest refused without calling
// them invalid fail it, so that the bookmark stays.
func (s *Syncer) readPartition(ctx context.Context, p *plan, pctx map[string]string, b *batcher, old span, read func(ids []string) error) error {
	var err error
	switch {
	case b == nil:
		err = s.backfillThen(ctx, p, pctx, old, nil, func() error { return read(nil) })
	case old.empty():
		err = s.readBatches(ctx, p, b, read)
	default:
		err = s.backfillBatches(ctx, p, pctx, b, old, read)
	}
	if err == nil && b != nil {
		if n := s.skipped.unexplained(p.s, describePartition(p.s, pctx[p.s.Partition])); n > 0 {
			return fmt.Errorf("%d ids refused with HTTP 400 that Pinterest did not call invalid (named in the warning at the end); the bookmark stays", n)
		}
	}
	return err
}

// readBatches reads each batch of ids as the listing hands it over.
func (s *Syncer) readBatches(ctx context.Context, p *plan, b *batcher, read func(ids []string) error) error {
	var failed error
	for ids := range b.ch {
		if failed == nil { // else drain, so that the listing never blocks
			failed = read(ids)
		}
	}
	return failed
}

// backfillThen reads the old days through reports (oldest first, so that
// the bookmark can follow), then the rest.
func (s *Syncer) backfillThen(ctx context.Context, p *plan, pctx map[string]string, old span, keep map[string]bool, rest func() error) error {
	if !old.empty() {
		k := func(string) bool { return true }
		if keep != nil {
			k = func(id string) bool { return keep[id] }
		}
		if err := s.backfill(ctx, p, pctx, old.from, old.to, k); err != nil {
			return err
		}
	}
	return rest()
}

// backfillBatches collects every id of the listing first: a report covers
// all of a partition's entities, and only the listed ones (entity_statuses)
// are written, as the synchronous reads would.
func (s *Syncer) backfillBatches(ctx context.Context, p *plan, pctx map[string]string, b *batcher, old span, read func(ids []string) error) error {
	var batches [][]string
	keep := map[string]bool{}
	for ids := range b.ch {
		batches = append(batches, ids)
		for _, id := range ids {
			keep[id] = true
		}
	}
	if !b.complete() {
		return nil
	}
	return s.backfillThen(ctx, p, pctx, old, keep, func() error {
		for _, ids := range batches {
			if err := read(ids); err != nil {
				return err
			}
		}
		return nil
	})
}

// readWindows reads one batch of ids (nil: none) over every window, once
// for each pack of a parameter sent in packs (targeting types).
func (s *Syncer) readWindows(ctx context.Context, p *plan, path string, ids []string, from, to time.Time, pctx map[string]string) error {
	name, packs := s.packs(p.s)
	for _, w := range windows(from, to, p.s.Window.Days) {
		for _, pack := range packs {
			q := s.query(p.s)
			q.Set("start_date", w[0].Format(time.DateOnly))
			q.Set("end_date", w[1].Format(time.DateOnly))
			if name != "" {
				q.Set(name, pack)
			}
			if err := s.readBatch(ctx, p, path, q, ids, pctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// readBatch reads one call of a windowed stream. Pinterest takes 250 ids,
// but 250 ids and 175 columns make a URL of about 11 KB; if a front end
// refuses it (414), the batch is halved until it passes. A 400 for a batch
// is isolated the same way (isolate).
func (s *Syncer) readBatch(ctx context.Context, p *plan, path string, q url.Values, ids []string, pctx map[string]string) error {
	if ids != nil {
		q = cloneQuery(q)
		q[p.s.Batch.Param] = ids
	}
	err := s.readRows(ctx, p, path, q, pctx)
	if err == nil || ids == nil {
		return err
	}
	if s.halves(err, len(ids)) {
		half := len(ids) / 2
		if err := s.readBatch(ctx, p, path, q, ids[:half], pctx); err != nil {
			return err
		}
		return s.readBatch(ctx, p, path, q, ids[half:], pctx)
	}
	if bad, ok := refusedBatch(err); ok {
		return s.isolate(ctx, p, path, q, ids, pctx, bad)
	}
	return err
}

// halves reports whether a batch of n ids is read again in two halves: a
// URL Pinterest refused as too long (HTTP 414), or an answer with rows
// that lack their entity's id (errUnattributed), which only a call for
// fewer ids can tell apart. Each is said once a run.
func (s *Syncer) halves(err error, n int) bool {
	if n < 2 {
		return false
	}
	if errors.Is(err, errUnattributed) {
		s.unattributedOnce.Do(func() {
			s.log.Warn(fmt.Sprintf("Pinterest answered a call for %d ids with rows that lack their entity's id; reading such batches in halves, down to one id a call, which costs more calls", n))
		})
		return true
	}
	var ae *pinterest.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusRequestURITooLong {
		s.urlTooLong.Do(func() {
			s.log.Warn(fmt.Sprintf("Pinterest refused a URL of %d ids as too long (HTTP 414); splitting analytics batches, which costs more calls", n))
		})
		return true
	}
	return false
}

// errUnattributed: an answer for several ids holds a row without its
// entity's id (Pinterest may leave out columns without a value); nothing of
// that answer is written.
var errUnattributed = errors.New("a row without its entity's id in an answer for several ids")

// unattributed reports whether an answer for several ids of a row that
// fills its entity column from the request (AddFields) holds a row without
// that column: such a row could belong to any of them.
func unattributed(p *plan, rep *pinterest.Reply, q url.Values) (bool, error) {
	b := p.s.Batch
	if b == nil || len(q[b.Param]) < 2 || p.s.AddFields[b.Column] != b.Param {
		return false, nil
	}
	missing := false
	_, err := shapes[p.s.Shape].read(p.s, rep, func(obj []byte, at int) (int, error) {
		end, err := jsonscan.SkipValue(obj, at)
		if v := jsonscan.Member(obj[at:end], b.Column); err == nil && (v == nil || isNull(v)) {
			missing = true
		}
		return end, err
	})
	return missing, err
}

// refusedBatch reports a final 400 answer to an analytics call. A 400 the
// client retried and gave up on ("Retry after N seconds", a query cost
// limit) comes wrapped in the client's error and is not about ids.
func refusedBatch(err error) (*pinterest.APIError, bool) {
	ae, ok := err.(*pinterest.APIError) // only the unwrapped, final answer
	return ae, ok && ae.Status == http.StatusBadRequest
}

// isolate handles a 400 for a batch of ids: one id Pinterest rejects (a
// draft, a deleted entity) must not cost the others their rows. The batch
// is halved until the refused ids stand alone; they are recorded (skipped)
// and the rest is read. A 400 for every id of a batch of several is not
// about ids (a bad parameter): the stream fails with it.
func (s *Syncer) isolate(ctx context.Context, p *plan, path string, q url.Values, ids []string, pctx map[string]string, ae *pinterest.APIError) error {
	where := describePartition(p.s, pctx[p.s.Partition])
	if len(ids) == 1 {
		s.skipped.refuse(p.s, where, ids[0], ae)
		return nil
	}
	var refused int
	var split func(ids []string) error
	split = func(ids []string) error {
		if len(ids) == 1 {
			refused++
			s.skipped.refuse(p.s, where, ids[0], ae)
			return nil
		}
		for _, part := range [][]string{ids[:len(ids)/2], ids[len(ids)/2:]} {
			qq := cloneQuery(q)
			qq[p.s.Batch.Param] = part
			err := s.readRows(ctx, p, path, qq, pctx)
			if e, ok := refusedBatch(err); ok {
				ae = e
				err = split(part)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := split(ids); err != nil {
		return err
	}
	if refused == len(ids) {
		return ae
	}
	return nil
}

// readRows reads one windowed call and emits its rows, holding one of the
// analyticsInFlight slots while the response is in memory.
func (s *Syncer) readRows(ctx context.Context, p *plan, path string, q url.Values, pctx map[string]string) error {
	select {
	case s.analytics <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.analytics }()
	if b := p.s.Batch; b != nil && len(q[b.Param]) == 1 {
		// One id: the entity of every row, where the API leaves it out.
		pctx = withKey(pctx, b.Param, q[b.Param][0])
	}
	em := s.newEmitter(p)
	defer em.flush(ctx)
	return s.get(ctx, p, p.s.Op, path, q, func(rep *pinterest.Reply) error {
		if !p.selected {
			return nil
		}
		if missing, err := unattributed(p, rep, q); missing || err != nil {
			return cmp.Or(err, errUnattributed)
		}
		_, err := shapes[p.s.Shape].read(p.s, rep, func(b []byte, at int) (int, error) {
			_, end, ok, err := em.conform(b, at, pctx)
			if ok {
				em.add(ctx)
			}
			return end, err
		})
		return err
	})
}

// withKey returns a copy of ctx with k set to v.
func withKey(ctx map[string]string, k, v string) map[string]string {
	c := make(map[string]string, len(ctx)+1)
	for x, y := range ctx {
		c[x] = y
	}
	c[k] = v
	return c
}

func cloneQuery(q url.Values) url.Values {
	c := make(url.Values, len(q)+1)
	for k, v := range q {
		c[k] = v
	}
	return c
}

package tap

import (
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
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// window returns the days to read for a partition, inclusive: from the
// bookmark less the look-back (or start_date, or as far back as the
// endpoint reaches) to yesterday, the last complete day (or end_date).
func (s *Syncer) window(p *plan, partition string) (from, to time.Time, ok bool) {
	oldest := s.today.AddDate(0, 0, -p.s.Window.Back)
	to = s.today.AddDate(0, 0, -1)
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
		if v, ok := s.start.get(p.s, partition); ok {
			resume := v.AddDate(0, 0, -s.cfg.AnalyticsLookbackDays)
			if resume.After(from) {
				from = resume
			}
		}
	}
	if from.Before(oldest) {
		if p.selected {
			s.gaps.add(p.s, describePartition(p.s, partition), from, minTime(oldest.AddDate(0, 0, -1), to))
		}
		from = oldest
	}
	return from, to, !from.After(to)
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

func (g *gaps) add(st *catalog.Stream, part string, from, to time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.by == nil {
		g.by = map[string]*gap{}
	}
	x := g.by[st.Name]
	if x == nil {
		x = &gap{from: from, to: to, back: st.Window.Back + 1}
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
		out = append(out, fmt.Sprintf("%s: %s to %s%s not read: older than the %d days Pinterest's synchronous analytics reach back (start_date or the bookmark asked for them); entities are not affected", name,
			x.from.Format(time.DateOnly), x.to.Format(time.DateOnly), where, x.back))
	}
	sort.Strings(out)
	return out
}

// Gaps lists the date ranges the run could not read, one line per stream.
func (s *Syncer) Gaps() []string { return s.gaps.lines() }

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
// parent listing hands over. The bookmark moves to the last day read only
// when everything was read.
func (s *Syncer) runWindows(ctx context.Context, p *plan, pctx map[string]string, b *batcher) error {
	partition := pctx[p.s.Partition]
	from, to, ok := s.window(p, partition)
	path := expand(p.s.Path, pctx)
	if b == nil {
		if !ok {
			return nil
		}
		if err := s.readWindows(ctx, p, path, nil, from, to, pctx); err != nil {
			return err
		}
	} else {
		var failed error
		for ids := range b.ch {
			if ok && failed == nil { // else drain, so that the listing never blocks
				failed = s.readWindows(ctx, p, path, ids, from, to, pctx)
			}
		}
		if failed != nil {
			return failed
		}
		if !b.complete() {
			return nil // the listing failed; its own error says so, and the bookmark stays
		}
	}
	if ok && p.selected && !p.fullTable {
		s.out.send(ctx, msg{stream: p.s.Name, bookmark: &bookmarkUpdate{s: p.s, partition: partition, value: to}})
	}
	return nil
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
// refuses it (414), the batch is halved until it passes.
func (s *Syncer) readBatch(ctx context.Context, p *plan, path string, q url.Values, ids []string, pctx map[string]string) error {
	if ids != nil {
		q = cloneQuery(q)
		q[p.s.Batch.Param] = ids
	}
	err := s.readRows(ctx, p, path, q, pctx)
	var ae *pinterest.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusRequestURITooLong && len(ids) > 1 {
		s.urlTooLong.Do(func() {
			s.log.Warn(fmt.Sprintf("Pinterest refused a URL of %d ids as too long (HTTP 414); splitting analytics batches, which costs more calls", len(ids)))
		})
		half := len(ids) / 2
		if err := s.readBatch(ctx, p, path, q, ids[:half], pctx); err != nil {
			return err
		}
		return s.readBatch(ctx, p, path, q, ids[half:], pctx)
	}
	return err
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
	return s.get(ctx, p, path, q, func(body []byte) error {
		if !p.selected {
			return nil
		}
		_, err := shapes[p.s.Shape](p.s, body, func(b []byte, at int) (int, error) {
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

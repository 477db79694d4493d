package tap

import (
	"context"
	"slices"
	"sync"
	"time"
)

// listing is one run of a list stream for one parent context: the pager
// reads its pages, the emitter writes its records, and its items fan out
// to the children (per item, or as id batches).
type listing struct {
	s        *Syncer
	p        *plan
	pctx     map[string]string
	em       *emitter
	since    time.Time // the bookmark: older items are not emitted
	hasSince bool
	maxSeen  time.Time // the newest replication key value read
	batchers []*batcher
	children sync.WaitGroup
}

// runList pages through a list endpoint, emits its records (when
// selected), runs the per-item children of its items (an ad account's
// entities, a board's sections and pins) and hands the item ids to its
// batched children (entity analytics), which run alongside the listing.
func (s *Syncer) runList(ctx context.Context, p *plan, pctx map[string]string) error {
	l := &listing{s: s, p: p, pctx: pctx, em: s.newEmitter(p)}
	if p.s.Incremental() && p.selected && !p.fullTable {
		l.since, l.hasSince = s.start.get(p.s, pctx[p.s.Partition])
	}
	var bwg sync.WaitGroup
	for _, cp := range p.batched {
		b := newBatcher(cp.s.Batch.Size)
		l.batchers = append(l.batchers, b)
		bwg.Add(1)
		go func() {
			defer bwg.Done()
			if err := s.runWindows(ctx, cp, pctx, b); err != nil {
				s.childFailed(cp, pctx, err)
			}
		}()
	}
	err := l.pages(ctx)
	for _, b := range l.batchers {
		b.finish(ctx, err == nil)
	}
	bwg.Wait()
	l.children.Wait()
	if err != nil {
		return err
	}
	l.commit(ctx)
	return nil
}

// pages is the pager: it asks for page after page until the bookmark ends.
func (l *listing) pages(ctx context.Context) error {
	q := l.s.query(l.p.s)
	path := expand(l.p.s.Path, l.pctx)
	for {
		var next string
		var items []map[string]string
		err := l.s.get(ctx, l.p, path, q, func(body []byte) error {
			var err error
			next, err = shapes[l.p.s.Shape](l.p.s, body, func(b []byte, at int) (int, error) {
				return l.item(ctx, b, at, &items)
			})
			return err
		})
		if err != nil {
			return err
		}
		l.em.flush(ctx) // before waiting on anything: the page was copied into records and contexts
		if err := l.fanOut(ctx, items); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		q.Set("bookmark", next)
	}
}

// item handles one object of a page: its record, its replication key, and
// what it hands to the children.
func (l *listing) item(ctx context.Context, b []byte, at int, items *[]map[string]string) (int, error) {
	it, end, ok, err := l.em.conform(b, at, l.pctx)
	if !ok || err != nil || !l.keep(it.id) {
		return end, err
	}
	emit := l.p.selected
	if l.p.s.Incremental() {
		if v, ok := keyTime(l.p.s.KeyType, it.repRaw); ok {
			if v.After(l.maxSeen) {
				l.maxSeen = v
			}
			emit = emit && !(l.hasSince && v.Before(l.since))
		}
	}
	if emit {
		l.em.add(ctx)
	}
	if it.id == "" {
		return end, nil
	}
	for _, b := range l.batchers {
		b.add(ctx, it.id)
	}
	if l.p.s.Gives != "" && len(l.p.perItem) > 0 {
		cctx := make(map[string]string, len(l.pctx)+1)
		for k, v := range l.pctx {
			cctx[k] = v
		}
		cctx[l.p.s.Gives] = it.id
		*items = append(*items, cctx)
	}
	return end, nil
}

// keep applies the row's KeepIDs setting (e.g. ad_account_ids).
func (l *listing) keep(id string) bool {
	if l.p.s.KeepIDs == "" {
		return true
	}
	want := l.s.cfg.Values(l.p.s.KeepIDs)
	return len(want) == 0 || slices.Contains(want, id)
}

// fanOut starts the per-item children of a page's items, as many items at
// once as the stream's semaphore allows.
func (l *listing) fanOut(ctx context.Context, items []map[string]string) error {
	sem := l.s.sems[l.p.s.Name]
	for _, cctx := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		l.children.Add(1)
		go func() {
			defer l.children.Done()
			defer func() { <-sem }()
			l.s.runChildren(ctx, l.p.perItem, cctx)
		}()
	}
	return nil
}

// commit advances the bookmark to the newest replication key value read,
// never past the run's start: an entity changed during the run is then
// read again next time.
func (l *listing) commit(ctx context.Context) {
	if !l.p.s.Incremental() || !l.p.selected || l.p.fullTable || l.maxSeen.IsZero() {
		return
	}
	v := l.maxSeen
	if v.After(l.s.now) {
		v = l.s.now
	}
	l.s.out.send(ctx, msg{stream: l.p.s.Name, bookmark: &bookmarkUpdate{s: l.p.s, partition: l.pctx[l.p.s.Partition], value: v}})
}

// runChildren runs the per-item children of one parent item side by side
// (an ad account's campaigns, ad groups, ads and analytics; a board's
// sections and pins).
func (s *Syncer) runChildren(ctx context.Context, children []*plan, cctx map[string]string) {
	var wg sync.WaitGroup
	for _, cp := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.runStream(ctx, cp, cctx); err != nil {
				s.childFailed(cp, cctx, err)
			}
		}()
	}
	wg.Wait()
}

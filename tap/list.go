package tap

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
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
	maxSeen  time.Time       // the newest replication key value read
	read     int             // items read
	found    map[string]bool // the ids of a KeepIDs setting the listing returned
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
			if err := s.runBatched(ctx, cp, pctx, b); err != nil {
				s.childFailed(cp, pctx, err)
			}
		}()
	}
	err := l.pages(ctx)
	if err != nil && p.s.EmptyOn != 0 && hasStatus(err, p.s.EmptyOn) {
		s.log.Info(fmt.Sprintf("%s: Pinterest answered HTTP %d (%v): nothing to read, the stream is empty", p.s.Name, p.s.EmptyOn, err))
		err = nil
	}
	if err == nil {
		l.getMissing(ctx)
	}
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

// maxEmptyPages is how many pages in a row may hold no object yet name a
// next page before a listing is judged endless.
const maxEmptyPages = 20

// pages is the pager: it asks for page after page until the bookmark ends.
// A bookmark already seen in this listing (a repeat or a cycle) or an
// implausible run of empty pages stops it with a loopError, instead of
// requesting forever and re-emitting the same records.
func (l *listing) pages(ctx context.Context) error {
	q := l.s.query(l.p.s)
	path, err := expand(l.p.s.Path, l.pctx)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	empty := 0
	for page := 1; ; page++ {
		var next string
		var items []map[string]string
		objects := 0
		err := l.s.get(ctx, l.p, l.p.s.Op, path, q, func(rep *pinterest.Reply) error {
			var err error
			next, err = shapes[l.p.s.Shape].read(l.p.s, rep, func(b []byte, at int) (int, error) {
				objects++
				return l.item(ctx, b, at, &items)
			})
			return err
		})
		if err != nil {
			if l.pagingStopped(err, q) {
				return nil
			}
			return err
		}
		l.em.flush(ctx) // before waiting on anything: the page was copied into records and contexts
		if err := l.fanOut(ctx, items); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if objects == 0 {
			empty++
		} else {
			empty = 0
		}
		if err := checkLoop(path, page, next, seen, empty); err != nil {
			return err
		}
		seen[next] = page
		q.Set("bookmark", next)
	}
}

// pagingStopped reports whether err is Pinterest refusing to page further
// (HTTP 400 to a bookmark) on a row that says it may (PagingLimitHint): what
// was read is kept, the rest is named for the end of the run.
func (l *listing) pagingStopped(err error, q url.Values) bool {
	var ae *pinterest.APIError
	if l.p.s.PagingLimitHint == "" || q.Get("bookmark") == "" || !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		return false
	}
	l.s.skipped.stopped(fmt.Sprintf("%s: Pinterest stopped paging %s after %d items (HTTP 400: %s); they were synced, the rest is not served by this endpoint: %s",
		l.p.s.Name, describeContext(l.p.s, l.pctx), l.read, ae.Message, l.p.s.PagingLimitHint))
	return true
}

// checkLoop judges the bookmark a page named as its next one.
func checkLoop(path string, page int, next string, seen map[string]int, empty int) error {
	if first, ok := seen[next]; ok {
		return &loopError{fmt.Sprintf("GET %s: pagination does not end: page %d names bookmark %s as the next page, which page %d already named", path, page, clip(next), first)}
	}
	if empty >= maxEmptyPages {
		return &loopError{fmt.Sprintf("GET %s: pagination does not end: %d pages in a row without any item, each naming a next page (the last: bookmark %s)", path, empty, clip(next))}
	}
	return nil
}

// loopError is a listing stopped because its pagination never ends.
type loopError struct{ msg string }

func (e *loopError) Error() string {
	return e.msg + "; stopped reading it so as not to request forever or emit the same records again. Its bookmark is held; rerun later, and report it to Pinterest if it persists"
}

// clip quotes a server's value for a message, at most 40 bytes of it.
func clip(v string) string {
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return strconv.Quote(v)
}

// item handles one object of a page: its record, its replication key, and
// what it hands to the children.
func (l *listing) item(ctx context.Context, b []byte, at int, items *[]map[string]string) (int, error) {
	it, end, ok, err := l.em.conform(b, at, l.pctx)
	if !ok || err != nil || !l.keep(it.id) {
		return end, err
	}
	l.count(it.id)
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

// count counts an item read and, for a KeepIDs row, notes its id as found.
func (l *listing) count(id string) {
	l.read++
	if l.p.s.KeepIDs != "" {
		if l.found == nil {
			l.found = map[string]bool{}
		}
		l.found[id] = true
	}
}

// getMissing reads one by one the ids of the row's KeepIDs setting that
// the listing did not return (an account shared through business access,
// a share revoked, a typo), with the row's GetOne endpoint: found, it is
// an item like the others; refused, the stream fails naming the id, after
// everything else was synced.
func (l *listing) getMissing(ctx context.Context) {
	st := l.p.s
	if st.GetOne == nil || st.KeepIDs == "" {
		return
	}
	for _, id := range l.s.cfg.Values(st.KeepIDs) {
		if l.found[id] {
			continue
		}
		var items []map[string]string
		path, err := expand(st.GetOne.Path, map[string]string{st.Gives: id})
		if err == nil {
			err = l.s.get(ctx, l.p, st.GetOne.Op, path, nil, func(rep *pinterest.Reply) error {
				_, err := shapes[catalog.Object].read(st, rep, func(b []byte, at int) (int, error) { return l.item(ctx, b, at, &items) })
				return err
			})
		}
		if err == nil {
			l.em.flush(ctx)
			err = l.fanOut(ctx, items)
		}
		if err != nil {
			l.s.fail(l.p, fmt.Errorf("%s names %s, which the listing does not return and %s cannot read: %w", st.KeepIDs, id, st.GetOne.Op, err))
		}
	}
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

package tap

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// A list read with its parent's ids in batches (keywords of ad groups): each
// batch of ids is paged through with the row's Batch.Param; where Pinterest
// refuses that parameter (HTTP 400) the batch is read again one id a call
// with Batch.Single, and from then on every batch of that parent context. An
// Unfiltered row is also read once without ids (the account-level keywords).
// A record already emitted in this parent context is not emitted again.

// runBatched reads a batched child of a listing: by date windows for a
// windowed shape, else as batched pages.
func (s *Syncer) runBatched(ctx context.Context, p *plan, pctx map[string]string, b *batcher) error {
	if p.s.Shape.Windowed() {
		return s.runWindows(ctx, p, pctx, b)
	}
	path, failed := expand(p.s.Path, pctx)
	bl := &batchedList{s: s, p: p, pctx: pctx, path: path, em: s.newEmitter(p), seen: map[string]bool{}}
	defer bl.em.flush(ctx)
	if failed == nil && p.s.Batch.Unfiltered {
		failed = bl.pages(ctx, s.query(p.s))
	}
	for ids := range b.ch {
		if failed == nil { // else drain, so that the listing never blocks
			failed = bl.batch(ctx, ids)
		}
	}
	return failed
}

type batchedList struct {
	s       *Syncer
	p       *plan
	pctx    map[string]string
	path    string
	em      *emitter
	seen    map[string]bool // ids emitted in this parent context
	refused bool            // Pinterest refused Batch.Param here: one id a call
}

// batch reads one batch of ids.
func (bl *batchedList) batch(ctx context.Context, ids []string) error {
	bt := bl.p.s.Batch
	if !bl.refused {
		q := bl.s.query(bl.p.s)
		q[bt.Param] = ids
		err := bl.pages(ctx, q)
		if bt.Single == "" || !hasStatus(err, http.StatusBadRequest) {
			return err
		}
		bl.refused = true
		bl.s.out.warn(fmt.Sprintf("%s: Pinterest refused %s for %s (HTTP 400: %v); reading one %s a call instead, as many calls as ids",
			bl.p.s.Name, bt.Param, describeContext(bl.p.s, bl.pctx), err, bt.Single))
	}
	for _, id := range ids {
		q := bl.s.query(bl.p.s)
		q.Set(bt.Single, id)
		if err := bl.pages(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// pages reads every page of one query and emits the records not seen yet.
func (bl *batchedList) pages(ctx context.Context, q url.Values) error {
	seen := map[string]int{}
	empty := 0
	for page := 1; ; page++ {
		var next string
		objects := 0
		err := bl.s.get(ctx, bl.p, bl.p.s.Op, bl.path, q, func(rep *pinterest.Reply) error {
			var err error
			next, err = shapes[bl.p.s.Shape].read(bl.p.s, rep, func(b []byte, at int) (int, error) {
				objects++
				it, end, ok, err := bl.em.conform(b, at, bl.pctx)
				if ok && bl.p.selected && (it.id == "" || !bl.seen[it.id]) {
					bl.seen[it.id] = true
					bl.em.add(ctx)
				}
				return end, err
			})
			return err
		})
		if err != nil {
			return err
		}
		bl.em.flush(ctx)
		if next == "" {
			return nil
		}
		if objects == 0 {
			empty++
		} else {
			empty = 0
		}
		if err := checkLoop(bl.path, page, next, seen, empty); err != nil {
			return err
		}
		seen[next] = page
		q.Set("bookmark", next)
	}
}

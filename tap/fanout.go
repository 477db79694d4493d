package tap

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// skippable says whether an error of a child request means "this parent
// is gone or not ours" (warn and go on) rather than a failure.
func skippable(err error) (int, bool) {
	var ae *pinterest.APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound || ae.Status == http.StatusConflict) {
		return ae.Status, true
	}
	return 0, false
}

// hasStatus reports whether err is an API answer of HTTP status.
func hasStatus(err error, status int) bool {
	var ae *pinterest.APIError
	return errors.As(err, &ae) && ae.Status == status
}

// childFailed handles the error of a child stream run for one parent
// context. A 403, 404 or 409 means the parent is not readable or is gone:
// a warning (once per parent for a 403, with the row's hint), not a failure.
func (s *Syncer) childFailed(cp *plan, cctx map[string]string, err error) {
	status, ok := skippable(err)
	if !ok {
		s.fail(cp, fmt.Errorf("%s: %w", describeContext(cp.s, cctx), err))
		return
	}
	if status == http.StatusForbidden {
		for _, a := range cp.s.Ancestors() {
			id, has := cctx[a.Gives]
			if a.DeniedHint == "" || !has {
				continue
			}
			if _, dup := s.deniedOnce.LoadOrStore(a.Name+"\x00"+id, true); !dup {
				s.out.warn(fmt.Sprintf("%s %s is not readable with this token (HTTP 403: %v); its %s are skipped: %s", singular(a.Name), id, err, s.descendants(a), a.DeniedHint))
			}
			return
		}
		if cp.s.DeniedHint != "" { // the stream itself is refused, not one parent item
			s.fail(cp, fmt.Errorf("HTTP 403: %w: %s", err, cp.s.DeniedHint))
			return
		}
	}
	s.out.warn(fmt.Sprintf("%s skipped for %s: HTTP %d (%v); it was probably deleted during the sync", cp.s.Name, describeContext(cp.s, cctx), status, err))
}

// describeContext names the parent items of a context, root first
// ("ad_account 549755885175", "board 1, section 7").
func describeContext(st *catalog.Stream, ctx map[string]string) string {
	anc := st.Ancestors()
	var parts []string
	for i := len(anc) - 1; i >= 0; i-- {
		k := anc[i].Gives
		if v, ok := ctx[k]; ok && k != "" {
			parts = append(parts, strings.ReplaceAll(strings.TrimSuffix(k, "_id"), "_", " ")+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

// singular turns a stream name into the name of one of its items.
func singular(stream string) string {
	return strings.ReplaceAll(strings.TrimSuffix(stream, "s"), "_", " ")
}

// descendants lists the streams below a stream, for messages.
func (s *Syncer) descendants(a *catalog.Stream) string {
	var names []string
	for _, p := range s.order {
		for _, anc := range p.s.Ancestors() {
			if anc.Name == a.Name {
				names = append(names, p.s.Name)
				break
			}
		}
	}
	return strings.Join(names, ", ")
}

// batcher hands a listing's ids to a batched child, size at a time.
type batcher struct {
	ch   chan []string
	buf  []string
	size int
	ok   bool
	once sync.Once
}

func newBatcher(size int) *batcher { return &batcher{ch: make(chan []string, 2), size: size} }

func (b *batcher) add(ctx context.Context, id string) {
	b.buf = append(b.buf, id)
	if len(b.buf) == b.size {
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

// drain consumes what is left of the batches (nil: none), so that the
// listing handing them over never blocks.
func (b *batcher) drain() {
	if b == nil {
		return
	}
	for range b.ch {
	}
}

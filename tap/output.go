package tap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/bufpool"
	"github.com/tap-pinterest/tap-pinterest/tap/logging"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

// msg is what fetchers hand to the writer: a stream's RECORD lines, and/or
// a bookmark to apply after them.
type msg struct {
	stream   string
	schema   []byte // a SCHEMA sent again, widened (keep_unknown_fields), before lines
	schemaOf *plan
	lines    []byte
	n        int
	bookmark *bookmarkUpdate
}

type bookmarkUpdate struct {
	s         *catalog.Stream
	partition string // the value of the row's Partition context key
	value     time.Time
}

// output is the one goroutine that owns stdout. Messages arrive in the
// order each fetcher sent them, so a bookmark sent after its records is
// applied, and its STATE written, only after those records are written.
type output struct {
	ch    chan msg
	state *State
	log   *slog.Logger

	// ProgressEvery is how often progress and record_count metrics are logged.
	progressEvery time.Duration

	mu       sync.Mutex
	abortErr error
	cancel   context.CancelFunc

	counts map[string]int64
	// progress, when set, adds a line to each progress report ("" = none).
	progress func() string
}

func newOutput(state *State, log *slog.Logger) *output {
	return &output{ch: make(chan msg, 16), state: state, log: log, progressEvery: 5 * time.Second, counts: map[string]int64{}}
}

// send queues a message. Once the run is cancelled nothing more is queued,
// so a bookmark can never follow records that were dropped.
func (o *output) send(ctx context.Context, m msg) {
	if ctx.Err() != nil {
		return
	}
	select {
	case o.ch <- m:
	case <-ctx.Done():
	}
}

func (o *output) warn(s string) { o.log.Warn(s) }

// abort stops the run for an error that concerns every stream (bad credentials).
func (o *output) abort(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.abortErr == nil {
		o.abortErr = err
	}
	if o.cancel != nil {
		o.cancel()
	}
}

// ErrTargetGone is returned when stdout is closed: the target exited.
var ErrTargetGone = errors.New("stdout closed: the downstream target exited, so the tap stopped (no state was lost: rerun with the target's last state)")

func (o *output) run(w *singer.Writer, schemas []*plan, cancel context.CancelFunc) error {
	o.mu.Lock()
	o.cancel = cancel
	o.mu.Unlock()
	fail := func(err error) error {
		cancel()
		for range o.ch { // let the fetchers finish
		}
		if errors.Is(err, syscall.EPIPE) {
			return ErrTargetGone
		}
		return fmt.Errorf("write to stdout: %w", err)
	}
	for _, p := range schemas {
		if err := w.WriteSchema(p.s.Name, p.schema, p.s.KeyProperties, p.s.BookmarkProperties(p.fullTable)); err != nil {
			return fail(err)
		}
	}
	tick := time.NewTicker(o.progressEvery)
	defer tick.Stop()
	reported := map[string]int64{}
	for {
		select {
		case m, ok := <-o.ch:
			if !ok {
				o.report(reported, true)
				o.mu.Lock()
				aborted := o.abortErr
				o.mu.Unlock()
				if err := w.WriteState(o.state); err != nil {
					return fail(err)
				}
				return aborted
			}
			if err := o.write(w, m); err != nil {
				return fail(err)
			}
		case <-tick.C:
			o.report(reported, false)
		}
	}
}

// write writes a batch's records, then the STATE its bookmark advances.
func (o *output) write(w *singer.Writer, m msg) error {
	if m.schema != nil {
		p := m.schemaOf
		if err := w.WriteSchema(p.s.Name, m.schema, p.s.KeyProperties, p.s.BookmarkProperties(p.fullTable)); err != nil {
			return err
		}
	}
	if m.n > 0 {
		if err := w.WriteRecords(m.lines); err != nil {
			return err
		}
		bufpool.Put(m.lines)
		o.counts[m.stream] += int64(m.n)
	}
	if m.bookmark != nil {
		o.state.advance(m.bookmark.s, m.bookmark.partition, m.bookmark.value)
		return w.WriteState(o.state)
	}
	return nil
}

// report logs the record counts since the last report: a metric per stream
// that moved and, unless final, a progress line; the final report covers
// every stream. reported holds the counts already reported.
func (o *output) report(reported map[string]int64, final bool) {
	names := make([]string, 0, len(o.counts))
	for n := range o.counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := o.counts[n] - reported[n]
		if d == 0 && !final {
			continue // a stream that did not move says nothing
		}
		logging.Metric(o.log, "counter", "record_count", d, map[string]any{"endpoint": n, "stream": n})
		if !final {
			o.log.Info(fmt.Sprintf("progress: %s: %d records so far (+%d)", n, o.counts[n], d))
		}
		reported[n] = o.counts[n]
	}
	if o.progress != nil && !final {
		if l := o.progress(); l != "" {
			o.log.Info("progress: " + l)
		}
	}
}

// Counts returns the records written per stream (after Run).
func (s *Syncer) Counts() map[string]int64 { return s.out.counts }

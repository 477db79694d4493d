package tap

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/bufpool"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

// visit is called with each record object of a response: the object
// starts at b[at]; it returns the index just past it.
type visit func(b []byte, at int) (int, error)

// shape reads one kind of response: it visits the record objects of a
// body and returns the bookmark of the next page ("" when there is none).
type shape func(body []byte, fn visit) (next string, err error)

// shapes is the one map from a row's response shape to its reader.
var shapes = map[catalog.Shape]shape{
	catalog.Paged: func(body []byte, fn visit) (string, error) {
		next, _ := jsonscan.StringValue(jsonscan.Member(body, "bookmark"))
		return next, jsonscan.EachObject(jsonscan.Member(body, "items"), fn)
	},
	catalog.Items: func(body []byte, fn visit) (string, error) {
		return "", jsonscan.EachObject(jsonscan.Member(body, "items"), fn)
	},
	catalog.Object: func(body []byte, fn visit) (string, error) {
		_, err := fn(body, jsonscan.SkipSpace(body, 0))
		return "", err
	},
	catalog.Rows: func(body []byte, fn visit) (string, error) {
		return "", jsonscan.EachObject(body, fn)
	},
	// One record per day of the "all" split; no data for the user in the
	// window means no key.
	catalog.DailyMetrics: func(body []byte, fn visit) (string, error) {
		return "", jsonscan.EachObject(jsonscan.Member(jsonscan.Member(body, "all"), "daily_metrics"), fn)
	},
}

// query builds the parameters a row sends on every call from the config.
func (s *Syncer) query(st *catalog.Stream) url.Values {
	q := url.Values{}
	for _, prm := range st.Params {
		vals := []string{prm.Value}
		if prm.Setting != "" {
			vals = s.cfg.Values(prm.Setting)
		}
		if or := s.cfg.Values(prm.Or); len(vals) == 0 && len(or) > 0 {
			vals = or[:1]
		}
		if prm.CSV {
			vals = []string{strings.Join(vals, ",")}
		}
		q[prm.Name] = vals
	}
	return q
}

// pathID is the pattern of the ids Pinterest's paths take (the spec's
// ^\d+$ for every path id): an id from an answer that does not match it
// ("..", a URL) is never put in a path.
var pathID = regexp.MustCompile(`^[0-9]{1,20}$`)

// expand fills the {placeholders} of a path from the context.
func expand(path string, ctx map[string]string) (string, error) {
	for k, v := range ctx {
		ph := "{" + k + "}"
		if !strings.Contains(path, ph) {
			continue
		}
		if !pathID.MatchString(v) {
			return "", fmt.Errorf("%s %.60q from Pinterest's answer is not an id (%s), so it is not sent in a request path", k, v, pathID)
		}
		path = strings.ReplaceAll(path, ph, v)
	}
	return path, nil
}

// get is the engine's one way to Pinterest: it reads one response and
// hands its body to use, then releases it.
// op is the row's operation, or another of its endpoints (GetOne).
func (s *Syncer) get(ctx context.Context, p *plan, op, path string, q url.Values, use func(body []byte) error) error {
	rep, err := s.client.Get(ctx, pinterest.Request{Stream: p.s.Name, Op: op, Category: p.s.Category, Path: path, Query: q})
	if err != nil {
		return err
	}
	defer rep.Release()
	if err := use(rep.Body); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// emitter collects a stream's RECORD lines and hands them to the writer in
// chunks, so that what is in flight stays bounded.
type emitter struct {
	s         *Syncer
	p         *plan
	lines     []byte
	n         int
	rec       []byte // the record being built, reused
	extracted string
}

func (s *Syncer) newEmitter(p *plan) *emitter {
	return &emitter{s: s, p: p, extracted: singer.FormatTime(time.Now())}
}

// add appends the record in e.rec.
func (e *emitter) add(ctx context.Context) {
	if e.lines == nil {
		e.lines = getChunk()
	}
	e.lines = singer.AppendRecord(e.lines, e.p.quoted, e.rec, e.extracted)
	e.n++
	if len(e.lines) > chunkBytes {
		e.flush(ctx)
	}
}

// flush sends what was collected.
func (e *emitter) flush(ctx context.Context) {
	if e.n > 0 {
		e.s.out.send(ctx, msg{stream: e.p.s.Name, lines: e.lines, n: e.n})
	} else if e.lines != nil {
		putChunk(e.lines)
	}
	e.lines, e.n = nil, 0
}

// conform reads the object at b[at] as a record of the stream (into
// e.rec), or only its id and replication key when the stream is not
// selected. ok is false for an object that is skipped (no key property).
func (e *emitter) conform(b []byte, at int, pctx map[string]string) (it item, end int, ok bool, err error) {
	if e.p.selected {
		e.rec, it, end, err = e.p.conf.conformAt(e.rec[:0], b, at, pctx)
		var skipped *skippedError
		if errors.As(err, &skipped) {
			e.s.out.warn(skipped.Error())
			return it, end, false, nil
		}
		return it, end, err == nil, err
	}
	if end, err = jsonscan.SkipValue(b, at); err != nil {
		return it, end, false, err
	}
	obj := b[at:end]
	it.id, _ = jsonscan.StringValue(jsonscan.Member(obj, "id"))
	if e.p.s.Incremental() {
		it.repRaw = jsonscan.Member(obj, e.p.s.ReplicationKey)
	}
	return it, end, true, nil
}

func getChunk() []byte  { return bufpool.Get(chunkBytes + chunkBytes/4)[:0] }
func putChunk(b []byte) { bufpool.Put(b) }

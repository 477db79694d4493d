package tap

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/bufpool"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

// visit is called with each record object of a response: the object
// starts at b[at]; it returns the index just past it. b is valid only
// during the call.
type visit func(b []byte, at int) (int, error)

// shape says where a kind of response holds its records: the one map from
// a row's response shape to its reader is shapes. A new shape is a new
// entry; shape.read reads a body in memory with jsonscan and a large
// (spooled) body as a stream, one record object at a time.
type shape struct {
	items    []string // members leading from the body to the array of records; none: the body is the array
	object   bool     // the body itself is the one record
	bookmark string   // the top-level member holding the next page's bookmark; "" for none
	// wrap, when set, turns each object of the array into the record
	// (targeting rows: the "metrics" member flattened).
	wrap func(st *catalog.Stream, fn visit) visit
	// whole, when set, reads a body in memory its own way (ids as member
	// names); such bodies are far smaller than the spooling threshold, and
	// a spooled one is refused.
	whole func(st *catalog.Stream, body []byte, fn visit) (string, error)
}

// shapes is the one map from a row's response shape to its reader.
var shapes = map[catalog.Shape]shape{
	catalog.Paged:  {items: []string{"items"}, bookmark: "bookmark"},
	catalog.Items:  {items: []string{"items"}},
	catalog.Object: {object: true},
	catalog.Rows:   {},
	// One record per day of the "all" split.
	catalog.DailyMetrics: {items: []string{"all", "daily_metrics"}},
	// One record per item of "data", its "metrics" object flattened beside
	// the item's other members; no "data" (or null) is a report without rows.
	catalog.TargetingRows:     {items: []string{"data"}, wrap: flattenMetrics},
	catalog.KeyedDailyMetrics: {whole: keyedDailyMetrics},
}

// read visits the record objects of a body and returns the bookmark of
// the next page ("" when there is none).
func (sh shape) read(st *catalog.Stream, rep *pinterest.Reply, fn visit) (next string, err error) {
	if sh.wrap != nil {
		fn = sh.wrap(st, fn)
	}
	spooled := rep.Body == nil && rep.Size() > 0
	if spooled && sh.whole != nil {
		return "", fmt.Errorf("an answer of %d bytes is too large for this endpoint's shape", rep.Size())
	}
	if spooled {
		return sh.stream(rep.Reader(), fn)
	}
	body := rep.Body
	if sh.whole != nil {
		return sh.whole(st, body, fn)
	}
	if sh.object {
		_, err := fn(body, jsonscan.SkipSpace(body, 0))
		return "", err
	}
	if sh.bookmark != "" {
		next, _ = jsonscan.StringValue(jsonscan.Member(body, sh.bookmark))
	}
	arr := body
	for _, m := range sh.items {
		arr = jsonscan.Member(arr, m)
	}
	return next, jsonscan.EachObject(arr, fn)
}

// flattenMetrics visits each targeting row with its "metrics" object
// flattened beside its other members.
func flattenMetrics(_ *catalog.Stream, fn visit) visit {
	var flat []byte
	return func(b []byte, at int) (end int, err error) {
		if flat, end, err = flatten(flat[:0], b, at, "metrics"); err != nil {
			return end, err
		}
		_, err = fn(flat, 0)
		return end, err
	}
}

// keyedDailyMetrics reads {"<id>": {"<split>": {"daily_metrics": [...]}}}:
// each item becomes a record with the id it is filed under added as the
// row's Batch.Column. Every split is read (the row asks for one).
func keyedDailyMetrics(st *catalog.Stream, body []byte, fn visit) (string, error) {
	var rec []byte
	return "", jsonscan.EachMember(body, func(id, splits []byte) error {
		return jsonscan.EachMember(splits, func(_, m []byte) error {
			days := jsonscan.Member(m, "daily_metrics")
			if days == nil || string(days) == "null" {
				return nil
			}
			return jsonscan.EachObject(days, func(b []byte, at int) (int, error) {
				end, err := jsonscan.SkipValue(b, at)
				if err != nil {
					return end, err
				}
				rec = prependMember(rec[:0], st.Batch.Column, id, b[at:end])
				_, err = fn(rec, 0)
				return end, err
			})
		})
	})
}

// prependMember appends obj with "name":"<raw>" as its first member (raw
// is a JSON string's content, escapes kept).
func prependMember(dst []byte, name string, raw, obj []byte) []byte {
	dst = append(dst, '{', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':', '"')
	dst = append(dst, raw...)
	dst = append(dst, '"')
	rest := obj[jsonscan.SkipSpace(obj, 1):]
	if len(rest) > 0 && rest[0] != '}' {
		dst = append(dst, ',')
	}
	return append(dst, rest...)
}

// flatten appends the object at b[at] with the members of its object
// member nested moved up beside the others (a null or absent nested member
// adds nothing), in one pass; it returns the index just past the object.
func flatten(dst, b []byte, at int, nested string) ([]byte, int, error) {
	dst = append(dst, '{')
	member := func(k, v []byte) error {
		if len(dst) > 1 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
		dst = append(dst, v...)
		return nil
	}
	end, err := jsonscan.WalkObject(b, at, func(k, v []byte) error {
		if string(k) != nested {
			return member(k, v)
		}
		if string(v) == "null" {
			return nil
		}
		return jsonscan.EachMember(v, member)
	})
	return append(dst, '}'), end, err
}

// query builds the parameters a row sends on every call from the config.
func (s *Syncer) query(st *catalog.Stream) url.Values {
	q := url.Values{}
	for _, prm := range st.Params {
		if prm.PerCall > 0 {
			continue // sent in packs (packs)
		}
		vals := s.paramValues(prm)
		if prm.CSV {
			vals = []string{strings.Join(vals, ",")}
		}
		q[prm.Name] = vals
	}
	return q
}

// paramValues are the values a parameter carries: its fixed value or its
// setting's, restricted to the values the operation accepts (all of them
// when the setting is unset).
func (s *Syncer) paramValues(prm catalog.Param) []string {
	if prm.Setting == "" {
		return []string{prm.Value}
	}
	vals := s.cfg.Values(prm.Setting)
	if or := s.cfg.Values(prm.Or); len(vals) == 0 && len(or) > 0 {
		vals = or[:1]
	}
	if prm.Accepts == nil {
		return vals
	}
	if len(vals) == 0 {
		return prm.Accepts
	}
	var out []string
	for _, v := range vals {
		if slices.Contains(prm.Accepts, v) {
			out = append(out, v)
		}
	}
	return out
}

// packs splits the values of the row's PerCall parameter into as few calls
// as its limit allows, each pack comma-separated. A row without one has one
// empty pack (name ""); a row whose values are all left out has none.
func (s *Syncer) packs(st *catalog.Stream) (name string, packs []string) {
	for _, prm := range st.Params {
		if prm.PerCall == 0 {
			continue
		}
		vals := s.paramValues(prm)
		for len(vals) > 0 {
			n := min(prm.PerCall, len(vals))
			packs = append(packs, strings.Join(vals[:n], ","))
			vals = vals[n:]
		}
		return prm.Name, packs
	}
	return "", []string{""}
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
// hands it to use (which reads it with its shape), then releases it.
// op is the row's operation, or another of its endpoints (GetOne).
func (s *Syncer) get(ctx context.Context, p *plan, op, path string, q url.Values, use func(rep *pinterest.Reply) error) error {
	rep, err := s.client.Get(ctx, pinterest.Request{Stream: p.s.Name, Op: op, Category: p.s.Category, Path: path, Query: q})
	if err != nil {
		return err
	}
	defer rep.Release()
	if err := use(rep); err != nil {
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
			e.s.skipped.unkeyed(e.p.s.Name)
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

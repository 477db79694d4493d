package tap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
)

// conformer turns one API object into one record of the stream's selected
// schema without decoding it into a map: it walks the object's members,
// keeps the selected ones (normalising date-times and quoting numeric ids),
// drops what the schema does not declare, adds the parent ids the API leaves
// out, and reads the values the engine needs (id, replication key).
type conformer struct {
	stream    string
	fields    map[string]field
	keys      []string
	addFields []addField
	// Fields Pinterest sent that the schema does not declare (it adds
	// fields over time): counted per field, and, with keepUnknown, passed
	// through after onNew widened the SCHEMA with the field.
	keepUnknown bool
	onNew       func(field string) // called once per new field, under mu, before any record carries it
	mu          sync.Mutex
	unknown     map[string]int64

	warn   func(string)    // where the warnings about values go (nil: nowhere)
	warned []atomic.Uint32 // per field: the problems already warned of
}

type addField struct{ field, ctxKey string }

// field is what the conformer knows of one schema property.
type field struct {
	k   kind
	idx int  // the field's number, for finding a key sent twice
	key bool // a key property
	id  bool // "id": the item's id
	rep bool // the replication key
	add int  // index in addFields, or -1
	// drop: a field the user deselected; left out without a word.
	drop bool
}

// newConformer builds the conformer of a stream from its (already
// field-selected) schema; deselected names the fields the user left out, so
// that only fields unknown to the tap are reported as dropped.
func newConformer(s *catalog.Stream, schema []byte, deselected ...string) (*conformer, error) {
	var doc struct {
		Properties map[string]struct {
			Type   json.RawMessage `json:"type"`
			Format string          `json:"format"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema, &doc); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", s.Name, err)
	}
	c := &conformer{stream: s.Name, fields: map[string]field{}, keys: s.KeyProperties}
	for name, p := range doc.Properties {
		c.fields[name] = field{k: kindOf(p.Type, p.Format), idx: len(c.fields), id: name == "id", rep: name == s.ReplicationKey, add: -1}
		if slices.Contains(s.Seconds, name) {
			f := c.fields[name]
			f.k = secondsKind
			c.fields[name] = f
		}
	}
	for f, k := range s.AddFields {
		if _, ok := c.fields[f]; ok {
			c.addFields = append(c.addFields, addField{f, k})
		}
	}
	sort.Slice(c.addFields, func(i, j int) bool { return c.addFields[i].field < c.addFields[j].field })
	for k, af := range c.addFields {
		f := c.fields[af.field]
		f.add = k
		c.fields[af.field] = f
	}
	for _, name := range slices.Concat(deselected, s.Drop) {
		if _, ok := c.fields[name]; !ok {
			c.fields[name] = field{drop: true, idx: len(c.fields), id: name == "id", add: -1}
		}
	}
	c.warned = make([]atomic.Uint32, len(c.fields))
	for _, kp := range s.KeyProperties {
		f, ok := c.fields[kp]
		if !ok {
			return nil, fmt.Errorf("schema of %s lacks its key property %s", s.Name, kp)
		}
		f.key = true
		c.fields[kp] = f
	}
	return c, nil
}

// item is what the engine learns from one object besides its record.
type item struct {
	id     string // the object's "id"
	repRaw []byte // raw replication key value
}

// conformAt appends the record built from the object that starts at src[i]
// to dst, and returns the index just past the object. ctx holds the parent
// ids. It returns dst unchanged and an error when the object lacks a key
// property (a record without its primary key would break every target). It is the tap's hot loop: one
// pass over the object, one map lookup per member, no allocation.
//
//nolint:funlen,gocyclo // the per-member hot loop, kept in one piece on purpose (see BenchmarkConformAnalytics)
func (c *conformer) conformAt(dst, src []byte, i int, ctx map[string]string) ([]byte, item, int, error) {
	var it item
	start, obj := len(dst), i
	malformed := func(at int, err error) ([]byte, item, int, error) {
		return dst[:start], it, at, fmt.Errorf("%s: malformed object: %w", c.stream, err)
	}
	if i >= len(src) || src[i] != '{' {
		return malformed(i, jsonscan.ErrNotJSON)
	}
	dst = append(dst, '{')
	first := true
	var seen uint64 // bit k: addFields[k] present in the object
	sent := newBits(len(c.fields))
	keysFound := 0
	i = jsonscan.SkipSpace(src, i+1)
	if i < len(src) && src[i] == '}' {
		i++
	} else {
		for {
			if i >= len(src) || src[i] != '"' {
				return malformed(i, jsonscan.ErrNotJSON)
			}
			kend, err := jsonscan.SkipString(src, i)
			if err != nil {
				return malformed(i, err)
			}
			key := src[i+1 : kend-1]
			i = jsonscan.SkipSpace(src, kend)
			if i >= len(src) || src[i] != ':' {
				return malformed(i, jsonscan.ErrNotJSON)
			}
			i = jsonscan.SkipSpace(src, i+1)
			vend, err := jsonscan.SkipValue(src, i)
			if err != nil {
				return malformed(i, err)
			}
			val := src[i:vend]
			f, ok := c.fields[string(key)]
			switch {
			case ok && sent.has(f.idx):
				if c.firstTime(f, twice) {
					c.say(key, "sent twice in one object; the first value was kept")
				}
			case ok && f.drop:
				if f.id {
					it.id, _ = jsonscan.StringValue(val)
				}
			case ok:
				sent.set(f.idx)
				if f.id {
					it.id, _ = jsonscan.StringValue(val)
				}
				if f.rep {
					it.repRaw = val
				}
				mark := len(dst)
				if !first {
					dst = append(dst, ',')
				}
				dst = append(dst, '"')
				dst = append(dst, key...)
				dst = append(dst, '"', ':')
				var null bool
				if dst, null = c.fit(dst, f, key, val); null && f.add >= 0 {
					dst = dst[:mark] // a null parent id is filled from the context below
					break
				}
				first = false
				if f.add >= 0 {
					seen |= 1 << f.add
				}
				if f.key && !null {
					keysFound++
				}
			default:
				if string(key) == "id" {
					it.id, _ = jsonscan.StringValue(val)
				}
				if c.newField(key) {
					if !first {
						dst = append(dst, ',')
					}
					first = false
					dst = append(dst, '"')
					dst = append(dst, key...)
					dst = append(dst, '"', ':')
					dst, _ = cleanJSON(dst, val)
				}
			}
			i = jsonscan.SkipSpace(src, vend)
			if i < len(src) && src[i] == ',' {
				i = jsonscan.SkipSpace(src, i+1)
				continue
			}
			if i < len(src) && src[i] == '}' {
				i++
				break
			}
			return malformed(i, jsonscan.ErrNotJSON)
		}
	}
	end := i
	for k, af := range c.addFields {
		if seen&(1<<k) != 0 {
			continue
		}
		v, ok := ctx[af.ctxKey]
		if !ok {
			continue
		}
		if c.fields[af.field].key {
			keysFound++
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, af.field...)
		dst = append(dst, '"', ':')
		dst = strconv.AppendQuote(dst, v)
	}
	if keysFound < len(c.keys) {
		return dst[:start], it, end, &skippedError{fmt.Sprintf("%s: an object without its key properties %v was skipped: %s", c.stream, c.keys, snippet(src[obj:end]))}
	}
	dst = append(dst, '}')
	return dst, it, end, nil
}

// newField counts a value of a field the schema does not declare and
// reports whether it is kept: the first time, with keepUnknown, onNew
// widens the SCHEMA (under mu, so that no record carrying the field can
// reach the writer before it).
func (c *conformer) newField(key []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unknown == nil {
		c.unknown = map[string]int64{}
	}
	n := c.unknown[string(key)]
	if n == 0 && c.keepUnknown && c.onNew != nil {
		c.onNew(string(key))
	}
	c.unknown[string(key)] = n + 1
	return c.keepUnknown
}

// dropped returns the fields Pinterest sent that the schema does not
// declare, with how many values of each, sorted.
func (c *conformer) dropped() (fields []string, counts []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fields = sortedKeys(c.unknown)
	for _, f := range fields {
		counts = append(counts, c.unknown[f])
	}
	return fields, counts
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// skippedError: one object could not become a record (it lacks its keys);
// the engine warns and goes on with the next.
type skippedError struct{ msg string }

func (e *skippedError) Error() string { return e.msg }

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999", // Pinterest's naive UTC date-times
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02",
}

// parseDateTime reads the date-time shapes Pinterest sends; zone-less
// values are UTC.
func parseDateTime(s string) (time.Time, bool) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// unixValue reads an integer (or float) JSON number of seconds.
func unixValue(raw []byte) (int64, bool) {
	if len(raw) == 0 || isNull(raw) {
		return 0, false
	}
	s := strings.Trim(string(raw), `"`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int64(f), true
	}
	return 0, false
}

// snippet returns the start of a body for a message, on one line.
func snippet(b []byte) string {
	s := string(bytes.TrimSpace(b[:min(len(b), 4096)]))
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return strings.Join(strings.Fields(s), " ")
}

// bits is a set of field numbers, on the stack for up to 512 fields.
type bits struct {
	small [8]uint64
	large []uint64
}

func newBits(n int) bits {
	var b bits
	if n > 512 {
		b.large = make([]uint64, n/64+1)
	}
	return b
}

func (b *bits) words() []uint64 {
	if b.large != nil {
		return b.large
	}
	return b.small[:]
}

func (b *bits) has(i int) bool { return b.words()[i/64]&(1<<(i%64)) != 0 }
func (b *bits) set(i int)      { b.words()[i/64] |= 1 << (i % 64) }

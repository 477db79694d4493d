package tap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
)

// State is the Singer state in the Meltano SDK's shape:
//
//	{"bookmarks": {
//	   "<stream>": {"replication_key": "<key>", "replication_key_value": "2026-11-27"},
//	   "<partitioned stream>": {"partitions": [{"context": {"<partition key>": "549755885175"},
//	                  "replication_key": "<key>", "replication_key_value": 1764288000}]}}}
//
// A stream whose row names a Partition keeps one bookmark per value of that
// context key (ads streams: per ad account, never per campaign or ad, so
// state stays small). Values are written in the key's own wire type
// (catalog.KeyType): Unix seconds or milliseconds as numbers, date-times as
// RFC 3339 strings, days as YYYY-MM-DD.
type State struct {
	Bookmarks map[string]*Bookmark `json:"bookmarks"`
	// foreign are bookmarks of streams this version does not know (a
	// stream renamed, or a state written by another version): carried
	// through unchanged, so that going back and forth loses nothing.
	foreign map[string]json.RawMessage
	table   []catalog.Stream // the streams whose bookmarks are known
	// Warnings say what ParseState noticed (an envelope unwrapped, an
	// empty file), for the caller to log.
	Warnings []string `json:"-"`
}

// MarshalJSON writes the known bookmarks and the foreign ones.
func (st *State) MarshalJSON() ([]byte, error) {
	all := make(map[string]any, len(st.Bookmarks)+len(st.foreign))
	for k, v := range st.foreign {
		all[k] = v
	}
	for k, v := range st.Bookmarks {
		all[k] = v
	}
	return json.Marshal(struct {
		Bookmarks map[string]any `json:"bookmarks"`
	}{all})
}

// CheckSelected returns a warning when the state has bookmarks but none
// of a selected stream: the run is then a full sync, which a state meant
// for this tap would not cause.
func (st *State) CheckSelected(sel *Selection, file string) string {
	var found []string
	for name := range st.Bookmarks {
		if _, ok := sel.Streams[name]; ok {
			return ""
		}
		found = append(found, name)
	}
	for name := range st.foreign {
		if _, ok := sel.Streams[name]; ok { // a custom report's: known to the run's table
			return ""
		}
		found = append(found, name)
	}
	if len(found) == 0 {
		return ""
	}
	sort.Strings(found)
	return fmt.Sprintf("state file %s has bookmarks of %s but none of a selected stream: a full sync of the selected streams follows", file, strings.Join(found, ", "))
}

// Bookmark is one stream's bookmark, or its partitions.
type Bookmark struct {
	ReplicationKey      string      `json:"replication_key,omitempty"`
	ReplicationKeyValue any         `json:"replication_key_value,omitempty"`
	Partitions          []Partition `json:"partitions,omitempty"`
}

// Partition is the bookmark of one partition (e.g. one ad account).
type Partition struct {
	Context             map[string]string `json:"context"`
	ReplicationKey      string            `json:"replication_key"`
	ReplicationKeyValue any               `json:"replication_key_value"`
}

// ParseState reads a state file. It accepts {} and also a whole STATE
// message ({"type": "STATE", "value": {...}}), which people often save, and
// the envelope `meltano state get` prints ({"singer_state": {...}}).
func ParseState(b []byte, file string) (*State, error) {
	return parseState(b, file, nil)
}

// parseState reads a state whose known streams are those of table (nil:
// catalog.Streams); the bookmarks of others are kept as foreign.
func parseState(b []byte, file string, table []catalog.Stream) (*State, error) {
	if table == nil {
		table = catalog.Streams
	}
	b = bytes.TrimSpace(b)
	st := &State{Bookmarks: map[string]*Bookmark{}, foreign: map[string]json.RawMessage{}, table: table}
	if len(b) == 0 {
		if file != "" {
			st.Warnings = append(st.Warnings, fmt.Sprintf("state file %s is empty: a full sync follows", file))
		}
		return st, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, usagef("state file %s is not a JSON object: %s; pass the value of the last STATE message, e.g. {\"bookmarks\": {...}}", file, jsonErr(b, err))
	}
	if v, ok := probe["value"]; ok && string(probe["type"]) == `"STATE"` {
		b = v
	}
	if v, ok := probe["singer_state"]; ok && probe["bookmarks"] == nil {
		b = v
		st.Warnings = append(st.Warnings, fmt.Sprintf("state file %s: read the bookmarks inside Meltano's {\"singer_state\": ...} envelope", file))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw struct {
		Bookmarks map[string]json.RawMessage `json:"bookmarks"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, usagef("state file %s: %v", file, err)
	}
	for name, rb := range raw.Bookmarks {
		s := catalog.Find(table, name)
		if s == nil {
			st.foreign[name] = rb
			continue
		}
		var bm Bookmark
		d := json.NewDecoder(bytes.NewReader(rb))
		d.UseNumber()
		if err := d.Decode(&bm); err != nil {
			return nil, usagef("state file %s: bookmarks.%s is not a bookmark object: %v", file, name, err)
		}
		if err := checkBookmark(s, &bm); err != nil {
			return nil, usagef("state file %s: bookmarks.%s: %v; fix or delete that entry to re-sync the stream", file, name, err)
		}
		st.Bookmarks[name] = &bm
	}
	return st, nil
}

func checkBookmark(s *catalog.Stream, bm *Bookmark) error {
	check := func(v any) error {
		if v == nil {
			return nil
		}
		if _, ok := bookmarkValue(s, v); !ok {
			return fmt.Errorf("%v is not a valid %s value", v, s.ReplicationKey)
		}
		return nil
	}
	if err := check(bm.ReplicationKeyValue); err != nil {
		return err
	}
	for _, p := range bm.Partitions {
		if err := check(p.ReplicationKeyValue); err != nil {
			return err
		}
	}
	return nil
}

// bookmarkValue reads a bookmark value of the stream's key type as a
// time: Unix seconds or milliseconds as a JSON number (or an RFC 3339
// string, as other tools write them), date-times and days as strings.
func bookmarkValue(s *catalog.Stream, v any) (time.Time, bool) {
	switch x := v.(type) {
	case json.Number:
		return keyTime(s.KeyType, []byte(x))
	case int64: // a value advance wrote
		return keyTime(s.KeyType, strconv.AppendInt(nil, x, 10))
	case float64:
		return keyTime(s.KeyType, strconv.AppendFloat(nil, x, 'f', -1, 64))
	case string:
		if s.KeyType == catalog.UnixSeconds || s.KeyType == catalog.UnixMillis {
			return parseDateTime(x)
		}
		return keyTime(s.KeyType, []byte(strconv.Quote(x)))
	}
	return time.Time{}, false
}

// keyTime reads a raw JSON value of a replication key as a time.
func keyTime(kt catalog.KeyType, raw []byte) (time.Time, bool) {
	switch kt {
	case catalog.UnixSeconds, catalog.UnixMillis:
		n, ok := unixValue(raw)
		if !ok {
			return time.Time{}, false
		}
		if kt == catalog.UnixMillis {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	case catalog.DateTime:
		str, ok := jsonscan.StringValue(raw)
		if !ok {
			return time.Time{}, false
		}
		return parseDateTime(str)
	case catalog.Day:
		str, ok := jsonscan.StringValue(raw)
		if !ok {
			return time.Time{}, false
		}
		t, err := ParseDate(str)
		return t, err == nil
	}
	return time.Time{}, false
}

// wireValue is a bookmark as the state file holds it, in the key's own type.
func wireValue(kt catalog.KeyType, t time.Time) any {
	switch kt {
	case catalog.UnixSeconds:
		return t.Unix()
	case catalog.UnixMillis:
		return t.UnixMilli()
	case catalog.Day:
		return t.Format(time.DateOnly)
	}
	return t.UTC().Format(time.RFC3339)
}

// get returns the bookmark of a stream, of the partition for partitioned
// streams (the value of the context key the row names).
func (st *State) get(s *catalog.Stream, partition string) (time.Time, bool) {
	bm := st.Bookmarks[s.Name]
	if bm == nil {
		return time.Time{}, false
	}
	if s.Partition == "" {
		if bm.ReplicationKeyValue == nil {
			return time.Time{}, false
		}
		return bookmarkValue(s, bm.ReplicationKeyValue)
	}
	for _, p := range bm.Partitions {
		if p.Context[s.Partition] == partition && p.ReplicationKeyValue != nil {
			return bookmarkValue(s, p.ReplicationKeyValue)
		}
	}
	return time.Time{}, false
}

// advance sets a bookmark; it never moves one backwards.
func (st *State) advance(s *catalog.Stream, partition string, v time.Time) {
	if old, ok := st.get(s, partition); ok && !v.After(old) {
		return
	}
	out := wireValue(s.KeyType, v)
	bm := st.Bookmarks[s.Name]
	if bm == nil {
		bm = &Bookmark{}
		st.Bookmarks[s.Name] = bm
	}
	if s.Partition == "" {
		bm.ReplicationKey, bm.ReplicationKeyValue = s.ReplicationKey, out
		return
	}
	for i := range bm.Partitions {
		if bm.Partitions[i].Context[s.Partition] == partition {
			bm.Partitions[i].ReplicationKey, bm.Partitions[i].ReplicationKeyValue = s.ReplicationKey, out
			return
		}
	}
	bm.Partitions = append(bm.Partitions, Partition{Context: map[string]string{s.Partition: partition}, ReplicationKey: s.ReplicationKey, ReplicationKeyValue: out})
	sort.Slice(bm.Partitions, func(i, j int) bool {
		return bm.Partitions[i].Context[s.Partition] < bm.Partitions[j].Context[s.Partition]
	})
}

// clone returns a deep copy, for reading bookmarks while the writer owns the original.
func (st *State) clone() *State {
	b, _ := json.Marshal(st)
	c, _ := parseState(b, "", st.table)
	return c
}

// forTable returns the state read again for a run's stream table: the
// bookmarks of its custom reports, foreign to ParseState, become known.
func (st *State) forTable(table []catalog.Stream) (*State, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return parseState(b, "(--state)", table)
}

// clockSkew is how far a bookmark may lie ahead of this machine's clock.
const clockSkew = 24 * time.Hour

// checkFuture rejects a bookmark of a selected stream later than now plus
// a day of clock skew: it would make every run read nothing until that
// date, and exit 0 while doing so.
func (st *State) checkFuture(s *catalog.Stream, now time.Time) error {
	bm := st.Bookmarks[s.Name]
	if bm == nil {
		return nil
	}
	check := func(where string, v any) error {
		t, ok := bookmarkValue(s, v)
		if !ok || !t.After(now.Add(clockSkew)) {
			return nil
		}
		return usagef("state: bookmarks.%s%s: %s %v is in the future (now is %s): no record would be read until then. Delete that entry from the state file to re-sync the stream, or correct it (and this machine's clock, if that is what is wrong)",
			s.Name, where, s.ReplicationKey, v, now.UTC().Format(time.RFC3339))
	}
	if err := check("", bm.ReplicationKeyValue); err != nil {
		return err
	}
	for _, p := range bm.Partitions {
		if err := check(" partition "+describePartition(s, p.Context[s.Partition]), p.ReplicationKeyValue); err != nil {
			return err
		}
	}
	return nil
}

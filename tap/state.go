package tap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// State is the Singer state in the Meltano SDK's shape:
//
//	{"bookmarks": {
//	   "user_account_analytics": {"replication_key": "date", "replication_key_value": "2026-11-27"},
//	   "campaigns": {"partitions": [{"context": {"ad_account_id": "549755885175"},
//	                                 "replication_key": "updated_time", "replication_key_value": 1764288000}]}}}
//
// Streams of ad accounts keep one bookmark per ad account (never per
// campaign or ad, so state stays small). updated_time values are Unix
// seconds; DATE and date values are YYYY-MM-DD days.
type State struct {
	Bookmarks map[string]*Bookmark `json:"bookmarks"`
}

// Bookmark is one stream's bookmark, or its partitions.
type Bookmark struct {
	ReplicationKey      string      `json:"replication_key,omitempty"`
	ReplicationKeyValue any         `json:"replication_key_value,omitempty"`
	Partitions          []Partition `json:"partitions,omitempty"`
}

// Partition is the bookmark of one ad account.
type Partition struct {
	Context             map[string]string `json:"context"`
	ReplicationKey      string            `json:"replication_key"`
	ReplicationKeyValue any               `json:"replication_key_value"`
}

// ParseState reads a state file. It accepts {} and also a whole STATE
// message ({"type": "STATE", "value": {...}}), which people often save.
func ParseState(b []byte, file string) (*State, error) {
	b = bytes.TrimSpace(b)
	st := &State{Bookmarks: map[string]*Bookmark{}}
	if len(b) == 0 {
		return st, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, usagef("state file %s is not a JSON object: %s; pass the value of the last STATE message, e.g. {\"bookmarks\": {...}}", file, jsonErr(b, err))
	}
	if v, ok := probe["value"]; ok && string(probe["type"]) == `"STATE"` {
		b = v
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
		s := StreamByName(name)
		if s == nil {
			continue // a stream of another version; kept out, harmless
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

func checkBookmark(s *Stream, bm *Bookmark) error {
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

// bookmarkValue normalises a bookmark value: an int64 of Unix seconds for
// updated_time, a time.Time day for DATE/date.
func bookmarkValue(s *Stream, v any) (any, bool) {
	switch s.ReplicationKey {
	case "updated_time":
		switch x := v.(type) {
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				f, ferr := x.Float64()
				if ferr != nil {
					return nil, false
				}
				n = int64(f)
			}
			return n, true
		case int64:
			return x, true
		case float64:
			return int64(x), true
		case string:
			if t, ok := parseDateTime(x); ok { // an RFC 3339 value from another tool
				return t.Unix(), true
			}
		}
	case "DATE", "date":
		if x, ok := v.(string); ok {
			if t, err := ParseDate(x); err == nil {
				return t, true
			}
		}
	}
	return nil, false
}

// get returns the bookmark of a stream (and ad account, for partitioned
// streams), normalised by bookmarkValue.
func (st *State) get(s *Stream, account string) (any, bool) {
	bm := st.Bookmarks[s.Name]
	if bm == nil {
		return nil, false
	}
	if !s.Partitioned {
		if bm.ReplicationKeyValue == nil {
			return nil, false
		}
		return bookmarkValue(s, bm.ReplicationKeyValue)
	}
	for _, p := range bm.Partitions {
		if p.Context["ad_account_id"] == account && p.ReplicationKeyValue != nil {
			return bookmarkValue(s, p.ReplicationKeyValue)
		}
	}
	return nil, false
}

// advance sets a bookmark; it never moves one backwards.
func (st *State) advance(s *Stream, account string, v any) {
	if old, ok := st.get(s, account); ok && !after(v, old) {
		return
	}
	out := v
	if t, ok := v.(time.Time); ok {
		out = t.Format("2006-01-02")
	}
	bm := st.Bookmarks[s.Name]
	if bm == nil {
		bm = &Bookmark{}
		st.Bookmarks[s.Name] = bm
	}
	if !s.Partitioned {
		bm.ReplicationKey, bm.ReplicationKeyValue = s.ReplicationKey, out
		return
	}
	for i := range bm.Partitions {
		if bm.Partitions[i].Context["ad_account_id"] == account {
			bm.Partitions[i].ReplicationKey, bm.Partitions[i].ReplicationKeyValue = s.ReplicationKey, out
			return
		}
	}
	bm.Partitions = append(bm.Partitions, Partition{Context: map[string]string{"ad_account_id": account}, ReplicationKey: s.ReplicationKey, ReplicationKeyValue: out})
	sort.Slice(bm.Partitions, func(i, j int) bool {
		return bm.Partitions[i].Context["ad_account_id"] < bm.Partitions[j].Context["ad_account_id"]
	})
}

func after(a, b any) bool {
	switch x := a.(type) {
	case int64:
		y, _ := b.(int64)
		return x > y
	case time.Time:
		y, _ := b.(time.Time)
		return x.After(y)
	}
	return true
}

// clone returns a deep copy, for reading bookmarks while the writer owns the original.
func (st *State) clone() *State {
	b, _ := json.Marshal(st)
	c, _ := ParseState(b, "")
	return c
}

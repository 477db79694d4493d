package tap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The tap passes Pinterest's objects through without decoding them into maps:
// these helpers walk JSON that json.Valid has already accepted, returning
// sub-slices of the input. They allocate nothing.

var errNotJSON = errors.New("malformed JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the index just past the value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errNotJSON
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, err := skipString(b, i)
				if err != nil {
					return j, err
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return i, errNotJSON
	default: // number, true, false, null
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == '}' || c == ']' || isSpace(c) {
				break
			}
			j++
		}
		if j == i {
			return i, errNotJSON
		}
		return j, nil
	}
}

func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b), errNotJSON
		}
		j += k
		// The quote ends the string unless an odd number of backslashes escapes it.
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// eachMember calls fn for every member of the object in b. key is the raw
// key without quotes (escapes left as they are); val is the raw value.
func eachMember(b []byte, fn func(key, val []byte) error) error {
	_, err := walkObject(b, skipSpace(b, 0), fn)
	return err
}

// walkObject calls fn for every member of the object that starts at b[i]
// and returns the index just past it: one pass both finds the object's end
// and visits its members.
func walkObject(b []byte, i int, fn func(key, val []byte) error) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return i, fmt.Errorf("%w: expected an object", errNotJSON)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return i, errNotJSON
		}
		end, err := skipString(b, i)
		if err != nil {
			return i, err
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return i, errNotJSON
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return i, err
		}
		if err := fn(key, b[i:vend]); err != nil {
			return i, err
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return i, errNotJSON
	}
	return i, errNotJSON
}

// eachElement calls fn for every element of the array in b.
func eachElement(b []byte, fn func(elem []byte) error) error {
	return eachObject(b, func(b []byte, i int) (int, error) {
		end, err := skipValue(b, i)
		if err != nil {
			return end, err
		}
		return end, fn(b[i:end])
	})
}

// eachObject calls fn for every element of the array in b; fn reads the
// element from b[i] and returns its end, so that an element is scanned once
// (conformAt walks an object and returns where it ends).
func eachObject(b []byte, fn func(b []byte, i int) (int, error)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return fmt.Errorf("%w: expected an array", errNotJSON)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for i < len(b) {
		end, err := fn(b, i)
		if err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return nil
		}
		return errNotJSON
	}
	return errNotJSON
}

// complete reports whether b holds one whole JSON object or array: its
// strings and brackets close, and nothing follows. It is much cheaper than
// json.Valid and catches what goes wrong on the wire (a body cut short, an
// HTML page); large bodies are checked with it instead of json.Valid.
func complete(b []byte) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || (b[i] != '{' && b[i] != '[') {
		return false
	}
	end, err := skipValue(b, i)
	return err == nil && skipSpace(b, end) == len(b)
}

// member returns the raw value of key in object b, or nil.
func member(b []byte, key string) []byte {
	var out []byte
	_ = eachMember(b, func(k, v []byte) error {
		if string(k) == key {
			out = v
			return errStop
		}
		return nil
	})
	return out
}

var errStop = errors.New("stop")

// stringValue decodes a raw JSON string; a number is returned as its digits
// (Pinterest ids are strings, but a number must not be lost either).
func stringValue(raw []byte) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		if len(raw) < 2 || raw[len(raw)-1] != '"' {
			return "", false
		}
		if !hasEscape(raw) {
			return string(raw[1 : len(raw)-1]), true
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case 'n', 't', 'f', '{', '[':
		return "", false
	default:
		return string(raw), true
	}
}

func hasEscape(raw []byte) bool {
	for _, c := range raw {
		if c == '\\' {
			return true
		}
	}
	return false
}

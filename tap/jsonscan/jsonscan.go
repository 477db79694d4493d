// Package jsonscan walks JSON without decoding it. The tap passes
// Pinterest's objects through without decoding them into maps: these helpers
// walk JSON that json.Valid (or Complete) has already accepted, returning
// sub-slices of the input. They allocate nothing.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotJSON is returned (possibly wrapped) for input that is not the JSON
// the caller expected.
var ErrNotJSON = errors.New("malformed JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// SkipSpace returns the index of the first non-space byte at or after b[i].
func SkipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// SkipValue returns the index just past the value that starts at b[i].
func SkipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, ErrNotJSON
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		return skipContainer(b, i)
	default: // number, true, false, null
		return skipLiteral(b, i)
	}
}

// skipContainer returns the index just past the object or array at b[i],
// counting brackets outside strings.
func skipContainer(b []byte, i int) (int, error) {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			j, err := SkipString(b, i)
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
	return i, ErrNotJSON
}

// skipLiteral returns the index just past the number, true, false or null
// at b[i].
func skipLiteral(b []byte, i int) (int, error) {
	j := i
	for j < len(b) {
		c := b[j]
		if c == ',' || c == '}' || c == ']' || isSpace(c) {
			break
		}
		j++
	}
	if j == i {
		return i, ErrNotJSON
	}
	return j, nil
}

// SkipString returns the index just past the string whose opening quote is
// at b[i].
func SkipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b), ErrNotJSON
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

// EachMember calls fn for every Member of the object in b. key is the raw
// key without quotes (escapes left as they are); val is the raw value.
func EachMember(b []byte, fn func(key, val []byte) error) error {
	_, err := walkObject(b, SkipSpace(b, 0), fn)
	return err
}

// WalkObject calls fn for every member of the object that starts at b[i]
// and returns the index just past it (EachObject's visit in one pass).
func WalkObject(b []byte, i int, fn func(key, val []byte) error) (int, error) {
	return walkObject(b, i, fn)
}

// walkObject calls fn for every Member of the object that starts at b[i]
// and returns the index just past it: one pass both finds the object's end
// and visits its members.
func walkObject(b []byte, i int, fn func(key, val []byte) error) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return i, fmt.Errorf("%w: expected an object", ErrNotJSON)
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		vend, err := walkMember(b, i, fn)
		if err != nil {
			return vend, err
		}
		i = SkipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = SkipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return i, ErrNotJSON
	}
}

// walkMember reads the member "key": value that starts at b[i], calls fn
// with them, and returns the index just past the value.
func walkMember(b []byte, i int, fn func(key, val []byte) error) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return i, ErrNotJSON
	}
	end, err := SkipString(b, i)
	if err != nil {
		return i, err
	}
	key := b[i+1 : end-1]
	i = SkipSpace(b, end)
	if i >= len(b) || b[i] != ':' {
		return i, ErrNotJSON
	}
	i = SkipSpace(b, i+1)
	vend, err := SkipValue(b, i)
	if err != nil {
		return i, err
	}
	if err := fn(key, b[i:vend]); err != nil {
		return i, err
	}
	return vend, nil
}

// EachElement calls fn for every element of the array in b.
func EachElement(b []byte, fn func(elem []byte) error) error {
	return EachObject(b, func(b []byte, i int) (int, error) {
		end, err := SkipValue(b, i)
		if err != nil {
			return end, err
		}
		return end, fn(b[i:end])
	})
}

// EachObject calls fn for every element of the array in b; fn reads the
// element from b[i] and returns its end, so that an element is scanned once
// (conformAt walks an object and returns where it ends).
func EachObject(b []byte, fn func(b []byte, i int) (int, error)) error {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return fmt.Errorf("%w: expected an array", ErrNotJSON)
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for i < len(b) {
		end, err := fn(b, i)
		if err != nil {
			return err
		}
		i = SkipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = SkipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return nil
		}
		return ErrNotJSON
	}
	return ErrNotJSON
}

// Complete reports whether b holds one whole JSON object or array: its
// strings and brackets close, and nothing follows. It is much cheaper than
// json.Valid and catches what goes wrong on the wire (a body cut short, an
// HTML page); large bodies are checked with it instead of json.Valid.
func Complete(b []byte) bool {
	i := SkipSpace(b, 0)
	if i >= len(b) || (b[i] != '{' && b[i] != '[') {
		return false
	}
	end, err := SkipValue(b, i)
	return err == nil && SkipSpace(b, end) == len(b)
}

// Member returns the raw value of key in object b, or nil.
func Member(b []byte, key string) []byte {
	var out []byte
	_ = EachMember(b, func(k, v []byte) error {
		if string(k) == key {
			out = v
			return errStop
		}
		return nil
	})
	return out
}

var errStop = errors.New("stop")

// StringValue decodes a raw JSON string; a number is returned as its digits
// (Pinterest ids are strings, but a number must not be lost either).
func StringValue(raw []byte) (string, bool) {
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

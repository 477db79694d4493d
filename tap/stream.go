package tap

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// stream reads a body too large for memory (already validated whole, so
// that no record is emitted from a body that turns out broken): it walks
// the members of sh.items down to the array of records and hands each
// element to fn as it is decoded, so memory holds one record at a time.
func (sh shape) stream(r io.Reader, fn visit) (next string, err error) {
	dec := pinterest.NewDecoder(r)
	var raw json.RawMessage
	if sh.object {
		if err := dec.Decode(&raw); err != nil {
			return "", err
		}
		_, err := fn(raw, 0)
		return "", err
	}
	w := walker{dec: dec, fn: fn, bookmark: sh.bookmark}
	err = w.value(sh.items, true)
	return w.next, err
}

// walker is the state of one streamed body.
type walker struct {
	dec      *json.Decoder
	fn       visit
	raw      json.RawMessage // the element being visited, its buffer reused
	bookmark string
	next     string
}

var errNotArray = fmt.Errorf("%w: expected an array", jsonscan.ErrNotJSON)

// value reads the value at the decoder: the array of records when path is
// empty, else an object whose member path[0] leads on; top is the body itself.
func (w *walker) value(path []string, top bool) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if len(path) == 0 {
		if tok != json.Delim('[') {
			return errNotArray
		}
		return w.elements()
	}
	if tok != json.Delim('{') {
		return errNotArray // as jsonscan.Member of a non-object finds nothing
	}
	found, err := w.members(path, top)
	if err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != nil { // '}'
		return err
	}
	if !found {
		return errNotArray
	}
	return nil
}

// members reads the members of an object whose '{' was read, descending
// into path[0]; found says it was there.
func (w *walker) members(path []string, top bool) (found bool, err error) {
	for w.dec.More() {
		key, err := w.dec.Token()
		if err != nil {
			return found, err
		}
		switch {
		case key == path[0] && !found:
			found = true
			err = w.value(path[1:], false)
		case top && key == w.bookmark && w.bookmark != "":
			if err = w.dec.Decode(&w.raw); err == nil {
				w.next, _ = jsonscan.StringValue(w.raw)
			}
		default:
			err = w.skip()
		}
		if err != nil {
			return found, err
		}
	}
	return found, nil
}

// elements visits the elements of the array whose '[' was read.
func (w *walker) elements() error {
	for w.dec.More() {
		if err := w.dec.Decode(&w.raw); err != nil {
			return err
		}
		if _, err := w.fn(w.raw, 0); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // ']'
	return err
}

// skip reads past one value without keeping it (beyond its largest token).
func (w *walker) skip() error {
	depth := 0
	for {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

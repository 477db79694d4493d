// Package singer writes Singer messages (SCHEMA, RECORD, STATE) to a stream:
// one compact JSON object per line, buffered, flushed at every SCHEMA and STATE.
// It knows nothing about Pinterest. A Writer is owned by exactly one goroutine.
package singer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// TimeLayout is the layout of time_extracted and of every date-time the tap
// emits: UTC, six fractional digits, "Z", as singer-python writes them.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Writer writes Singer messages. The first write error sticks: every later
// call returns it, so a dead target (EPIPE) is reported once and nothing is
// written after it.
type Writer struct {
	w   *bufio.Writer
	err error
}

// NewWriter returns a Writer with a 1 MiB buffer over w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 1<<20)}
}

// Err returns the sticky write error, if any.
func (w *Writer) Err() error { return w.err }

func (w *Writer) write(b []byte) error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = err
	}
	return w.err
}

// Flush writes buffered messages through.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		w.err = err
	}
	return w.err
}

type schemaMessage struct {
	Type               string          `json:"type"`
	Stream             string          `json:"stream"`
	Schema             json.RawMessage `json:"schema"`
	KeyProperties      []string        `json:"key_properties"`
	BookmarkProperties []string        `json:"bookmark_properties,omitempty"`
}

// WriteSchema writes a SCHEMA message and flushes. key_properties is always
// present, as an empty list rather than null when there are none.
func (w *Writer) WriteSchema(stream string, schema json.RawMessage, keys, bookmarks []string) error {
	if keys == nil {
		keys = []string{}
	}
	b, err := json.Marshal(schemaMessage{Type: "SCHEMA", Stream: stream, Schema: compact(schema), KeyProperties: keys, BookmarkProperties: bookmarks})
	if err != nil {
		return fmt.Errorf("encode SCHEMA of %s: %w", stream, err)
	}
	if err := w.write(append(b, '\n')); err != nil {
		return err
	}
	return w.Flush()
}

// WriteRecords writes RECORD lines already built with AppendRecord.
func (w *Writer) WriteRecords(lines []byte) error { return w.write(lines) }

// WriteState writes a STATE message and flushes, so that a target sees the
// state only after every record written before it.
func (w *Writer) WriteState(value any) error {
	v, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("encode STATE: %w", err)
	}
	b := make([]byte, 0, len(v)+32)
	b = append(b, `{"type":"STATE","value":`...)
	b = append(b, v...)
	b = append(b, "}\n"...)
	if err := w.write(b); err != nil {
		return err
	}
	return w.Flush()
}

// QuoteStream returns the JSON string of a stream name, to be passed to
// AppendRecord (computed once per stream, not per record).
func QuoteStream(stream string) []byte {
	b, _ := json.Marshal(stream)
	return b
}

// FormatTime formats t as the tap's canonical date-time.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// AppendRecord appends one RECORD line to dst. quotedStream comes from
// QuoteStream; record must be a compact JSON object (no newline); extracted
// is the time_extracted value, already formatted with FormatTime.
func AppendRecord(dst, quotedStream, record []byte, extracted string) []byte {
	dst = append(dst, `{"type":"RECORD","stream":`...)
	dst = append(dst, quotedStream...)
	dst = append(dst, `,"record":`...)
	dst = append(dst, record...)
	dst = append(dst, `,"time_extracted":"`...)
	dst = append(dst, extracted...)
	dst = append(dst, "\"}\n"...)
	return dst
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

package pinterest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/tap-pinterest/tap-pinterest/tap/bufpool"
)

// Response bodies are read with bounded memory whatever a server sends: a
// body stays in memory up to memBody (its weight taken from the client's
// body budget, grown while the budget allows); a larger one is spooled to a
// temporary file, validated there, and read back as a stream. More than
// Options.MaxBody decoded bytes (an endless body, a gzip bomb) fail the
// request. Error bodies are read up to errBody bytes only.
const (
	// DefaultMaxBody is the most a success body may hold, decompressed.
	DefaultMaxBody = 256 << 20
	// memBody is the most one body takes in memory (a power of two, the
	// size class of its recycled buffer).
	memBody = 16 << 20
	// errBody is the most of an error body read (its message is capped further).
	errBody = 64 << 10
)

// Reply is a success body, valid JSON: in memory (Body) or, when larger
// than memBody, in a temporary file (Body is nil; read it with Reader).
// Release it when done with it: its memory is counted against the client's
// body budget and recycled, its file removed.
type Reply struct {
	Body []byte

	file   *os.File
	size   int64
	weight int64
	c      *Client
}

// Size is the body's length in bytes.
func (r *Reply) Size() int64 { return r.size }

// Reader returns the whole body from its start: from memory, or buffered
// from its file. Each call starts again at the beginning.
func (r *Reply) Reader() io.Reader {
	if r.file == nil {
		return bytes.NewReader(r.Body)
	}
	return bufio.NewReaderSize(io.NewSectionReader(r.file, 0, r.size), 64<<10)
}

// Release returns the body's memory and removes its file; the Reply must
// not be used afterwards.
func (r *Reply) Release() {
	if r == nil || r.c == nil {
		return
	}
	bufpool.Put(r.Body)
	r.Body = nil
	if r.file != nil {
		_ = r.file.Close()
		_ = os.Remove(r.file.Name())
		r.file = nil
	}
	r.c.budget.Release(r.weight)
	r.c = nil
}

// TooLargeError is a success body past Options.MaxBody: not retried.
type TooLargeError struct {
	Stream, Method, Path string
	Limit                int64
	Value                bool // one value of the body is past MaxValue
}

func (e *TooLargeError) Error() string {
	who := ""
	if e.Stream != "" {
		who = "stream " + e.Stream + ": "
	}
	if e.Value {
		return fmt.Sprintf("%s%s %s: the response holds a single JSON value larger than %d MiB, far more than any Pinterest record; the server or a proxy is misbehaving, so the tap stopped reading it", who, e.Method, e.Path, MaxValue>>20)
	}
	return fmt.Sprintf("%s%s %s: the response is larger than %d MiB (decompressed), far more than any Pinterest page; the server or a proxy is misbehaving, so the tap stopped reading it", who, e.Method, e.Path, e.Limit>>20)
}

// readReply reads a response body with bounded memory (see memBody). It
// returns nil only when the context ended before there was room for it.
func (c *Client) readReply(ctx context.Context, cl call, resp *http.Response) (*Reply, error) {
	defer resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	weight := int64(unknownLength)
	if resp.ContentLength >= 0 {
		weight = resp.ContentLength // a lying Content-Length costs at most memBody
	}
	if !ok {
		weight = min(weight, errBody)
	}
	weight = min(max(weight, 1), memBody)
	if err := c.budget.Acquire(ctx, weight); err != nil {
		return nil, err
	}
	rep := &Reply{weight: weight, c: c}
	if !ok {
		b, err := io.ReadAll(io.LimitReader(resp.Body, errBody))
		rep.Body, rep.size = b, int64(len(b))
		return rep, err
	}
	body := io.LimitReader(resp.Body, c.maxBody+1)
	full, err := c.readMemory(rep, body)
	if err != nil || !full {
		return rep, err
	}
	if err := c.spool(rep, body); err != nil {
		return rep, err
	}
	if rep.size > c.maxBody {
		return rep, &TooLargeError{Stream: cl.Stream, Method: cl.method, Path: cl.Path, Limit: c.maxBody}
	}
	if err := validStream(rep.Reader()); errors.Is(err, ErrValueTooLarge) {
		return rep, &TooLargeError{Stream: cl.Stream, Method: cl.method, Path: cl.Path, Value: true}
	} else if err != nil {
		return rep, &corruptError{cl.method, cl.Path, cl.Op, resp.StatusCode, int(rep.size), err.Error()}
	}
	return rep, nil
}

// readMemory reads the body into rep.Body, growing it while the budget
// allows up to memBody. full says the body did not fit: rep.Body holds its
// start, the rest is unread.
func (c *Client) readMemory(rep *Reply, body io.Reader) (full bool, err error) {
	buf := bufpool.Get(int(rep.weight))[:0]
	defer func() { rep.Body, rep.size = buf, int64(len(buf)) }()
	for {
		if len(buf) == cap(buf) && !c.grow(rep, &buf) {
			return true, nil
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// grow doubles a body's buffer if memBody and the budget allow.
func (c *Client) grow(rep *Reply, buf *[]byte) bool {
	extra := min(int64(cap(*buf)), memBody-rep.weight)
	if extra <= 0 || !c.budget.TryAcquire(extra) {
		return false
	}
	rep.weight += extra
	nb := bufpool.Get(int(rep.weight))[:len(*buf)]
	copy(nb, *buf)
	bufpool.Put(*buf)
	*buf = nb
	return true
}

// spool moves a body that does not fit in memory to a temporary file: what
// was read, then the rest, and gives back the memory.
func (c *Client) spool(rep *Reply, body io.Reader) error {
	f, err := os.CreateTemp("", "tap-pinterest-body-*.json")
	if err != nil {
		return fmt.Errorf("a large response needs a temporary file: %w", err)
	}
	rep.file = f
	if _, err := f.Write(rep.Body); err != nil {
		return fmt.Errorf("temporary file %s: %w", f.Name(), err)
	}
	bufpool.Put(rep.Body)
	rep.Body = nil
	n, err := io.Copy(f, body)
	rep.size += n
	if err != nil {
		return err
	}
	if keep := int64(1 << 20); rep.weight > keep { // what reading it back takes
		c.budget.Release(rep.weight - keep)
		rep.weight = keep
	}
	return nil
}

// validStream checks that r holds exactly one JSON value. Memory is bounded
// by MaxValue: arrays' elements are decoded one at a time, the rest token by token.
func validStream(r io.Reader) error {
	dec := NewDecoder(r)
	var raw json.RawMessage
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['): // the whole array, element by element
			for dec.More() {
				if err := dec.Decode(&raw); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
		case json.Delim('{'):
			depth++
		case json.Delim('}'):
			depth--
		}
		if depth == 0 {
			break
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON value")
	}
	return nil
}

// MaxValue is the most one value of a streamed body (a record, a string)
// may hold: what a json.Decoder from NewDecoder buffers at most.
const MaxValue = 4 << 20

// ErrValueTooLarge is a single value of a body larger than MaxValue.
var ErrValueTooLarge = fmt.Errorf("a single JSON value larger than %d MiB", MaxValue>>20)

// NewDecoder returns a json.Decoder of r that fails with ErrValueTooLarge
// rather than buffer more than MaxValue bytes for one value or token.
func NewDecoder(r io.Reader) *json.Decoder {
	br := &boundedReader{r: r}
	br.dec = json.NewDecoder(br)
	br.dec.UseNumber()
	return br.dec
}

type boundedReader struct {
	r    io.Reader
	dec  *json.Decoder
	read int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read-b.dec.InputOffset() > MaxValue {
		return 0, ErrValueTooLarge
	}
	n, err := b.r.Read(p[:min(len(p), 64<<10)]) // small reads: the decoder's buffer grows little past MaxValue
	b.read += int64(n)
	return n, err
}

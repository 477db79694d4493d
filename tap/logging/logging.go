package logging

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Log levels: singer-python's names, so that tools grepping for CRITICAL work.
const (
	LevelDebug    = slog.LevelDebug
	LevelInfo     = slog.LevelInfo
	LevelWarning  = slog.LevelWarn
	LevelCritical = slog.Level(12)
)

// Redactor replaces every known secret (client secret, refresh and access
// tokens) with [REDACTED]. It sits in front of everything the tap prints.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// Add registers a secret, with the forms a server may echo it in: URL-
// encoded (query or path escaping), JSON-escaped, and base64. Values
// shorter than 6 characters are ignored (redacting "a" would mangle every
// line).
func (r *Redactor) Add(s string) {
	if r == nil || len(s) < 6 {
		return
	}
	js, _ := json.Marshal(s)
	r.add(s, url.QueryEscape(s), url.PathEscape(s), string(js[1:len(js)-1]),
		base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)))
}

// AddBasic registers HTTP Basic credentials: the secret, and the header
// value base64(user:secret) in its encodings, which hides the secret even
// where base64 of the secret alone would not match.
func (r *Redactor) AddBasic(user, secret string) {
	if r == nil || len(secret) < 6 {
		return
	}
	r.Add(secret)
	r.Add(user + ":" + secret)
}

func (r *Redactor) add(forms ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range forms {
		if !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	// Longest first, so that no secret is left half-replaced by a shorter
	// form that it contains.
	slices.SortStableFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Redact returns s with every secret replaced.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// handler writes "LEVEL message key=value ..." lines to stderr.
type handler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Leveler
	redact *Redactor
	attrs  string
}

// NewLogger returns the tap's logger: singer-python's "%(levelname)s
// %(message)s" format on w, every line passed through the redactor.
func NewLogger(w io.Writer, level slog.Leveler, r *Redactor) *slog.Logger {
	return slog.New(&handler{mu: &sync.Mutex{}, w: w, level: level, redact: r})
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func levelName(l slog.Level) string {
	switch {
	case l >= LevelCritical:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(levelName(r.Level))
	b.WriteByte(' ')
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, a)
		return true
	})
	line := h.redact.Redact(b.String())
	line = strings.ReplaceAll(line, "\n", " ")
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line+"\n")
	return err
}

func writeAttr(b *strings.Builder, a slog.Attr) {
	b.WriteByte(' ')
	b.WriteString(a.Key)
	b.WriteByte('=')
	v := a.Value.String()
	if strings.ContainsAny(v, " \"=") {
		v = fmt.Sprintf("%q", v)
	}
	b.WriteString(v)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		writeAttr(&b, a)
	}
	h2 := *h
	h2.attrs = b.String()
	return &h2
}

func (h *handler) WithGroup(string) slog.Handler { return h }

// Metric writes a Singer metric line: INFO METRIC: {"type":...}.
func Metric(log *slog.Logger, kind, name string, value any, tags map[string]any) {
	b, _ := json.Marshal(struct {
		Type   string         `json:"type"`
		Metric string         `json:"metric"`
		Value  any            `json:"value"`
		Tags   map[string]any `json:"tags"`
	}{kind, name, value, tags})
	log.Info("METRIC: " + string(b))
}

package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	`{}`, `[]`, ` { } `, `0`, `-0`, `-0.5e+10`, `1E5`, `123.456`, `"a"`, `true`, `false`, `null`,
	`{"a":1,"b":[1,2,{"c":null}],"d":"\"\\\/\b\f\n\r\t\u00e9"}`, "[\n\t1 ,\r 2 ]", `"héllo"`, "\"\xff\"",
	`[1.2.3]`, `{"SPEND_IN_DOLLAR":1.2.3,"X":tru}`, `tru`, `nul`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`,
	`[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{1:2}`, `[`, `]`, `{`, `}`, `""`, `"`, `"\x"`, `"\u12"`, `"\u12g4"`,
	"\"a\x01b\"", "\"a\tb\"", `[1 2]`, `{"a":1 "b":2}`, `1 2`, ``, ` `, `[[]]`, `[{}]`, `{"a":{}}`, `{"a":[]}`,
	`[}`, `{]`, `[1}`, `{"a":1]`, `"\\"`, `"\\\""`, `"abcdefghijklmnopqrstuvwxyz\"0123456789"`, `NaN`, `Infinity`,
	"\"0123456\u007f89abcdef\"", "\"01234567\x1f9abcdef\"", `"12345678\\12345678"`,
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range validCases {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", s, got, want)
		}
	}
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			closer := map[string]string{"[": "]", `{"a":`: "}"}[open]
			s := strings.Repeat(open, depth) + "0" + strings.Repeat(closer, depth)
			if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
				t.Errorf("depth %d of %q: Valid %v, encoding/json %v", depth, open, got, want)
			}
			s = strings.Repeat(open, depth-1) + "[]" + strings.Repeat(closer, depth-1)
			if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
				t.Errorf("depth %d of %q with an empty array inside: Valid %v, encoding/json %v", depth, open, got, want)
			}
		}
	}
}

// TestValidLargeBody: a defect deep inside a large analytics body is found.
func TestValidLargeBody(t *testing.T) {
	t.Parallel()
	body := analyticsBody(2 << 20)
	if !Valid(body) {
		t.Fatal("a valid analytics body was rejected")
	}
	for _, bad := range []string{`1.2.3`, `tru`, `"a\qb"`, `01`} {
		b := append([]byte(nil), body...)
		at := len(b) * 3 / 4
		at += strings.Index(string(b[at:]), `"SPEND_IN_DOLLAR":`) + len(`"SPEND_IN_DOLLAR":`)
		end := at + strings.IndexAny(string(b[at:]), ",}")
		b = append(b[:at:at], append([]byte(bad), b[end:]...)...)
		if Valid(b) || json.Valid(b) {
			t.Errorf("%s deep inside: Valid %v, json.Valid %v", bad, Valid(b), json.Valid(b))
		}
		if !Complete(b) {
			t.Errorf("%s: structure should still be complete (this is what Complete misses)", bad)
		}
	}
}

// FuzzValid checks that Valid and encoding/json.Valid agree on every input.
func FuzzValid(f *testing.F) {
	for _, s := range validCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

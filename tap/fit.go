package tap

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/singer"
)

// kind is the JSON type a schema property declares (besides null).
type kind uint8

const (
	anyKind kind = iota // no single type: the value is kept as it is
	stringKind
	dateTimeKind // a string of format date-time, normalised to RFC 3339 UTC
	dateKind     // a string of format date
	integerKind
	numberKind
	booleanKind
	objectKind
	arrayKind
	secondsKind // Unix time in seconds or milliseconds (told apart by magnitude): emitted in seconds
)

// kindOf reads a property's "type" (a name or a list with "null") and format.
func kindOf(typ []byte, format string) kind {
	has := func(t string) bool { return bytes.Contains(typ, []byte(`"`+t+`"`)) }
	switch {
	case has("string") && format == "date-time":
		return dateTimeKind
	case has("string") && format == "date":
		return dateKind
	case has("string") && format == "":
		return stringKind
	case has("integer"):
		return integerKind
	case has("number"):
		return numberKind
	case has("boolean"):
		return booleanKind
	case has("object"):
		return objectKind
	case has("array"):
		return arrayKind
	}
	return anyKind
}

// fit appends val as a value of the property's kind: as it is when it fits,
// coerced when that loses nothing (a numeric id quoted, "12" in an integer
// column, 2.0 as 2, "true" in a boolean one), else null with one warning
// per stream and field. Every string is made valid UTF-8 with its control
// characters escaped. null reports that null was written.
func (c *conformer) fit(dst []byte, f field, name, val []byte) (out []byte, null bool) {
	if isNull(val) {
		return append(dst, "null"...), true
	}
	if out, ok := fitKind(dst, f.k, val); ok {
		return c.clean(out, len(dst), f, name), false
	}
	if c.firstTime(f, misfit) {
		c.say(name, fmt.Sprintf("a value that is not %s (e.g. %s) was written as null", kindName[f.k], snippet(val)))
	}
	return append(dst, "null"...), true
}

// Problems of a field's values, each warned once per stream and field.
const (
	misfit  uint32 = 1 << iota // not of the schema's type, written as null
	badUTF8                    // invalid UTF-8 replaced
	twice                      // a key sent twice in one object
)

var kindName = map[kind]string{
	stringKind: "a string", dateTimeKind: "a date-time", dateKind: "a date", integerKind: "an integer", secondsKind: "a Unix time",
	numberKind: "a finite number", booleanKind: "a boolean", objectKind: "an object", arrayKind: "an array",
}

// fitKind appends val as a value of kind k, or reports that it cannot.
func fitKind(dst []byte, k kind, val []byte) ([]byte, bool) {
	c := val[0]
	switch k {
	case stringKind, dateTimeKind, dateKind:
		return fitString(dst, k, val)
	case integerKind, numberKind:
		return fitNumber(dst, k, val)
	case booleanKind:
		switch string(val) {
		case "true", `"true"`, "1", `"1"`:
			return append(dst, "true"...), true
		case "false", `"false"`, "0", `"0"`:
			return append(dst, "false"...), true
		}
		return dst, false
	case secondsKind:
		return fitSeconds(dst, val)
	case objectKind:
		return append(dst, val...), c == '{'
	case arrayKind:
		return append(dst, val...), c == '['
	}
	return append(dst, val...), true
}

// fitString appends a value of a string column.
func fitString(dst []byte, k kind, val []byte) ([]byte, bool) {
	c := val[0]
	isStr := c == '"'
	switch k {
	case stringKind:
		if isNumber(val) || c == 't' || c == 'f' { // a numeric id must stay text; "true" loses nothing
			return append(append(append(dst, '"'), val...), '"'), true
		}
		return append(dst, val...), isStr
	case dateTimeKind:
		s, ok := jsonscan.StringValue(val)
		if !isStr || !ok {
			return dst, false
		}
		t, ok := parseDateTime(s)
		if !ok {
			return dst, false
		}
		dst = append(dst, '"')
		return append(t.AppendFormat(dst, singer.TimeLayout), '"'), true
	}
	return append(dst, val...), isStr
}

func isNumber(v []byte) bool { return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) }

// fitNumber appends a number (or a string holding one) as a finite number,
// and for an integer column as an integer, when that is exact.
func fitNumber(dst []byte, k kind, val []byte) ([]byte, bool) {
	num, ok := numberText(val)
	if !ok {
		return dst, false
	}
	exp, dot := numberForm(num)
	if k == numberKind && !exp && len(num) < 300 {
		return append(dst, num...), true // finite without parsing: the hot path of analytics
	}
	if k == integerKind && !exp && !dot {
		return append(dst, num...), true // any size: a target reads it exactly
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false // 1e999: no target can hold it
	}
	if k == numberKind {
		return append(dst, num...), true
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return dst, false
	}
	return strconv.AppendInt(dst, int64(f), 10), true
}

// fitSeconds appends a Unix time given in seconds or in milliseconds, in
// seconds.
func fitSeconds(dst, val []byte) ([]byte, bool) {
	out, ok := fitNumber(dst, integerKind, val)
	if !ok {
		return dst, false
	}
	if n, err := strconv.ParseInt(string(out[len(dst):]), 10, 64); err == nil && (n >= millisFrom || n <= -millisFrom) {
		return strconv.AppendInt(dst, n/1000, 10), true
	}
	return out, true
}

// millisFrom: a Unix time this large is in milliseconds (as seconds it
// would be after the year 5138; as milliseconds it is after 1973).
const millisFrom = 100_000_000_000

// numberText returns the JSON number in val, or in the string val.
func numberText(val []byte) ([]byte, bool) {
	if val[0] != '"' {
		return val, isNumber(val)
	}
	num := val[1 : len(val)-1]
	return num, isNumber(num) && jsonscan.Valid(num)
}

// numberForm says whether a number has an exponent and a fraction.
func numberForm(num []byte) (exp, dot bool) {
	for _, b := range num {
		exp = exp || b == 'e' || b == 'E'
		dot = dot || b == '.'
	}
	return exp, dot
}

// clean makes the value appended at dst[from:] JSON text every target
// reads: whitespace between tokens dropped, control characters in strings
// escaped, invalid UTF-8 replaced with U+FFFD (with one warning per stream
// and field). Values of printable ASCII pass untouched.
func (c *conformer) clean(dst []byte, from int, f field, name []byte) []byte {
	v := dst[from:]
	if plainASCII(v) {
		return dst
	}
	cleaned, replaced := cleanJSON(make([]byte, 0, len(v)+8), v)
	if replaced && c.firstTime(f, badUTF8) {
		c.say(name, "text that is not valid UTF-8 was written with U+FFFD in place of the invalid bytes")
	}
	return append(dst[:from], cleaned...)
}

func plainASCII(v []byte) bool {
	for _, b := range v {
		if b < 0x20 || b >= 0x80 {
			return false
		}
	}
	return true
}

// cleanJSON appends the valid JSON value v to dst as described for clean.
func cleanJSON(dst, v []byte) ([]byte, bool) {
	replaced, inStr := false, false
	for i := 0; i < len(v); {
		b := v[i]
		switch {
		case !inStr && (b < 0x20 || b == ' '): // whitespace between tokens
			i++
			continue
		case b == '"':
			inStr = !inStr
		case inStr && b == '\\':
			dst = append(dst, b, v[i+1])
			i += 2
			continue
		case b < 0x20:
			dst = fmt.Appendf(dst, `\u%04x`, b)
			i++
			continue
		case b >= 0x80:
			r, n := utf8.DecodeRune(v[i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
				replaced = true
			} else {
				dst = append(dst, v[i:i+n]...)
			}
			i += n
			continue
		}
		dst = append(dst, b)
		i++
	}
	return dst, replaced
}

// firstTime reports whether a field shows a problem for the first time.
func (c *conformer) firstTime(f field, problem uint32) bool {
	w := &c.warned[f.idx]
	return w.Or(problem)&problem == 0
}

func (c *conformer) say(field []byte, what string) {
	if c.warn != nil {
		c.warn(fmt.Sprintf("%s: field %s: %s (said once per stream and field)", c.stream, field, what))
	}
}

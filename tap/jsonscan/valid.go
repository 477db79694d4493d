package jsonscan

import "encoding/binary"

// maxDepth is encoding/json's nesting limit: Valid rejects what json.Valid
// rejects.
const maxDepth = 10000

// Byte classes of the validator's tables.
var (
	// space marks JSON whitespace.
	space = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}
	// plain marks bytes a string holds as they are: not '"', '\\' or a
	// control character.
	plain = func() (t [256]bool) {
		for c := 0x20; c < 256; c++ {
			t[c] = c != '"' && c != '\\'
		}
		return t
	}()
	// escape marks the bytes that may follow a backslash ('u' is checked apart).
	escape = [256]bool{'"': true, '\\': true, '/': true, 'b': true, 'f': true, 'n': true, 'r': true, 't': true}
	hex    = func() (t [256]bool) {
		for _, c := range "0123456789abcdefABCDEF" {
			t[c] = true
		}
		return t
	}()
	digit = [256]bool{'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true}
)

// Valid reports whether b is one JSON value, exactly as encoding/json.Valid
// does (numbers, literals, strings and their escapes, structure, nesting
// depth; like encoding/json it does not check UTF-8), in one pass without
// allocating, several times faster.
//
//nolint:funlen,gocyclo // a byte-level state machine of JSON's grammar: one case per production reads best whole
func Valid(b []byte) bool {
	var stack [maxDepth/64 + 1]uint64 // one bit per open container: 1 object, 0 array
	depth := 0
	i := skipWS(b, 0)
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case '{', '[':
			if depth == maxDepth {
				return false
			}
			obj := b[i] == '{'
			i = skipWS(b, i+1)
			if i < len(b) && ((obj && b[i] == '}') || (!obj && b[i] == ']')) {
				i++
				break // an empty container is a whole value
			}
			if obj {
				stack[depth/64] |= 1 << (depth % 64)
				if i = member(b, i); i < 0 {
					return false
				}
			} else {
				stack[depth/64] &^= 1 << (depth % 64)
			}
			depth++
			continue
		case '"':
			i = scanString(b, i)
		case 't':
			i = literal(b, i, "true")
		case 'f':
			i = literal(b, i, "false")
		case 'n':
			i = literal(b, i, "null")
		default:
			i = scanNumber(b, i)
		}
		if i < 0 {
			return false
		}
		// After a value: close containers until the next value starts.
		for {
			i = skipWS(b, i)
			if depth == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			obj := stack[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			c := b[i]
			if c == ',' {
				i = skipWS(b, i+1)
				if obj {
					if i = member(b, i); i < 0 {
						return false
					}
				}
				break
			}
			if (obj && c == '}') || (!obj && c == ']') {
				depth--
				i++
				continue
			}
			return false
		}
	}
}

// member reads `"key" :` at b[i] and returns where its value starts, -1 if
// that is not what is there.
func member(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = scanString(b, i); i < 0 {
		return -1
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipWS(b, i+1)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && space[b[i]] {
		i++
	}
	return i
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// scanString returns the index past the string that starts with the quote
// at b[i], -1 if it is not a valid string. Runs of plain bytes are skipped
// eight at a time.
//
//nolint:funlen,gocyclo // a byte-level state machine of JSON's grammar: one case per production reads best whole
func scanString(b []byte, i int) int {
	i++
	for {
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			// A byte of w is '"', '\\' or below 0x20 (SWAR zero-byte tests).
			q, s := w^(ones*'"'), w^(ones*'\\')
			if ((q-ones)&^q|(s-ones)&^s|(w-ones*0x20)&^w)&highs != 0 {
				break
			}
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(b) {
				return -1
			}
			if c := b[i+1]; escape[c] {
				i += 2
			} else if c == 'u' && i+6 <= len(b) && hex[b[i+2]] && hex[b[i+3]] && hex[b[i+4]] && hex[b[i+5]] {
				i += 6
			} else {
				return -1
			}
		default: // a control character
			return -1
		}
	}
}

// scanNumber returns the index past the number at b[i], -1 if there is none:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
//
//nolint:funlen,gocyclo // a byte-level state machine of JSON's grammar: one case per production reads best whole
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case digit[b[i]]:
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || !digit[b[i+1]] {
			return -1
		}
		i = digits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !digit[b[i]] {
			return -1
		}
		i = digits(b, i)
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && digit[b[i]] {
		i++
	}
	return i
}

package jsonscan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

// analyticsBody returns an array of analytics rows of every column (175),
// as ads/analytics answers them, of at least size bytes.
func analyticsBody(size int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for row := 0; b.Len() < size; row++ {
		if row > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for i, col := range catalog.AnalyticsColumns {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(col))
			b.WriteByte(':')
			switch {
			case strings.HasSuffix(col, "_ID"):
				fmt.Fprintf(&b, `"%d"`, 549755813888+row*7+i)
			case col == "DATE":
				b.WriteString(`"2026-01-31"`)
			case i%7 == 3:
				b.WriteString("null")
			case i%3 == 0:
				fmt.Fprintf(&b, "%d.%04d", row%997, i*37%10000)
			case i%5 == 1:
				fmt.Fprintf(&b, "%de-%d", row%89+1, i%9)
			default:
				b.WriteString(strconv.Itoa(row * i % 100003))
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return []byte(b.String())
}

var benchBody = analyticsBody(4 << 20)

func BenchmarkValid(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if !Valid(benchBody) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkEncodingJSONValid(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if !json.Valid(benchBody) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkComplete(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if !Complete(benchBody) {
			b.Fatal("incomplete")
		}
	}
}

func BenchmarkEachObjectSkipValue(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		n := 0
		err := EachObject(benchBody, func(body []byte, i int) (int, error) {
			n++
			return SkipValue(body, i)
		})
		if err != nil || n == 0 {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkEachObjectMembers(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		n := 0
		err := EachObject(benchBody, func(body []byte, i int) (int, error) {
			return walkObject(body, i, func(k, v []byte) error { n++; return nil })
		})
		if err != nil || n == 0 {
			b.Fatal(err, n)
		}
	}
}

package tap

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
)

var idColumns = map[string]bool{"AD_ACCOUNT_ID": true, "CAMPAIGN_ID": true, "AD_GROUP_ID": true, "AD_ID": true, "DATE": true}

// analyticsRows returns an ads/analytics answer of every column (175) for
// ad account acct, of at least size bytes, and its row count.
func analyticsRows(size int, acct string) ([]byte, int) {
	var b strings.Builder
	b.WriteByte('[')
	rows := 0
	for ; b.Len() < size; rows++ {
		if rows > 0 {
			b.WriteByte(',')
		}
		// The id columns and DATE come with every row, the requested columns after them.
		fmt.Fprintf(&b, `{"AD_ACCOUNT_ID":%q,"CAMPAIGN_ID":"626736%06d","AD_GROUP_ID":"2680%08d","AD_ID":"6870%08d","DATE":"2026-01-%02d"`,
			acct, rows%50, rows%400, rows%3000, rows%28+1)
		for i, col := range catalog.AnalyticsColumns {
			if idColumns[col] {
				continue
			}
			b.WriteByte(',')
			b.WriteString(strconv.Quote(col))
			b.WriteByte(':')
			switch {
			case strings.HasSuffix(col, "_ID"):
				fmt.Fprintf(&b, `"%d"`, 549755813888+rows*7+i)
			case i%7 == 3:
				b.WriteString("null")
			case i%3 == 0:
				fmt.Fprintf(&b, "%d.%04d", rows%997, i*37%10000)
			default:
				b.WriteString(strconv.Itoa(rows * i % 100003))
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return []byte(b.String()), rows
}

// BenchmarkConformAnalytics conforms a 4 MiB ads/analytics answer of every
// column into RECORD bodies, as the engine does for ad_analytics.
func BenchmarkConformAnalytics(b *testing.B) {
	st := catalog.StreamByName("ad_analytics")
	schema, err := catalog.Schema(st.Name)
	if err != nil {
		b.Fatal(err)
	}
	c, err := newConformer(st, schema)
	if err != nil {
		b.Fatal(err)
	}
	const acct = "549755813599"
	body, rows := analyticsRows(4<<20, acct)
	pctx := map[string]string{"ad_account_id": acct}
	rec := make([]byte, 0, 64<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := jsonscan.EachObject(body, func(src []byte, i int) (int, error) {
			var end int
			var err error
			rec, _, end, err = c.conformAt(rec[:0], src, i, pctx)
			n++
			return end, err
		})
		if err != nil || n != rows {
			b.Fatal(err, n)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// TestAnalyticsRowsBench keeps the benchmark's input honest: valid JSON,
// one member per column, every row conformed.
func TestAnalyticsRowsBench(t *testing.T) {
	t.Parallel()
	body, rows := analyticsRows(64<<10, "1")
	if !jsonscan.Valid(body) {
		t.Fatal("invalid")
	}
	n := 0
	err := jsonscan.EachElement(body, func(e []byte) error {
		seen := map[string]bool{}
		err := jsonscan.EachMember(e, func(k, _ []byte) error {
			if seen[string(k)] {
				return fmt.Errorf("duplicate %s", k)
			}
			seen[string(k)] = true
			return nil
		})
		if len(seen) != len(catalog.AnalyticsColumns)+1 { // + DATE
			t.Fatalf("%d members, want %d", len(seen), len(catalog.AnalyticsColumns)+1)
		}
		n++
		return err
	})
	if err != nil || n != rows {
		t.Fatal(err, n, rows)
	}
}

package catalog

import (
	"fmt"
	"testing"
	"time"
)

// TestReportSpans: spans of at most Window.Days days; with a period
// granularity every span but the last ends before a period starts.
func TestReportSpans(t *testing.T) {
	t.Parallel()
	d := func(s string) time.Time { x, _ := time.Parse(time.DateOnly, s); return x }
	for _, tc := range []struct {
		gran     string
		days     int
		from, to string
		want     string
	}{
		{"", 186, "2026-01-01", "2026-12-01", "[2026-01-01 2026-07-05] [2026-07-06 2026-12-01]"},
		{"DAY", 31, "2026-01-15", "2026-02-20", "[2026-01-15 2026-02-14] [2026-02-15 2026-02-20]"},
		{"MONTH", 186, "2026-01-01", "2026-12-01", "[2026-01-01 2026-06-30] [2026-07-01 2026-12-01]"},
		{"MONTH", 31, "2026-01-15", "2026-03-02", "[2026-01-15 2026-01-31] [2026-02-01 2026-03-02]"},
		{"WEEK", 186, "2026-01-05", "2026-12-01", "[2026-01-05 2026-07-05] [2026-07-06 2026-12-01]"}, // 2026-01-05 and 07-06 are Mondays
		{"WEEK", 10, "2026-01-01", "2026-01-20", "[2026-01-01 2026-01-04] [2026-01-05 2026-01-11] [2026-01-12 2026-01-20]"},
	} {
		r := &Report{Granularity: tc.gran, Window: Window{Days: tc.days}}
		var got string
		for i, s := range r.Spans(d(tc.from), d(tc.to)) {
			if i > 0 {
				got += " "
			}
			got += fmt.Sprintf("[%s %s]", s[0].Format(time.DateOnly), s[1].Format(time.DateOnly))
		}
		if got != tc.want {
			t.Errorf("%s %d days %s..%s: %s, want %s", tc.gran, tc.days, tc.from, tc.to, got, tc.want)
		}
	}
	for day, want := range map[string]string{"2026-12-02": "2026-11-30", "2026-11-30": "2026-11-30", "2026-12-06": "2026-11-30"} {
		if got := (&Report{Granularity: "WEEK"}).PeriodStart(d(day)).Format(time.DateOnly); got != want {
			t.Errorf("week of %s starts %s, want %s", day, got, want)
		}
	}
}

package tap

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGoldenOutput pins the tap's output on a fixed dataset and clock: the
// SCHEMA of every stream synced, its first three records by primary key, and
// the final STATE; once for the streams selected by default, once for the
// report streams. A change to record shapes, field selection, date-time
// normalisation or bookmarks shows up here as a diff to review. Rewrite with
// go test ./tap -run TestGoldenOutput -update.
func TestGoldenOutput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file    string
		reports bool
		config  string
	}{
		{"sync_small.jsonl", false, ""},
		{"sync_reports.jsonl", true, `,"start_date":"2026-05-10"`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			golden(t, tc.file, tc.reports, tc.config)
		})
	}
}

func golden(t *testing.T, file string, reports bool, config string) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv := fixtures.NewServer(fixtures.NewDataset(42, fixtures.Small, now), fixtures.Options{Now: clock, ValidateRequests: true})
	defer srv.Close()
	var cat *catalog.Catalog
	if reports {
		cat = onlyStreams(t, reportStreams...)
	}
	res := runSync(t, srv, runOpts{now: clock, catalog: cat, config: config})
	if res.err != nil {
		t.Fatal(res.err)
	}
	var out bytes.Buffer
	for _, s := range catalog.Streams {
		if (s.Shape == catalog.ReportRows) != reports {
			continue
		}
		line, _ := json.Marshal(map[string]any{"type": "SCHEMA", "stream": s.Name, "schema": res.schemas[s.Name]})
		out.Write(append(line, '\n'))
		recs := append([]json.RawMessage(nil), res.records[s.Name]...)
		ks := keysInOrder(t, s.Name, recs) // once each, not per comparison
		idx := make([]int, len(recs))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return ks[idx[a]] < ks[idx[b]] })
		for _, i := range idx[:min(3, len(idx))] {
			r := recs[i]
			line, _ := json.Marshal(map[string]any{"type": "RECORD", "stream": s.Name, "record": r})
			out.Write(append(line, '\n'))
		}
	}
	final, _ := json.Marshal(map[string]any{"type": "STATE", "value": res.final})
	out.Write(append(final, '\n'))
	path := filepath.Join("..", "fixtures", "golden", file)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tap -run TestGoldenOutput -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		gotLines, wantLines := bytes.Split(out.Bytes(), []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range min(len(gotLines), len(wantLines)) {
			if !bytes.Equal(gotLines[i], wantLines[i]) {
				t.Fatalf("output differs from %s at line %d:\n got %.300s\nwant %.300s\n(review, then rewrite with -update)", path, i+1, gotLines[i], wantLines[i])
			}
		}
		t.Fatalf("output differs from %s in length: %d lines, want %d", path, len(gotLines), len(wantLines))
	}
}

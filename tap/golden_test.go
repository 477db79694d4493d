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
// SCHEMA of every stream, its first three records by primary key, and the
// final STATE. A change to record shapes, field selection, date-time
// normalisation or bookmarks shows up here as a diff to review. Rewrite with
// go test ./tap -run TestGoldenOutput -update.
func TestGoldenOutput(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv := fixtures.NewServer(fixtures.NewDataset(42, fixtures.Small, now), fixtures.Options{Now: clock, ValidateRequests: true})
	defer srv.Close()
	res := runSync(t, srv, runOpts{now: clock})
	if res.err != nil {
		t.Fatal(res.err)
	}
	var out bytes.Buffer
	for _, s := range catalog.Streams {
		line, _ := json.Marshal(map[string]any{"type": "SCHEMA", "stream": s.Name, "schema": res.schemas[s.Name]})
		out.Write(append(line, '\n'))
		recs := append([]json.RawMessage(nil), res.records[s.Name]...)
		k := func(r json.RawMessage) string { return keys(t, s.Name, []json.RawMessage{r})[0] }
		sort.Slice(recs, func(i, j int) bool { return k(recs[i]) < k(recs[j]) })
		for _, r := range recs[:min(3, len(recs))] {
			line, _ := json.Marshal(map[string]any{"type": "RECORD", "stream": s.Name, "record": r})
			out.Write(append(line, '\n'))
		}
	}
	final, _ := json.Marshal(map[string]any{"type": "STATE", "value": res.final})
	out.Write(append(final, '\n'))
	path := filepath.Join("..", "fixtures", "golden", "sync_small.jsonl")
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

package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/tap"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's generated tables (make generate)")

// readmeSection returns the README's text between <!-- name:begin ... -->
// (to the end of that line) and <!-- name:end -->.
func readmeSection(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	r := string(b)
	begin := strings.Index(r, "<!-- "+name+":begin")
	end := strings.Index(r, "<!-- "+name+":end -->")
	if begin < 0 || end < begin {
		t.Fatalf("README has no %s markers", name)
	}
	return r[strings.Index(r[begin:], "\n")+begin+1 : end]
}

// TestReadmeTables keeps the README's generated tables equal to their sources:
// the settings to --about --format markdown, the streams to the stream table.
func TestReadmeTables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want, fix string }{
		{"settings", tap.SettingsTable(), "the settings table of tap-pinterest --about --format markdown"},
		{"streams", tap.StreamsTable(), "the streams table of tap-pinterest --about --format markdown"},
	} {
		got := readmeSection(t, tc.name)
		if got != tc.want && *updateReadme {
			rewriteReadmeSection(t, got, tc.want)
			got = tc.want
		}
		if got != tc.want {
			t.Errorf("README %s table is stale; replace it with %s:\n%s", tc.name, tc.fix, tc.want)
		}
		if !strings.Contains(tap.AboutMarkdown(), got) {
			t.Errorf("--about --format markdown does not contain the README %s table", tc.name)
		}
	}
}

// rewriteReadmeSection replaces one generated table of the README.
func rewriteReadmeSection(t *testing.T, old, table string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("../../README.md", []byte(strings.Replace(string(b), old, table, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

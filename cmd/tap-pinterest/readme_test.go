package main

import (
	"os"
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/tap"
)

// TestReadmeSettings keeps the README's settings table equal to --about --format markdown.
func TestReadmeSettings(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	r := string(b)
	begin := strings.Index(r, "<!-- settings:begin")
	end := strings.Index(r, "<!-- settings:end -->")
	if begin < 0 || end < begin {
		t.Fatal("README has no settings markers")
	}
	got := r[strings.Index(r[begin:], "\n")+begin+1 : end]
	if want := tap.SettingsTable(); got != want {
		t.Errorf("README settings table is stale; replace it with the output of tap-pinterest --about --format markdown:\n%s", want)
	}
	if !strings.Contains(tap.AboutMarkdown(), got) {
		t.Error("--about --format markdown does not contain the README table")
	}
}

// TestReadmeStreams keeps the README's streams table equal to the stream table.
func TestReadmeStreams(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	r := string(b)
	begin := strings.Index(r, "<!-- streams:begin")
	end := strings.Index(r, "<!-- streams:end -->")
	if begin < 0 || end < begin {
		t.Fatal("README has no streams markers")
	}
	got := r[strings.Index(r[begin:], "\n")+begin+1 : end]
	if want := tap.StreamsTable(); got != want {
		t.Errorf("README streams table is stale; replace it with the streams table of tap-pinterest --about --format markdown:\n%s", want)
	}
}

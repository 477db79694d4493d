package main

import (
	"strings"
	"testing"

	"github.com/tap-pinterest/tap-pinterest/tap"
)

func TestModuleVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                   "", // no build info
		"(devel)":                            "", // go build outside a tagged checkout
		"v0.0.0-20251202115105-b34928bb84b9": "", // nothing tagged: the default says more
		"v0.0.0-20251202115105-b34928bb84b9+dirty": "",
		"v0.2.0":                               "0.2.0", // go install ...@v0.2.0
		"v1.0.0-rc.1":                          "1.0.0-rc.1",
		"v0.2.1-0.20251202115105-b34928bb84b9": "0.2.1-0.20251202115105-b34928bb84b9", // after a tag
	} {
		if got := moduleVersion(in); got != want {
			t.Errorf("moduleVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVersionLine(t *testing.T) {
	// Not parallel: it sets the package's stamped variables.
	defer func(c, d string) { commit, date = c, d }(commit, date)
	commit, date = "b34928bb84b9", "2026-12-02T11:51:05Z"
	got := versionLine()
	if want := "tap-pinterest version " + tap.Version + " (commit b34928bb84b9 of 2026-12-02T11:51:05Z, go"; !strings.HasPrefix(got, want) {
		t.Errorf("--version: %q, want a line starting %q", got, want)
	}
	commit, date = "", ""
	if got := versionLine(); !strings.HasPrefix(got, "tap-pinterest version "+tap.Version+" (go") || !strings.HasSuffix(got, ")\n") {
		t.Errorf("--version without stamps: %q", got)
	}
}

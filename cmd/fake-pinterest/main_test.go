package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeAndStop(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "url")
	expect := filepath.Join(dir, "expect.json")
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--seed", "3", "--size", "small", "--latency", "1ms", "--faults", "Server500JSON:op=boards/list:times=1",
			"--ready-file", ready, "--expect-json", expect, "--today", "2026-01-15"})
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil {
			base = strings.TrimSpace(string(b))
			break
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/v5") {
		t.Fatalf("ready file: %q", base)
	}
	res, err := http.Get(base + "/user_account")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", res.StatusCode)
	}
	var x struct {
		Start, End string
		Counts     map[string]int
	}
	b, err := os.ReadFile(expect)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &x); err != nil || x.Counts["board_pins"] != 180 || x.Counts["campaign_analytics"] == 0 {
		t.Errorf("expect json: %v %s", err, b)
	}
	// --today fixes the clock the expectations (and the e2e checks) derive from.
	if x.Start != "2025-10-18" || x.End != "2026-01-14" {
		t.Errorf("window %s..%s, want 2025-10-18..2026-01-14 (from --today 2026-01-15)", x.Start, x.End)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGINT")
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--size", "huge"}, {"--faults", "Nope"}, {"--expect-json", "x", "--expect-start", "yesterday"}} {
		if err := run(args); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

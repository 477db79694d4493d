package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// TestSIGTERMResumes interrupts a real tap process mid-sync with SIGTERM
// and SIGHUP (a closed terminal): it must stop within 5 seconds, end its
// output with a STATE, exit 128+N, and a run resumed from that state must
// together with the interrupted one hold every record.
func TestSIGTERMResumes(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			testSignalResumes(t, sig)
		})
	}
}

func testSignalResumes(t *testing.T, sig syscall.Signal) {
	bin := binary(t)
	now := time.Now().UTC()
	srv := fixtures.NewServer(fixtures.NewDataset(9, fixtures.Small, now), fixtures.Options{Latency: 40 * time.Millisecond})
	defer srv.Close()
	dir := t.TempDir()
	cfg := write(t, dir, "c.json", quickConfig(srv.URL(), `,"max_concurrency":2`))

	// The complete set, from an uninterrupted run.
	full := parseOutput(t, runTap(t, nil, "--config", cfg).stdout)

	cmd := exec.Command(bin, "--config", cfg)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	records := 0
	var sent time.Time
	for sc.Scan() {
		out.Write(sc.Bytes())
		out.WriteByte('\n')
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"type":"RECORD"`)) {
			records++
		}
		if records == 300 && sent.IsZero() {
			sent = time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	took := time.Since(sent)
	if sent.IsZero() {
		t.Fatalf("the sync ended before 300 records (%d)", records)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
		t.Errorf("exit: %v, want %d\n%s", err, 128+int(sig), stderr.String())
	}
	if took > 5*time.Second {
		t.Errorf("stopped %s after %s, want < 5 s", took, sig)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], `{"type":"STATE"`) {
		t.Fatalf("the last line after %s is not a STATE: %s", sig, lines[len(lines)-1])
	}
	first := parseOutput(t, out.String())
	state := write(t, dir, "state.json", string(first.state))
	r := runTap(t, nil, "--config", cfg, "--state", state)
	if r.code != 0 {
		t.Fatalf("resumed run: exit %d\n%s", r.code, r.stderr)
	}
	second := parseOutput(t, r.stdout)
	lost := 0
	for stream, want := range full.keys {
		have := map[string]bool{}
		for _, k := range append(append([]string{}, first.keys[stream]...), second.keys[stream]...) {
			have[k] = true
		}
		for _, k := range want {
			if !have[k] {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d records lost across the interrupted and the resumed run", lost)
	}
	t.Logf("%s after %d records: stopped in %s; resumed run emitted the rest, 0 lost", sig, records, took.Round(time.Millisecond))
}

// TestBrokenPipe: when the target dies, the tap exits promptly with one
// line and no stack trace, and retries nothing.
func TestBrokenPipe(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	srv := fixtures.NewServer(fixtures.NewDataset(9, fixtures.Small, time.Now()), fixtures.Options{Latency: 10 * time.Millisecond})
	defer srv.Close()
	cfg := write(t, t.TempDir(), "c.json", quickConfig(srv.URL(), ""))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil { // the child holds its own copy
		t.Fatal(err)
	}
	// The "target" reads a little, then exits.
	buf := make([]byte, 4096)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	closed := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the tap kept running 10 s after its target died")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want 1", err)
	}
	crit := 0
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "CRITICAL") {
			crit++
			if !strings.Contains(l, "stdout closed") {
				t.Errorf("unexpected CRITICAL line: %s", l)
			}
		}
	}
	if crit != 1 || strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "retrying") {
		t.Errorf("want exactly one CRITICAL line, no stack trace, no retry:\n%s", stderr.String())
	}
	t.Logf("exited %s after the target closed its end", time.Since(closed).Round(time.Millisecond))
}

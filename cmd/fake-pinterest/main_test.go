package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

func TestServeAndStop(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "url")
	expect := filepath.Join(dir, "expect.json")
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--seed", "3", "--size", "small", "--latency", "1ms", "--faults", "Server500JSON:op=boards/list:times=1",
			"--ready-file", ready, "--expect-json", expect})
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
	for _, args := range [][]string{{"--size", "huge"}, {"--faults", "Nope"}, {"--expect-json", "x", "--expect-start", "yesterday"},
		{"--report-gzip", "zip"}, {"--report-fail-once", "CAMPAIGN:tomorrow"}} {
		if err := run(args); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

// The report flags: a report that takes a poll, one that fails once, and a
// gzip'd download from the download host (another port, no token).
func TestReportFlags(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "url")
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--history-days", "914", "--report-polls", "1", "--report-fail-once", "ADVERTISER",
			"--report-gzip", "object", "--report-url-uses", "1", "--ready-file", ready})
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil {
			base = strings.TrimSpace(string(b))
		}
	}
	token := refresh(t, base)
	acct := adAccount(t, base, token)
	call := func(method, path, body string) map[string]any {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %v %v", method, path, res.StatusCode, m, err)
		}
		return m
	}
	day := func(off int) string { return time.Now().UTC().AddDate(0, 0, off).Format(time.DateOnly) }
	statuses := func(level string) []string {
		body := fmt.Sprintf(`{"level":%q,"granularity":"DAY","start_date":%q,"end_date":%q,"columns":["SPEND_IN_DOLLAR"]}`, level, day(-900), day(-800))
		tok := call("POST", "/ad_accounts/"+acct+"/reports", body)["token"].(string)
		var out []string
		for range 2 {
			m := call("GET", "/ad_accounts/"+acct+"/reports?token="+tok, "")
			out = append(out, m["report_status"].(string))
			if u, ok := m["url"].(string); ok {
				out = append(out, download(t, base, u))
			}
		}
		return out
	}
	if got := statuses("ADVERTISER"); strings.Join(got, " ") != "IN_PROGRESS FAILED" {
		t.Errorf("fail-once report: %v", got)
	}
	if got := statuses("ADVERTISER"); strings.Join(got, " ") != "IN_PROGRESS FINISHED gzip" {
		t.Errorf("report: %v", got)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func refresh(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader("grant_type=refresh_token&refresh_token="+fixtures.DemoRefreshToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(fixtures.DemoClientID, fixtures.DemoClientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func adAccount(t *testing.T, base, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/ad_accounts", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p struct{ Items []struct{ ID string } }
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil || len(p.Items) == 0 {
		t.Fatal(err)
	}
	return p.Items[0].ID
}

// download fetches a report URL (on another port than base) and says "gzip"
// when it is a gzip'd JSON object.
func download(t *testing.T, base, u string) string {
	t.Helper()
	if strings.HasPrefix(u, strings.TrimSuffix(base, "/v5")) {
		t.Errorf("the report URL %s is on the API's host", u)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		return "not gzip"
	}
	var m map[string][]map[string]any
	if err := json.NewDecoder(zr).Decode(&m); err != nil || len(m) != 1 {
		return fmt.Sprintf("bad report: %v %v", err, m)
	}
	return "gzip"
}

package pinterest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap/logging"
)

// Credentials of the hostile-server tests, with characters that URL
// encoding changes, so that an encoded echo differs from the plain one.
const (
	hClientID     = "cid-1234"
	hClientSecret = "sec/ret+xyz=="
	hRefresh      = "pinr.ref/resh+abc=="
)

// requestLog is every request a test server received, for the secret
// checks.
type requestLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *requestLog) add(r *http.Request) {
	_ = r.ParseForm()
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, "%s %s %v %v\n", r.Method, r.URL, r.Header, r.PostForm)
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hostileClient is a client of a server that answers every route,
// the token endpoint included, with h.
func hostileClient(t *testing.T, h http.HandlerFunc, tweak func(*Options)) (*Client, *strings.Builder, *logging.Redactor, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	o := Options{ClientID: hClientID, ClientSecret: hClientSecret, RefreshToken: hRefresh, BaseURL: srv.URL + "/v5",
		RequestTimeout: 2 * time.Second, MaxRetryWait: 300 * time.Millisecond, RatePerSecond: 1000,
		RatePerMinute: map[string]int{"ads_read": 60000, "org_read": 60000}, RetryBase: 5 * time.Millisecond}
	if tweak != nil {
		tweak(&o)
	}
	var logs strings.Builder
	red := &logging.Redactor{}
	c := NewClient(o, logging.NewLogger(&syncWriter{w: &logs}, logging.LevelDebug, red), red)
	return c, &logs, red, srv.URL
}

// secretForms are the ways a secret may be echoed.
func secretForms(secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s), base64.StdEncoding.EncodeToString([]byte(s)))
	}
	return append(out, base64.StdEncoding.EncodeToString([]byte(hClientID+":"+hClientSecret)))
}

// noSecrets fails when text shows any form of the secrets.
func noSecrets(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, f := range secretForms(secrets...) {
		if strings.Contains(text, f) {
			t.Errorf("%s shows the secret %q:\n%.3000s", where, f, text)
		}
	}
}

// TestTokenEndpointBodyNeverShown: a token endpoint answering 200 with
// malformed JSON that holds new tokens, or an error echoing the refresh
// token URL-encoded and the Basic header: no form of any of them reaches
// the logs or the error (issue 14 item 3a/3b).
func TestTokenEndpointBodyNeverShown(t *testing.T) {
	t.Parallel()
	basic := base64.StdEncoding.EncodeToString([]byte(hClientID + ":" + hClientSecret))
	cases := map[string]func(w http.ResponseWriter){
		"200 malformed": func(w http.ResponseWriter) {
			fmt.Fprint(w, `{"access_token":"pina.NEW/access+tok","refresh_token":"pinr.NEW/refresh+tok","expires_in":`)
		},
		"400 echo": func(w http.ResponseWriter) {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"code":1,"message":"bad refresh_token=%s with Authorization: Basic %s"}`, url.QueryEscape(hRefresh), basic)
		},
		"500 echo": func(w http.ResponseWriter) {
			w.WriteHeader(500)
			fmt.Fprintf(w, `refresh_token=%s&grant_type=refresh_token Basic %s`, url.QueryEscape(hRefresh), basic)
		},
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var reqs requestLog
			c, logs, red, _ := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
				reqs.add(r)
				answer(w)
			}, nil)
			err := c.Authenticate(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			secrets := []string{hClientSecret, hRefresh, "pina.NEW/access+tok", "pinr.NEW/refresh+tok"}
			noSecrets(t, "the error", err.Error(), secrets...)
			noSecrets(t, "the redacted error", red.Redact(err.Error()), secrets...)
			noSecrets(t, "the logs", logs.String(), secrets...)
			if !strings.Contains(err.Error(), "oauth/token") {
				t.Errorf("error does not name the endpoint: %v", err)
			}
			if !strings.Contains(reqs.String(), "/v5/oauth/token") {
				t.Errorf("no token request: %s", reqs.String())
			}
		})
	}
}

// TestEncodedSecretsRedacted: an API error echoing the access token
// URL-encoded and the Basic value is logged (on retries) and returned
// redacted (issue 14 item 3b).
func TestEncodedSecretsRedacted(t *testing.T) {
	t.Parallel()
	basic := base64.StdEncoding.EncodeToString([]byte(hClientID + ":" + hClientSecret))
	c, logs, red, _ := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v5/oauth/token" {
			fmt.Fprint(w, `{"access_token":"pina.acc/ess+tok","expires_in":3600}`)
			return
		}
		w.WriteHeader(503)
		fmt.Fprintf(w, `{"code":1,"message":"echo %s %s %s"}`, url.QueryEscape(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")), basic, url.PathEscape(hRefresh))
	}, nil)
	_, err := c.Get(context.Background(), Request{Op: "op", Category: "ads_read", Path: "/x"})
	if err == nil {
		t.Fatal("no error")
	}
	secrets := []string{hClientSecret, hRefresh, "pina.acc/ess+tok"}
	noSecrets(t, "the redacted error", red.Redact(err.Error()), secrets...)
	noSecrets(t, "the logs", logs.String(), secrets...)
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry logged:\n%s", logs)
	}
}

// TestAPIErrorMessageCapped: a 40 KB error message is cut to about 500
// bytes in the error and the logs (issue 14 item 3c). (Of a longer error
// body only the first 64 KiB are read at all: see body.go.)
func TestAPIErrorMessageCapped(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 20<<10) // 40 KB
	c, logs := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		fmt.Fprintf(w, `{"code":1,"message":"%s"}`, long)
	}, func(o *Options) { o.MaxRetryWait = 50 * time.Millisecond })
	_, err := c.Get(context.Background(), Request{Op: "op", Category: "ads_read", Path: "/x"})
	if err == nil || len(err.Error()) > 1000 || !strings.Contains(err.Error(), "bytes in all") {
		t.Fatalf("error of %d bytes: %.200v", len(fmt.Sprint(err)), err)
	}
	if logs.Len() > 10000 {
		t.Errorf("%d bytes of logs", logs.Len())
	}
}

// TestRedirects: the token endpoint's redirects are never followed; an API
// redirect only to the same scheme, host and port. The other server (same
// host, another port) never sees a request (issue 14 item 4).
func TestRedirects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		tokenTo   bool // the token endpoint redirects to the other server
		apiTo     string
		wantErr   string
		wantDebug string
	}{
		{"token 307 elsewhere", true, "", "not followed", "not following the token endpoint's redirect"},
		{"api 302 other port", false, "other", "not followed", "not following a redirect"},
		{"api 302 same origin", false, "same", "", "following a redirect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var otherLog requestLog
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				otherLog.add(r)
				fmt.Fprint(w, `{"access_token":"stolen","items":[],"bookmark":null}`)
			}))
			defer other.Close()
			var ownLog requestLog
			c, logs, _, base := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
				ownLog.add(r)
				switch {
				case r.URL.Path == "/v5/oauth/token" && tc.tokenTo:
					http.Redirect(w, r, other.URL+"/v5/oauth/token", http.StatusTemporaryRedirect)
				case r.URL.Path == "/v5/oauth/token":
					fmt.Fprint(w, `{"access_token":"pina.acc/ess+tok","expires_in":3600}`)
				case r.URL.Path == "/v5/x" && tc.apiTo == "other":
					http.Redirect(w, r, other.URL+"/v5/y", http.StatusFound)
				case r.URL.Path == "/v5/x" && tc.apiTo == "same":
					http.Redirect(w, r, "/v5/y", http.StatusFound)
				default:
					fmt.Fprint(w, `{"items":[],"bookmark":null}`)
				}
			}, nil)
			_ = base
			rep, err := c.Get(context.Background(), Request{Op: "op", Category: "ads_read", Path: "/x"})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			rep.Release()
			if s := otherLog.String(); s != "" {
				t.Errorf("the other server received:\n%s", s)
			}
			if !strings.Contains(logs.String(), tc.wantDebug) {
				t.Errorf("no debug line %q:\n%s", tc.wantDebug, logs)
			}
			noSecrets(t, "the logs", logs.String(), hClientSecret, hRefresh, "pina.acc/ess+tok")
			if tc.apiTo == "same" && !strings.Contains(ownLog.String(), "GET /v5/y") {
				t.Errorf("same-origin redirect not followed:\n%s", ownLog.String())
			}
		})
	}
}

// TestExpiresInClamped: an expires_in of a second, 59 s or one that
// overflows a Duration does not make every request refresh the token; a 401
// still does (issue 14 item 9).
func TestExpiresInClamped(t *testing.T) {
	t.Parallel()
	for _, expires := range []string{"1", "59", "9223372036854775807"} {
		t.Run(expires, func(t *testing.T) {
			t.Parallel()
			var refreshes, gets atomic.Int32
			c, _, _, _ := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v5/oauth/token" {
					n := refreshes.Add(1)
					fmt.Fprintf(w, `{"access_token":"pina.acc-%d","expires_in":%s}`, n, expires)
					return
				}
				if gets.Add(1) == 4 {
					w.WriteHeader(401)
					fmt.Fprint(w, `{"code":2,"message":"Authentication failed."}`)
					return
				}
				fmt.Fprint(w, `{"items":[],"bookmark":null}`)
			}, nil)
			for range 6 {
				if expires == "1" {
					time.Sleep(300 * time.Millisecond) // past the claimed expiry
				}
				rep, err := c.Get(context.Background(), Request{Op: "op", Category: "ads_read", Path: "/x"})
				if err != nil {
					t.Fatal(err)
				}
				rep.Release()
			}
			if n := refreshes.Load(); n != 2 {
				t.Errorf("%d refreshes for 6 requests and one 401, want 2", n)
			}
		})
	}
}

// TestTotalTimePerRequest: a server whose body stalls on every attempt
// holds one request no longer than max_retry_wait_seconds in all, attempts
// included (issue 14 item 16).
func TestTotalTimePerRequest(t *testing.T) {
	t.Parallel()
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}, func(o *Options) { o.RequestTimeout = 400 * time.Millisecond; o.MaxRetryWait = time.Second })
	start := time.Now()
	_, err := c.Get(context.Background(), Request{Op: "op", Category: "ads_read", Path: "/x"})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "max_retry_wait_seconds=1 bounds each request") {
		t.Fatalf("err = %v", err)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("the request took %s with max_retry_wait_seconds=1", took)
	}
}

// TestRefreshTokenFileContent: a refresh_token_file that is not one
// plausible token line is refused, naming the file and not showing its
// content (issue 14 item 12).
func TestRefreshTokenFileContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name, content, want, wantErr string
	}{
		{"token", "pinr.abc/def+ghi==\n", "pinr.abc/def+ghi==", ""},
		{"empty", "\n", "", ""},
		{"passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", "", "holds 2 lines, not one refresh token"},
		{"binary", "\x00\x01secret\xff\xfe", "", "does not hold a refresh token"},
		{"spaces", "my token here", "", "does not hold a refresh token"},
		{"short", "abc", "", "does not hold a refresh token"},
		{"huge", strings.Repeat("a", 5000), "", "does not hold a refresh token"},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadRefreshTokenFile(p)
		if tc.wantErr == "" && (err != nil || got != tc.want) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p)) {
			t.Errorf("%s: err = %v, want %q naming the file", tc.name, err, tc.wantErr)
		}
		if err != nil && (strings.Contains(err.Error(), "root:") || strings.Contains(err.Error(), "secret")) {
			t.Errorf("%s: the error shows the content: %v", tc.name, err)
		}
	}
}

// TestDeadTokenInFile: Pinterest rejecting the refresh token from the file
// falls back to a different refresh_token of the config, with a warning
// naming the file; when both are rejected the error names the file.
func TestDeadTokenInFile(t *testing.T) {
	t.Parallel()
	for _, configGood := range []bool{true, false} {
		t.Run(fmt.Sprint("config token good=", configGood), func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(file, []byte("pinr.dead-in-file\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			c, logs, _, _ := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.FormValue("refresh_token") == hRefresh && configGood {
					fmt.Fprint(w, `{"access_token":"pina.acc","expires_in":3600,"refresh_token":"pinr.rotated-new"}`)
					return
				}
				w.WriteHeader(400)
				fmt.Fprint(w, `{"code":1,"message":"Invalid refresh token."}`)
			}, func(o *Options) { o.RefreshTokenFile, o.FileRefreshToken = file, "pinr.dead-in-file" })
			err := c.Authenticate(context.Background())
			if configGood {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(logs.String(), "rejected the refresh token in refresh_token_file "+file) {
					t.Errorf("no warning naming the file:\n%s", logs)
				}
				if tok, _ := LoadRefreshTokenFile(file); tok != "pinr.rotated-new" {
					t.Errorf("file holds %q", tok)
				}
				return
			}
			var ae *AuthError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), "refresh_token_file "+file) {
				t.Fatalf("err = %v, want an AuthError naming the file", err)
			}
		})
	}
}

// TestTokenFileDirectoryNotWritable: when the token file's directory
// cannot be written, nothing is refreshed (so no rotated token is lost)
// and the message says what happened and what to do (issue 14 item 10).
func TestTokenFileDirectoryNotWritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(dir, "missing", "token"), filepath.Join(notDir, "token")} {
		var refreshes atomic.Int32
		c, _, _, _ := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
			refreshes.Add(1)
			fmt.Fprint(w, `{"access_token":"pina.acc","expires_in":3600,"refresh_token":"pinr.rotated-new"}`)
		}, func(o *Options) { o.RefreshTokenFile = file })
		err := c.Authenticate(context.Background())
		if err == nil || !strings.Contains(err.Error(), "cannot be written") || !strings.Contains(err.Error(), "Nothing was refreshed") {
			t.Errorf("%s: err = %v", file, err)
		}
		if n := refreshes.Load(); n != 0 {
			t.Errorf("%s: %d token requests, want none", file, n)
		}
	}
}

// TestSharedTokenFileTwoProcesses: two processes share one
// refresh_token_file against a token endpoint that accepts only the newest
// refresh token and rotates it on every refresh. Each refreshes several
// times; none ever sends a token that was already rotated, both succeed,
// and the file ends with the newest token (issue 14 item 6).
func TestSharedTokenFileTwoProcesses(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	current, gen, stale := hRefresh, 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		time.Sleep(20 * time.Millisecond) // a slow endpoint widens the race
		if r.FormValue("refresh_token") != current {
			stale++
			w.WriteHeader(400)
			fmt.Fprint(w, `{"code":1,"message":"Invalid refresh token."}`)
			return
		}
		gen++
		current = fmt.Sprintf("pinr.generation-%03d", gen)
		fmt.Fprintf(w, `{"access_token":"pina.acc-%d","expires_in":3600,"refresh_token":%q}`, gen, current)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(hRefresh+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const perProcess = 8
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestTokenFileHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), "H14S_TOKEN_HELPER="+srv.URL+"|"+file+"|"+strconv.Itoa(perProcess))
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Errorf("process %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if stale != 0 {
		t.Errorf("%d refreshes sent a refresh token that was already rotated", stale)
	}
	if gen != 2*perProcess {
		t.Errorf("%d refreshes, want %d", gen, 2*perProcess)
	}
	if tok, err := LoadRefreshTokenFile(file); err != nil || tok != current {
		t.Errorf("the file holds %q (%v), want the newest token %q", tok, err, current)
	}
}

// TestTokenFileHelperProcess is one of the processes of
// TestSharedTokenFileTwoProcesses; it does nothing in a normal run.
func TestTokenFileHelperProcess(t *testing.T) {
	spec := os.Getenv("H14S_TOKEN_HELPER")
	if spec == "" {
		t.Skip("helper process only")
	}
	parts := strings.Split(spec, "|")
	n, _ := strconv.Atoi(parts[2])
	fileTok, err := LoadRefreshTokenFile(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	o := Options{ClientID: hClientID, ClientSecret: hClientSecret, RefreshToken: hRefresh, FileRefreshToken: fileTok,
		RefreshTokenFile: parts[1], BaseURL: parts[0] + "/v5", RequestTimeout: 5 * time.Second, MaxRetryWait: time.Second,
		RatePerSecond: 1000, RatePerMinute: map[string]int{"org_read": 60000}, RetryBase: 5 * time.Millisecond}
	var logs strings.Builder
	c := NewClient(o, logging.NewLogger(&syncWriter{w: &logs}, logging.LevelInfo, nil), nil)
	for range n {
		c.tokens.mu.Lock()
		c.tokens.access = nil // as a 401 would
		c.tokens.mu.Unlock()
		if err := c.Authenticate(context.Background()); err != nil {
			t.Fatalf("%v\n%s", err, logs.String())
		}
	}
}

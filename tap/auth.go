package tap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap/atomicfile"
	"github.com/tap-pinterest/tap-pinterest/tap/logging"
	"golang.org/x/oauth2"
)

// Version of the tap; release builds set it with -ldflags "-X ...tap.Version=v1.2.3".
var Version = "0.1.0"

// tokenSource refreshes access tokens with the refresh token grant, keeps
// the newest refresh token (Pinterest rotates them: continuous refresh
// tokens live 60 days from their last use), and writes it to
// refresh_token_file so that the next run starts from it.
type tokenSource struct {
	c            *Client
	clientID     string
	clientSecret string
	file         string
	log          *slog.Logger
	redact       *logging.Redactor

	mu      sync.Mutex
	access  *oauth2.Token
	refresh string
	warned  bool
}

func newTokenSource(c *Client, cfg *Config) *tokenSource {
	t := &tokenSource{c: c, clientID: cfg.ClientID, clientSecret: cfg.ClientSecret, file: cfg.RefreshTokenFile, log: c.log, redact: c.redact, refresh: cfg.RefreshToken}
	c.redact.Add(cfg.ClientSecret)
	c.redact.Add(cfg.RefreshToken)
	return t
}

// LoadRefreshTokenFile returns the refresh token kept in path, "" when the
// file does not exist yet.
func LoadRefreshTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", usagef("refresh_token_file %s cannot be read: %v", path, rootCause(err))
	}
	return strings.TrimSpace(string(b)), nil
}

// token returns a valid access token, refreshing it when needed.
func (t *tokenSource) token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access != nil && t.access.Valid() {
		return t.access.AccessToken, nil
	}
	if err := t.refreshLocked(ctx); err != nil {
		return "", err
	}
	return t.access.AccessToken, nil
}

// invalidate drops the access token that Pinterest just refused, unless
// another request already replaced it.
func (t *tokenSource) invalidate(used string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access != nil && t.access.AccessToken == used {
		t.access = nil
	}
}

type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresAt int64  `json:"refresh_token_expires_at"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
}

func (t *tokenSource) refreshLocked(ctx context.Context) error {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.refresh}, "continuous_refresh": {"true"}}
	rep, err := t.c.send(ctx, call{method: http.MethodPost, op: "oauth/token", category: "org_read", path: "/oauth/token", form: form, basic: true})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
			return &AuthError{Msg: "Pinterest rejected the OAuth credentials when refreshing the access token; check client_id and client_secret, and create a new refresh_token for this app if it expired or was revoked (refresh tokens die after 60 days unused)", Cause: err}
		}
		return fmt.Errorf("refresh the access token: %w", err)
	}
	var tr tokenResponse
	err = json.Unmarshal(rep.body, &tr)
	rep.release()
	if err != nil || tr.AccessToken == "" {
		return &AuthError{Msg: "Pinterest's token endpoint answered without an access_token"}
	}
	t.redact.Add(tr.AccessToken)
	t.redact.Add(tr.RefreshToken)
	tok := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: "Bearer"}
	if tr.ExpiresIn > 0 {
		// Refresh a minute early so that a long page does not outlive its token.
		tok.Expiry = time.Now().Add(time.Duration(tr.ExpiresIn)*time.Second - time.Minute)
	}
	t.access = tok
	if tr.RefreshToken != "" && tr.RefreshToken != t.refresh {
		t.refresh = tr.RefreshToken
		if t.file != "" {
			if err := atomicfile.Write(t.file, []byte(tr.RefreshToken+"\n"), 0o600); err != nil {
				return fmt.Errorf("refresh_token_file %s cannot be written, so the refresh token Pinterest just rotated (%v)); the tap stops rather than lose it: fix the file's directory or permissions", t.file, rootCause(err))
			}
			t.log.Info("Pinterest rotated the refresh token; saved the new one", "refresh_token_file", t.file)
		} else if !t.warned {
			t.warned = true
			t.log.Warn("Pinterest rotated the refresh token and refresh_token_file is not set, so the new token is not saved; set refresh_token_file so that unattended runs keep working when the old token expires")
		}
	}
	if tr.RefreshTokenExpiresAt > 0 {
		exp := time.Unix(tr.RefreshTokenExpiresAt, 0)
		if left := time.Until(exp); left < 14*24*time.Hour {
			t.log.Warn(fmt.Sprintf("the refresh token expires on %s (in %d days); run the tap at least every few days, keep refresh_token_file, or create a new token before then", exp.UTC().Format("2006-01-02"), int(left.Hours()/24)))
		}
	}
	return nil
}

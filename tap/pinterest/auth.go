package pinterest

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
	"golang.org/x/oauth2"
)

// tokens is the client's access token: cached like oauth2.ReuseTokenSource,
// and droppable when Pinterest refuses it. A refresh runs the TokenSource
// chain keeper(grant), bound to the context of the request that needs it.
type tokens struct {
	c            *Client
	clientID     string
	clientSecret string

	mu     sync.Mutex // serialises refreshes; guards access, keep and scope
	access *oauth2.Token
	keep   *keeper
	scope  string // the scopes the token endpoint last said the token holds
}

func newTokens(c *Client, o Options) *tokens {
	return &tokens{c: c, clientID: o.ClientID, clientSecret: o.ClientSecret,
		keep: &keeper{refresh: o.RefreshToken, file: o.RefreshTokenFile, log: c.log}}
}

// token returns a valid access token, refreshing it when needed.
func (t *tokens) token(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access.Valid() {
		return t.access, nil
	}
	tok, err := t.keep.wrap(&grant{ctx: ctx, c: t.c, refresh: t.keep.refresh}).Token()
	if err != nil {
		return nil, err
	}
	t.access = tok
	if sc, _ := tok.Extra("scope").(string); sc != "" {
		t.scope = sc
	}
	return tok, nil
}

// scopes returns the scopes the token endpoint listed ("" = it did not say).
func (t *tokens) scopes() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.scope
}

// invalidate drops the access token that Pinterest just refused, unless
// another request already replaced it.
func (t *tokens) invalidate(used string) {
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
	Scope                 string `json:"scope"`
}

// grant is an oauth2.TokenSource: Pinterest's refresh-token grant
// (POST /oauth/token, HTTP Basic client authentication, continuous
// refresh), sent through the client's pacing and retries like any request.
// Its token carries the refresh token to use next and, as the extra
// "refresh_token_expires_at", when that one expires.
type grant struct {
	ctx     context.Context
	c       *Client
	refresh string
}

func (g *grant) Token() (*oauth2.Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}, "continuous_refresh": {"true"}}
	rep, err := g.c.send(g.ctx, call{Request: Request{Op: "oauth/token", Category: "org_read", Path: "/oauth/token"},
		method: http.MethodPost, form: form, basic: true})
	if err != nil {
		if g.ctx.Err() != nil {
			return nil, g.ctx.Err()
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
			return nil, &AuthError{Msg: "Pinterest rejected the OAuth credentials when refreshing the access token; check client_id and client_secret, and create a new refresh_token for this app if it expired or was revoked (refresh tokens die after 60 days unused)", Cause: err}
		}
		return nil, fmt.Errorf("refresh the access token: %w", err)
	}
	var tr tokenResponse
	err = json.Unmarshal(rep.Body, &tr)
	rep.Release()
	if err != nil || tr.AccessToken == "" {
		return nil, &AuthError{Msg: "Pinterest's token endpoint answered without an access_token"}
	}
	g.c.redact.Add(tr.AccessToken)
	g.c.redact.Add(tr.RefreshToken)
	tok := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: "Bearer", RefreshToken: tr.RefreshToken}
	if tok.RefreshToken == "" {
		tok.RefreshToken = g.refresh
	}
	if tr.ExpiresIn > 0 {
		// Refresh a minute early so that a long page does not outlive its token.
		tok.Expiry = time.Now().Add(time.Duration(tr.ExpiresIn)*time.Second - time.Minute)
	}
	return tok.WithExtra(map[string]any{"refresh_token_expires_at": tr.RefreshTokenExpiresAt, "scope": tr.Scope}), nil
}

// keeper keeps the newest refresh token. Pinterest rotates them
// (continuous refresh tokens live 60 days from their last use): a rotated
// one is written to refresh_token_file so that the next run starts from
// it, or, without a file, a warning says once that it is not kept. It also
// warns when the refresh token expires within 14 days.
type keeper struct {
	refresh string // the refresh token to send next
	file    string
	log     *slog.Logger
	warned  bool
}

// wrap returns src as a TokenSource whose tokens pass through the keeper.
func (k *keeper) wrap(src oauth2.TokenSource) oauth2.TokenSource {
	return tokenSourceFunc(func() (*oauth2.Token, error) {
		tok, err := src.Token()
		if err != nil {
			return nil, err
		}
		return tok, k.keep(tok)
	})
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

func (k *keeper) keep(tok *oauth2.Token) error {
	if tok.RefreshToken != "" && tok.RefreshToken != k.refresh {
		k.refresh = tok.RefreshToken
		if k.file != "" {
			if err := atomicfile.Write(k.file, []byte(tok.RefreshToken+"\n"), 0o600); err != nil {
				return fmt.Errorf("refresh_token_file %s cannot be written, so the refresh token Pinterest just rotated would be lost (%v); the tap stops rather than lose it: fix the file's directory or permissions", k.file, rootCause(err))
			}
			k.log.Info("Pinterest rotated the refresh token; saved the new one", "refresh_token_file", k.file)
		} else if !k.warned {
			k.warned = true
			k.log.Warn("Pinterest rotated the refresh token and refresh_token_file is not set, so the new token is not saved; set refresh_token_file so that unattended runs keep working when the old token expires")
		}
	}
	if at, _ := tok.Extra("refresh_token_expires_at").(int64); at > 0 {
		exp := time.Unix(at, 0)
		if left := time.Until(exp); left < 14*24*time.Hour {
			k.log.Warn(fmt.Sprintf("the refresh token expires on %s (in %d days); run the tap at least every few days, keep refresh_token_file, or create a new token before then", exp.UTC().Format("2006-01-02"), int(left.Hours()/24)))
		}
	}
	return nil
}

// LoadRefreshTokenFile returns the refresh token kept in path, "" when the
// file does not exist yet.
func LoadRefreshTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("refresh_token_file %s cannot be read: %v", path, rootCause(err))
	}
	return strings.TrimSpace(string(b)), nil
}

func rootCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

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
	"sync"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap/atomicfile"
	"golang.org/x/oauth2"
)

// tokens is the client's access token: cached like oauth2.ReuseTokenSource,
// and droppable when Pinterest refuses it. A refresh runs Pinterest's
// grant through the keeper, bound to the context of the request that needs
// it. Without a 401 it refreshes at most once a minute, whatever expiry
// the token endpoint claims.
type tokens struct {
	c            *Client
	clientID     string
	clientSecret string

	mu          sync.Mutex // serialises refreshes; guards access, refreshedAt, keep and scope
	access      *oauth2.Token
	refreshedAt time.Time
	keep        *keeper
	scope       string // the scopes the token endpoint last said the token holds
}

// minRefreshInterval is the least time between two refreshes that no 401
// asked for.
const minRefreshInterval = time.Minute

func newTokens(c *Client, o Options) *tokens {
	k := &keeper{refresh: o.RefreshToken, file: o.RefreshTokenFile, log: c.log}
	if o.FileRefreshToken != "" {
		k.refresh, k.fromFile, k.fallback = o.FileRefreshToken, true, o.RefreshToken
	}
	return &tokens{c: c, clientID: o.ClientID, clientSecret: o.ClientSecret, keep: k}
}

// token returns a valid access token, refreshing it when needed.
func (t *tokens) token(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access != nil && (t.access.Valid() || time.Since(t.refreshedAt) < minRefreshInterval) {
		return t.access, nil
	}
	tok, err := t.keep.refreshed(ctx, func(refresh string) (*oauth2.Token, error) {
		return (&grant{ctx: ctx, c: t.c, refresh: refresh}).Token()
	})
	if err != nil {
		return nil, err
	}
	t.access, t.refreshedAt = tok, time.Now()
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

// The range expires_in is clamped to, in seconds (Pinterest: 30 days).
const (
	minExpiresIn = 60
	maxExpiresIn = 365 * 24 * 3600
)

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
		// Clamped: a tiny or overflowing expires_in must not mean a refresh
		// before every request. Refreshed a little early so that a long
		// page does not outlive its token.
		d := time.Duration(min(max(tr.ExpiresIn, minExpiresIn), maxExpiresIn)) * time.Second
		tok.Expiry = time.Now().Add(d - min(time.Minute, d/2))
	}
	return tok.WithExtra(map[string]any{"refresh_token_expires_at": tr.RefreshTokenExpiresAt, "scope": tr.Scope}), nil
}

// keeper keeps the newest refresh token. Pinterest rotates them
// (continuous refresh tokens live 60 days from their last use): a rotated
// one is written to refresh_token_file so that the next run starts from
// it, or, without a file, a warning says once that it is not kept. It also
// warns when the refresh token expires within 14 days.
type keeper struct {
	refresh  string // the refresh token to send next
	fromFile bool   // refresh was read from file
	fallback string // refresh_token of the config, tried when the file's is rejected
	file     string
	log      *slog.Logger
	warned   bool
}

// refreshed runs grant with the newest refresh token and keeps the one
// Pinterest rotates. With a refresh_token_file, it first makes sure the
// file can be written (else nothing is refreshed, so nothing is lost), and
// holds the file's lock from reading it to writing the rotated token, so
// that processes sharing the file refresh one at a time, each with the
// newest token.
func (k *keeper) refreshed(ctx context.Context, grant func(refresh string) (*oauth2.Token, error)) (*oauth2.Token, error) {
	if k.file == "" {
		return k.kept(grant(k.refresh))
	}
	if err := checkWritable(k.file); err != nil {
		return nil, err
	}
	unlock, err := lockFile(ctx, k.file)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := LoadRefreshTokenFile(k.file)
	if err != nil {
		return nil, err
	}
	if cur != "" && cur != k.refresh {
		k.log.Info("refresh_token_file holds a newer refresh token (another run rotated it); using it", "refresh_token_file", k.file)
		k.refresh, k.fromFile = cur, true
	}
	tok, err := grant(k.refresh)
	var ae *AuthError
	if !errors.As(err, &ae) || !k.fromFile {
		return k.kept(tok, err)
	}
	if k.fallback == "" || k.fallback == k.refresh {
		ae.Msg += fmt.Sprintf(" (the refresh token came from refresh_token_file %s: put a new refresh token in that file, or delete the file to start from refresh_token in the config)", k.file)
		return nil, err
	}
	k.log.Warn(fmt.Sprintf("Pinterest rejected the refresh token in refresh_token_file %s; trying refresh_token from the config instead", k.file))
	k.refresh, k.fromFile = k.fallback, false
	tok, err = grant(k.refresh)
	if errors.As(err, &ae) {
		ae.Msg += fmt.Sprintf(" (both the refresh token in refresh_token_file %s and refresh_token in the config were rejected: create a new refresh token and put it in the config, or in that file)", k.file)
	}
	return k.kept(tok, err)
}

func (k *keeper) kept(tok *oauth2.Token, err error) (*oauth2.Token, error) {
	if err != nil {
		return nil, err
	}
	return tok, k.keep(tok)
}

func (k *keeper) keep(tok *oauth2.Token) error {
	if tok.RefreshToken != "" && tok.RefreshToken != k.refresh {
		k.refresh = tok.RefreshToken
		if k.file != "" {
			if err := atomicfile.Write(k.file, []byte(tok.RefreshToken+"\n"), 0o600); err != nil {
				return fmt.Errorf("the refresh token Pinterest just rotated could not be written to refresh_token_file %s (%v), so it is lost and the tap stops here; the file still holds the previous token: free space or fix the file's permissions, then run again, and if Pinterest rejects that token, create a new refresh token", k.file, rootCause(err))
			}
			k.fromFile = true
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

func rootCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

package pinterest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// tokenCallKey marks the context of a request to the token endpoint.
type tokenCallKey struct{}

// maxRedirects is how many redirects one attempt follows.
const maxRedirects = 5

// checkRedirect is the redirect policy of every request: the token
// endpoint's answers are never followed (a redirect would carry the
// refresh token and the client secret elsewhere); an API redirect is
// followed only to the same scheme, host and port, where the bearer token
// is meant to go. A refused redirect is returned as the 3xx answer, which
// judge turns into an error; a debug line says what happened either way.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	to := c.redact.Redact(req.URL.Redacted())
	switch {
	case first.Context().Value(tokenCallKey{}) != nil:
		c.log.Debug(fmt.Sprintf("not following the token endpoint's redirect to %s: it would carry the credentials", to))
		return http.ErrUseLastResponse
	case !sameOrigin(first.URL, req.URL):
		c.log.Debug(fmt.Sprintf("not following a redirect of %s to %s: another scheme, host or port would receive the access token", first.URL.Path, to))
		return http.ErrUseLastResponse
	case len(via) > maxRedirects:
		return errors.New("too many redirects")
	}
	c.log.Debug(fmt.Sprintf("following a redirect of %s to %s (same scheme, host and port)", first.URL.Path, to))
	return nil
}

// sameOrigin says whether two URLs have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && hostPort(a) == hostPort(b)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// redirectRefused is the message of a redirect that was not followed.
func (c *Client) redirectRefused(cl call, resp *http.Response) string {
	loc := "(no Location)"
	if u, err := resp.Location(); err == nil {
		loc = u.Scheme + "://" + u.Host + u.Path
	}
	if cl.basic {
		return fmt.Sprintf("the token endpoint redirects to %s; not followed, since the request carries the client secret and refresh token: check base_url", loc)
	}
	return fmt.Sprintf("redirected to %s; not followed, since only the same scheme, host and port as base_url may receive the access token: check base_url", loc)
}

// Package pinterest is the tap's HTTP layer for the Pinterest API v5. It
// holds the Client, the one path every request takes (the token refresh
// included): pacing per rate-limit category, an OAuth2 access token from
// the refresh-token grant (rotated refresh tokens are kept in
// refresh_token_file), one retry policy (exponential backoff with jitter,
// Retry-After, a 401 refreshed once, a total wait bound), full JSON
// validation of every success body, and typed errors (APIError, QuotaError,
// AuthError). It knows nothing of streams or Singer: package tap drives it.
package pinterest

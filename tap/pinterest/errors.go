package pinterest

import (
	"fmt"
	"time"
)

// APIError is an answer of Pinterest that is not a success.
type APIError struct {
	Method  string
	Path    string // without the query string
	Status  int
	Code    int    // Pinterest's error code from the body, 0 if none
	Message string // Pinterest's message, or the start of a non-JSON body
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	if e.Code != 0 {
		return fmt.Sprintf("%s %s: HTTP %d (code %d): %s", e.Method, e.Path, e.Status, e.Code, msg)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, msg)
}

// QuotaError means a request would need to wait longer than
// max_retry_wait_seconds: typically a daily analytics quota (code 8).
type QuotaError struct {
	Category string
	RetryAt  time.Time
	Cause    error
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("Pinterest rate limit of category %s reached (%v); retry after %s", e.Category, e.Cause, e.RetryAt.UTC().Format(time.RFC3339))
}

func (e *QuotaError) Unwrap() error { return e.Cause }

// AuthError means the credentials do not work: a refresh token Pinterest
// rejects, or a 401 that a fresh access token does not cure.
type AuthError struct {
	Msg   string
	Cause error
}

func (e *AuthError) Error() string {
	if e.Cause != nil {
		return e.Msg + ": " + e.Cause.Error()
	}
	return e.Msg
}

func (e *AuthError) Unwrap() error { return e.Cause }

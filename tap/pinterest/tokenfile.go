package pinterest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// tokenLine is what a refresh token looks like: one line of visible ASCII
// (RFC 6749's VSCHAR without the space), of a plausible length.
var tokenLine = regexp.MustCompile(`^[\x21-\x7e]+$`)

// LoadRefreshTokenFile returns the refresh token kept in path, "" when the
// file does not exist yet or is empty. Anything but one plausible token
// line is an error naming the file, and its content is never shown.
func LoadRefreshTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("refresh_token_file %s cannot be read: %v", path, rootCause(err))
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", nil
	}
	if lines := strings.Count(s, "\n") + 1; lines > 1 {
		return "", fmt.Errorf("refresh_token_file %s holds %d lines, not one refresh token: point refresh_token_file at a file of its own (the tap writes the token there), or delete the file to start from refresh_token", path, lines)
	}
	if len(s) < 8 || len(s) > 2048 || !tokenLine.MatchString(s) {
		return "", fmt.Errorf("refresh_token_file %s does not hold a refresh token (%d bytes; a token is 8 to 2048 visible ASCII characters without spaces): put the token alone in the file, or delete the file to start from refresh_token", path, len(s))
	}
	return s, nil
}

// probeSize is written to the token file's directory to see that a token
// would fit there.
const probeSize = 4096

// checkWritable makes sure that a rotated token could be saved next to
// path, before Pinterest rotates it: a file is created, written, flushed
// and removed.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	err := probe(dir, filepath.Base(path))
	if err == nil {
		return nil
	}
	return &AuthError{Msg: fmt.Sprintf("refresh_token_file %s: its directory %s cannot be written (%v), so a refresh token that Pinterest rotates could not be saved. Nothing was refreshed: the token in the file is still the one to use. Free disk space or fix the directory's permissions, then run again", path, dir, rootCause(err))}
}

func probe(dir, base string) error {
	f, err := os.CreateTemp(dir, "."+base+".probe-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	_, err = f.Write(make([]byte, probeSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// lockPoll is how often a busy token file lock is tried again.
const lockPoll = 20 * time.Millisecond

// lockFile takes the advisory lock of the token file at path (on
// path + ".lock", since the token file itself is replaced by a rename),
// waiting while another process holds it, and returns its release.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("refresh_token_file %s: its lock file cannot be opened (%v): fix the directory's permissions", path, rootCause(err))
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("refresh_token_file %s: cannot lock %s: %v", path, f.Name(), err)
		}
		if ok {
			return func() { _ = unlock(f); _ = f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}

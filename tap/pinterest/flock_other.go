//go:build !unix

package pinterest

import "os"

// tryLock: no advisory locks on this system; processes sharing a
// refresh_token_file are not serialised.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }

package tap

import "testing"

func TestNearest(t *testing.T) {
	t.Parallel()
	names := []string{"client_id", "client_secret", "refresh_token", "boards", "board_pins", "ad_accounts"}
	for _, tc := range []struct{ in, want string }{
		{"client_secert", "client_secret"},
		{"clientsecret", "client_secret"},
		{"refresh_tokn", "refresh_token"},
		{"board", "boards"},
		{"adaccounts", "ad_accounts"},
		{"orders", ""},
		{"x", ""},
	} {
		if got := nearest(tc.in, names); got != tc.want {
			t.Errorf("nearest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

package tap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
)

// Check makes one cheap authenticated call per API family and says what
// the credentials can read: the user account (organic) and the ad accounts
// (ads). It fails when the credentials are rejected or nothing is readable.
func Check(ctx context.Context, c *Client, log *slog.Logger) error {
	okCount := 0
	rep, err := c.get(ctx, "", "user_account/get", "org_read", "/user_account", nil)
	var ae *AuthError
	if errors.As(err, &ae) {
		return err
	}
	if err != nil {
		log.Warn(fmt.Sprintf("organic (boards, pins, user account analytics): NOT readable: %v", err))
	} else {
		name, _ := jsonscan.StringValue(jsonscan.Member(rep.body, "username"))
		kind, _ := jsonscan.StringValue(jsonscan.Member(rep.body, "account_type"))
		rep.release()
		log.Info(fmt.Sprintf("organic (boards, pins, user account analytics): OK: user %q (%s account)", name, kind))
		okCount++
	}
	rep, err = c.get(ctx, "", "ad_accounts/list", "ads_read", "/ad_accounts", url.Values{"page_size": {"250"}})
	if err != nil {
		log.Warn(fmt.Sprintf("ads (ad accounts, campaigns, ad groups, ads, analytics): NOT readable: %v", err))
	} else {
		n := 0
		_ = jsonscan.EachElement(jsonscan.Member(rep.body, "items"), func([]byte) error { n++; return nil })
		more := ""
		if b, _ := jsonscan.StringValue(jsonscan.Member(rep.body, "bookmark")); b != "" {
			more = "+"
		}
		rep.release()
		log.Info(fmt.Sprintf("ads (ad accounts, campaigns, ad groups, ads, analytics): OK: %d%s ad accounts visible", n, more))
		okCount++
	}
	if okCount == 0 {
		return errors.New("the credentials work but can read neither organic nor ads data; check the token's scopes")
	}
	return nil
}

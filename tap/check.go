package tap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// Check makes one cheap authenticated call per API family and says what
// the credentials can read: the user account (organic) and the ad accounts
// (ads). It fails when the credentials are rejected or nothing is readable.
func Check(ctx context.Context, c *pinterest.Client, log *slog.Logger) error {
	okCount := 0
	rep, err := c.Get(ctx, pinterest.Request{Op: "user_account/get", Category: "org_read", Path: "/user_account"})
	var ae *pinterest.AuthError
	if errors.As(err, &ae) {
		return err
	}
	if err != nil {
		log.Warn(fmt.Sprintf("organic (boards, pins, user account analytics): NOT readable: %v", err))
	} else {
		name, _ := jsonscan.StringValue(jsonscan.Member(rep.Body, "username"))
		kind, _ := jsonscan.StringValue(jsonscan.Member(rep.Body, "account_type"))
		rep.Release()
		log.Info(fmt.Sprintf("organic (boards, pins, user account analytics): OK: user %q (%s account)", name, kind))
		okCount++
	}
	rep, err = c.Get(ctx, pinterest.Request{Op: "ad_accounts/list", Category: "ads_read", Path: "/ad_accounts", Query: url.Values{"page_size": {"250"}}})
	if err != nil {
		log.Warn(fmt.Sprintf("ads (ad accounts, campaigns, ad groups, ads, analytics): NOT readable: %v", err))
	} else {
		n := 0
		_ = jsonscan.EachElement(jsonscan.Member(rep.Body, "items"), func([]byte) error { n++; return nil })
		more := ""
		if b, _ := jsonscan.StringValue(jsonscan.Member(rep.Body, "bookmark")); b != "" {
			more = "+"
		}
		rep.Release()
		log.Info(fmt.Sprintf("ads (ad accounts, campaigns, ad groups, ads, analytics): OK: %d%s ad accounts visible", n, more))
		okCount++
	}
	if okCount == 0 {
		return errors.New("the credentials work but can read neither organic nor ads data; check the token's scopes")
	}
	return nil
}

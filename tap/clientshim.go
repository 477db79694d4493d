package tap

import "context"

// Authenticate obtains an access token now.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.tokens.token(ctx)
	return err
}

package pinterest

import (
	"context"
	"log/slog"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap/logging"
	"golang.org/x/time/rate"
)

// pacer spaces requests so that the tap stays under Pinterest's limits
// instead of discovering them through 429s: a token bucket per rate-limit
// category (requests per minute per user per app) and one for the universal
// per-second limit. Every request waits on both; concurrent fetches share them.
type pacer struct {
	universal *rate.Limiter
	category  map[string]*rate.Limiter
	log       *slog.Logger
}

func newPacer(perSecond int, perMinute map[string]int, log *slog.Logger) *pacer {
	p := &pacer{universal: rate.NewLimiter(rate.Limit(perSecond), max(1, perSecond/10)), category: map[string]*rate.Limiter{}, log: log}
	for cat, n := range perMinute {
		// A burst of one second's worth, and a rate that keeps any 60-second
		// window at or under the limit even after the burst.
		burst := max(1, n/60)
		r := rate.Limit(float64(max(1, n-burst)) / 60)
		p.category[cat] = rate.NewLimiter(r, burst)
	}
	return p
}

// wait blocks until a request of the category may be sent.
func (p *pacer) wait(ctx context.Context, category string) error {
	start := time.Now()
	if l := p.category[category]; l != nil {
		if err := l.Wait(ctx); err != nil {
			return err
		}
	}
	if err := p.universal.Wait(ctx); err != nil {
		return err
	}
	if d := time.Since(start); d > 5*time.Millisecond && p.log.Enabled(ctx, logging.LevelDebug) {
		p.log.Debug("pacing", "category", category, "waited", d.Round(time.Millisecond).String())
	}
	return nil
}

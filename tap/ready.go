package tap

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/jsonscan"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// readyDays is how many days back from today the tap asks
// metrics_ready_state for the last final day; a day older than that is
// taken as final without asking.
const readyDays = 14

// readyState is the run's answer of metrics_ready_state: learned once, by
// the first stream that needs it, and shared.
type readyState struct {
	mu   sync.Mutex
	done bool
	day  time.Time
	err  error
}

// bookmarkDay caps a day bookmark of a Finalised row at the last day whose
// conversion and non-conversion metrics are both final, so that the next
// run reads the days Pinterest was still computing again.
func (s *Syncer) bookmarkDay(ctx context.Context, p *plan, day time.Time) (time.Time, error) {
	if !p.s.Finalised || day.Before(s.today.AddDate(0, 0, -readyDays)) {
		return day, nil
	}
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	if !s.ready.done {
		s.ready.day, s.ready.err = s.askReady(ctx, p)
		s.ready.done = ctx.Err() == nil
	}
	if s.ready.err != nil {
		return day, fmt.Errorf("learning which days are final (%s): %w", catalog.ReadyStateOp, s.ready.err)
	}
	return minTime(day, s.ready.day), nil
}

// askReady walks back from today to the first day Pinterest calls final.
func (s *Syncer) askReady(ctx context.Context, p *plan) (time.Time, error) {
	for back := 0; back <= readyDays; back++ {
		d := s.today.AddDate(0, 0, -back)
		var conv, nonConv bool
		err := s.get(ctx, p, catalog.ReadyStateOp, catalog.ReadyStatePath, url.Values{"date": {d.Format(time.DateOnly)}}, func(rep *pinterest.Reply) error {
			conv = string(jsonscan.Member(rep.Body, "conversion_metrics_ready")) == "true" // a spooled (huge) answer reads as not ready
			nonConv = string(jsonscan.Member(rep.Body, "non_conversion_metrics_ready")) == "true"
			return nil
		})
		if err != nil {
			return time.Time{}, err
		}
		if conv && nonConv {
			s.log.Info(fmt.Sprintf("Pinterest's metrics are final up to %s (metrics_ready_state): ads analytics bookmarks stop there, so the next run reads the later days again", d.Format(time.DateOnly)))
			return d, nil
		}
	}
	d := s.today.AddDate(0, 0, -readyDays-1)
	s.log.Warn(fmt.Sprintf("Pinterest calls none of the last %d days final (metrics_ready_state): ads analytics bookmarks stop at %s", readyDays, d.Format(time.DateOnly)))
	return d, nil
}

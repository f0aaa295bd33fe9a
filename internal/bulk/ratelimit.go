package bulk

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Quotas the import stays under
// (https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html):
// each import-job operation is capped at 5 requests per second per pool;
// AdminDisableUser and AdminAddUserToGroup are in the UserUpdate category,
// 25 requests per second, not adjustable.
const (
	ImportJobRPS  = 5
	UserUpdateRPS = 25
)

// Clock is time as the limiter and the importer see it; tests use a fake.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Limiter is a token bucket shared by every goroutine that calls Wait: at
// most rate calls per second on average, with bursts of at most burst.
type Limiter struct {
	clock Clock
	rate  float64
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter of rate calls per second, starting full with
// burst tokens (at least 1).
func NewLimiter(clock Clock, rate float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{clock: clock, rate: rate, burst: float64(burst), tokens: float64(burst), last: clock.Now()}
}

// Wait takes a token, sleeping until one is free. Tokens are reserved under
// the lock and slept for outside it, so waiters queue fairly.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.clock.Now()
	if now.After(l.last) {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		l.last = now
	}
	l.tokens--
	var wait time.Duration
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if wait == 0 {
		return nil
	}
	if err := l.clock.Sleep(ctx, wait); err != nil {
		l.mu.Lock()
		l.tokens++ // give the reservation back
		l.mu.Unlock()
		return err
	}
	return nil
}

// Backoff retries calls that AWS throttled.
type Backoff struct {
	// Attempts is the most calls made in all, at least 1.
	Attempts int
	// Base is the first wait; each retry doubles it, up to Max.
	Base, Max time.Duration
}

// DefaultBackoff gives a throttled call about half a minute to get through.
var DefaultBackoff = Backoff{Attempts: 8, Base: 200 * time.Millisecond, Max: 10 * time.Second}

// Throttled reports whether err is AWS saying "slow down":
// TooManyRequestsException or ThrottlingException, found through the
// ErrorCode method of the SDK's API errors (smithy.APIError).
func Throttled(err error) bool {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		switch coded.ErrorCode() {
		case "TooManyRequestsException", "ThrottlingException":
			return true
		}
	}
	return false
}

// call runs fn after a token of l, retrying with backoff while it is
// throttled. Other errors are returned at once.
func call(ctx context.Context, clock Clock, l *Limiter, b Backoff, fn func() error) error {
	wait := b.Base
	for attempt := 1; ; attempt++ {
		if err := l.Wait(ctx); err != nil {
			return err
		}
		err := fn()
		if err == nil || !Throttled(err) || attempt >= b.Attempts {
			return err
		}
		if err := clock.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, b.Max)
	}
}

package bulk

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when someone sleeps on it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  []time.Duration
	frozen bool // Sleep does not move time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.slept = append(c.slept, d)
	if d > 0 && !c.frozen {
		c.now = c.now.Add(d)
	}
	c.mu.Unlock()
	return nil
}

// A token bucket of 5/s lets 5 calls through at once, then one every 200 ms.
func TestLimiterRate(t *testing.T) {
	c := newFakeClock()
	l := NewLimiter(c, ImportJobRPS, ImportJobRPS)
	start := c.Now()
	for range 25 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 25 calls: 5 from the burst, 20 at 5/s.
	if got, want := c.Now().Sub(start), 4*time.Second; got != want {
		t.Errorf("25 calls at 5/s took %v, want %v", got, want)
	}
}

// Shared by goroutines: the total rate stays the same.
func TestLimiterSharedAcrossGoroutines(t *testing.T) {
	c := newFakeClock()
	c.frozen = true // every reservation is made at the same instant
	l := NewLimiter(c, UserUpdateRPS, 1)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 10 {
				if err := l.Wait(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// 100 calls, 1 free, 99 reserved at 40 ms each: the sum of the
	// reservations handed out must account for 99 intervals.
	c.mu.Lock()
	defer c.mu.Unlock()
	var longest time.Duration
	for _, d := range c.slept {
		longest = max(longest, d)
	}
	if want := 99 * time.Second / UserUpdateRPS; longest < want-time.Millisecond || longest > want+time.Millisecond {
		t.Errorf("last reservation %v, want %v", longest, want)
	}
}

func TestLimiterCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewLimiter(newFakeClock(), 1, 1).Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context = %v", err)
	}
}

type codedErr string

func (e codedErr) Error() string     { return string(e) }
func (e codedErr) ErrorCode() string { return string(e) }

func TestCallRetriesThrottling(t *testing.T) {
	c := newFakeClock()
	l := NewLimiter(c, 1000, 1000)
	b := Backoff{Attempts: 4, Base: 100 * time.Millisecond, Max: 150 * time.Millisecond}
	n := 0
	err := call(context.Background(), c, l, b, func() error {
		n++
		if n < 3 {
			return codedErr("TooManyRequestsException")
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("call = %v after %d calls; want nil after 3", err, n)
	}
	want := []time.Duration{100 * time.Millisecond, 150 * time.Millisecond}
	if len(c.slept) != len(want) || c.slept[0] != want[0] || c.slept[1] != want[1] {
		t.Errorf("backoff sleeps %v, want %v", c.slept, want)
	}

	n = 0
	err = call(context.Background(), c, l, b, func() error { n++; return codedErr("ThrottlingException") })
	if !Throttled(err) || n != 4 {
		t.Errorf("always throttled: %v after %d calls; want throttled after 4", err, n)
	}

	n = 0
	err = call(context.Background(), c, l, b, func() error { n++; return codedErr("ResourceNotFoundException") })
	if err == nil || n != 1 {
		t.Errorf("not throttled: %v after %d calls; want the error after 1", err, n)
	}
}

package awsconfig_test

import (
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
)

func TestBackoffIsJitteredAndCapped(t *testing.T) {
	r := awsconfig.NewRetryer()
	if r.MaxAttempts() != awsconfig.MaxAttempts {
		t.Errorf("MaxAttempts() = %d, want %d", r.MaxAttempts(), awsconfig.MaxAttempts)
	}
	for attempt := 1; attempt <= 10; attempt++ {
		seen := map[time.Duration]bool{}
		for i := 0; i < 200; i++ {
			d, err := r.RetryDelay(attempt, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d <= 0 || d > awsconfig.MaxBackoff {
				t.Fatalf("RetryDelay(%d) = %v, want in (0, %v]", attempt, d, awsconfig.MaxBackoff)
			}
			if attempt == 1 && d > 100*time.Millisecond {
				t.Fatalf("RetryDelay(1) = %v, want at most 100ms: the first retry comes quickly", d)
			}
			seen[d] = true
		}
		// 200 draws from a range of at least 100 ms in nanoseconds: all
		// equal would mean no jitter.
		if len(seen) < 100 {
			t.Errorf("RetryDelay(%d) took only %d distinct values in 200 draws: not jittered", attempt, len(seen))
		}
	}
}

package awsconfig_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
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

// STS that does not answer one attempt costs a retry, not the renewal: the
// STS client gives up on an answer after STSResponseTimeout.
func TestOldPoolCredentialsSTSResponseTimeout(t *testing.T) {
	fake := awstest.NewSTS(t)
	const role = "arn:aws:iam::111111111111:role/old-pool"
	fake.AllowRole(role, "")
	release := make(chan struct{})
	var first sync.Once
	fake.SetNow(func() time.Time {
		hang := false
		first.Do(func() { hang = true })
		if hang {
			<-release
		}
		return time.Now()
	})
	t.Cleanup(func() { close(release) }) // before the fake closes: its handler waits here
	t.Setenv("AWS_ENDPOINT_URL_STS", fake.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFUNCTION")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-west-2")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	base, err := awsconfig.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds := awsconfig.OldPoolCredentials(base, awsconfig.OldPool{Region: "eu-west-1", RoleARN: role})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	got, err := creds.Retrieve(ctx)
	if err != nil {
		t.Fatalf("Retrieve() with the first STS answer hung = %v, want the retry's credentials", err)
	}
	if _, ok := fake.Issued(got.AccessKeyID); !ok {
		t.Errorf("Retrieve() = %q, not issued by STS", got.AccessKeyID)
	}
	if took := time.Since(start); took > awsconfig.RenewTimeout {
		t.Errorf("Retrieve() took %v, want under RenewTimeout (%v)", took, awsconfig.RenewTimeout)
	}
}

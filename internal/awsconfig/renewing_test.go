package awsconfig

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// clock is a settable time source safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// scripted is an STS stand-in: call n (from 1) is answered by answer(ctx, n).
type scripted struct {
	mu     sync.Mutex
	n      int
	answer func(ctx context.Context, n int) (aws.Credentials, error)
}

func (s *scripted) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	return s.answer(ctx, n)
}

func (s *scripted) calls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

func key(id string, expires time.Time) aws.Credentials {
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: expires}
}

func newTestRenewing(p aws.CredentialsProvider, c *clock) *Renewing {
	r := NewRenewing(p, "arn:aws:iam::111111111111:role/old-pool")
	r.now = c.now
	return r
}

func retrieve(t *testing.T, r *Renewing, within time.Duration) (aws.Credentials, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return r.Retrieve(ctx)
}

// A failing renewal never fails a sign-in while the cached credentials are
// good; each later call tries again; only credentials too close to expiry
// fail, with an error that names STS.
func TestRenewingKeepsGoodCredentialsWhenRenewalFails(t *testing.T) {
	base := time.Now()
	c := &clock{t: base}
	p := &scripted{answer: func(_ context.Context, n int) (aws.Credentials, error) {
		if n == 1 {
			return key("AKID1", base.Add(time.Hour)), nil
		}
		return aws.Credentials{}, errors.New("api error AccessDenied: not authorized to perform sts:AssumeRole")
	}}
	r := newTestRenewing(p, c)
	if got, err := retrieve(t, r, time.Second); err != nil || got.AccessKeyID != "AKID1" {
		t.Fatalf("first Retrieve() = %v, %v", got.AccessKeyID, err)
	}
	c.set(base.Add(time.Hour - RefreshWindow/2 + time.Second)) // inside the window, whatever the jitter
	for i := 0; i < 3; i++ {
		got, err := retrieve(t, r, time.Second)
		if err != nil || got.AccessKeyID != "AKID1" {
			t.Fatalf("Retrieve() during failing renewals = %q, %v; want the cached AKID1", got.AccessKeyID, err)
		}
	}
	if n := p.calls(); n < 3 {
		t.Errorf("AssumeRole calls = %d, want each call in the window to try again (at least 3)", n)
	}
	c.set(base.Add(time.Hour - MinValidity + time.Second))
	_, err := retrieve(t, r, time.Second)
	var ce *CredentialsError
	if !errors.As(err, &ce) || ce.FaultService() != "sts" || !strings.Contains(err.Error(), "sts:AssumeRole") {
		t.Fatalf("Retrieve() with expiring credentials and STS failing = %v, want a *CredentialsError naming sts:AssumeRole", err)
	}
}

// A renewal that never answers neither holds sign-ins while the cached
// credentials are good, nor stops later calls once STS answers again.
func TestRenewingHungRenewalNeitherHoldsNorWedges(t *testing.T) {
	base := time.Now()
	c := &clock{t: base}
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	p := &scripted{answer: func(_ context.Context, n int) (aws.Credentials, error) {
		switch n {
		case 1:
			return key("AKID1", base.Add(time.Hour)), nil
		case 2:
			<-never // hangs, and ignores its context
			return aws.Credentials{}, errors.New("too late")
		}
		return key("AKID3", base.Add(2*time.Hour)), nil
	}}
	r := newTestRenewing(p, c)
	r.timeout = 300 * time.Millisecond
	r.wait = 100 * time.Millisecond
	if _, err := retrieve(t, r, time.Second); err != nil {
		t.Fatal(err)
	}

	c.set(base.Add(time.Hour - RefreshWindow/2 + time.Second))
	start := time.Now()
	for i := 0; i < 5; i++ {
		got, err := retrieve(t, r, 2*time.Second)
		if err != nil || got.AccessKeyID != "AKID1" {
			t.Fatalf("Retrieve() during a hung renewal = %q, %v; want the cached AKID1", got.AccessKeyID, err)
		}
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Errorf("5 calls during a hung renewal took %v: only the first may wait, and at most RenewWait", took)
	}

	// The cached credentials run out while the renewal still hangs: this
	// call fails, naming STS; the renewal ends at its own deadline.
	c.set(base.Add(time.Hour))
	if _, err := retrieve(t, r, 2*time.Second); !errors.As(err, new(*CredentialsError)) {
		t.Fatalf("Retrieve() without good credentials, STS hung = %v, want a *CredentialsError", err)
	}
	// STS answers again: the next call gets new credentials.
	got, err := retrieve(t, r, 2*time.Second)
	if err != nil || got.AccessKeyID != "AKID3" {
		t.Fatalf("Retrieve() once STS answers again = %q, %v; want AKID3", got.AccessKeyID, err)
	}
}

// The caller's context is honoured while it waits, without cancelling the
// shared renewal.
func TestRenewingCallerGivesUpRenewalGoesOn(t *testing.T) {
	c := &clock{t: time.Now()}
	release := make(chan struct{})
	p := &scripted{answer: func(ctx context.Context, n int) (aws.Credentials, error) {
		<-release
		return key("AKID1", c.now().Add(time.Hour)), nil
	}}
	r := newTestRenewing(p, c)
	if _, err := retrieve(t, r, 50*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Retrieve() past its deadline = %v, want DeadlineExceeded", err)
	}
	close(release)
	if got, err := retrieve(t, r, time.Second); err != nil || got.AccessKeyID != "AKID1" {
		t.Fatalf("Retrieve() = %q, %v; want AKID1 from the renewal the first call started", got.AccessKeyID, err)
	}
	if n := p.calls(); n != 1 {
		t.Errorf("AssumeRole calls = %d, want 1", n)
	}
}

// A panic in the provider is an error, not the end of the process.
func TestRenewingRecoversPanic(t *testing.T) {
	p := &scripted{answer: func(context.Context, int) (aws.Credentials, error) { panic("boom") }}
	if _, err := retrieve(t, newTestRenewing(p, &clock{t: time.Now()}), time.Second); err == nil || strings.Contains(err.Error(), "boom") {
		t.Fatalf("Retrieve() = %v, want an error that does not quote the panic value", err)
	}
}

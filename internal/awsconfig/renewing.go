package awsconfig

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Renewing caches assumed-role credentials and renews them so that STS
// never fails or holds up a sign-in that the cached credentials can sign:
//
//   - Credentials are renewed from RefreshWindow (jittered) before they
//     expire. While they are still good (MinValidity left), the call that
//     starts a renewal waits for it at most RenewWait, and every other call
//     returns them at once; a renewal that fails or hangs only means the
//     next call tries again.
//   - Each renewal runs under its own deadline, RenewTimeout, whoever asked
//     for it. (aws.CredentialsCache drops the caller's context and has no
//     deadline of its own, so one AssumeRole that never answers would hold
//     every later sign-in, and it fails sign-ins when a renewal fails even
//     though the credentials it holds are still good.)
//   - Only without good credentials does a call wait for the renewal, until
//     the renewal or the caller's context ends; its error is a
//     *CredentialsError, which names STS.
type Renewing struct {
	provider aws.CredentialsProvider
	roleARN  string
	now      func() time.Time
	timeout  time.Duration // RenewTimeout
	wait     time.Duration // RenewWait

	mu       sync.Mutex
	creds    aws.Credentials
	renewAt  time.Time
	inflight *renewal
	lastErr  error
}

// renewal is one AssumeRole in progress; done is closed when it ends.
type renewal struct {
	done chan struct{}
}

// NewRenewing returns a Renewing that gets credentials for roleARN from
// provider.
func NewRenewing(provider aws.CredentialsProvider, roleARN string) *Renewing {
	return &Renewing{provider: provider, roleARN: roleARN, now: time.Now, timeout: RenewTimeout, wait: RenewWait}
}

// CredentialsError is a failure to get the old pool's credentials from STS
// (AssumeRole of the old pool's role). The old pool itself was not called.
type CredentialsError struct {
	RoleARN string
	Err     error
}

func (e *CredentialsError) Error() string {
	return "sts:AssumeRole " + e.RoleARN + " (credentials for the old pool): " + e.Err.Error()
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// FaultService names the service at fault, for the trigger's log: STS, not
// the old pool.
func (e *CredentialsError) FaultService() string { return "sts" }

// Retrieve returns credentials to sign an old-pool request with.
func (r *Renewing) Retrieve(ctx context.Context) (aws.Credentials, error) {
	r.mu.Lock()
	creds, good := r.creds, r.good(r.creds)
	if good && (!creds.CanExpire || r.now().Before(r.renewAt)) {
		r.mu.Unlock()
		return creds, nil
	}
	w, started := r.inflight, false
	if w == nil {
		w, started = r.start(), true
	}
	r.mu.Unlock()

	if good && !started {
		return creds, nil // someone else's renewal is under way
	}
	var wait <-chan time.Time
	if good {
		t := time.NewTimer(r.wait)
		defer t.Stop()
		wait = t.C
	}
	select {
	case <-w.done:
	case <-wait:
		return creds, nil
	case <-ctx.Done():
		if good {
			return creds, nil
		}
		return aws.Credentials{}, &CredentialsError{RoleARN: r.roleARN,
			Err: fmt.Errorf("no answer from STS in time (a renewal runs at most %v): %w", r.timeout, ctx.Err())}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.good(r.creds) {
		// New credentials, or, when the renewal failed, the cached ones.
		return r.creds, nil
	}
	return aws.Credentials{}, &CredentialsError{RoleARN: r.roleARN, Err: r.lastErr}
}

// good reports whether c can sign a request now.
func (r *Renewing) good(c aws.Credentials) bool {
	return c.HasKeys() && (!c.CanExpire || r.now().Add(MinValidity).Before(c.Expires))
}

// start begins a renewal; r.mu is held.
func (r *Renewing) start() *renewal {
	w := &renewal{done: make(chan struct{})}
	r.inflight = w
	go func() {
		creds, err := r.retrieve()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.inflight = nil
		if err == nil && !creds.HasKeys() {
			err = fmt.Errorf("STS returned no credentials")
		}
		if err != nil {
			r.lastErr = err
		} else {
			r.creds, r.lastErr = creds, nil
			// Renew between RefreshWindow and half of it before expiry, at
			// random, so containers started together renew apart.
			r.renewAt = creds.Expires.Add(-RefreshWindow/2 - rand.N(RefreshWindow/2+1))
		}
		close(w.done)
	}()
	return w
}

// retrieve calls the provider under the renewal's own deadline. It returns
// by the deadline even if the provider does not: a renewal always ends.
func (r *Renewing) retrieve() (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	type answer struct {
		creds aws.Credentials
		err   error
	}
	c := make(chan answer, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				c <- answer{err: fmt.Errorf("recovered panic of type %T", p)}
			}
		}()
		creds, err := r.provider.Retrieve(ctx)
		c <- answer{creds, err}
	}()
	select {
	case a := <-c:
		return a.creds, a.err
	case <-ctx.Done():
		return aws.Credentials{}, fmt.Errorf("no answer from STS within %v: %w", r.timeout, ctx.Err())
	}
}

package cognito

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// scriptedDescribe is a NewPoolAPI whose answers the test decides: each call
// runs answer, after waiting for gate when it is set.
type scriptedDescribe struct {
	calls  atomic.Int32
	gate   chan struct{}
	answer func(n int32) (*cip.DescribeUserPoolOutput, error)
}

func (s *scriptedDescribe) DescribeUserPool(ctx context.Context, _ *cip.DescribeUserPoolInput, _ ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error) {
	n := s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.answer(n)
}

func poolWithMFA(mfa types.UserPoolMfaType) *cip.DescribeUserPoolOutput {
	return &cip.DescribeUserPoolOutput{UserPool: &types.UserPoolType{Id: aws.String("p"), MfaConfiguration: mfa}}
}

// 100 cold invocations at once make one DescribeUserPool call, not 100.
func TestNewPoolConfigSharedByConcurrentCallers(t *testing.T) {
	api := &scriptedDescribe{gate: make(chan struct{}), answer: func(int32) (*cip.DescribeUserPoolOutput, error) {
		return poolWithMFA(types.UserPoolMfaTypeOptional), nil
	}}
	p := NewNewPool(api)
	const callers = 100
	var started, done sync.WaitGroup
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			cfg, err := p.Config(context.Background(), "p")
			if err == nil && cfg.MFA != "OPTIONAL" {
				err = errors.New("MFA = " + cfg.MFA)
			}
			errs <- err
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let the callers reach the cache
	close(api.gate)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Config() = %v", err)
		}
	}
	if n := api.calls.Load(); n != 1 {
		t.Errorf("DescribeUserPool calls = %d for %d concurrent callers, want 1", n, callers)
	}
}

// The first caller giving up does not fail the others waiting on the same
// call: it runs under its own deadline.
func TestNewPoolConfigSurvivesFirstCallerCancel(t *testing.T) {
	api := &scriptedDescribe{gate: make(chan struct{}), answer: func(int32) (*cip.DescribeUserPoolOutput, error) {
		return poolWithMFA(types.UserPoolMfaTypeOff), nil
	}}
	p := NewNewPool(api)
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { _, err := p.Config(first, "p"); firstErr <- err }()
	for api.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() { _, err := p.Config(context.Background(), "p"); second <- err }()
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: Config() = %v, want canceled", err)
	}
	close(api.gate)
	if err := <-second; err != nil {
		t.Errorf("second caller: Config() = %v, want the shared answer", err)
	}
}

// After the cache expires, a failed refresh serves the cached copy for up
// to MaxStale, logged once per failed refresh; after that it fails.
func TestNewPoolConfigServesStaleCopyWhenRefreshFails(t *testing.T) {
	api := &scriptedDescribe{answer: func(n int32) (*cip.DescribeUserPoolOutput, error) {
		if n == 1 {
			return poolWithMFA(types.UserPoolMfaTypeOptional), nil
		}
		return nil, errors.New("connection reset by peer")
	}}
	var logs bytes.Buffer
	p := NewNewPool(api, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	now := time.Now()
	p.now = func() time.Time { return now }
	if _, err := p.Config(context.Background(), "p"); err != nil {
		t.Fatal(err)
	}
	for i, after := range []time.Duration{ConfigTTL + time.Second, 30 * time.Minute, 29 * time.Minute} {
		now = now.Add(after)
		cfg, err := p.Config(context.Background(), "p")
		if err != nil || cfg.MFA != "OPTIONAL" {
			t.Fatalf("refresh %d failed %v after the fetch: Config() = %+v, %v; want the cached copy", i+1, now.Sub(now.Add(-after)), cfg, err)
		}
		if n := strings.Count(logs.String(), "cached copy is used"); n != i+1 {
			t.Errorf("after %d failed refreshes: %d log lines, want %d:\n%s", i+1, n, i+1, logs.String())
		}
	}
	if n := api.calls.Load(); n != 4 {
		t.Errorf("DescribeUserPool calls = %d, want 4 (each expired read tries again)", n)
	}
	now = now.Add(2 * time.Minute) // now past ConfigTTL + MaxStale
	if _, err := p.Config(context.Background(), "p"); err == nil {
		t.Error("Config() with a copy older than ConfigTTL+MaxStale and a failing refresh = nil error, want the error")
	}
}

// A panic in the shared call is an error of kind panic, not a crash.
func TestNewPoolConfigRecoversPanic(t *testing.T) {
	api := &scriptedDescribe{answer: func(int32) (*cip.DescribeUserPoolOutput, error) { panic("secret-ish value") }}
	_, err := NewNewPool(api).Config(context.Background(), "p")
	if k := migrate.KindOf(err); k != migrate.FaultPanic {
		t.Errorf("KindOf(%v) = %q, want %q", err, k, migrate.FaultPanic)
	}
	if err != nil && strings.Contains(err.Error(), "secret-ish") {
		t.Errorf("error %q quotes the panic value", err)
	}
}

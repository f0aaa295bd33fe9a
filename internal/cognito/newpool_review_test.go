package cognito

import (
	"context"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// A refresh that hangs (DescribeUserPool never answers) is a failed refresh
// too: while a cached copy may still be served, a sign-in does not wait for
// the hung call until its own budget runs out (which fails it: the decision
// gives up when its deadline passes), it gets the cached copy promptly.
func TestNewPoolConfigServesStaleCopyWhenRefreshHangs(t *testing.T) {
	api := &scriptedDescribe{gate: make(chan struct{}), answer: func(int32) (*cip.DescribeUserPoolOutput, error) {
		return poolWithMFA(types.UserPoolMfaTypeOptional), nil
	}}
	p := NewNewPool(api)
	now := time.Now()
	p.now = func() time.Time { return now }
	first := make(chan error, 1)
	go func() { _, err := p.Config(context.Background(), "p"); first <- err }()
	for api.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	api.gate <- struct{}{} // the first call answers; every later one hangs
	if err := <-first; err != nil {
		t.Fatal(err)
	}

	now = now.Add(ConfigTTL + time.Second)
	const budget = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	start := time.Now()
	cfg, err := p.Config(ctx, "p")
	took := time.Since(start)
	if err != nil || cfg.MFA != "OPTIONAL" {
		t.Fatalf("Config() = %+v, %v; want the cached copy", cfg, err)
	}
	if took > budget/2 {
		t.Errorf("Config() took %v with a hung refresh and a cached copy, want well under the caller's %v budget", took, budget)
	}
	close(api.gate)
}

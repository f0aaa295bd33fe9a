package cognito

import (
	"context"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
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

// The new pool's account recovery setting is read, in priority order, so
// the decision sends users to a reset only where the pool can deliver the
// code. A pool without one says nil.
func TestNewPoolConfigReadsAccountRecovery(t *testing.T) {
	for _, tt := range []struct {
		name    string
		setting any
		want    []string
	}{
		{"phone first", map[string]any{"RecoveryMechanisms": []any{
			map[string]any{"Name": "verified_email", "Priority": 2},
			map[string]any{"Name": "verified_phone_number", "Priority": 1}}}, []string{"verified_phone_number", "verified_email"}},
		{"administrators only", map[string]any{"RecoveryMechanisms": []any{map[string]any{"Name": "admin_only", "Priority": 1}}}, []string{"admin_only"}},
		{"no setting", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pool := map[string]any{"Id": "eu-west-2_New", "SchemaAttributes": []any{schemaAttr("email", false)}}
			if tt.setting != nil {
				pool["AccountRecoverySetting"] = tt.setting
			}
			client, _ := describeServer(t, pool)
			got, err := NewNewPool(client).Config(context.Background(), "eu-west-2_New")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Recovery); diff != "" {
				t.Errorf("Recovery mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
)

const rotatedSecret = "rotated-secret-that-must-never-be-printed"

// changingAPI lets change run right after the first description the
// command reads: someone else changes the pool or client while the
// command works.
type changingAPI struct {
	cognito.AdminAPI
	reads  *int
	change func()
}

func (c changingAPI) DescribeUserPool(ctx context.Context, in *cip.DescribeUserPoolInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error) {
	out, err := c.AdminAPI.DescribeUserPool(ctx, in, optFns...)
	if *c.reads++; *c.reads == 1 {
		c.change()
	}
	return out, err
}

func (c changingAPI) DescribeUserPoolClient(ctx context.Context, in *cip.DescribeUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error) {
	out, err := c.AdminAPI.DescribeUserPoolClient(ctx, in, optFns...)
	if *c.reads++; *c.reads == 1 {
		c.change()
	}
	return out, err
}

func editPool(t *testing.T, e *env, edit func(map[string]any)) {
	t.Helper()
	p := e.cognito.UserPool(richPoolID)
	edit(p)
	b, _ := json.Marshal(p)
	e.cognito.PutUserPool(b)
}

func editClient(t *testing.T, e *env, edit func(map[string]any)) {
	t.Helper()
	c := e.cognito.UserPoolClient(richClientID)
	edit(c)
	b, _ := json.Marshal(c)
	e.cognito.PutUserPoolClient(b)
}

func TestCommandsStopWhenTheConfigurationChangedSinceTheFirstRead(t *testing.T) {
	withPasswordAuth := func(c map[string]any) {
		c["ExplicitAuthFlows"] = append(c["ExplicitAuthFlows"].([]any), "ALLOW_USER_PASSWORD_AUTH")
	}
	tests := []struct {
		name   string
		setup  func(e *env)
		args   []string
		change func(e *env)
		update string
		want   []string
	}{
		{
			name: "attach-trigger",
			args: []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN},
			change: func(e *env) {
				editPool(t, e, func(p map[string]any) {
					p["MfaConfiguration"] = "OFF"
					setPath(p, "arn:aws:lambda:eu-west-1:111122223333:function:another", "LambdaConfig", "PreSignUp")
				})
			},
			update: "UpdateUserPool",
			want:   []string{"the user pool " + richPoolID + " changed while this command ran", "LambdaConfig.PreSignUp, MfaConfiguration", "Nothing was written"},
		},
		{
			name: "detach-trigger",
			setup: func(e *env) {
				editPool(t, e, func(p map[string]any) { setPath(p, functionARN, "LambdaConfig", "UserMigration") })
			},
			args:   []string{"detach-trigger", "--user-pool-id", richPoolID},
			change: func(e *env) { editPool(t, e, func(p map[string]any) { p["DeletionProtection"] = "INACTIVE" }) },
			update: "UpdateUserPool",
			want:   []string{"the user pool " + richPoolID + " changed while this command ran", ": DeletionProtection.", "Nothing was written"},
		},
		{
			name: "enable-password-auth",
			args: []string{"enable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID},
			change: func(e *env) {
				editClient(t, e, func(c map[string]any) { c["ClientSecret"] = rotatedSecret; c["RefreshTokenValidity"] = 30 })
			},
			update: "UpdateUserPoolClient",
			want:   []string{"the app client " + richClientID + " changed while this command ran", "ClientSecret, RefreshTokenValidity", "Nothing was written"},
		},
		{
			name:   "disable-password-auth",
			setup:  func(e *env) { editClient(t, e, withPasswordAuth) },
			args:   []string{"disable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID},
			change: func(e *env) { editClient(t, e, func(c map[string]any) { c["ClientSecret"] = rotatedSecret }) },
			update: "UpdateUserPoolClient",
			want:   []string{"the app client " + richClientID + " changed while this command ran", ": ClientSecret.", "Nothing was written"},
		},
	}
	for _, tt := range tests {
		for _, output := range []string{"text", "json"} {
			t.Run(tt.name+"/"+output, func(t *testing.T) {
				e := richEnv(t)
				if tt.setup != nil {
					tt.setup(e)
				}
				reads := 0
				e.clients.wrap = func(api cognito.AdminAPI) cognito.AdminAPI {
					return changingAPI{AdminAPI: api, reads: &reads, change: func() { tt.change(e) }}
				}
				r := e.run(t, append(tt.args, "--output", output)...)
				if r.code != ExitFailure {
					t.Errorf("exit code = %d, want 1", r.code)
				}
				if n := e.cognito.CallCount(tt.update); n != 0 {
					t.Errorf("%s calls = %d, want none", tt.update, n)
				}
				report := r.stderr + r.stdout
				for _, w := range tt.want {
					if !strings.Contains(report, w) {
						t.Errorf("the report does not say %q", w)
					}
				}
				for _, secret := range []string{rotatedSecret, "client-secret-that-must-never-be-printed"} {
					if strings.Contains(report, secret) {
						t.Errorf("a client secret was printed")
					}
				}
				for _, claim := range []string{"Done.", "checked by reading", `"applied": true`} {
					if strings.Contains(r.stdout, claim) {
						t.Errorf("stdout claims %q though nothing was written", claim)
					}
				}
			})
		}
	}
}

// recordingLambda notes how many cognito-idp calls preceded AddPermission.
type recordingLambda struct {
	lambdaapi.API
	e      *env
	before *int
}

func (r recordingLambda) AddPermission(ctx context.Context, in *lambda.AddPermissionInput, optFns ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	*r.before = len(r.e.cognito.Calls())
	return r.API.AddPermission(ctx, in, optFns...)
}

func TestAttachTriggerAddsThePermissionBeforeTheLastRead(t *testing.T) {
	e := richEnv(t)
	before := -1
	e.clients.wrapLambda = func(api lambdaapi.API) lambdaapi.API { return recordingLambda{api, e, &before} }
	r := e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN)
	if r.code != ExitOK {
		t.Fatalf("exit code = %d, want 0", r.code)
	}
	if before != 1 {
		t.Errorf("AddPermission came after %d cognito-idp calls, want 1 (the first read; then the last read, the write, the check)", before)
	}
	if got, want := r.cognitoOps, []string{"DescribeUserPool", "DescribeUserPool", "UpdateUserPool", "DescribeUserPool"}; !slices.Equal(got, want) {
		t.Errorf("cognito-idp calls = %v, want %v", got, want)
	}
}

// rotatingAPI changes the client's secret with the update: the check after
// the write reports it, by name only.
type rotatingAPI struct {
	cognito.AdminAPI
	e *env
	t *testing.T
}

func (r rotatingAPI) UpdateUserPoolClient(ctx context.Context, in *cip.UpdateUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.UpdateUserPoolClientOutput, error) {
	out, err := r.AdminAPI.UpdateUserPoolClient(ctx, in, optFns...)
	editClient(r.t, r.e, func(c map[string]any) { c["ClientSecret"] = rotatedSecret })
	return out, err
}

func TestDriftReportNeverShowsTheClientSecret(t *testing.T) {
	e := richEnv(t)
	e.clients.wrap = func(api cognito.AdminAPI) cognito.AdminAPI { return rotatingAPI{api, e, t} }
	r := e.run(t, "enable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "these settings differ from what was written: ClientSecret") {
		t.Fatalf("exit %d, stderr %q; want 1 and the drift of ClientSecret", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `{"ClientSecret":"(not shown)"}`) {
		t.Errorf("stderr does not hide the earlier value: %s", r.stderr)
	}
	for _, secret := range []string{rotatedSecret, "client-secret-that-must-never-be-printed"} {
		if strings.Contains(r.stderr+r.stdout, secret) {
			t.Error("a client secret was printed")
		}
	}
}

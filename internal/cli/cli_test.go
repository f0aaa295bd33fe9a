package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

func TestExitCodes(t *testing.T) {
	attach := []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN}
	tests := []struct {
		name       string
		args       []string
		noRegion   bool
		want       int
		wantStderr string
		wantStdout string
	}{
		{name: "no command", args: nil, want: ExitUsage, wantStderr: "no command given"},
		{name: "unknown command", args: []string{"attach"}, want: ExitUsage, wantStderr: `unknown command "attach"`},
		{name: "help", args: []string{"help"}, want: ExitOK, wantStdout: "Commands:"},
		{name: "-h", args: []string{"-h"}, want: ExitOK, wantStdout: "Commands:"},
		{name: "help of a command", args: []string{"help", "detach-trigger"}, want: ExitOK, wantStdout: "Usage: cognito-migrate detach-trigger"},
		{name: "help of an unknown command", args: []string{"help", "nope"}, want: ExitUsage},
		{name: "command -h", args: []string{"attach-trigger", "-h"}, want: ExitOK, wantStdout: "Usage: cognito-migrate attach-trigger"},
		{name: "command --help", args: []string{"enable-password-auth", "--help"}, want: ExitOK, wantStdout: "Usage: cognito-migrate enable-password-auth"},
		{name: "missing --user-pool-id", args: []string{"detach-trigger"}, want: ExitUsage, wantStderr: "--user-pool-id is required"},
		{name: "missing --function-arn", args: []string{"attach-trigger", "--user-pool-id", richPoolID}, want: ExitUsage, wantStderr: "--function-arn is required"},
		{name: "missing --client-id", args: []string{"enable-password-auth", "--user-pool-id", richPoolID}, want: ExitUsage, wantStderr: "--client-id is required"},
		{
			name: "function name instead of ARN",
			args: []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", "cognito-migrate"}, want: ExitUsage,
			wantStderr: "is not a Lambda function ARN",
		},
		{name: "bad --output", args: append(attach, "--output", "yaml"), want: ExitUsage, wantStderr: `--output must be text or json, not "yaml"`},
		{name: "unknown flag", args: append(attach, "--force"), want: ExitUsage, wantStderr: "flag provided but not defined: -force"},
		{name: "stray argument", args: append(attach, "now"), want: ExitUsage, wantStderr: `unexpected argument "now"`},
		{name: "no region anywhere", args: []string{"detach-trigger", "--user-pool-id", "RichPool1"}, noRegion: true, want: ExitUsage,
			wantStderr: `no AWS region: the pool ID "RichPool1" does not start with one; pass --region or set AWS_REGION`},
		{name: "region from the pool ID", args: []string{"detach-trigger", "--user-pool-id", richPoolID}, noRegion: true, want: ExitOK,
			wantStdout: "Migrate user trigger: none"},
		{name: "bad --region", args: append(attach, "--region", "eu west 1"), want: ExitUsage, wantStderr: `--region "eu west 1" is not a region name`},
		{name: "bad --endpoint-url", args: append(attach, "--endpoint-url", "localhost:9229"), want: ExitUsage, wantStderr: `--endpoint-url "localhost:9229" is not an absolute http(s) URL`},
		{name: "unknown --profile", args: append(attach, "--profile", "nope"), want: ExitFailure, wantStderr: `the AWS profile "nope" is not in the shared config files`},
		{name: "--version", args: []string{"--version"}, want: ExitOK, wantStdout: "cognito-migrate (devel)"},
		{name: "version", args: []string{"version"}, want: ExitOK, wantStdout: "cognito-migrate (devel)"},
		{name: "AWS refuses", args: []string{"detach-trigger", "--user-pool-id", "eu-west-1_Missing"}, want: ExitFailure, wantStderr: "not found"},
		{name: "done", args: attach, want: ExitOK},
		{name: "dry run", args: append(attach, "--dry-run"), want: ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			if tt.noRegion {
				e.clients.region = ""
			}
			e.clients.profiles = map[string]string{"": "AKIDOPERATOR"}
			r := e.run(t, tt.args...)
			if r.code != tt.want {
				t.Errorf("exit code = %d, want %d", r.code, tt.want)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.wantStderr)
			}
			if !strings.Contains(r.stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", r.stdout, tt.wantStdout)
			}
			if tt.want == ExitUsage && !strings.Contains(r.stderr, "for usage") {
				t.Errorf("usage error without a pointer to the help: %q", r.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"attach-trigger", "-h"}, {"detach-trigger", "-h"}, {"enable-password-auth", "-h"}, {"disable-password-auth", "-h"}} {
		t.Run(args[0], func(t *testing.T) {
			r := newEnv(t).run(t, args...)
			if r.code != ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden(t, "help."+args[0]+".txt", []byte(r.stdout))
		})
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		attached  bool // the pool starts with the trigger attached
		wantCalls []string
		wantOut   []string
	}{
		{
			name:      "attach-trigger",
			args:      []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--dry-run"},
			wantCalls: []string{"DescribeUserPool"},
			wantOut:   []string{"Dry run: nothing was changed.", "(none) -> " + functionARN + " (would change)", "missing; would add statement " + statementID},
		},
		{
			name:      "detach-trigger",
			args:      []string{"detach-trigger", "--user-pool-id", richPoolID, "--dry-run"},
			attached:  true,
			wantCalls: []string{"DescribeUserPool"},
			wantOut:   []string{"Dry run: nothing was changed.", functionARN + " -> (none) (would change)"},
		},
		{
			name:      "enable-password-auth",
			args:      []string{"enable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID, "--dry-run"},
			wantCalls: []string{"DescribeUserPoolClient"},
			wantOut:   []string{"Dry run: nothing was changed.", "ALLOW_USER_PASSWORD_AUTH (would change)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			if tt.attached {
				p := e.cognito.UserPool(richPoolID)
				setPath(p, functionARN, "LambdaConfig", "UserMigration")
				b, _ := json.Marshal(p)
				e.cognito.PutUserPool(b)
			}
			pool, client := e.cognito.UserPool(richPoolID), e.cognito.UserPoolClient(richClientID)

			r := e.run(t, tt.args...)

			if r.code != ExitOK {
				t.Fatalf("exit code = %d, want 0", r.code)
			}
			if diff := cmp.Diff(tt.wantCalls, r.cognitoOps); diff != "" {
				t.Errorf("cognito-idp calls (-want +got):\n%s", diff)
			}
			if n := e.lambda.CallCount("AddPermission"); n != 0 {
				t.Errorf("AddPermission calls = %d, want 0", n)
			}
			if diff := cmp.Diff(pool, e.cognito.UserPool(richPoolID)); diff != "" {
				t.Errorf("pool changed by a dry run (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(client, e.cognito.UserPoolClient(richClientID)); diff != "" {
				t.Errorf("app client changed by a dry run (-before +after):\n%s", diff)
			}
			if len(e.lambda.Statements(functionARN)) != 0 {
				t.Error("the function's policy changed in a dry run")
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout does not say %q", s)
				}
			}
		})
	}
}

func TestJSONOutput(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		setup func(*env)
		want  map[string]any
	}{
		{
			name: "attach-trigger dry run",
			args: []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--dry-run", "--output", "json"},
			want: map[string]any{
				"command": "attach-trigger", "dryRun": true, "userPoolId": richPoolID, "userPoolArn": richPoolARN, "region": "eu-west-1",
				"userMigration": map[string]any{"before": nil, "after": functionARN, "changed": true, "applied": false},
				"permission":    map[string]any{"functionArn": functionARN, "status": "missing", "statementId": statementID, "unscoped": false},
				"triggers":      []any{map[string]any{"trigger": "UserMigration", "before": nil, "after": functionARN, "changed": true, "applied": false}},
				"warnings":      []any{},
			},
		},
		{
			name: "attach-trigger refused by IAM",
			args: []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--output", "json"},
			setup: func(e *env) {
				e.cognito.SetFault("UpdateUserPool", cognitotest.Fault{ErrorType: "AccessDeniedException", Message: denial("cognito-idp:UpdateUserPool", richPoolARN)})
			},
			want: map[string]any{
				"command": "attach-trigger", "dryRun": false, "userPoolId": richPoolID, "userPoolArn": richPoolARN, "region": "eu-west-1",
				"userMigration": map[string]any{"before": nil, "after": functionARN, "changed": true, "applied": false},
				"permission":    map[string]any{"functionArn": functionARN, "status": "added", "statementId": statementID, "unscoped": false},
				"triggers":      []any{map[string]any{"trigger": "UserMigration", "before": nil, "after": functionARN, "changed": true, "applied": false}},
				"warnings":      []any{},
				"error": map[string]any{
					"exitCode": 1.0,
					"message":  "access denied: the caller needs cognito-idp:UpdateUserPool on " + richPoolARN + " (AWS: AccessDeniedException: " + denial("cognito-idp:UpdateUserPool", richPoolARN) + ")",
				},
			},
		},
		{
			name: "detach-trigger with nothing attached",
			args: []string{"detach-trigger", "--user-pool-id", richPoolID, "--output", "json"},
			want: map[string]any{
				"command": "detach-trigger", "dryRun": false, "userPoolId": richPoolID, "userPoolArn": richPoolARN, "region": "eu-west-1",
				"userMigration": map[string]any{"before": nil, "after": nil, "changed": false, "applied": false},
				"warnings":      []any{},
				"triggers":      []any{map[string]any{"trigger": "UserMigration", "before": nil, "after": nil, "changed": false, "applied": false}},
			},
		},
		{
			name: "enable-password-auth",
			args: []string{"enable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID, "--output", "json"},
			want: map[string]any{
				"command": "enable-password-auth", "dryRun": false, "userPoolId": richPoolID, "clientId": richClientID, "clientName": "example-web", "region": "eu-west-1",
				"explicitAuthFlows": map[string]any{
					"before":  []any{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"},
					"after":   []any{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_PASSWORD_AUTH"},
					"changed": true,
					"applied": true,
				},
				"preventUserExistenceErrors": "ENABLED",
				"warnings": []any{
					"Cognito calls the migration trigger only for USER_PASSWORD_AUTH (and ADMIN_USER_PASSWORD_AUTH) sign-ins. SRP sign-ins (USER_SRP_AUTH, the default of Amplify and the Cognito SDKs) never call it, because the password never reaches Cognito: make the app sign in with USER_PASSWORD_AUTH during the migration, and switch this client back to SRP (remove ALLOW_USER_PASSWORD_AUTH) once everyone has migrated",
					"the client has a secret: USER_PASSWORD_AUTH sign-ins must send SECRET_HASH",
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			r := e.run(t, tt.args...)
			var got map[string]any
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
			}
			if dec.More() {
				t.Error("stdout has more than one JSON value")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("--output json (-want +got):\n%s", diff)
			}
			errObj, _ := got["error"].(map[string]any)
			if code, _ := errObj["exitCode"].(float64); int(code) != r.code {
				t.Errorf("error.exitCode = %v, exit code = %d", code, r.code)
			}
		})
	}
}

// denial is the message IAM denials carry.
func denial(action, resource string) string {
	return "User: arn:aws:iam::111122223333:user/operator is not authorized to perform: " + action + " on resource: " + resource +
		" because no identity-based policy allows the " + action + " action"
}

func TestAccessDeniedSaysWhatIsMissing(t *testing.T) {
	attach := []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN}
	enable := []string{"enable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID}
	tests := []struct {
		name  string
		args  []string
		setup func(*env)
		want  []string
	}{
		{
			name: "DescribeUserPool",
			args: attach,
			setup: func(e *env) {
				e.cognito.SetFault("DescribeUserPool", cognitotest.Fault{ErrorType: "AccessDeniedException", Message: denial("cognito-idp:DescribeUserPool", richPoolARN)})
			},
			want: []string{"the caller needs cognito-idp:DescribeUserPool on " + richPoolARN},
		},
		{
			name: "UpdateUserPool",
			args: attach,
			setup: func(e *env) {
				e.cognito.SetFault("UpdateUserPool", cognitotest.Fault{ErrorType: "AccessDeniedException", Message: denial("cognito-idp:UpdateUserPool", richPoolARN)})
			},
			want: []string{"the caller needs cognito-idp:UpdateUserPool on " + richPoolARN, "(NOT changed: see the error)", "added statement " + statementID},
		},
		{
			name: "UpdateUserPool, message without the resource",
			args: attach,
			setup: func(e *env) {
				e.cognito.SetFault("UpdateUserPool", cognitotest.Fault{ErrorType: "AccessDeniedException", Message: "Access denied"})
			},
			want: []string{"the caller needs cognito-idp:UpdateUserPool on " + richPoolARN},
		},
		{
			name:  "lambda:GetPolicy",
			args:  attach,
			setup: func(e *env) { e.lambda.Deny("GetPolicy", true) },
			want:  []string{"the caller needs lambda:GetPolicy on " + functionARN, "aws lambda add-permission --function-name " + functionARN},
		},
		{
			name:  "lambda:AddPermission",
			args:  attach,
			setup: func(e *env) { e.lambda.Deny("AddPermission", true) },
			want: []string{"the caller needs lambda:AddPermission on " + functionARN,
				"aws lambda add-permission --function-name " + functionARN + " --statement-id " + statementID +
					" --action lambda:InvokeFunction --principal cognito-idp.amazonaws.com --source-arn " + richPoolARN + " --source-account 111122223333"},
		},
		{
			name: "function in another account",
			args: []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", "arn:aws:lambda:eu-west-1:444455556666:function:cognito-migrate"},
			setup: func(e *env) {
				e.lambda.AddFunction("arn:aws:lambda:eu-west-1:444455556666:function:cognito-migrate")
				e.lambda.Deny("GetPolicy", true)
			},
			want: []string{"the caller needs lambda:GetPolicy on arn:aws:lambda:eu-west-1:444455556666:function:cognito-migrate",
				"The function is in account 444455556666, the pool in 111122223333: with credentials of the function's account, run",
				"--source-arn " + richPoolARN + " --source-account 111122223333"},
		},
		{
			name: "UpdateUserPoolClient",
			args: enable,
			setup: func(e *env) {
				e.cognito.SetFault("UpdateUserPoolClient", cognitotest.Fault{ErrorType: "AccessDeniedException", Message: denial("cognito-idp:UpdateUserPoolClient", richPoolARN)})
			},
			want: []string{"the caller needs cognito-idp:UpdateUserPoolClient on " + richPoolARN},
		},
		{
			name: "DescribeUserPoolClient, message without the resource",
			args: enable,
			setup: func(e *env) {
				e.cognito.SetFault("DescribeUserPoolClient", cognitotest.Fault{ErrorType: "AccessDeniedException", Message: "Access denied"})
			},
			want: []string{"the caller needs cognito-idp:DescribeUserPoolClient on user pool " + richPoolID + " (arn:aws:cognito-idp:REGION:ACCOUNT:userpool/" + richPoolID + ")"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			tt.setup(e)
			r := e.run(t, tt.args...)
			if r.code != ExitFailure {
				t.Errorf("exit code = %d, want 1", r.code)
			}
			for _, s := range tt.want {
				if !strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("output does not say %q", s)
				}
			}
		})
	}
}

// TestMainUsesTheSDKsConfiguration runs Main itself: region, credentials and
// the AWS_ENDPOINT_URL_<SERVICE> overrides come from the environment, as the
// AWS SDK reads them.
func TestMainUsesTheSDKsConfiguration(t *testing.T) {
	fake := cognitotest.New(t)
	fake.PutUserPool(readFile(t, "testdata/rich-user-pool.json"))
	lambdaFake := awstest.NewLambda(t)
	lambdaFake.AddFunction(functionARN)
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDMAIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "main-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1") // overridden by --region
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", fake.URL)
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", lambdaFake.URL)
	if err := os.WriteFile(filepath.Join(dir, "config"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--region", "eu-west-1"},
		os.Getenv, strings.NewReader(""), &stdout, &stderr)

	if code != ExitOK {
		t.Fatalf("Main() = %d; stderr:\n%s", code, stderr.String())
	}
	for _, c := range fake.Calls() {
		sig := c.Header.Get("Authorization")
		if !strings.Contains(sig, "Credential=AKIDMAIN/") || !strings.Contains(sig, "/eu-west-1/cognito-idp/") {
			t.Errorf("%s signed %q, want AKIDMAIN for eu-west-1", c.Operation, sig)
		}
	}
	calls := lambdaFake.Calls()
	if len(calls) != 2 {
		t.Fatalf("lambda calls = %+v, want GetPolicy and AddPermission", calls)
	}
	for _, c := range calls {
		if c.Signature.AccessKeyID != "AKIDMAIN" || c.Signature.Region != "eu-west-1" {
			t.Errorf("%s signed by %s for %s, want AKIDMAIN for eu-west-1", c.Operation, c.Signature.AccessKeyID, c.Signature.Region)
		}
	}
	if got := fake.UserPool(richPoolID)["LambdaConfig"].(map[string]any)["UserMigration"]; got != functionARN {
		t.Errorf("UserMigration = %v, want %s", got, functionARN)
	}
}

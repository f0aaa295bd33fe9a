package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
)

// The built cognito-migrate binary against cognito-local (cognito-idp) and
// the Lambda fake, reached through the AWS SDK's own endpoint variables.
//
// cognito-local stores a pool's LambdaConfig without ever using it, names
// pools arn:aws:cognito-idp:local:local:userpool/..., and keeps an app
// client's settings when UpdateUserPoolClient leaves them out: these tests
// check what the command wrote and read back, not how Cognito would react.

const e2eFunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:cognito-migrate"

type cliEnv struct {
	bin    string
	local  *cognitolocal.Instance
	lambda *awstest.Lambda
	env    []string
}

func startCLI(t *testing.T) *cliEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	e := &cliEnv{local: cognitolocal.StartTB(t, cognitolocal.Options{}), lambda: awstest.NewLambda(t)}
	e.lambda.AddFunction(e2eFunctionARN)
	e.lambda.AcceptNonAWSARNs() // cognito-local's pool ARNs have account "local"

	root, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("find the module root: %v", err)
	}
	e.bin = filepath.Join(t.TempDir(), "cognito-migrate")
	build := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-o", e.bin, "./cmd/cognito-migrate")
	build.Dir = strings.TrimSpace(string(root))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/cognito-migrate: %v\n%s", err, out)
	}

	// Nothing of this machine's AWS configuration may leak in.
	dir := t.TempDir()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") {
			e.env = append(e.env, kv)
		}
	}
	e.env = append(e.env,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+e.local.URL,
		"AWS_ENDPOINT_URL_LAMBDA="+e.lambda.URL,
	)
	return e
}

type cliRun struct {
	code           int
	stdout, stderr string
}

func (e *cliEnv) run(t *testing.T, args ...string) cliRun {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), e.bin, args...)
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run cognito-migrate: %v", err)
		}
		code = exit.ExitCode()
	}
	t.Logf("cognito-migrate %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return cliRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (e *cliEnv) describe(t *testing.T, poolID string) *types.UserPoolType {
	t.Helper()
	out, err := e.local.Client().DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatalf("DescribeUserPool: %v", err)
	}
	return out.UserPool
}

// sdkTypes lets cmp compare the SDK's types. The update sets
// LastModifiedDate. The command leaves out the deprecated
// AdminCreateUserConfig.UnusedAccountValidityDays next to
// TemporaryPasswordValidityDays, which replaces it (Cognito refuses the
// pair); cognito-local, which showed its default 7, then shows 0.
var sdkTypes = cmp.Options{
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmpopts.IgnoreFields(types.UserPoolType{}, "LastModifiedDate"),
	cmpopts.IgnoreFields(types.UserPoolClientType{}, "LastModifiedDate"),
	cmpopts.IgnoreFields(types.AdminCreateUserConfigType{}, "UnusedAccountValidityDays"),
}

func TestCLIAttachAndDetachTriggerEndToEnd(t *testing.T) {
	e := startCLI(t)
	ctx := context.Background()
	const preSignUp = "arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up"
	created, err := e.local.Client().CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:                 aws.String("cli-e2e"),
		MfaConfiguration:         types.UserPoolMfaTypeOptional,
		SmsAuthenticationMessage: aws.String("Your sign-in code is {####}"),
		AutoVerifiedAttributes:   []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		VerificationMessageTemplate: &types.VerificationMessageTemplateType{
			DefaultEmailOption: types.DefaultEmailOptionTypeConfirmWithCode,
			EmailMessage:       aws.String("Your code is {####}"),
			EmailSubject:       aws.String("Your code"),
			SmsMessage:         aws.String("Your code is {####}"),
		},
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{
			AllowAdminCreateUserOnly: true,
			InviteMessageTemplate:    &types.MessageTemplateType{EmailSubject: aws.String("Welcome"), EmailMessage: aws.String("{username} / {####}")},
		},
		Policies: &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{
			MinimumLength: aws.Int32(12), RequireNumbers: true, TemporaryPasswordValidityDays: 3,
		}},
		LambdaConfig: &types.LambdaConfigType{PreSignUp: aws.String(preSignUp)},
		UserPoolTags: map[string]string{"team": "identity"},
	})
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	poolID := aws.ToString(created.UserPool.Id)
	before := e.describe(t, poolID)
	if before.MfaConfiguration != types.UserPoolMfaTypeOptional || aws.ToString(before.LambdaConfig.PreSignUp) != preSignUp {
		t.Fatalf("cognito-local did not keep the settings the test relies on: %+v", before)
	}

	t.Run("attach-trigger", func(t *testing.T) {
		r := e.run(t, "attach-trigger", "--user-pool-id", poolID, "--function-arn", e2eFunctionARN)
		if r.code != 0 {
			t.Fatalf("exit code = %d, want 0", r.code)
		}
		want := *before
		lambdaConfig := *before.LambdaConfig
		lambdaConfig.UserMigration = aws.String(e2eFunctionARN)
		want.LambdaConfig = &lambdaConfig
		if diff := cmp.Diff(&want, e.describe(t, poolID), sdkTypes); diff != "" {
			t.Errorf("pool after attach-trigger: only LambdaConfig.UserMigration may change (-want +got):\n%s", diff)
		}
		statements := e.lambda.Statements(e2eFunctionARN)
		want2 := []map[string]any{{
			"Sid": "cognito-migrate-" + poolID, "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": e2eFunctionARN,
			"Principal": map[string]any{"Service": "cognito-idp.amazonaws.com"},
			"Condition": map[string]any{
				"StringEquals": map[string]any{"AWS:SourceAccount": "local"},
				"ArnLike":      map[string]any{"AWS:SourceArn": aws.ToString(before.Arn)},
			},
		}}
		if diff := cmp.Diff(want2, statements); diff != "" {
			t.Errorf("function policy (-want +got):\n%s", diff)
		}
	})

	t.Run("attach-trigger again changes nothing", func(t *testing.T) {
		attached := e.describe(t, poolID)
		r := e.run(t, "attach-trigger", "--user-pool-id", poolID, "--function-arn", e2eFunctionARN, "--output", "json")
		if r.code != 0 || !strings.Contains(r.stdout, `"changed": false`) || !strings.Contains(r.stdout, `"status": "present"`) {
			t.Errorf("second attach: exit %d, stdout %s; want 0, unchanged, permission present", r.code, r.stdout)
		}
		if diff := cmp.Diff(attached, e.describe(t, poolID), cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
			t.Errorf("pool changed by a second attach (-before +after):\n%s", diff)
		}
		if n := e.lambda.CallCount("AddPermission"); n != 1 {
			t.Errorf("AddPermission calls = %d, want 1", n)
		}
	})

	t.Run("detach-trigger", func(t *testing.T) {
		r := e.run(t, "detach-trigger", "--user-pool-id", poolID)
		if r.code != 0 {
			t.Fatalf("exit code = %d, want 0", r.code)
		}
		got := e.describe(t, poolID)
		if got.LambdaConfig == nil || got.LambdaConfig.UserMigration != nil {
			t.Errorf("LambdaConfig after detach = %+v, want no UserMigration", got.LambdaConfig)
		}
		if diff := cmp.Diff(before, got, sdkTypes); diff != "" {
			t.Errorf("pool after detach-trigger differs from before attach (-want +got):\n%s", diff)
		}
		if !strings.Contains(r.stdout, "aws lambda remove-permission") {
			t.Error("detach-trigger does not say how to remove the permission")
		}
	})
}

// The companion triggers on cognito-local: pre token generation and pre
// sign-up attach next to the migration in one write (both pre token
// generation fields with the same ARN), another function on a trigger stops
// the command with nothing changed, and detach clears what it was asked to.
func TestCLICompanionTriggersEndToEnd(t *testing.T) {
	e := startCLI(t)
	ctx := context.Background()
	const theirs = "arn:aws:lambda:us-east-1:123456789012:function:their-pre-sign-up"
	created, err := e.local.Client().CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:         aws.String("cli-e2e-companions"),
		MfaConfiguration: types.UserPoolMfaTypeOff,
		LambdaConfig:     &types.LambdaConfigType{PostConfirmation: aws.String(theirs)},
		UserPoolTags:     map[string]string{"team": "identity"},
	})
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	poolID := aws.ToString(created.UserPool.Id)
	before := e.describe(t, poolID)
	all := []string{"attach-trigger", "--user-pool-id", poolID, "--function-arn", e2eFunctionARN,
		"--trigger", "UserMigration", "--trigger", "PreTokenGeneration", "--trigger", "PreSignUp"}

	t.Run("attach the three triggers", func(t *testing.T) {
		r := e.run(t, all...)
		if r.code != 0 {
			t.Fatalf("exit code = %d, want 0", r.code)
		}
		want := *before
		lc := *before.LambdaConfig
		lc.UserMigration, lc.PreSignUp, lc.PreTokenGeneration = aws.String(e2eFunctionARN), aws.String(e2eFunctionARN), aws.String(e2eFunctionARN)
		lc.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(e2eFunctionARN), LambdaVersion: types.PreTokenGenerationLambdaVersionTypeV10}
		want.LambdaConfig = &lc
		if diff := cmp.Diff(&want, e.describe(t, poolID), sdkTypes); diff != "" {
			t.Errorf("pool after attach-trigger: only the three triggers may change (-want +got):\n%s", diff)
		}
		if n := e.lambda.CallCount("AddPermission"); n != 1 {
			t.Errorf("AddPermission calls = %d, want 1 for every trigger of the pool", n)
		}
	})

	t.Run("again changes nothing", func(t *testing.T) {
		attached := e.describe(t, poolID)
		r := e.run(t, append(all, "--output", "json")...)
		if r.code != 0 || strings.Contains(r.stdout, `"changed": true`) {
			t.Errorf("second attach: exit %d, stdout %s; want 0, unchanged", r.code, r.stdout)
		}
		if diff := cmp.Diff(attached, e.describe(t, poolID), cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
			t.Errorf("pool changed by a second attach (-before +after):\n%s", diff)
		}
	})

	t.Run("another function is never replaced", func(t *testing.T) {
		other := "arn:aws:lambda:us-east-1:123456789012:function:someone-else"
		attached := e.describe(t, poolID)
		r := e.run(t, "attach-trigger", "--user-pool-id", poolID, "--function-arn", other, "--trigger", "PreSignUp")
		if r.code != 1 || !strings.Contains(r.stderr, "one function per trigger") {
			t.Errorf("exit %d, stderr %q; want 1 and an explanation", r.code, r.stderr)
		}
		if diff := cmp.Diff(attached, e.describe(t, poolID), cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
			t.Errorf("pool changed (-before +after):\n%s", diff)
		}
	})

	t.Run("detach them", func(t *testing.T) {
		r := e.run(t, "detach-trigger", "--user-pool-id", poolID, "--trigger", "PreTokenGeneration", "--trigger", "PreSignUp", "--trigger", "UserMigration")
		if r.code != 0 {
			t.Fatalf("exit code = %d, want 0", r.code)
		}
		if diff := cmp.Diff(before, e.describe(t, poolID), sdkTypes); diff != "" {
			t.Errorf("pool after detach-trigger differs from before attach (-want +got):\n%s", diff)
		}
	})
}

func TestCLIEnablePasswordAuthEndToEnd(t *testing.T) {
	e := startCLI(t)
	ctx := context.Background()
	pool, err := e.local.Client().CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("cli-e2e-clients")})
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	poolID := aws.ToString(pool.UserPool.Id)
	client, err := e.local.Client().CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:                 aws.String(poolID),
		ClientName:                 aws.String("web"),
		ExplicitAuthFlows:          []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesEnabled,
		CallbackURLs:               []string{"https://app.example.com/callback"},
		AccessTokenValidity:        aws.Int32(30),
		TokenValidityUnits:         &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeMinutes, IdToken: types.TimeUnitsTypeHours, RefreshToken: types.TimeUnitsTypeDays},
		ReadAttributes:             []string{"email"},
	})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	clientID := aws.ToString(client.UserPoolClient.ClientId)
	describe := func() *types.UserPoolClientType {
		out, err := e.local.Client().DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID)})
		if err != nil {
			t.Fatalf("DescribeUserPoolClient: %v", err)
		}
		return out.UserPoolClient
	}
	before := describe()

	r := e.run(t, "enable-password-auth", "--user-pool-id", poolID, "--client-id", clientID)

	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0", r.code)
	}
	want := *before
	want.ExplicitAuthFlows = append(append([]types.ExplicitAuthFlowsType(nil), before.ExplicitAuthFlows...), types.ExplicitAuthFlowsTypeAllowUserPasswordAuth)
	if diff := cmp.Diff(&want, describe(), sdkTypes); diff != "" {
		t.Errorf("app client after enable-password-auth: only ExplicitAuthFlows may change (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.stderr, "SRP sign-ins") || !strings.Contains(r.stdout, "PreventUserExistenceErrors: ENABLED") {
		t.Error("enable-password-auth did not warn about SRP or report PreventUserExistenceErrors")
	}

	// After the migration, the reverse gives back the client as it was.
	r = e.run(t, "disable-password-auth", "--user-pool-id", poolID, "--client-id", clientID)

	if r.code != 0 {
		t.Fatalf("disable-password-auth: exit code = %d, want 0", r.code)
	}
	if diff := cmp.Diff(before, describe(), sdkTypes); diff != "" {
		t.Errorf("app client after disable-password-auth: want it as before enable-password-auth (-want +got):\n%s", diff)
	}
}

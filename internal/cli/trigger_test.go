package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
)

// The rich fixture must set every setting UpdateUserPool accepts, or the
// golden tests below could not notice one being dropped.
func TestRichUserPoolFixtureSetsEveryUpdatableSetting(t *testing.T) {
	e := richEnv(t)
	pool := e.cognito.UserPool(richPoolID)
	for _, name := range exportedFields(cip.UpdateUserPoolInput{}) {
		key := name
		switch name {
		case "UserPoolId":
			continue
		case "PoolName":
			key = "Name"
		}
		if v, ok := pool[key]; !ok || v == nil || v == "" {
			t.Errorf("testdata/rich-user-pool.json does not set %s (UpdateUserPoolInput.%s): add a non-default value", key, name)
		}
	}
	lambdaConfig, _ := pool["LambdaConfig"].(map[string]any)
	for _, trigger := range []string{"PreSignUp", "PreTokenGeneration", "PreTokenGenerationConfig", "CustomSMSSender", "CustomEmailSender", "KMSKeyID"} {
		if lambdaConfig[trigger] == nil {
			t.Errorf("testdata/rich-user-pool.json LambdaConfig does not set %s", trigger)
		}
	}
	if lambdaConfig["UserMigration"] != nil {
		t.Error("testdata/rich-user-pool.json must start without UserMigration")
	}
}

func TestAttachTriggerKeepsEverySetting(t *testing.T) {
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			e := richEnv(t)
			want := describePool(t, e, richPoolID)
			want.LambdaConfig.UserMigration = aws.String(functionARN)

			r := e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--output", output)

			if r.code != ExitOK {
				t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			if diff := cmp.Diff(want, describePool(t, e, richPoolID), sdkTypes); diff != "" {
				t.Errorf("pool after attach-trigger: only LambdaConfig.UserMigration may change (-want +got):\n%s", diff)
			}
			updates := requests(t, e.cognito, "UpdateUserPool")
			if len(updates) != 1 {
				t.Fatalf("UpdateUserPool calls = %d, want 1", len(updates))
			}
			golden(t, "attach-trigger.UpdateUserPool.json", updates[0])
			golden(t, "attach-trigger.stdout."+output, []byte(r.stdout))
			if got, want := r.cognitoOps, []string{"DescribeUserPool", "DescribeUserPool", "UpdateUserPool", "DescribeUserPool"}; !slices.Equal(got, want) {
				t.Errorf("cognito-idp calls = %v, want %v", got, want)
			}
			if got, want := r.lambdaOps, []string{"GetPolicy", "AddPermission"}; !slices.Equal(got, want) {
				t.Errorf("lambda calls = %v, want %v", got, want)
			}
		})
	}
}

func TestDetachTriggerKeepsEverySetting(t *testing.T) {
	e := richEnv(t)
	attached := e.cognito.UserPool(richPoolID)
	setPath(attached, functionARN, "LambdaConfig", "UserMigration")
	b, _ := json.Marshal(attached)
	e.cognito.PutUserPool(b)
	want := describePool(t, e, richPoolID)
	want.LambdaConfig.UserMigration = nil

	r := e.run(t, "detach-trigger", "--user-pool-id", richPoolID)

	if r.code != ExitOK {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(want, describePool(t, e, richPoolID), sdkTypes); diff != "" {
		t.Errorf("pool after detach-trigger: only LambdaConfig.UserMigration may change (-want +got):\n%s", diff)
	}
	updates := requests(t, e.cognito, "UpdateUserPool")
	if len(updates) != 1 {
		t.Fatalf("UpdateUserPool calls = %d, want 1", len(updates))
	}
	golden(t, "detach-trigger.UpdateUserPool.json", updates[0])
	golden(t, "detach-trigger.stdout.text", []byte(r.stdout))
	if calls := e.lambda.Calls(); len(calls) != 0 {
		t.Errorf("lambda calls = %v, want none: detach leaves the permission alone", calls)
	}
}

func TestTriggerNothingToDo(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		attachedTo string // the pool's UserMigration before
		statement  bool   // the function's policy already allows the pool
		wantCalls  []string
		wantLambda []string
		wantOut    string
	}{
		{
			name:       "attach: already attached, permission present",
			args:       []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN},
			attachedTo: functionARN, statement: true,
			wantCalls: []string{"DescribeUserPool"}, wantLambda: []string{"GetPolicy"},
			wantOut: "already attached; unchanged",
		},
		{
			name:       "attach: already attached, permission missing is still added",
			args:       []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN},
			attachedTo: functionARN,
			wantCalls:  []string{"DescribeUserPool"}, wantLambda: []string{"GetPolicy", "AddPermission"},
			wantOut: "added statement " + statementID,
		},
		{
			name:      "detach: nothing attached",
			args:      []string{"detach-trigger", "--user-pool-id", richPoolID},
			wantCalls: []string{"DescribeUserPool"},
			wantOut:   "none (nothing to detach)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			if tt.attachedTo != "" {
				p := e.cognito.UserPool(richPoolID)
				setPath(p, tt.attachedTo, "LambdaConfig", "UserMigration")
				b, _ := json.Marshal(p)
				e.cognito.PutUserPool(b)
			}
			if tt.statement {
				e.lambda.PutStatement(functionARN, cognitoStatement(statementID, richPoolARN))
			}
			r := e.run(t, tt.args...)
			if r.code != ExitOK {
				t.Fatalf("exit code = %d, want 0", r.code)
			}
			if got := r.cognitoOps; !slices.Equal(got, tt.wantCalls) {
				t.Errorf("cognito-idp calls = %v, want %v", got, tt.wantCalls)
			}
			if got := r.lambdaOps; !slices.Equal(got, tt.wantLambda) {
				t.Errorf("lambda calls = %v, want %v", got, tt.wantLambda)
			}
			if !strings.Contains(r.stdout, tt.wantOut) {
				t.Errorf("stdout does not say %q", tt.wantOut)
			}
		})
	}
}

func cognitoStatement(sid, poolARN string) string {
	return `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"Service":"cognito-idp.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + functionARN + `",` +
		`"Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333"},"ArnLike":{"AWS:SourceArn":"` + poolARN + `"}}}`
}

func TestAttachTriggerPermission(t *testing.T) {
	const otherPoolARN = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_Other"
	tests := []struct {
		name         string
		statements   []string
		wantCode     int
		wantAdded    bool
		wantStderr   string
		wantSidCount int // statements in the policy afterwards
	}{
		{name: "no policy: added", wantCode: ExitOK, wantAdded: true, wantSidCount: 1},
		{name: "already allowed: not added", statements: []string{cognitoStatement("console-added", richPoolARN)}, wantCode: ExitOK, wantSidCount: 1},
		{name: "allowed for another pool only: added", statements: []string{cognitoStatement("old-pool", otherPoolARN)}, wantCode: ExitOK, wantAdded: true, wantSidCount: 2},
		{
			name:         "allowed without SourceArn: not added, warned",
			statements:   []string{`{"Sid":"open","Effect":"Allow","Principal":{"Service":"cognito-idp.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + functionARN + `"}`},
			wantCode:     ExitOK,
			wantStderr:   "any user pool, in any account, can invoke it",
			wantSidCount: 1,
		},
		{
			name:         "our statement id used for another pool: refused",
			statements:   []string{cognitoStatement(statementID, otherPoolARN)},
			wantCode:     ExitFailure,
			wantStderr:   "already has a statement with the id this command uses",
			wantSidCount: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			for _, s := range tt.statements {
				e.lambda.PutStatement(functionARN, s)
			}
			r := e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN)
			if r.code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d", r.code, tt.wantCode)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr does not say %q", tt.wantStderr)
			}
			statements := e.lambda.Statements(functionARN)
			if len(statements) != tt.wantSidCount {
				t.Errorf("policy has %d statements, want %d: %v", len(statements), tt.wantSidCount, statements)
			}
			if got := e.lambda.CallCount("AddPermission") == 1 && tt.wantCode == ExitOK; got != tt.wantAdded {
				t.Errorf("permission added = %v, want %v", got, tt.wantAdded)
			}
			if tt.wantAdded {
				want := map[string]any{
					"Sid": statementID, "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": functionARN,
					"Principal": map[string]any{"Service": "cognito-idp.amazonaws.com"},
					"Condition": map[string]any{
						"StringEquals": map[string]any{"AWS:SourceAccount": "111122223333"},
						"ArnLike":      map[string]any{"AWS:SourceArn": richPoolARN},
					},
				}
				if diff := cmp.Diff(want, statements[len(statements)-1]); diff != "" {
					t.Errorf("added statement (-want +got):\n%s", diff)
				}
			}
			// A refused permission must leave the trigger unattached: Cognito
			// could not invoke it.
			if tt.wantCode != ExitOK && e.cognito.CallCount("UpdateUserPool") != 0 {
				t.Error("UpdateUserPool called although the permission could not be added")
			}
		})
	}
}

func TestAttachTriggerTwiceAddsThePermissionOnce(t *testing.T) {
	e := richEnv(t)
	args := []string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN}
	for i := range 2 {
		if r := e.run(t, args...); r.code != ExitOK {
			t.Fatalf("run %d: exit code = %d", i+1, r.code)
		}
	}
	if n := e.lambda.CallCount("AddPermission"); n != 1 {
		t.Errorf("AddPermission calls = %d, want 1", n)
	}
	if n := e.cognito.CallCount("UpdateUserPool"); n != 1 {
		t.Errorf("UpdateUserPool calls = %d, want 1", n)
	}
	if n := len(e.lambda.Statements(functionARN)); n != 1 {
		t.Errorf("statements = %d, want 1", n)
	}
}

func TestAttachTriggerLambdaCallsGoToTheFunctionsRegion(t *testing.T) {
	e := richEnv(t)
	const fn = "arn:aws:lambda:eu-central-1:111122223333:function:cognito-migrate"
	e.lambda.AddFunction(fn)
	r := e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", fn)
	if r.code != ExitOK {
		t.Fatalf("exit code = %d", r.code)
	}
	for _, c := range e.lambda.Calls() {
		if c.Signature.Region != "eu-central-1" {
			t.Errorf("%s signed for %s, want the function's region eu-central-1", c.Operation, c.Signature.Region)
		}
	}
	if !strings.Contains(r.stderr, "the function is in eu-central-1, the pool in eu-west-1") {
		t.Error("no warning about the function's region")
	}
}

// droppingAPI stands for a copy that forgets a setting: Cognito then resets
// it, and the check after the update must notice.
type droppingAPI struct{ cognito.AdminAPI }

func (d droppingAPI) UpdateUserPool(ctx context.Context, in *cip.UpdateUserPoolInput, optFns ...func(*cip.Options)) (*cip.UpdateUserPoolOutput, error) {
	dropped := *in
	dropped.MfaConfiguration = ""
	dropped.UserPoolTags = nil
	return d.AdminAPI.UpdateUserPool(ctx, &dropped, optFns...)
}

func TestAttachTriggerNoticesAResetSetting(t *testing.T) {
	e := richEnv(t)
	e.clients.wrap = func(api cognito.AdminAPI) cognito.AdminAPI { return droppingAPI{api} }
	r := e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN)
	if r.code != ExitFailure {
		t.Fatalf("exit code = %d, want 1", r.code)
	}
	for _, want := range []string{
		"these settings differ from what was written: MfaConfiguration, UserPoolTags",
		`Before the update they were: {"MfaConfiguration":"OPTIONAL","UserPoolTags":{"cost-center":"1234","team":"identity"}}`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %s", want)
		}
	}
}

func TestPoolNotFoundNamesTheRegion(t *testing.T) {
	tests := []struct {
		name, region, want string
	}{
		{"pool ID of another region", "us-east-1", "pass --region eu-west-1"},
		{"right region, no pool", "eu-west-1", "No user pool eu-west-1_Missing in region eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.run(t, "detach-trigger", "--user-pool-id", "eu-west-1_Missing", "--region", tt.region)
			if r.code != ExitFailure || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

// retriedAddPermission sends AddPermission twice and answers the second
// time, as when the SDK retries a call whose answer was lost: the second
// finds the statement the first added.
type retriedAddPermission struct{ lambdaapi.API }

func (r retriedAddPermission) AddPermission(ctx context.Context, in *lambda.AddPermissionInput, optFns ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	if _, err := r.API.AddPermission(ctx, in, optFns...); err != nil {
		return nil, err
	}
	in.RevisionId = nil
	return r.API.AddPermission(ctx, in, optFns...)
}

func TestAttachTriggerPermissionAddedByALostAttempt(t *testing.T) {
	e := richEnv(t)
	e.clients.wrapLambda = func(api lambdaapi.API) lambdaapi.API { return retriedAddPermission{api} }
	r := e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN)
	if r.code != ExitOK {
		t.Fatalf("exit code = %d, want 0: the conflicting statement is our own", r.code)
	}
	if got, want := r.lambdaOps, []string{"GetPolicy", "AddPermission", "AddPermission", "GetPolicy"}; !slices.Equal(got, want) {
		t.Errorf("lambda calls = %v, want %v", got, want)
	}
	if !strings.Contains(r.stdout, "added statement "+statementID) {
		t.Error("stdout does not report the statement as added")
	}
}

package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

// companionEnv is the rich pool with its own pre sign-up and pre token
// generation functions removed (the rich pool has other functions there),
// and lambdaConfig edited by edit, if given.
func companionEnv(t *testing.T, edit func(lc map[string]any, pool map[string]any)) *env {
	t.Helper()
	e := richEnv(t)
	p := e.cognito.UserPool(richPoolID)
	lc := p["LambdaConfig"].(map[string]any)
	delete(lc, "PreSignUp")
	delete(lc, "PreTokenGeneration")
	delete(lc, "PreTokenGenerationConfig")
	if edit != nil {
		edit(lc, p)
	}
	b, _ := json.Marshal(p)
	e.cognito.PutUserPool(b)
	return e
}

// The three triggers attach in one read-modify-write: pre token generation
// sets both of its fields to the same ARN, and nothing else changes.
func TestAttachTheCompanionTriggers(t *testing.T) {
	for _, tt := range []struct {
		name        string
		args        []string
		wantVersion string
	}{
		{"V1_0 by default", nil, "V1_0"},
		{"V2_0", []string{"--pre-token-version", "V2_0"}, "V2_0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := companionEnv(t, nil)
			want := describePool(t, e, richPoolID)
			want.LambdaConfig.UserMigration = aws.String(functionARN)
			want.LambdaConfig.PreSignUp = aws.String(functionARN)
			want.LambdaConfig.PreTokenGeneration = aws.String(functionARN)
			want.LambdaConfig.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{
				LambdaArn: aws.String(functionARN), LambdaVersion: types.PreTokenGenerationLambdaVersionType(tt.wantVersion)}

			args := append([]string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN,
				"--trigger", "UserMigration", "--trigger", "PreTokenGeneration", "--trigger", "PreSignUp", "--trigger", "PreSignUp"}, tt.args...)
			r := e.run(t, args...)
			if r.code != ExitOK {
				t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			if diff := cmp.Diff(want, describePool(t, e, richPoolID), sdkTypes); diff != "" {
				t.Errorf("pool after attach-trigger: only the three triggers may change (-want +got):\n%s", diff)
			}
			if got, want := r.cognitoOps, []string{"DescribeUserPool", "DescribeUserPool", "UpdateUserPool", "DescribeUserPool"}; !slices.Equal(got, want) {
				t.Errorf("cognito-idp calls = %v, want %v", got, want)
			}
			if got, want := r.lambdaOps, []string{"GetPolicy", "AddPermission"}; !slices.Equal(got, want) {
				t.Errorf("lambda calls = %v, want %v: one permission covers every trigger of the pool", got, want)
			}
			for _, line := range []string{
				"  Migrate user trigger: (none) -> " + functionARN + "\n",
				"  Pre token generation trigger: (none) -> " + functionARN + " (" + tt.wantVersion + ")\n",
				"  Pre sign-up trigger: (none) -> " + functionARN + "\n",
				"Done. Every other setting",
			} {
				if !strings.Contains(r.stdout, line) {
					t.Errorf("stdout does not say %q", line)
				}
			}
			if tt.wantVersion == "V1_0" {
				golden(t, "attach-trigger-companions.stdout.text", []byte(r.stdout))
			}

			again := e.run(t, append(slices.Clone(args), "--output", "json")...)
			var res struct {
				Triggers []triggerChange `json:"triggers"`
			}
			if err := json.Unmarshal([]byte(again.stdout), &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Triggers) != 3 || slices.ContainsFunc(res.Triggers, func(c triggerChange) bool { return c.Changed }) {
				t.Errorf("second run's triggers = %+v, want three unchanged", res.Triggers)
			}
			if n := e.cognito.CallCount("UpdateUserPool"); n != 1 {
				t.Errorf("UpdateUserPool calls = %d after the second run, want 1", n)
			}
		})
	}
}

// Another function on a trigger is never replaced: the command stops before
// any change, the permission included, and says what to do.
func TestAttachTriggerNeverReplacesAnotherFunction(t *testing.T) {
	const alias = functionARN + ":live"
	tests := []struct {
		name     string
		edit     func(lc, pool map[string]any)
		args     []string
		wantCode int
		want     string
	}{
		{"pre sign-up of the app", func(lc, _ map[string]any) {
			lc["PreSignUp"] = "arn:aws:lambda:eu-west-1:111122223333:function:pre-sign-up"
		}, []string{"--trigger", "PreSignUp"}, ExitFailure, "PreSignUp trigger is already arn:aws:lambda:eu-west-1:111122223333:function:pre-sign-up"},
		{"pre token generation of the app, among others", func(lc, _ map[string]any) {
			lc["PreTokenGeneration"] = "arn:aws:lambda:eu-west-1:111122223333:function:tokens"
		}, []string{"--trigger", "UserMigration", "--trigger", "PreTokenGeneration"}, ExitFailure, "one function per trigger"},
		{"another migration function", func(lc, _ map[string]any) {
			lc["UserMigration"] = "arn:aws:lambda:eu-west-1:111122223333:function:their-migration"
		}, nil, ExitFailure, "run detach-trigger --user-pool-id " + richPoolID + " --trigger UserMigration first"},
		{"pre token generation fields that disagree", func(lc, _ map[string]any) {
			lc["PreTokenGeneration"] = "arn:aws:lambda:eu-west-1:111122223333:function:tokens"
			lc["PreTokenGenerationConfig"] = map[string]any{"LambdaArn": functionARN, "LambdaVersion": "V1_0"}
		}, []string{"--trigger", "PreTokenGeneration"}, ExitFailure, "must be the same function"},
		{"V2_0 on a Lite pool", func(_, pool map[string]any) { pool["UserPoolTier"] = "LITE" },
			[]string{"--trigger", "PreTokenGeneration", "--pre-token-version", "V2_0"}, ExitFailure, "needs the Essentials or Plus feature plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := companionEnv(t, tt.edit)
			before := describePool(t, e, richPoolID)
			r := e.run(t, append([]string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN}, tt.args...)...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.wantCode, tt.want)
			}
			if n := e.cognito.CallCount("UpdateUserPool"); n != 0 {
				t.Errorf("UpdateUserPool calls = %d, want 0", n)
			}
			if len(r.lambdaOps) != 0 {
				t.Errorf("lambda calls = %v, want none before the plan is sound", r.lambdaOps)
			}
			if diff := cmp.Diff(before, describePool(t, e, richPoolID), sdkTypes); diff != "" {
				t.Errorf("pool changed (-before +after):\n%s", diff)
			}
		})
	}

	t.Run("another alias of the same function is replaced", func(t *testing.T) {
		e := companionEnv(t, func(lc, _ map[string]any) { lc["UserMigration"] = functionARN })
		r := e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", alias)
		if r.code != ExitOK {
			t.Fatalf("exit code = %d, want 0", r.code)
		}
		if got := aws.ToString(describePool(t, e, richPoolID).LambdaConfig.UserMigration); got != alias {
			t.Errorf("UserMigration = %s, want %s", got, alias)
		}
	})

	t.Run("the version already set is kept without --pre-token-version", func(t *testing.T) {
		e := companionEnv(t, func(lc, _ map[string]any) {
			lc["PreTokenGeneration"] = functionARN
			lc["PreTokenGenerationConfig"] = map[string]any{"LambdaArn": functionARN, "LambdaVersion": "V2_0"}
		})
		e.lambda.PutStatement(functionARN, cognitoStatement(statementID, richPoolARN))
		r := e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--trigger", "PreTokenGeneration")
		if r.code != ExitOK || !strings.Contains(r.stdout, "(V2_0) (already attached; unchanged)") || e.cognito.CallCount("UpdateUserPool") != 0 {
			t.Errorf("exit %d, stdout %q, %d updates; want V2_0 kept, nothing written", r.code, r.stdout, e.cognito.CallCount("UpdateUserPool"))
		}
	})
}

// detach-trigger --trigger clears that trigger (both pre token generation
// fields) and keeps every other setting.
func TestDetachTheCompanionTriggers(t *testing.T) {
	e := richEnv(t)
	want := describePool(t, e, richPoolID)
	want.LambdaConfig.PreTokenGeneration, want.LambdaConfig.PreTokenGenerationConfig = nil, nil
	want.LambdaConfig.PreSignUp = nil

	r := e.run(t, "detach-trigger", "--user-pool-id", richPoolID, "--trigger", "PreTokenGeneration", "--trigger", "PreSignUp", "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(want, describePool(t, e, richPoolID), sdkTypes); diff != "" {
		t.Errorf("pool after detach-trigger (-want +got):\n%s", diff)
	}
	var res triggerResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.UserMigration != nil || len(res.Triggers) != 2 || !res.Triggers[0].Applied || res.Triggers[0].VersionBefore != "V2_0" || res.Triggers[1].After != nil {
		t.Errorf("result = %s", r.stdout)
	}
	if len(r.lambdaOps) != 0 {
		t.Errorf("lambda calls = %v, want none", r.lambdaOps)
	}
}

func TestTriggerFlagUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--trigger", "PostAuthentication"}, "UserMigration, PreTokenGeneration or PreSignUp"},
		{[]string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--pre-token-version", "V2_0"}, "--pre-token-version goes with --trigger PreTokenGeneration"},
		{[]string{"attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN, "--trigger", "PreTokenGeneration", "--pre-token-version", "V3_0"}, "must be V1_0 or V2_0"},
		{[]string{"detach-trigger", "--user-pool-id", richPoolID, "--trigger", "preSignUp"}, "is not a trigger"},
	} {
		t.Run(strings.Join(tt.args[len(tt.args)-2:], " "), func(t *testing.T) {
			e := richEnv(t)
			r := e.run(t, tt.args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) || len(r.cognitoOps) != 0 {
				t.Errorf("exit %d, stderr %q, calls %v; want 2 and %q, no call", r.code, r.stderr, r.cognitoOps, tt.want)
			}
		})
	}
}

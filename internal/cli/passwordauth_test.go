package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

func TestRichUserPoolClientFixtureSetsEveryUpdatableSetting(t *testing.T) {
	e := richEnv(t)
	client := e.cognito.UserPoolClient(richClientID)
	for _, name := range exportedFields(cip.UpdateUserPoolClientInput{}) {
		if v, ok := client[name]; !ok || v == nil || v == "" {
			t.Errorf("testdata/rich-user-pool-client.json does not set %s: add a non-default value", name)
		}
	}
}

func TestEnablePasswordAuthKeepsEverySetting(t *testing.T) {
	e := richEnv(t)
	want := describeClient(t, e, richPoolID, richClientID)
	want.ExplicitAuthFlows = append(want.ExplicitAuthFlows, types.ExplicitAuthFlowsTypeAllowUserPasswordAuth)

	r := e.run(t, "enable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID)

	if r.code != ExitOK {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(want, describeClient(t, e, richPoolID, richClientID), sdkTypes); diff != "" {
		t.Errorf("app client after enable-password-auth: only ExplicitAuthFlows may change (-want +got):\n%s", diff)
	}
	updates := requests(t, e.cognito, "UpdateUserPoolClient")
	if len(updates) != 1 {
		t.Fatalf("UpdateUserPoolClient calls = %d, want 1", len(updates))
	}
	golden(t, "enable-password-auth.UpdateUserPoolClient.json", updates[0])
	golden(t, "enable-password-auth.stdout.text", []byte(r.stdout))
	if got, want := r.cognitoOps, []string{"DescribeUserPoolClient", "DescribeUserPoolClient", "UpdateUserPoolClient", "DescribeUserPoolClient"}; !slices.Equal(got, want) {
		t.Errorf("cognito-idp calls = %v, want %v", got, want)
	}
	for _, s := range []string{r.stdout, r.stderr, string(updates[0])} {
		if strings.Contains(s, "client-secret-that-must-never-be-printed") {
			t.Error("the client secret was printed or sent")
		}
	}
}

func TestEnablePasswordAuthWarns(t *testing.T) {
	tests := []struct {
		name       string
		prevent    string // PreventUserExistenceErrors of the client
		wantStdout []string
		wantStderr []string
		notStderr  []string
	}{
		{
			name: "ENABLED", prevent: "ENABLED",
			wantStdout: []string{"PreventUserExistenceErrors: ENABLED"},
			wantStderr: []string{"SRP sign-ins (USER_SRP_AUTH", "switch this client back to SRP"},
			notStderr:  []string{"PreventUserExistenceErrors is"},
		},
		{
			name: "LEGACY", prevent: "LEGACY",
			wantStdout: []string{"PreventUserExistenceErrors: LEGACY"},
			wantStderr: []string{"SRP sign-ins (USER_SRP_AUTH", "PreventUserExistenceErrors is LEGACY; ENABLED is recommended"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			c := e.cognito.UserPoolClient(richClientID)
			c["PreventUserExistenceErrors"] = tt.prevent
			b, _ := json.Marshal(c)
			e.cognito.PutUserPoolClient(b)
			r := e.run(t, "enable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID)
			if r.code != ExitOK {
				t.Fatalf("exit code = %d", r.code)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout does not say %q", s)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not say %q", s)
				}
			}
			for _, s := range tt.notStderr {
				if strings.Contains(r.stderr, s) {
					t.Errorf("stderr says %q", s)
				}
			}
		})
	}
}

func TestEnablePasswordAuthFlows(t *testing.T) {
	tests := []struct {
		name      string
		flows     []string // the client's ExplicitAuthFlows; nil for none
		wantCode  int
		wantFlows []string // afterwards
		wantMsg   string   // in stdout or stderr
	}{
		{
			name:      "added to ALLOW_ flows",
			flows:     []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
			wantFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"},
		},
		{
			name:      "already allowed: unchanged",
			flows:     []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
			wantFlows: []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
			wantMsg:   "Nothing to do",
		},
		{
			name:      "no flows: Cognito's implicit ones are kept",
			wantFlows: []string{"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_PASSWORD_AUTH"},
			wantMsg:   "the client had no ExplicitAuthFlows",
		},
		{
			name:      "legacy names: explained, not converted",
			flows:     []string{"ADMIN_NO_SRP_AUTH"},
			wantCode:  ExitFailure,
			wantFlows: []string{"ADMIN_NO_SRP_AUTH"},
			wantMsg:   "legacy ExplicitAuthFlows names (ADMIN_NO_SRP_AUTH)",
		},
		{
			name:      "legacy USER_PASSWORD_AUTH: already allowed",
			flows:     []string{"USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"},
			wantFlows: []string{"USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"},
			wantMsg:   "Nothing to do",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			c := e.cognito.UserPoolClient(richClientID)
			if tt.flows == nil {
				delete(c, "ExplicitAuthFlows")
			} else {
				c["ExplicitAuthFlows"] = tt.flows
			}
			b, _ := json.Marshal(c)
			e.cognito.PutUserPoolClient(b)

			r := e.run(t, "enable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID)

			if r.code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d", r.code, tt.wantCode)
			}
			got := describeClient(t, e, richPoolID, richClientID).ExplicitAuthFlows
			if diff := cmp.Diff(tt.wantFlows, flowNames(got)); diff != "" {
				t.Errorf("ExplicitAuthFlows afterwards (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.stdout+r.stderr, tt.wantMsg) {
				t.Errorf("output does not say %q", tt.wantMsg)
			}
			wantUpdates := 0
			if tt.wantCode == ExitOK && !slices.Equal(tt.flows, tt.wantFlows) {
				wantUpdates = 1
			}
			if n := e.cognito.CallCount("UpdateUserPoolClient"); n != wantUpdates {
				t.Errorf("UpdateUserPoolClient calls = %d, want %d", n, wantUpdates)
			}
		})
	}
}

func TestDisablePasswordAuthKeepsEverySetting(t *testing.T) {
	e := richEnv(t)
	editClient(t, e, func(c map[string]any) {
		c["ExplicitAuthFlows"] = append(c["ExplicitAuthFlows"].([]any), "ALLOW_USER_PASSWORD_AUTH")
	})
	want := describeClient(t, e, richPoolID, richClientID)
	want.ExplicitAuthFlows = slices.DeleteFunc(slices.Clone(want.ExplicitAuthFlows), func(f types.ExplicitAuthFlowsType) bool {
		return f == types.ExplicitAuthFlowsTypeAllowUserPasswordAuth
	})

	r := e.run(t, "disable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID)

	if r.code != ExitOK {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(want, describeClient(t, e, richPoolID, richClientID), sdkTypes); diff != "" {
		t.Errorf("app client after disable-password-auth: only ExplicitAuthFlows may change (-want +got):\n%s", diff)
	}
	updates := requests(t, e.cognito, "UpdateUserPoolClient")
	if len(updates) != 1 {
		t.Fatalf("UpdateUserPoolClient calls = %d, want 1", len(updates))
	}
	golden(t, "disable-password-auth.UpdateUserPoolClient.json", updates[0])
	golden(t, "disable-password-auth.stdout.text", []byte(r.stdout))
	if got, want := r.cognitoOps, []string{"DescribeUserPoolClient", "DescribeUserPoolClient", "UpdateUserPoolClient", "DescribeUserPoolClient"}; !slices.Equal(got, want) {
		t.Errorf("cognito-idp calls = %v, want %v", got, want)
	}
	if !strings.Contains(r.stderr, "switch them to SRP (USER_SRP_AUTH) first") {
		t.Errorf("stderr does not warn about apps still using USER_PASSWORD_AUTH: %s", r.stderr)
	}
	for _, s := range []string{r.stdout, r.stderr, string(updates[0])} {
		if strings.Contains(s, "client-secret-that-must-never-be-printed") {
			t.Error("the client secret was printed or sent")
		}
	}
}

func TestDisablePasswordAuthRefusesOrDoesNothing(t *testing.T) {
	tests := []struct {
		name     string
		flows    []any // the client's ExplicitAuthFlows; nil for none
		wantCode int
		want     string
	}{
		{name: "not allowed", flows: []any{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}, wantCode: ExitOK, want: "Nothing to do: the client does not allow USER_PASSWORD_AUTH."},
		{name: "no flows (Cognito's implicit ones)", flows: nil, wantCode: ExitOK, want: "Nothing to do: the client does not allow USER_PASSWORD_AUTH."},
		{name: "nothing left to sign in with", flows: []any{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}, wantCode: ExitFailure,
			want: "without ALLOW_USER_PASSWORD_AUTH the app client would allow no sign-in flow (ALLOW_REFRESH_TOKEN_AUTH)"},
		{name: "legacy name", flows: []any{"USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"}, wantCode: ExitFailure, want: "under the legacy name USER_PASSWORD_AUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			editClient(t, e, func(c map[string]any) {
				if tt.flows == nil {
					delete(c, "ExplicitAuthFlows")
					return
				}
				c["ExplicitAuthFlows"] = tt.flows
			})
			r := e.run(t, "disable-password-auth", "--user-pool-id", richPoolID, "--client-id", richClientID)
			if r.code != tt.wantCode || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("exit %d, output %q; want %d and %q", r.code, r.stdout+r.stderr, tt.wantCode, tt.want)
			}
			if n := e.cognito.CallCount("UpdateUserPoolClient"); n != 0 {
				t.Errorf("UpdateUserPoolClient calls = %d, want none", n)
			}
		})
	}
}

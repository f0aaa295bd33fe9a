package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// withSchema is standardNewPool with other custom attributes and settings.
func withSchema(custom []string, set map[string]any) map[string]any {
	p := standardNewPool()
	schema := p["SchemaAttributes"].([]any)
	var kept []any
	for _, a := range schema {
		if a.(map[string]any)["Name"] != "custom:tenant" {
			kept = append(kept, a)
		}
	}
	for _, n := range custom {
		kept = append(kept, map[string]any{"Name": n, "AttributeDataType": "String", "Mutable": true})
	}
	p["SchemaAttributes"] = kept
	for k, v := range set {
		p[k] = v
	}
	return p
}

// oldAlice is an old pool whose alice has a sub, a tenant and SMS MFA.
func oldAlice(t *testing.T) *cognitotest.Fake {
	f := cognitotest.New(t)
	f.AddPool(cognitotest.Pool{ID: oldPoolID, AliasAttributes: []string{"email"}})
	f.AddClient(cognitotest.AppClient{PoolID: oldPoolID, ID: oldClientID, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser(oldPoolID, cognitotest.User{Username: "alice", Password: password, Enabled: true, Status: "CONFIRMED",
		Attributes: map[string]string{"sub": "5f1e0000-0000-4000-8000-00000000a11c", "email": "alice@example.com",
			"email_verified": "true", "given_name": "Alice", "custom:tenant": "acme", "custom:shoe_size": "38"}})
	return f
}

func TestDifferentSchemaLegacySubAndRename(t *testing.T) {
	awsEnv(t)
	newPool := startNewPool(t, withSchema([]string{"custom:org_id", "custom:legacy_sub"}, nil))
	f := oldAlice(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"ATTRIBUTE_MAP": "custom:tenant=custom:org_id, given_name=name", "LEGACY_SUB_ATTRIBUTE": "custom:legacy_sub",
	})
	_, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
	got := out["response"].(map[string]any)["userAttributes"]
	want := map[string]any{
		"username": "alice", "email": "alice@example.com", "email_verified": "true", "name": "Alice",
		"custom:org_id": "acme", "custom:legacy_sub": "5f1e0000-0000-4000-8000-00000000a11c",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("userAttributes (-want +got):\n%s", diff)
	}
	if !strings.Contains(tr.stdout.String(), `"droppedAttributes":["custom:shoe_size"]`) {
		t.Errorf("log does not name the dropped attribute:\n%s", tr.stdout)
	}
	if strings.Contains(tr.stdout.String(), "38") && strings.Contains(tr.stdout.String(), `"custom:shoe_size":"38"`) {
		t.Errorf("log holds an attribute value")
	}
	// The new pool is read through the SDK's endpoint resolution, the old
	// pool only at OLD_USER_POOL_ENDPOINT.
	if diff := cmp.Diff([]string{"DescribeUserPool"}, newPool.operations()); diff != "" {
		t.Errorf("new-pool calls (-want +got):\n%s", diff)
	}
	for _, c := range f.Calls() {
		if c.Operation != "AdminInitiateAuth" && c.Operation != "AdminGetUser" {
			t.Errorf("old pool asked %s", c.Operation)
		}
	}
	// A second sign-in reuses the cached description.
	tr.invoke(t, event("UserMigration_Authentication", "alice", password))
	if n := len(newPool.operations()); n != 1 {
		t.Errorf("DescribeUserPool calls = %d after two events, want 1", n)
	}
}

func TestLegacySubMissingFromNewPool(t *testing.T) {
	awsEnv(t)
	startNewPool(t, standardNewPool())
	f := oldAlice(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"LEGACY_SUB_ATTRIBUTE": "custom:legacy_sub",
	})
	resp, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
	if resp.Header.Get("X-Amz-Function-Error") == "" || out["errorType"] != "UserMigrationUnavailable" {
		t.Fatalf("got %v, want a function error", out)
	}
	log := tr.stdout.String()
	if !strings.Contains(log, `"errorKind":"configuration"`) || !strings.Contains(log, `LEGACY_SUB_ATTRIBUTE: \"custom:legacy_sub\" is not in the new pool's schema`) {
		t.Errorf("log does not explain the problem:\n%s", log)
	}
}

func TestAliasSignIn(t *testing.T) {
	awsEnv(t)
	startNewPool(t, withSchema([]string{"custom:tenant"}, map[string]any{"AliasAttributes": []string{"email"}}))
	f := oldAlice(t)
	tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL})
	_, out := tr.invoke(t, event("UserMigration_Authentication", "alice@example.com", password))
	attrs := out["response"].(map[string]any)["userAttributes"].(map[string]any)
	if attrs["username"] != "alice" || attrs["email"] != "alice@example.com" {
		t.Errorf("alias sign-in: username %v, email %v; want alice, the typed email", attrs["username"], attrs["email"])
	}
}

func TestIdentitySettingsValidated(t *testing.T) {
	tests := map[string][2]string{
		"map without =":          {"ATTRIBUTE_MAP", "custom:tenant"},
		"map to sub":             {"ATTRIBUTE_MAP", "custom:id=sub"},
		"map from sub":           {"ATTRIBUTE_MAP", "sub=custom:legacy_sub"},
		"map twice to one":       {"ATTRIBUTE_MAP", "a=b,c=b"},
		"custom name too long":   {"ATTRIBUTE_MAP", "custom:tenant=custom:a_very_long_attribute_name"},
		"exclude with a space":   {"EXCLUDE_ATTRIBUTES", "nick name"},
		"legacy sub not custom":  {"LEGACY_SUB_ATTRIBUTE", "legacy_sub"},
		"mfa policy unknown":     {"MFA_POLICY", "allow"},
		"enforce not a bool":     {"ENFORCE_PASSWORD_POLICY", "yes please"},
		"trust email not a bool": {"TRUST_EMAIL", "maybe"},
	}
	for name, kv := range tests {
		t.Run(name, func(t *testing.T) {
			awsEnv(t)
			env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, kv[0]: kv[1]}
			var stdout, stderr strings.Builder
			if code := run(t.Context(), nil, func(k string) string { return env[k] }, &stdout, &stderr); code != 1 {
				t.Fatalf("exit code = %d, want 1", code)
			}
			if !strings.Contains(stderr.String(), kv[0]+":") {
				t.Errorf("stderr = %q, want it to name %s", stderr.String(), kv[0])
			}
		})
	}
}

// oldUser is an old pool holding u, behind a client without a secret.
func oldUser(t *testing.T, u cognitotest.User) *cognitotest.Fake {
	f := cognitotest.New(t)
	f.AddPool(cognitotest.Pool{ID: oldPoolID})
	f.AddClient(cognitotest.AppClient{PoolID: oldPoolID, ID: oldClientID, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser(oldPoolID, u)
	return f
}

func TestChallengesPasswordPolicyAndTrustOverTheWire(t *testing.T) {
	mfaUser := cognitotest.User{Username: "alice", Password: password, Enabled: true, Status: "CONFIRMED",
		Challenge: "SMS_MFA", MFASettings: []string{"SMS_MFA"}, PreferredMFA: "SMS_MFA",
		Attributes: map[string]string{"phone_number": "+15550100", "phone_number_verified": "true"}}
	tempUser := cognitotest.User{Username: "alice", Password: password, Enabled: true, Status: "FORCE_CHANGE_PASSWORD",
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}}
	plainUser := cognitotest.User{Username: "alice", Password: password, Enabled: true, Status: "CONFIRMED",
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "false"}}
	verifiedUser := cognitotest.User{Username: "alice", Password: password, Enabled: true, Status: "CONFIRMED",
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}}
	strict := map[string]any{"MfaConfiguration": "OPTIONAL", "Policies": map[string]any{"PasswordPolicy": map[string]any{
		"MinimumLength": 32, "RequireUppercase": true, "RequireLowercase": true, "RequireNumbers": true, "RequireSymbols": true}}}

	tests := []struct {
		name string
		user cognitotest.User
		env  map[string]string
		want map[string]any // response fields; nil = declined (event unchanged)
	}{
		{"SMS MFA, MFA_POLICY unset: declined", mfaUser, nil, nil},
		{"SMS MFA, MFA_POLICY=migrate: confirmed with SMS MFA on", mfaUser, map[string]string{"MFA_POLICY": "migrate"},
			map[string]any{"finalUserStatus": "CONFIRMED", "enableSMSMFA": true}},
		{"temporary password: RESET_REQUIRED", tempUser, nil, map[string]any{"finalUserStatus": "RESET_REQUIRED"}},
		{"password fails the new policy, enforced: RESET_REQUIRED", verifiedUser, map[string]string{"ENFORCE_PASSWORD_POLICY": "true"},
			map[string]any{"finalUserStatus": "RESET_REQUIRED"}},
		{"password fails the new policy, enforced, no verified contact: CONFIRMED, no dead end", plainUser,
			map[string]string{"ENFORCE_PASSWORD_POLICY": "true"}, map[string]any{"finalUserStatus": "CONFIRMED"}},
		{"password fails the new policy, not enforced: CONFIRMED", plainUser, nil, map[string]any{"finalUserStatus": "CONFIRMED"}},
		{"unverified email stays unverified", plainUser, nil, map[string]any{"email_verified": "false"}},
		{"TRUST_EMAIL verifies it", plainUser, map[string]string{"TRUST_EMAIL": "true"}, map[string]any{"email_verified": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			startNewPool(t, withSchema(nil, strict))
			f := oldUser(t, tt.user)
			env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL}
			for k, v := range tt.env {
				env[k] = v
			}
			tr := startTrigger(t, env)
			_, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
			resp := out["response"].(map[string]any)
			if tt.want == nil {
				if resp["userAttributes"] != nil || resp["finalUserStatus"] != nil {
					t.Errorf("response = %v, want the event unchanged (declined)", resp)
				}
				return
			}
			attrs, _ := resp["userAttributes"].(map[string]any)
			for k, want := range tt.want {
				got := resp[k]
				if k == "email_verified" {
					got = attrs[k]
				}
				if got != want {
					t.Errorf("%s = %v, want %v (response %v)", k, got, want, resp)
				}
			}
		})
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// End-to-end checks of the migration decision's safety rules: the real
// SDK, the old pool's wire fake and a new pool served over HTTP, through the
// -listen server.

// lastDecision is the last "user migration" log line in out.
func lastDecision(t *testing.T, out string) map[string]any {
	t.Helper()
	var last map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["message"] == "user migration" {
			last = m
		}
	}
	if last == nil {
		t.Fatalf("no user migration log line in:\n%s", out)
	}
	return last
}

// responseOf is the event's response, and its userAttributes (nil when the
// user was declined).
func responseOf(t *testing.T, out map[string]any) (map[string]any, map[string]any) {
	t.Helper()
	r, ok := out["response"].(map[string]any)
	if !ok {
		t.Fatalf("answer has no response: %v", out)
	}
	attrs, _ := r["userAttributes"].(map[string]any)
	return r, attrs
}

// withPool returns the standard new pool changed by edit.
func withPool(edit func(p map[string]any)) map[string]any {
	p := standardNewPool()
	edit(p)
	return p
}

func oldPoolWith(t *testing.T, pool cognitotest.Pool, users ...cognitotest.User) *cognitotest.Fake {
	f := cognitotest.New(t)
	pool.ID = oldPoolID
	f.AddPool(pool)
	f.AddClient(cognitotest.AppClient{PoolID: oldPoolID, ID: oldClientID, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	for _, u := range users {
		f.AddUser(oldPoolID, u)
	}
	return f
}

func TestForgotPasswordRespectsMFA(t *testing.T) {
	users := []cognitotest.User{
		{Username: "tina", Password: password, Enabled: true, MFASettings: []string{"SOFTWARE_TOKEN_MFA"},
			Attributes: map[string]string{"email": "tina@example.com", "email_verified": "true"}},
		{Username: "sam", Password: password, Enabled: true, MFASettings: []string{"SMS_MFA"},
			Attributes: map[string]string{"phone_number": "+447700900123", "phone_number_verified": "true"}},
		{Username: "nora", Password: password, Enabled: true,
			Attributes: map[string]string{"email": "nora@example.com", "email_verified": "true"}},
	}
	t.Run("deny, the default", func(t *testing.T) {
		f := oldPoolWith(t, cognitotest.Pool{}, users...)
		tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL})
		for _, user := range []string{"tina", "sam"} {
			_, out := tr.invoke(t, event("UserMigration_ForgotPassword", user, ""))
			if _, attrs := responseOf(t, out); attrs != nil {
				t.Errorf("%s: forgot password moved a user with a second factor: %v", user, attrs)
			}
			if l := lastDecision(t, tr.stdout.String()); l["reason"] != "mfa_required" {
				t.Errorf("%s: log reason = %v, want mfa_required", user, l["reason"])
			}
		}
		// Without a factor, forgot password still works.
		_, out := tr.invoke(t, event("UserMigration_ForgotPassword", "nora", ""))
		if _, attrs := responseOf(t, out); attrs["email"] != "nora@example.com" {
			t.Errorf("nora: response = %v, want migrated", out["response"])
		}
	})
	t.Run("migrate: SMS MFA moves as on sign-in", func(t *testing.T) {
		awsEnv(t)
		startNewPool(t, withPool(func(p map[string]any) { p["MfaConfiguration"] = "OPTIONAL" }))
		f := oldPoolWith(t, cognitotest.Pool{}, users...)
		tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID,
			"OLD_USER_POOL_ENDPOINT": f.URL, "MFA_POLICY": "migrate"})
		_, out := tr.invoke(t, event("UserMigration_ForgotPassword", "sam", ""))
		r, attrs := responseOf(t, out)
		if attrs["phone_number"] != "+447700900123" || r["enableSMSMFA"] != true || r["finalUserStatus"] != nil {
			t.Errorf("sam: response = %v, want migrated with enableSMSMFA and no final status", r)
		}
		// TOTP cannot move: the user migrates and enrols again.
		_, out = tr.invoke(t, event("UserMigration_ForgotPassword", "tina", ""))
		if r, attrs := responseOf(t, out); attrs["email"] != "tina@example.com" || r["enableSMSMFA"] != nil {
			t.Errorf("tina: response = %v, want migrated without enableSMSMFA", r)
		}
	})
}

func TestOnePersonOneAccount(t *testing.T) {
	users := []cognitotest.User{
		{Username: "alice", Password: password, Enabled: true,
			Attributes: map[string]string{"email": "Alice@Example.com", "email_verified": "true"}},
		{Username: "bob@old.example", Password: password, Enabled: true,
			Attributes: map[string]string{"email": "bob@example.com", "email_verified": "true"}},
	}
	// The old pool finds users by email in any case.
	oldPool := cognitotest.Pool{AliasAttributes: []string{"email"}, CaseInsensitive: true}

	t.Run("case-sensitive new pool with an email alias", func(t *testing.T) {
		awsEnv(t)
		startNewPool(t, withPool(func(p map[string]any) { p["AliasAttributes"] = []string{"email"} }))
		f := oldPoolWith(t, oldPool, users...)
		tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL})
		for _, tt := range []struct{ typed, reason string }{
			{"alice@example.com", "alias_case_mismatch"},
			{"ALICE", "username_case_mismatch"},
			{"bob@old.example", "username_is_email"},
			{"bob@example.com", "username_is_email"},
		} {
			_, out := tr.invoke(t, event("UserMigration_Authentication", tt.typed, password))
			if _, attrs := responseOf(t, out); attrs != nil {
				t.Errorf("%s: migrated %v, want declined", tt.typed, attrs)
			}
			if l := lastDecision(t, tr.stdout.String()); l["reason"] != tt.reason {
				t.Errorf("%s: log reason = %v, want %s", tt.typed, l["reason"], tt.reason)
			}
		}
		// The spelling the old pool stores migrates.
		_, out := tr.invoke(t, event("UserMigration_Authentication", "Alice@Example.com", password))
		if _, attrs := responseOf(t, out); attrs["username"] != "alice" || attrs["email"] != "Alice@Example.com" {
			t.Errorf("exact alias: userAttributes = %v", attrs)
		}
	})
	t.Run("case-insensitive new pool: a case-variant username is sent as username", func(t *testing.T) {
		awsEnv(t)
		startNewPool(t, withPool(func(p map[string]any) {
			p["UsernameConfiguration"] = map[string]any{"CaseSensitive": false}
		}))
		f := oldPoolWith(t, cognitotest.Pool{CaseInsensitive: true},
			cognitotest.User{Username: "carol", Password: password, Enabled: true})
		tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL})
		_, out := tr.invoke(t, event("UserMigration_Authentication", "CAROL", password))
		// carol has no attributes the new pool takes: without "username" the
		// response would be empty, which Cognito reads as "no such user".
		if r, attrs := responseOf(t, out); attrs["username"] != "CAROL" || r["finalUserStatus"] != "CONFIRMED" {
			t.Errorf("response = %v, want username CAROL, CONFIRMED", r)
		}
	})
}

func TestNoResetDeadEnds(t *testing.T) {
	awsEnv(t)
	startNewPool(t, withPool(func(p map[string]any) {
		p["Policies"] = map[string]any{"PasswordPolicy": map[string]any{"MinimumLength": 64}}
	}))
	f := oldPoolWith(t, cognitotest.Pool{},
		cognitotest.User{Username: "temp", Password: password, Enabled: true, Status: "FORCE_CHANGE_PASSWORD",
			Attributes: map[string]string{"email": "temp@example.com", "email_verified": "false"}},
		cognitotest.User{Username: "tempmail", Password: password, Enabled: true, Status: "FORCE_CHANGE_PASSWORD",
			Attributes: map[string]string{"email": "tempmail@example.com", "email_verified": "true"}},
		cognitotest.User{Username: "weak", Password: password, Enabled: true,
			Attributes: map[string]string{"given_name": "Wes"}},
		cognitotest.User{Username: "weakmail", Password: password, Enabled: true,
			Attributes: map[string]string{"email": "weakmail@example.com", "email_verified": "true"}},
	)
	tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID,
		"OLD_USER_POOL_ENDPOINT": f.URL, "ENFORCE_PASSWORD_POLICY": "true"})

	for _, tt := range []struct {
		user, final, reason, detail string
	}{
		{"temp", "", "no_verified_contact", "NEW_PASSWORD_REQUIRED"},
		{"tempmail", "RESET_REQUIRED", "migrated", "NEW_PASSWORD_REQUIRED"},
		{"weak", "CONFIRMED", "migrated", "password_policy_unmet"},
		{"weakmail", "RESET_REQUIRED", "migrated", "password policy: minimum_length"},
	} {
		_, out := tr.invoke(t, event("UserMigration_Authentication", tt.user, password))
		r, _ := responseOf(t, out)
		if got, _ := r["finalUserStatus"].(string); got != tt.final {
			t.Errorf("%s: finalUserStatus = %q, want %q", tt.user, got, tt.final)
		}
		if l := lastDecision(t, tr.stdout.String()); l["reason"] != tt.reason || l["detail"] != tt.detail {
			t.Errorf("%s: log reason, detail = %v, %v; want %s, %s", tt.user, l["reason"], l["detail"], tt.reason, tt.detail)
		}
	}
}

func TestSchemaRefusedValuesAreDropped(t *testing.T) {
	awsEnv(t)
	startNewPool(t, withPool(func(p map[string]any) {
		schema := p["SchemaAttributes"].([]any)
		for i, a := range schema {
			if a.(map[string]any)["Name"] == "custom:tenant" {
				schema[i] = map[string]any{"Name": "custom:tenant", "AttributeDataType": "String", "Mutable": true,
					"StringAttributeConstraints": map[string]any{"MinLength": "1", "MaxLength": "3"}}
			}
		}
		p["SchemaAttributes"] = append(schema, map[string]any{"Name": "dev:custom:note", "AttributeDataType": "String",
			"DeveloperOnlyAttribute": true, "Mutable": true})
	}))
	f := oldPoolWith(t, cognitotest.Pool{}, cognitotest.User{Username: "alice", Password: password, Enabled: true,
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true",
			"custom:tenant": "acme-corporation", "dev:custom:note": "vip", "name": "Alice Liddell", "given_name": "Alice"}})
	tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID,
		"OLD_USER_POOL_ENDPOINT": f.URL, "ATTRIBUTE_MAP": "given_name=name"})

	_, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
	r, attrs := responseOf(t, out)
	if r["finalUserStatus"] != "CONFIRMED" || attrs["email"] != "alice@example.com" {
		t.Fatalf("response = %v, want migrated", r)
	}
	for _, name := range []string{"custom:tenant", "dev:custom:note"} {
		if _, ok := attrs[name]; ok {
			t.Errorf("%s sent although the new pool refuses its value: %v", name, attrs)
		}
	}
	if attrs["name"] != "Alice" {
		t.Errorf("name = %v, want the renamed given_name", attrs["name"])
	}
	l := lastDecision(t, tr.stdout.String())
	if got := l["invalidAttributes"]; !equalNames(got, "custom:tenant", "dev:custom:note") {
		t.Errorf("invalidAttributes = %v", got)
	}
	if got := l["overwrittenAttributes"]; !equalNames(got, "name") {
		t.Errorf("overwrittenAttributes = %v", got)
	}
	// Names only, never values.
	for _, v := range []string{"acme-corporation", "vip", "Liddell"} {
		if strings.Contains(tr.stdout.String()+tr.stderr.String(), v) {
			t.Errorf("output holds the value %q", v)
		}
	}
}

func equalNames(got any, want ...string) bool {
	list, ok := got.([]any)
	if !ok {
		return false
	}
	var names []string
	for _, v := range list {
		s, _ := v.(string)
		names = append(names, s)
	}
	return slices.Equal(names, want)
}

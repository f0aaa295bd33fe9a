package main

import (
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// MIGRATE_ONLY through the binary, the real SDK and the old pool's wire
// fake: both trigger flows (cognito-local never runs the trigger for forgot
// password, so this is where that flow is checked end to end).

func scopeUsers() []cognitotest.User {
	u := func(name, tenant, email string) cognitotest.User {
		return cognitotest.User{Username: name, Password: password, Enabled: true,
			Attributes: map[string]string{"email": email, "email_verified": "true", "custom:tenant": tenant}}
	}
	return []cognitotest.User{
		u("alice", "acme", "alice@acme.com"),
		u("bruno", "globex", "bruno@globex.com"),
		u("carol", "acme", "carol@ACME.com"),
		u("dave", "globex", "dave@acme.com"),
	}
}

// migratedBy runs one event and reports whether the user was migrated, and
// the logged reason.
func migratedBy(t *testing.T, tr *running, source, user, pw string) (bool, any) {
	t.Helper()
	_, out := tr.invoke(t, event(source, user, pw))
	_, attrs := responseOf(t, out)
	return attrs != nil, lastDecision(t, tr.stdout.String())["reason"]
}

func TestScopeSplitsByTenant(t *testing.T) {
	f := oldPoolWith(t, cognitotest.Pool{}, scopeUsers()...)
	tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID,
		"OLD_USER_POOL_ENDPOINT": f.URL, "MIGRATE_ONLY": "custom:tenant=acme"})
	for _, source := range []string{"UserMigration_Authentication", "UserMigration_ForgotPassword"} {
		pw := password
		if source == "UserMigration_ForgotPassword" {
			pw = ""
		}
		for _, tt := range []struct {
			user string
			want bool
		}{{"alice", true}, {"carol", true}, {"bruno", false}, {"dave", false}} {
			got, reason := migratedBy(t, tr, source, tt.user, pw)
			if got != tt.want {
				t.Errorf("%s %s: migrated = %v (reason %v), want %v", source, tt.user, got, reason, tt.want)
			}
			if !tt.want && reason != "out_of_scope" {
				t.Errorf("%s %s: reason = %v, want out_of_scope", source, tt.user, reason)
			}
		}
	}
	// A wrong password is still a wrong password, whatever the tenant.
	if got, reason := migratedBy(t, tr, "UserMigration_Authentication", "bruno", "wrong-password"); got || reason != "bad_credentials" {
		t.Errorf("bruno, wrong password: migrated = %v, reason %v; want bad_credentials", got, reason)
	}
	if n := len(operationsOf(f, "AdminListGroupsForUser")); n != 0 {
		t.Errorf("AdminListGroupsForUser called %d times without a group condition", n)
	}
}

func TestScopeByEmailDomainGroupAndCanary(t *testing.T) {
	tests := []struct {
		scope string
		want  map[string]bool
	}{
		// dave's email is at acme.com though his tenant is globex: the
		// domain decides here, case aside.
		{"email@acme.com", map[string]bool{"alice": true, "carol": true, "dave": true, "bruno": false}},
		{"group:staff", map[string]bool{"alice": false, "carol": true, "dave": false, "bruno": true}},
		{"user:alice,BRUNO@globex.com", map[string]bool{"alice": true, "bruno": true, "carol": false, "dave": false}},
		{"custom:tenant=acme;user:carol@acme.com", map[string]bool{"alice": false, "bruno": false, "carol": true, "dave": false}},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			f := oldPoolWith(t, cognitotest.Pool{}, scopeUsers()...)
			f.AddGroup(oldPoolID, "staff")
			f.AddMember(oldPoolID, "staff", "carol")
			f.AddMember(oldPoolID, "staff", "bruno")
			tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID,
				"OLD_USER_POOL_ENDPOINT": f.URL, "MIGRATE_ONLY": tt.scope})
			for user, want := range tt.want {
				for _, source := range []string{"UserMigration_Authentication", "UserMigration_ForgotPassword"} {
					pw := password
					if source == "UserMigration_ForgotPassword" {
						pw = ""
					}
					if got, reason := migratedBy(t, tr, source, user, pw); got != want {
						t.Errorf("%s %s: migrated = %v (reason %v), want %v", source, user, got, reason, want)
					}
				}
			}
		})
	}
}

func operationsOf(f *cognitotest.Fake, op string) []cognitotest.Call {
	var out []cognitotest.Call
	for _, c := range f.Calls() {
		if c.Operation == op {
			out = append(out, c)
		}
	}
	return out
}

func TestMalformedScopeStopsStartUp(t *testing.T) {
	var stdout, stderr syncBuffer
	code := run(t.Context(), []string{"-listen", "127.0.0.1:0"}, func(k string) string {
		return map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "MIGRATE_ONLY": "tenant acme"}[k]
	}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "MIGRATE_ONLY:") {
		t.Errorf("run with a malformed MIGRATE_ONLY = %d, stderr %q; want 1 naming the setting", code, stderr.String())
	}
}

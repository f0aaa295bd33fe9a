package main

import (
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// Two old pools merge into one new pool, through the binary, the real SDK
// and two wire fakes, each with its own app client and region.

const (
	secondPoolID   = "us-east-1_OldPool2"
	secondClientID = "2second2client2id2"
)

func mergeUser(name, tenant string) cognitotest.User {
	return cognitotest.User{Username: name, Password: password, Enabled: true,
		Attributes: map[string]string{"email": name + "@" + tenant + ".com", "email_verified": "true", "custom:tenant": tenant}}
}

func twoOldPools(t *testing.T) (*cognitotest.Fake, *cognitotest.Fake) {
	first := oldPoolWith(t, cognitotest.Pool{}, mergeUser("alice", "acme"), mergeUser("sam", "acme"))
	second := cognitotest.New(t)
	second.AddPool(cognitotest.Pool{ID: secondPoolID})
	second.AddClient(cognitotest.AppClient{PoolID: secondPoolID, ID: secondClientID, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	for _, u := range []cognitotest.User{mergeUser("bruno", "globex"), mergeUser("sam", "globex"), mergeUser("dora", "globex")} {
		u.Attributes["sub"] = "22222222-0000-4000-8000-" + strings.Repeat("0", 12-len(u.Username)) + u.Username
		second.AddUser(secondPoolID, u)
	}
	return first, second
}

func mergeEnv(first, second *cognitotest.Fake, extra map[string]string) map[string]string {
	env := map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": first.URL,
		"OLD_2_USER_POOL_ID": secondPoolID, "OLD_2_CLIENT_ID": secondClientID, "OLD_2_USER_POOL_ENDPOINT": second.URL,
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestMergeTwoOldPools(t *testing.T) {
	first, second := twoOldPools(t)
	tr := startTrigger(t, mergeEnv(first, second, nil))

	for _, tt := range []struct{ user, tenant, pool string }{{"alice", "acme", "1"}, {"bruno", "globex", "2"}} {
		_, out := tr.invoke(t, event("UserMigration_Authentication", tt.user, password))
		if _, attrs := responseOf(t, out); attrs["custom:tenant"] != tt.tenant || attrs["email"] != tt.user+"@"+tt.tenant+".com" {
			t.Errorf("%s: attributes %v, want their own pool's (%s)", tt.user, attrs, tt.tenant)
		}
		if l := lastDecision(t, tr.stdout.String()); l["oldPool"] != tt.pool {
			t.Errorf("%s: logged oldPool %v, want %s", tt.user, l["oldPool"], tt.pool)
		}
	}
	// Forgot password moves the one user who exists in exactly one pool.
	_, out := tr.invoke(t, event("UserMigration_ForgotPassword", "dora", ""))
	if _, attrs := responseOf(t, out); attrs["custom:tenant"] != "globex" {
		t.Errorf("dora, forgot password: attributes %v, want globex's", attrs)
	}
	// sam is two people: declined for both flows, whoever's password it is.
	for _, source := range []string{"UserMigration_Authentication", "UserMigration_ForgotPassword"} {
		pw := password
		if source == "UserMigration_ForgotPassword" {
			pw = ""
		}
		got, reason := migratedBy(t, tr, source, "sam", pw)
		if got || reason != "ambiguous_user" {
			t.Errorf("%s sam: migrated = %v, reason %v; want ambiguous_user", source, got, reason)
		}
	}
	// Each pool is signed for its own region.
	for f, region := range map[*cognitotest.Fake]string{first: "/eu-west-1/", second: "/us-east-1/"} {
		for _, c := range f.Calls() {
			if !strings.Contains(c.Header.Get("Authorization"), region) {
				t.Errorf("%s to %s signed for another region", c.Operation, region)
			}
		}
	}
	if strings.Contains(tr.stdout.String()+tr.stderr.String(), password) {
		t.Error("output holds the password")
	}
}

func TestMergeRoutesAndFailsSafe(t *testing.T) {
	t.Run("a route asks one pool only", func(t *testing.T) {
		first, second := twoOldPools(t)
		second.AddUser(secondPoolID, cognitotest.User{Username: "eve", Password: password, Enabled: true,
			Attributes: map[string]string{"sub": "33333333-0000-4000-8000-000000000eve", "email": "eve@globex.com", "email_verified": "true"}})
		tr := startTrigger(t, mergeEnv(first, second, map[string]string{"OLD_2_ROUTE": "form:username"}))
		before := len(first.Calls())
		if got, reason := migratedBy(t, tr, "UserMigration_Authentication", "bruno", password); !got {
			t.Errorf("bruno, routed: declined (%v)", reason)
		}
		if n := len(first.Calls()) - before; n != 0 {
			t.Errorf("the first pool got %d calls for a name routed to the second", n)
		}
	})
	t.Run("a pool down is a fault, not a migration", func(t *testing.T) {
		first, second := twoOldPools(t)
		second.SetFault("AdminGetUser", cognitotest.Fault{ErrorType: "InternalErrorException", Status: 500})
		tr := startTrigger(t, mergeEnv(first, second, nil))
		_, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
		if out["response"] != nil || out["errorType"] != "UserMigrationUnavailable" {
			t.Errorf("answer %v, want the unavailable error: the second pool could not say whether it has an alice too", out)
		}
		if l := lastDecision(t, tr.stdout.String()); l["outcome"] != "error" {
			t.Errorf("outcome %v, want error", l["outcome"])
		}
	})
}

// Each old pool has its own role: the second's is assumed with its own
// external id, and a role that cannot be assumed stops start-up naming the
// second pool's setting.
func TestMergeEachPoolItsOwnRole(t *testing.T) {
	const secondRole = "arn:aws:iam::333333333333:role/cognito-migrate-old-pool"
	first, second := twoOldPools(t)
	awsEnv(t)
	sts := newSTS(t)
	sts.AllowRole(secondRole, "second-external-id")
	env := mergeEnv(first, second, map[string]string{"OLD_ROLE_ARN": roleARN, "OLD_EXTERNAL_ID": externalID,
		"OLD_2_ROLE_ARN": secondRole, "OLD_2_EXTERNAL_ID": "second-external-id"})
	tr := startTrigger(t, env)
	if got, reason := migratedBy(t, tr, "UserMigration_Authentication", "bruno", password); !got {
		t.Errorf("bruno through the second pool's role: declined (%v)", reason)
	}
	roles := map[string]string{}
	for _, c := range sts.Calls() {
		roles[c.RoleARN] = c.ExternalID
	}
	if roles[roleARN] != externalID || roles[secondRole] != "second-external-id" {
		t.Errorf("AssumeRole calls %v, want each pool's role with its own external id", roles)
	}

	env["OLD_2_EXTERNAL_ID"] = "wrong-id"
	var stdout, stderr syncBuffer
	if code := run(t.Context(), []string{"-listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "OLD_2_ROLE_ARN: cannot assume the role") || !strings.Contains(stderr.String(), "OLD_2_EXTERNAL_ID") {
		t.Errorf("start with the second role refused = %d, stderr %q; want 1 naming OLD_2_ROLE_ARN", code, stderr.String())
	}
}

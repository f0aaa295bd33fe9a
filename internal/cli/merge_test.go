package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// The second old pool of the merge tests, in the same fake.
const (
	mergeOldID = "eu-west-1_OldPoolB"
	mergeOldCl = "oldfnclientb"
)

// mergeSetup is correctSetup with a second old pool (OLD_2_*) holding
// users; its client and pool descriptions are correct.
type mergeSetup struct {
	*twoPoolSetup
	oldPool2, oldClient2 string
	oldUsers2            []cognitotest.User
}

func correctMerge() *mergeSetup {
	s := &mergeSetup{twoPoolSetup: correctSetup()}
	s.oldPool2 = strings.Replace(s.oldPool, twoOldID, mergeOldID, 1)
	s.oldClient2 = `{"UserPoolId":"` + mergeOldID + `","ClientId":"` + mergeOldCl + `","ExplicitAuthFlows":["ALLOW_ADMIN_USER_PASSWORD_AUTH"]}`
	s.fnEnv["OLD_2_USER_POOL_ID"] = mergeOldID
	s.fnEnv["OLD_2_CLIENT_ID"] = mergeOldCl
	s.oldUsers2 = []cognitotest.User{
		{Username: "cleo", Enabled: true, Attributes: map[string]string{"sub": "old-sub-cleo", "email": "cleo@globex.com", "email_verified": "true", "custom:tenant": "t2"}},
	}
	return s
}

func (s *mergeSetup) world(t *testing.T) *env {
	t.Helper()
	e := s.twoPoolSetup.world(t)
	e.cognito.AddPool(cognitotest.Pool{ID: mergeOldID, AliasAttributes: []string{"email"}, CaseInsensitive: true})
	e.cognito.PutUserPool([]byte(s.oldPool2))
	e.cognito.PutUserPoolClient([]byte(s.oldClient2))
	e.cognito.PutUserPoolMfaConfig(mergeOldID, []byte(s.oldMFA))
	for _, u := range s.oldUsers2 {
		e.cognito.AddUser(mergeOldID, u)
	}
	return e
}

// listed returns the pools ListUsers was called on, in order, once each.
func listed(e *env) []string {
	var out []string
	for _, c := range e.cognito.Calls() {
		if id, _ := c.Input["UserPoolId"].(string); c.Operation == "ListUsers" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func TestCheckOverTwoOldPoolsFindsNothingWhenNamesAreTheirOwn(t *testing.T) {
	e := correctMerge().world(t)
	r := e.run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	if out := decodeCheck(t, r.stdout); len(out.Findings) != 0 {
		t.Errorf("findings = %v, want none", findingIDs(out.Findings))
	}
	if got := listed(e); !slices.Contains(got, twoOldID) || !slices.Contains(got, mergeOldID) {
		t.Errorf("ListUsers on %v, want both old pools", got)
	}
	text := e.run(t, "check", "--user-pool-id", twoNewID)
	if !strings.Contains(text.stdout, "old pools 1 ("+twoOldID+"), 2 ("+mergeOldID+")") {
		t.Errorf("text does not name both old pools:\n%s", text.stdout)
	}
}

func TestCheckOverTwoOldPoolsReportsCollisionsAndEachPoolsClient(t *testing.T) {
	const secret = "old-client-b-secret-never-printed-5e2"
	s := correctMerge()
	// bob of the first pool has a namesake in the second; ann's verified
	// email is the second pool's alias of someone else.
	s.oldUsers2 = append(s.oldUsers2,
		cognitotest.User{Username: "BOB", Enabled: true, Attributes: map[string]string{"sub": "old-sub-bob2"}},
		cognitotest.User{Username: "annie", Enabled: true, Attributes: map[string]string{"sub": "old-sub-annie", "email": "ann@example.com", "email_verified": "true"}})
	s.oldClient2 = `{"UserPoolId":"` + mergeOldID + `","ClientId":"` + mergeOldCl + `","ClientSecret":"` + secret + `","ExplicitAuthFlows":["ALLOW_USER_SRP_AUTH"]}`
	e := s.world(t)
	r := e.run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want %d", r.code, ExitFindings)
	}
	out := decodeCheck(t, r.stdout)
	want := []string{"old-client-admin-auth error", "old-client-secret error", "merge-name-collision warning"}
	if got := findingIDs(out.Findings); !slices.Equal(got, want) {
		t.Fatalf("findings = %v, want %v", got, want)
	}
	for i, sub := range []string{"old pool 2 (" + mergeOldID + "): the old pool's app client " + mergeOldCl + " (OLD_2_CLIENT_ID)",
		"(OLD_2_CLIENT_SECRET_ARN is not set)", `2 name(s) among the sampled users find a user in more than one old pool`} {
		if !strings.Contains(out.Findings[i].Detail, sub) {
			t.Errorf("finding %s: detail %q lacks %q", out.Findings[i].ID, out.Findings[i].Detail, sub)
		}
	}
	c := out.Findings[2]
	for _, sub := range []string{`"ann@example.com in old pools 1, 2"`, `"bob in old pools 1, 2"`} {
		if !strings.Contains(c.Detail, sub) {
			t.Errorf("merge-name-collision detail %q lacks %s", c.Detail, sub)
		}
	}
	if !strings.Contains(c.Fix, "OLD_ROUTE") {
		t.Errorf("merge-name-collision fix %q does not mention routes", c.Fix)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("check printed the second pool's client secret")
	}
}

package migrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// anyName accepts every attribute name; the settings package checks them.
func anyName(string) bool { return true }

func mustScope(t *testing.T, s string) migrate.Scope {
	t.Helper()
	sc, err := migrate.ParseScope(s, anyName)
	if err != nil {
		t.Fatalf("ParseScope(%q) error = %v", s, err)
	}
	return sc
}

func TestParseScope(t *testing.T) {
	tests := []struct {
		in   string
		want migrate.Scope
	}{
		{"", migrate.Scope{}},
		{"  ", migrate.Scope{}},
		{"custom:tenant=acme", migrate.Scope{All: []migrate.Condition{{Kind: migrate.ScopeAttribute, Attribute: "custom:tenant", Values: []string{"acme"}}}}},
		{" custom:tenant = acme , globex ", migrate.Scope{All: []migrate.Condition{{Kind: migrate.ScopeAttribute, Attribute: "custom:tenant", Values: []string{"acme", "globex"}}}}},
		{"email@acme.com,acme.org", migrate.Scope{All: []migrate.Condition{{Kind: migrate.ScopeEmailDomain, Values: []string{"acme.com", "acme.org"}}}}},
		{"group:staff", migrate.Scope{All: []migrate.Condition{{Kind: migrate.ScopeGroup, Values: []string{"staff"}}}}},
		{"user:alice,bob@acme.com", migrate.Scope{All: []migrate.Condition{{Kind: migrate.ScopeUser, Values: []string{"alice", "bob@acme.com"}}}}},
		{"custom:tenant=acme;user:alice;group:staff,admins", migrate.Scope{All: []migrate.Condition{
			{Kind: migrate.ScopeAttribute, Attribute: "custom:tenant", Values: []string{"acme"}},
			{Kind: migrate.ScopeUser, Values: []string{"alice"}},
			{Kind: migrate.ScopeGroup, Values: []string{"staff", "admins"}},
		}}},
		{"custom:plan=a=b", migrate.Scope{All: []migrate.Condition{{Kind: migrate.ScopeAttribute, Attribute: "custom:plan", Values: []string{"a=b"}}}}},
	}
	for _, tt := range tests {
		got, err := migrate.ParseScope(tt.in, anyName)
		if err != nil {
			t.Errorf("ParseScope(%q) error = %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseScope(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
		if again, err := migrate.ParseScope(got.String(), anyName); err != nil || !cmp.Equal(again, got) {
			t.Errorf("ParseScope(%q).String() = %q does not read back: %v, %v", tt.in, got.String(), again, err)
		}
	}
}

func TestParseScopeRefusesMalformedRules(t *testing.T) {
	noSpaces := func(name string) bool { return name != "" && !strings.ContainsAny(name, " ") }
	for _, in := range []string{
		"acme",                 // no kind
		"=acme",                // no attribute
		"custom:tenant=",       // no value
		"custom:tenant=acme,",  // empty alternative
		"custom:tenant=acme;",  // empty condition
		"custom:tenant=a;;b=c", // empty condition
		"email@",               // no domain
		"email@acme",           // not a domain
		"email@a@acme.com",     // an address, not a domain
		"group:",               // no group
		"user:",                // nobody
		"user:alice,,bob",      // empty alternative
		"my tenant=acme",       // not an attribute name
	} {
		if sc, err := migrate.ParseScope(in, noSpaces); err == nil {
			t.Errorf("ParseScope(%q) = %v, want an error", in, sc)
		}
	}
}

func TestInScope(t *testing.T) {
	alice := migrate.User{Username: "alice", Attributes: map[string]string{
		"custom:tenant": "acme", "email": "Alice@Acme.COM", "email_verified": "true"}, Groups: []string{"staff"}}
	unverified := migrate.User{Username: "mallory", Attributes: map[string]string{
		"custom:tenant": "globex", "email": "mallory@acme.com", "email_verified": "false"}}
	tests := []struct {
		name  string
		scope string
		trust bool
		user  migrate.User
		want  bool
	}{
		{"no scope: everyone", "", false, unverified, true},
		{"attribute equal", "custom:tenant=acme", false, alice, true},
		{"attribute: one of several", "custom:tenant=globex,acme", false, alice, true},
		{"attribute: other tenant", "custom:tenant=globex", false, alice, false},
		{"attribute: values are exact, case included", "custom:tenant=ACME", false, alice, false},
		{"attribute: no prefix match", "custom:tenant=acm", false, alice, false},
		{"attribute missing", "custom:region=eu", false, alice, false},
		{"email domain, ASCII case-insensitive", "email@acme.com", false, alice, true},
		{"email domain: one of several", "email@acme.org,ACME.com", false, alice, true},
		{"email domain: a subdomain is another domain", "email@mail.acme.com", false, alice, false},
		{"email domain: the user's subdomain is another domain", "email@acme.com", false, withEmail("x@mail.acme.com"), false},
		{"email domain: a suffix is another domain", "email@acme.com", false, withEmail("x@notacme.com"), false},
		{"email domain: unverified emails do not count", "email@acme.com", false, unverified, false},
		{"email domain: TRUST_EMAIL counts them", "email@acme.com", true, unverified, true},
		{"email domain: Kelvin sign is not k", "email@kinc.com", false, withEmail("x@\u212ainc.com"), false},
		{"email domain: fullwidth letters are not ASCII", "email@acme.com", false, withEmail("k@\uff41cme.com"), false},
		{"email domain: dotless i is not i", "email@inc.com", false, withEmail("k@\u0131nc.com"), false},
		{"email domain: the last @ decides", "email@acme.com", false, withEmail("x@acme.com@evil.example"), false},
		{"group member", "group:staff", false, alice, true},
		{"group: one of several", "group:admins,staff", false, alice, true},
		{"group: exact", "group:Staff", false, alice, false},
		{"group: groups not read, nobody is in", "group:staff", false, unverified, false},
		{"canary: username exact", "user:alice", false, alice, true},
		{"canary: username in another case is not listed", "user:Alice", false, alice, false},
		{"canary: email ASCII case-insensitive", "user:alice@acme.com", false, alice, true},
		{"canary: unverified email does not count", "user:mallory@acme.com", false, unverified, false},
		{"canary: username exact even with @", "user:mallory@acme.com", false, migrate.User{Username: "mallory@acme.com"}, true},
		{"canary: Kelvin sign in the list", "user:\u212aate", false, migrate.User{Username: "kate"}, false},
		{"canary: unlisted", "user:bob,carol@acme.com", false, alice, false},
		{"all conditions hold", "custom:tenant=acme;email@acme.com;group:staff;user:alice", false, alice, true},
		{"one condition fails", "custom:tenant=acme;user:bob", false, alice, false},
		{"one condition fails, whichever its place", "user:bob;custom:tenant=acme", false, alice, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := migrate.Rules{Scope: mustScope(t, tt.scope), TrustEmail: tt.trust}
			if got := r.InScope(tt.user); got != tt.want {
				t.Errorf("InScope(%+v) with %q = %v, want %v", tt.user, tt.scope, got, tt.want)
			}
		})
	}
}

func TestOutOfScopeByNamesTheFailingCondition(t *testing.T) {
	r := migrate.Rules{Scope: mustScope(t, "custom:tenant=acme,globex;user:bob")}
	alice := confirmedUser(map[string]string{"custom:tenant": "acme"})
	if c, out := r.OutOfScopeBy(alice); !out || c.String() != "user:bob" {
		t.Errorf("OutOfScopeBy(alice) = %q, %v; want user:bob, true", c, out)
	}
	r.Scope = mustScope(t, "custom:tenant=acme,globex;user:alice")
	if c, out := r.OutOfScopeBy(alice); out {
		t.Errorf("OutOfScopeBy(alice) = %q, %v; want in scope", c, out)
	}
}

func withEmail(email string) migrate.User {
	return migrate.User{Username: "u1", Attributes: map[string]string{"email": email, "email_verified": "true"}}
}

func TestScopeNeedsGroups(t *testing.T) {
	for in, want := range map[string]bool{"": false, "custom:tenant=a;user:x": false, "user:x;group:staff": true} {
		if got := mustScope(t, in).NeedsGroups(); got != want {
			t.Errorf("ParseScope(%q).NeedsGroups() = %v, want %v", in, got, want)
		}
	}
}

// Both trigger flows decline a user outside the scope, after the old pool
// proved them, with the reason out_of_scope; a user inside migrates as before.
func TestScopeDeclinesInBothFlows(t *testing.T) {
	rules := migrate.Rules{Scope: mustScope(t, "custom:tenant=acme")}
	other := confirmedUser(map[string]string{"email": "b@globex.com", "email_verified": "true", "custom:tenant": "globex"})
	ctx := context.Background()
	for _, flow := range []struct {
		name   string
		decide func(m *migrate.Migrator, ctx context.Context, req migrate.Request) (migrate.Decision, error)
	}{
		{"sign-in", (*migrate.Migrator).Authenticate},
		{"forgot password", (*migrate.Migrator).ForgotPassword},
	} {
		t.Run(flow.name, func(t *testing.T) {
			m := migrate.New(&fakePool{user: other}, fakeNewPool{}, rules)
			d, err := flow.decide(m, ctx, migrate.Request{NewPoolID: "p", Username: "alice", Password: "Correct-1"})
			if err != nil || d.Migrate || d.Reason != migrate.OutOfScope || d.Attributes != nil {
				t.Errorf("%s for another tenant = %+v, %v; want declined out_of_scope", flow.name, d, err)
			}
			m = migrate.New(&fakePool{user: confirmedUser(aliceAttrs)}, fakeNewPool{}, rules)
			d, err = flow.decide(m, ctx, migrate.Request{NewPoolID: "p", Username: "alice", Password: "Correct-1"})
			if err != nil || !d.Migrate || d.Attributes["custom:tenant"] != "acme" {
				t.Errorf("%s for acme = %+v, %v; want migrated", flow.name, d, err)
			}
		})
	}
}

func TestOutOfScopeIsAReason(t *testing.T) {
	found := false
	for _, r := range migrate.Reasons() {
		found = found || r == migrate.OutOfScope
	}
	if !found || migrate.OutOfScope != "out_of_scope" {
		t.Errorf("Reasons() lacks %q", migrate.OutOfScope)
	}
}

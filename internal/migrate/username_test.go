package migrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

func TestAcceptableUsername(t *testing.T) {
	for name, want := range map[string]bool{
		"alice":                        true,
		"alice@example.com":            true,
		"Alice.O'Neil+test@ex.co.uk":   true,
		"+447700900123":                true,
		"名前":                           true,
		"José":                         true,
		"e\u0301":                      true, // a combining mark
		"€$^`|~<>":                     true,
		strings.Repeat("a", 128):       true,
		strings.Repeat("é", 128):       true, // characters, not bytes
		"":                             false,
		strings.Repeat("a", 129):       false,
		"alice smith":                  false,
		"alice ":                       false,
		"tab\there":                    false,
		"line\nbreak":                  false,
		"no\u00a0break":                false,
		"zero\u200bwidth":              false,
		"nul\x00":                      false,
		"bad\xffutf8":                  false,
		"correct horse battery staple": false,
	} {
		if got := migrate.AcceptableUsername(name); got != want {
			t.Errorf("AcceptableUsername(%q) = %v, want %v", name, got, want)
		}
	}
}

// A name AdminGetUser can never accept is declined like an unknown user,
// in both flows and with several old pools, before any old-pool call: its
// InvalidParameterException would otherwise count as a configuration fault.
func TestUnacceptableNameDeclinedBeforeAnyCall(t *testing.T) {
	typed := []string{"my secret password", strings.Repeat("x", 129), "tab\there"}
	alice := migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusConfirmed,
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}}
	check := func(t *testing.T, flow string, d migrate.Decision, err error, calls []string) {
		t.Helper()
		if err != nil || d.Migrate || d.Reason != migrate.UserNotFound || d.Detail != migrate.DetailNotAUsername || d.NameKnown {
			t.Errorf("%s = %+v, %v; want a user_not_found decline, %q, name not known", flow, d, err, migrate.DetailNotAUsername)
		}
		if len(calls) != 0 {
			t.Errorf("%s called the old pool: %v", flow, calls)
		}
	}
	for _, name := range typed {
		pool := &fakePool{user: alice}
		m := migrate.New(pool, fakeNewPool{}, migrate.Rules{})
		d, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: name, Password: "pw"})
		check(t, "Authenticate", d, err, pool.calls)
		d, err = m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: name})
		check(t, "ForgotPassword", d, err, pool.calls)

		acme, globex := newDirectory(alice), newDirectory()
		merge := migrate.NewMerge(source("1", acme, ""), source("2", globex, ""))
		d, err = merge.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: name, Password: "pw"})
		check(t, "merge Authenticate", d, err, append(acme.calls, globex.calls...))
		d, err = merge.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: name})
		check(t, "merge ForgotPassword", d, err, append(acme.calls, globex.calls...))
	}
	// The empty name stays empty_input.
	d, _ := migrate.New(&fakePool{}, fakeNewPool{}, migrate.Rules{}).ForgotPassword(context.Background(), migrate.Request{})
	if d.Reason != migrate.EmptyInput {
		t.Errorf("empty name: reason %q, want empty_input", d.Reason)
	}
}

// The sign-up guard never asks the old pool for a username no Cognito user
// can have; the email and phone lookups still run.
func TestSignUpGuardSkipsUnacceptableUsername(t *testing.T) {
	f := &fakeFinder{}
	g := migrate.NewSignUpGuard(f, fakeNewPool{cfg: &migrate.PoolConfig{CaseSensitive: true, AliasAttributes: []string{"email"}}}, "")
	d, err := g.Check(context.Background(), migrate.SignUp{NewPoolID: "p", Username: "two words",
		Attributes: map[string]string{"email": "bob@example.com"}})
	if err != nil || d.Refuse || d.Reason != migrate.NoOldUser {
		t.Fatalf("Check() = %+v, %v; want no_old_user", d, err)
	}
	for _, a := range f.asked {
		if strings.HasPrefix(a, "username ") {
			t.Errorf("the guard looked up the username: %q", a)
		}
	}
	if len(f.asked) != 1 {
		t.Errorf("lookups = %q, want the email only", f.asked)
	}
}

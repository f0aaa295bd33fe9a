package migrate_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Old username pools often hold users who chose their email address as
// username, with the same address in their email attribute. Moving to a pool
// that signs in by email, the address they type is both their old username
// and their email: it must be taken as the email the new pool signs in with,
// not declined as an unusable username. Both sign-in and forgot password.
func TestEmailUsernameIntoEmailAsUsernamePool(t *testing.T) {
	user := migrate.User{Username: "bob@example.com", Enabled: true, Status: migrate.StatusConfirmed,
		Attributes: map[string]string{"sub": "s-1", "email": "bob@example.com", "email_verified": "true"}}
	tests := []struct {
		name          string
		caseSensitive bool
		stored, typed string
		want          migrate.Decision
	}{
		{name: "exact", stored: "bob@example.com", typed: "bob@example.com",
			want: migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "bob@example.com",
				Attributes: map[string]string{"email": "bob@example.com", "email_verified": "true"}}},
		{name: "other case, case-insensitive pool", stored: "Bob@example.com", typed: "bob@example.com",
			want: migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "Bob@example.com",
				Attributes: map[string]string{"email": "bob@example.com", "email_verified": "true"}}},
		{name: "other case, case-sensitive pool: two spellings, declined", caseSensitive: true,
			stored: "Bob@example.com", typed: "bob@example.com",
			want: migrate.Decision{Reason: migrate.AliasCaseMismatch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := user
			u.Username = tt.stored
			u.Attributes = map[string]string{"sub": "s-1", "email": tt.stored, "email_verified": "true"}
			cfg := migrate.PoolConfig{Attributes: schema(), UsernameAttributes: []string{"email"}, CaseSensitive: tt.caseSensitive}
			m := migrate.New(&fakePool{user: u}, fakeNewPool{cfg: &cfg}, migrate.Rules{})
			got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: tt.typed, Password: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want.Migrate {
				want.FinalStatus = migrate.FinalConfirmed
			}
			if diff := cmp.Diff(want, got, ignoreNameKnown); diff != "" {
				t.Errorf("Authenticate(%q) mismatch (-want +got):\n%s", tt.typed, diff)
			}
			got, err = m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: tt.typed})
			if err != nil {
				t.Fatal(err)
			}
			want.FinalStatus = ""
			if diff := cmp.Diff(want, got, ignoreNameKnown); diff != "" {
				t.Errorf("ForgotPassword(%q) mismatch (-want +got):\n%s", tt.typed, diff)
			}
		})
	}
}

// A verified flag vouches for one address. When ATTRIBUTE_MAP (or
// LEGACY_SUB_ATTRIBUTE) puts another value into email or phone_number, the
// old flag does not describe it: sending it would have the new pool send
// reset codes to an address nobody proved, and forgot password would move
// a user whose only "verified" contact was never verified.
func TestVerifiedFlagDoesNotFollowARenamedAddress(t *testing.T) {
	cfg := migrate.PoolConfig{Attributes: schema("custom:work_email", "custom:mobile"), CaseSensitive: true}
	user := confirmedUser(map[string]string{
		"email": "alice@example.com", "email_verified": "true", "custom:work_email": "alice@work.example",
		"phone_number": "+15550100", "phone_number_verified": "true", "custom:mobile": "+15550199",
	})
	rules := migrate.Rules{Rename: map[string]string{"custom:work_email": "email", "custom:mobile": "phone_number"}}
	m := migrate.New(&fakePool{user: user}, fakeNewPool{cfg: &cfg}, rules)

	got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	want := migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "alice", ResponseUsername: "alice",
		FinalStatus: migrate.FinalConfirmed,
		Attributes:  map[string]string{"email": "alice@work.example", "phone_number": "+15550199"},
		Dropped:     []string{"email_verified", "phone_number_verified"},
		Overwritten: []string{"email", "phone_number"}}
	if diff := cmp.Diff(want, got, ignoreNameKnown); diff != "" {
		t.Errorf("Authenticate mismatch (-want +got):\n%s", diff)
	}

	got, err = m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Migrate || got.Reason != migrate.NoVerifiedContact {
		t.Errorf("ForgotPassword = migrate %v, reason %q; want declined %q: no address it would send the code to was verified",
			got.Migrate, got.Reason, migrate.NoVerifiedContact)
	}

	// The same value renamed in is still the verified address.
	same := confirmedUser(map[string]string{"email": "alice@example.com", "email_verified": "true", "custom:work_email": "alice@example.com"})
	m = migrate.New(&fakePool{user: same}, fakeNewPool{cfg: &cfg}, migrate.Rules{Rename: map[string]string{"custom:work_email": "email"}})
	got, err = m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice"})
	if err != nil || !got.Migrate || got.Attributes["email_verified"] != "true" {
		t.Errorf("ForgotPassword with the same address renamed in = %+v, %v; want migrated with email_verified", got, err)
	}
}

// A user sent to a reset must be able to do it in the new pool: its account
// recovery setting decides where a code may go. A verified email does not
// help in a pool that recovers accounts by phone only, or by administrators
// only; such a user is treated as having no verified contact (item 4: no
// dead ends), whatever the flow.
func TestResetOnlyWhereTheNewPoolCanRecover(t *testing.T) {
	email := map[string]string{"email": "a@example.com", "email_verified": "true"}
	phone := map[string]string{"phone_number": "+15550100", "phone_number_verified": "true"}
	tests := []struct {
		name      string
		recovery  []string
		attrs     map[string]string
		reachable bool
	}{
		{"no setting (legacy): email", nil, email, true},
		{"no setting (legacy): phone", nil, phone, true},
		{"email recovery, verified email", []string{"verified_email"}, email, true},
		{"phone recovery only, verified email", []string{"verified_phone_number"}, email, false},
		{"phone then email, verified email", []string{"verified_phone_number", "verified_email"}, email, true},
		{"email recovery only, verified phone", []string{"verified_email"}, phone, false},
		{"administrators only", []string{"admin_only"}, email, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := migrate.PoolConfig{Attributes: schema(), CaseSensitive: true, Recovery: tt.recovery,
				Password: migrate.PasswordPolicy{MinimumLength: 20}}
			user := confirmedUser(tt.attrs)

			// Forgot password: the new pool must be able to send the code.
			m := migrate.New(&fakePool{user: user}, fakeNewPool{cfg: &cfg}, migrate.Rules{})
			got, err := m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Migrate != tt.reachable || (!tt.reachable && got.Reason != migrate.NoVerifiedContact) {
				t.Errorf("ForgotPassword = migrate %v, reason %q; want migrate %v", got.Migrate, got.Reason, tt.reachable)
			}

			// A password that fails the policy: a reset only when it can be done.
			m = migrate.New(&fakePool{user: user}, fakeNewPool{cfg: &cfg}, migrate.Rules{EnforcePasswordPolicy: true})
			got, err = m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: "short"})
			if err != nil {
				t.Fatal(err)
			}
			want := migrate.FinalConfirmed
			if tt.reachable {
				want = migrate.FinalResetRequired
			}
			if !got.Migrate || got.FinalStatus != want {
				t.Errorf("Authenticate with a password failing the policy = migrate %v, %q; want %q", got.Migrate, got.FinalStatus, want)
			}

			// A temporary password: declined rather than a reset nobody can finish.
			m = migrate.New(&fakePool{user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusForceChangePassword, Attributes: tt.attrs},
				signIn: migrate.SignIn{Challenge: "NEW_PASSWORD_REQUIRED"}}, fakeNewPool{cfg: &cfg}, migrate.Rules{})
			got, err = m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: "Temp-pass-1"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Migrate != tt.reachable {
				t.Errorf("Authenticate with a temporary password = migrate %v (%q), want %v", got.Migrate, got.Reason, tt.reachable)
			}
		})
	}
}

// A proof is about one user. When the old pool says the password it checked
// was another user's than the one the lookup of the same name returned (two
// users answering to one name: an alias of one that is the other's name,
// however the old pool came to allow it), nothing is proven about the user
// that would be created: declined, and the typed name is not logged.
func TestSignInForAnotherUserProvesNothing(t *testing.T) {
	cfg := migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email"}, CaseSensitive: true}
	victim := confirmedUser(map[string]string{"email": "alice@example.com", "email_verified": "true"})
	for _, mode := range migrate.LookupModes() {
		for _, signIn := range []migrate.SignIn{{Username: "mallory"}, {Username: "mallory", Challenge: "NEW_PASSWORD_REQUIRED"}} {
			m := migrate.New(&fakePool{user: victim, signIn: signIn}, fakeNewPool{cfg: &cfg}, migrate.Rules{}, migrate.WithLookup(mode))
			got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice@example.com", Password: "mallorys-password"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Migrate || got.Reason != migrate.UserNotFound || got.NameKnown {
				t.Errorf("%s, %+v: Authenticate = migrate %v, reason %q, name known %v; want declined %q, name not known",
					mode, signIn, got.Migrate, got.Reason, got.NameKnown, migrate.UserNotFound)
			}
		}
	}
	// The same user, as the old pool names it: migrated.
	m := migrate.New(&fakePool{user: victim, signIn: migrate.SignIn{Username: "alice"}}, fakeNewPool{cfg: &cfg}, migrate.Rules{})
	got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice@example.com", Password: "pw"})
	if err != nil || !got.Migrate {
		t.Errorf("Authenticate for the signed-in user = %+v, %v; want migrated", got, err)
	}
}

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

package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/e2e/rehearsal"
)

// A split with a canary inside it, on cognito-local: the new pool is
// tenant acme's, and only the listed acme users may move yet. A user of
// another tenant with the right password cannot migrate into it, even when
// listed; an acme user not listed waits. (Forgot password is checked on the
// wire fake in cmd/migrate-trigger: cognito-local never migrates on it.)
func TestScopeSplitAndCanaryEndToEnd(t *testing.T) {
	r := start(t, map[string]string{"MIGRATE_ONLY": "custom:tenant=acme;user:alice,Carol@Acme.com,bruno"})
	ctx := context.Background()
	user := func(name, tenant string) rehearsal.OldUser {
		return rehearsal.OldUser{Username: name, Password: name + "-Passw0rd!", Attributes: map[string]string{
			"email": name + "@acme.com", "email_verified": "true", "custom:tenant": tenant}}
	}
	users := []rehearsal.OldUser{user("alice", "acme"), user("carol", "acme"), user("dave", "acme"), user("bruno", "globex")}
	for _, u := range users {
		if err := r.AddOldUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		user string
		want bool
	}{{"alice", true}, {"carol", true}, {"dave", false}, {"bruno", false}} {
		before := len(r.Decisions())
		err := r.SignIn(ctx, tt.user, tt.user+"-Passw0rd!")
		got, lookErr := r.NewUser(ctx, tt.user)
		if tt.want {
			if err != nil || lookErr != nil || got["custom:tenant"] != "acme" {
				t.Errorf("%s: sign-in %v, new pool %v, %v; want migrated with tenant acme", tt.user, err, got, lookErr)
			}
			continue
		}
		if err == nil || !errors.Is(lookErr, rehearsal.ErrNotInNewPool) {
			t.Errorf("%s: sign-in %v, new pool %v; want refused and not created", tt.user, err, lookErr)
		}
		ds := r.Decisions()
		if len(ds) != before+1 || ds[len(ds)-1]["reason"] != "out_of_scope" {
			t.Errorf("%s: decisions %v, want one out_of_scope", tt.user, ds[before:])
		}
	}
}

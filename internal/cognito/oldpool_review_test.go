package cognito_test

import (
	"context"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// The adapter says whose password the old pool checked: the real username
// from the tokens (an alias sign-in included) or from the challenge, so the
// decision can refuse a proof about another user than the one it creates.
func TestSignInNamesTheSignedInUser(t *testing.T) {
	for _, tt := range []struct {
		name  string
		pool  cognitotest.Pool
		user  cognitotest.User
		typed string
	}{
		{"tokens", cognitotest.Pool{}, user("alice"), "alice"},
		{"tokens, alias sign-in", cognitotest.Pool{AliasAttributes: []string{"email"}}, user("alice"), "alice@example.com"},
		{"challenge", cognitotest.Pool{}, user("alice", func(u *cognitotest.User) { u.Challenge = "SOFTWARE_TOKEN_MFA" }), "alice"},
		{"temporary password", cognitotest.Pool{}, user("alice", func(u *cognitotest.User) { u.Status = "FORCE_CHANGE_PASSWORD" }), "alice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := oldPool(t, tt.pool, "", tt.user)
			got, err := p.SignIn(context.Background(), tt.typed, password)
			if err != nil {
				t.Fatal(err)
			}
			if got.Username != "alice" {
				t.Errorf("SignIn(%q).Username = %q, want %q", tt.typed, got.Username, "alice")
			}
		})
	}
}

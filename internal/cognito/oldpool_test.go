package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

const (
	poolID   = "eu-west-1_OldPool1"
	clientID = "7f3k2j1h0g9f8e7d6c5b4a3z2y"
	secret   = "1ab2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6"
	password = "Corr3ct-Horse-Battery"
)

// oldPool starts a fake old pool with one app client (with clientSecret, if
// any) and the given users, and returns the adapter and the fake.
func oldPool(t *testing.T, pool cognitotest.Pool, clientSecret string, users ...cognitotest.User) (*cognito.OldPool, *cognitotest.Fake) {
	t.Helper()
	f := cognitotest.New(t)
	pool.ID = poolID
	f.AddPool(pool)
	f.AddClient(cognitotest.AppClient{PoolID: poolID, ID: clientID, Secret: clientSecret, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	for _, u := range users {
		f.AddUser(poolID, u)
	}
	client := f.Client(func(o *cip.Options) { o.Retryer = awsconfig.NewRetryer() })
	return cognito.NewOldPool(client, poolID, clientID, clientSecret), f
}

func user(name string, mutate ...func(*cognitotest.User)) cognitotest.User {
	u := cognitotest.User{
		Username: name, Password: password, Enabled: true, Status: "CONFIRMED",
		Attributes: map[string]string{
			"sub": "11111111-2222-4333-8444-555555555555", "email": name + "@example.com", "email_verified": "true",
			"given_name": "Alice", "custom:tenant": "acme",
		},
	}
	for _, m := range mutate {
		m(&u)
	}
	return u
}

func TestSignIn(t *testing.T) {
	tests := []struct {
		name     string
		pool     cognitotest.Pool
		user     cognitotest.User
		username string
		password string
		want     migrate.SignIn
		wantErr  error // a migrate outcome; nil for success
	}{
		{name: "right password: tokens", user: user("alice"), username: "alice", password: password},
		{name: "wrong password", user: user("alice"), username: "alice", password: "wrong", wantErr: migrate.ErrBadCredentials},
		{name: "unknown user, LEGACY", user: user("alice"), username: "bob", password: password, wantErr: migrate.ErrUserNotFound},
		{name: "unknown user, prevent user existence errors", pool: cognitotest.Pool{PreventUserExistenceErrors: true},
			user: user("alice"), username: "bob", password: password, wantErr: migrate.ErrBadCredentials},
		{name: "disabled", user: user("alice", func(u *cognitotest.User) { u.Enabled = false }),
			username: "alice", password: password, wantErr: migrate.ErrBadCredentials},
		{name: "reset required", user: user("alice", func(u *cognitotest.User) { u.Status = "RESET_REQUIRED" }),
			username: "alice", password: password, wantErr: migrate.ErrPasswordResetRequired},
		{name: "unconfirmed", user: user("alice", func(u *cognitotest.User) { u.Status = "UNCONFIRMED" }),
			username: "alice", password: password, wantErr: migrate.ErrUserNotConfirmed},
		{name: "temporary password", user: user("alice", func(u *cognitotest.User) { u.Status = "FORCE_CHANGE_PASSWORD" }),
			username: "alice", password: password, want: migrate.SignIn{Challenge: "NEW_PASSWORD_REQUIRED"}},
		{name: "alias sign-in", pool: cognitotest.Pool{AliasAttributes: []string{"email"}}, user: user("alice"),
			username: "alice@example.com", password: password},
	}
	for _, challenge := range []string{"SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP", "SELECT_MFA_TYPE", "MFA_SETUP"} {
		tests = append(tests, struct {
			name     string
			pool     cognitotest.Pool
			user     cognitotest.User
			username string
			password string
			want     migrate.SignIn
			wantErr  error
		}{name: "challenge " + challenge, user: user("alice", func(u *cognitotest.User) { u.Challenge = challenge }),
			username: "alice", password: password, want: migrate.SignIn{Challenge: challenge}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := oldPool(t, tt.pool, "", tt.user)
			got, err := p.SignIn(context.Background(), tt.username, tt.password)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SignIn(%q) error = %v, want %v", tt.username, err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("SignIn(%q) error = %v", tt.username, err)
			}
			if tt.wantErr == nil {
				tt.want.Username = tt.user.Username // whose password it was
			}
			if got != tt.want {
				t.Errorf("SignIn(%q) = %+v, want %+v", tt.username, got, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error holds the password: %v", err)
			}
		})
	}
}

func TestSignInWithClientSecret(t *testing.T) {
	t.Run("SECRET_HASH sent and accepted", func(t *testing.T) {
		p, f := oldPool(t, cognitotest.Pool{AliasAttributes: []string{"email"}}, secret, user("alice"))
		if _, err := p.SignIn(context.Background(), "alice@example.com", password); err != nil {
			t.Fatalf("SignIn() error = %v", err)
		}
		// Computed independently (Python hmac) for this secret, the USERNAME
		// as sent (the alias) and the client id.
		const want = "XuhAYjVAcdx+KXgrl8bgB6Jh88ZBzgd7PrnL/pXzufs="
		params := f.Calls()[0].Input["AuthParameters"].(map[string]any)
		if params["SECRET_HASH"] != want {
			t.Errorf("SECRET_HASH = %v, want %v", params["SECRET_HASH"], want)
		}
		if got := cognito.SecretHash([]byte(secret), "alice@example.com", clientID); got != want {
			t.Errorf("SecretHash() = %v, want %v", got, want)
		}
	})
	t.Run("no SECRET_HASH without a secret", func(t *testing.T) {
		p, f := oldPool(t, cognitotest.Pool{}, "", user("alice"))
		if _, err := p.SignIn(context.Background(), "alice", password); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.Calls()[0].Input["AuthParameters"].(map[string]any)["SECRET_HASH"]; ok {
			t.Error("SECRET_HASH sent for a client without a secret")
		}
	})
	for name, configured := range map[string]string{"secret missing": "", "secret wrong": "not-the-secret"} {
		t.Run(name+" is a configuration fault, not a decline", func(t *testing.T) {
			f := cognitotest.New(t)
			f.AddPool(cognitotest.Pool{ID: poolID})
			f.AddClient(cognitotest.AppClient{PoolID: poolID, ID: clientID, Secret: secret, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
			f.AddUser(poolID, user("alice"))
			p := cognito.NewOldPool(f.Client(), poolID, clientID, configured)
			_, err := p.SignIn(context.Background(), "alice", password)
			if err == nil || errors.Is(err, migrate.ErrBadCredentials) {
				t.Fatalf("SignIn() error = %v, want a fault", err)
			}
			if k := migrate.KindOf(err); k != migrate.FaultConfiguration {
				t.Errorf("Kind() = %q, want %q", k, migrate.FaultConfiguration)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), password) {
				t.Errorf("error holds a secret: %v", err)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     cognitotest.Fault
		wantKind  migrate.FaultKind
		wantCalls int
	}{
		{"throttled, every retry", cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded", Status: 400}, migrate.FaultThrottled, awsconfig.MaxAttempts},
		{"internal error", cognitotest.Fault{ErrorType: "InternalErrorException", Message: "boom", Status: 500}, migrate.FaultUnavailable, awsconfig.MaxAttempts},
		{"connection reset", cognitotest.Fault{ResetConn: true}, migrate.FaultUnavailable, awsconfig.MaxAttempts},
		{"malformed JSON", cognitotest.Fault{RawBody: `{"AuthenticationResult": {`, Status: 200}, migrate.FaultUnavailable, 1},
		{"access denied", cognitotest.Fault{ErrorType: "AccessDeniedException", Message: "not authorized to perform cognito-idp:AdminInitiateAuth", Status: 400}, migrate.FaultConfiguration, 1},
		{"pool gone", cognitotest.Fault{ErrorType: "ResourceNotFoundException", Message: "User pool does not exist.", Status: 400}, migrate.FaultConfiguration, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := oldPool(t, cognitotest.Pool{}, "", user("alice"))
			f.SetFault("AdminInitiateAuth", tt.fault)
			_, err := p.SignIn(context.Background(), "alice", password)
			for _, o := range []error{migrate.ErrBadCredentials, migrate.ErrUserNotFound, migrate.ErrPasswordResetRequired, migrate.ErrUserNotConfirmed} {
				if errors.Is(err, o) {
					t.Fatalf("SignIn() error = %v: a fault must not look like a refusal", err)
				}
			}
			if err == nil {
				t.Fatal("SignIn() succeeded, want a fault")
			}
			if k := migrate.KindOf(err); k != tt.wantKind {
				t.Errorf("Kind(%v) = %q, want %q", err, k, tt.wantKind)
			}
			if n := f.CallCount("AdminInitiateAuth"); n != tt.wantCalls {
				t.Errorf("AdminInitiateAuth calls = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestInvalidPasswordIsARefusal(t *testing.T) {
	p, f := oldPool(t, cognitotest.Pool{}, "", user("alice"))
	f.SetFault("AdminInitiateAuth", cognitotest.Fault{ErrorType: "InvalidPasswordException", Message: "Invalid password", Status: 400})
	if _, err := p.SignIn(context.Background(), "alice", "wrong"); !errors.Is(err, migrate.ErrBadCredentials) {
		t.Errorf("SignIn() error = %v, want %v", err, migrate.ErrBadCredentials)
	}
}

func TestHangEndsAtTheDeadline(t *testing.T) {
	p, f := oldPool(t, cognitotest.Pool{}, "", user("alice"))
	f.SetFault("AdminInitiateAuth", cognitotest.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := p.SignIn(ctx, "alice", password)
	if k := migrate.KindOf(err); k != migrate.FaultTimeout {
		t.Errorf("Kind(%v) = %q, want %q", err, k, migrate.FaultTimeout)
	}
}

func TestGetUser(t *testing.T) {
	p, _ := oldPool(t, cognitotest.Pool{AliasAttributes: []string{"email"}}, "", user("alice", func(u *cognitotest.User) {
		u.Enabled = false
		u.Status = "UNCONFIRMED"
	}))
	want := migrate.User{Username: "alice", Enabled: false, Status: "UNCONFIRMED", Attributes: map[string]string{
		"sub": "11111111-2222-4333-8444-555555555555", "email": "alice@example.com", "email_verified": "true",
		"given_name": "Alice", "custom:tenant": "acme",
	}}
	for _, name := range []string{"alice", "alice@example.com"} {
		got, err := p.GetUser(context.Background(), name)
		if err != nil {
			t.Fatalf("GetUser(%q) error = %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetUser(%q) mismatch (-want +got):\n%s", name, diff)
		}
	}
	if _, err := p.GetUser(context.Background(), "bob"); !errors.Is(err, migrate.ErrUserNotFound) {
		t.Errorf("GetUser(bob) error = %v, want %v", err, migrate.ErrUserNotFound)
	}
}

func TestGetUserMFA(t *testing.T) {
	p, _ := oldPool(t, cognitotest.Pool{}, "", user("alice", func(u *cognitotest.User) {
		u.MFASettings = []string{"SMS_MFA", "SOFTWARE_TOKEN_MFA"}
	}))
	got, err := p.GetUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"SMS_MFA", "SOFTWARE_TOKEN_MFA"}, got.MFA); diff != "" {
		t.Errorf("MFA (-want +got):\n%s", diff)
	}
}

func TestRulesErrorsAreConfigurationFaults(t *testing.T) {
	err := fmt.Errorf("decide: %w", &migrate.ConfigError{Setting: "LEGACY_SUB_ATTRIBUTE", Problem: "missing"})
	if k := migrate.KindOf(err); k != migrate.FaultConfiguration {
		t.Errorf("Kind() = %q, want %q", k, migrate.FaultConfiguration)
	}
}

// permissiveNewPool is a username pool that accepts every attribute the
// test users have.
type permissiveNewPool struct{}

func (permissiveNewPool) Config(context.Context, string) (migrate.PoolConfig, error) {
	return migrate.PoolConfig{Attributes: map[string]migrate.AttributeSpec{
		"sub": {Required: true}, "email": {}, "email_verified": {}, "given_name": {}, "custom:tenant": {},
	}, CaseSensitive: true, MFA: "OFF"}, nil
}

// The decision and the adapter together, against the wire: one round trip
// on the critical path, and the old pool's refusals become declines.
func TestMigratorOverTheWire(t *testing.T) {
	t.Run("sign-in and lookup overlap in time", func(t *testing.T) {
		p, f := oldPool(t, cognitotest.Pool{}, "", user("alice"))
		f.SetLatency(50 * time.Millisecond)
		d, err := migrate.New(p, permissiveNewPool{}, migrate.Rules{}).Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: password})
		if err != nil || !d.Migrate {
			t.Fatalf("Authenticate() = %+v, %v; want migrated", d, err)
		}
		calls := f.Calls()
		if len(calls) != 2 {
			t.Fatalf("old pool calls = %d, want 2 (sign-in and lookup)", len(calls))
		}
		a, b := calls[0], calls[1]
		if !a.Start.Before(b.End) || !b.Start.Before(a.End) {
			t.Errorf("calls did not overlap: %s %v-%v, %s %v-%v", a.Operation, a.Start, a.End, b.Operation, b.Start, b.End)
		}
	})
	t.Run("disabled user with the right password", func(t *testing.T) {
		p, _ := oldPool(t, cognitotest.Pool{}, "", user("alice", func(u *cognitotest.User) { u.Enabled = false }))
		d, err := migrate.New(p, permissiveNewPool{}, migrate.Rules{}).Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: password})
		if err != nil || d.Migrate || d.Reason != migrate.BadCredentials {
			t.Errorf("Authenticate() = %+v, %v; want declined", d, err)
		}
	})
	t.Run("MFA user", func(t *testing.T) {
		p, _ := oldPool(t, cognitotest.Pool{}, "", user("alice", func(u *cognitotest.User) { u.Challenge = "SOFTWARE_TOKEN_MFA" }))
		d, err := migrate.New(p, permissiveNewPool{}, migrate.Rules{}).Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: password})
		if err != nil || d.Migrate || d.Reason != migrate.ChallengeRequired {
			t.Errorf("Authenticate() = %+v, %v; want declined for the challenge", d, err)
		}
	})
	t.Run("forgot password: one lookup, no sign-in", func(t *testing.T) {
		p, f := oldPool(t, cognitotest.Pool{}, "", user("alice"))
		d, err := migrate.New(p, permissiveNewPool{}, migrate.Rules{}).ForgotPassword(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice"})
		if err != nil || !d.Migrate {
			t.Fatalf("ForgotPassword() = %+v, %v", d, err)
		}
		if n, m := f.CallCount("AdminGetUser"), f.CallCount("AdminInitiateAuth"); n != 1 || m != 0 {
			t.Errorf("calls: AdminGetUser %d, AdminInitiateAuth %d; want 1 and 0", n, m)
		}
	})
}

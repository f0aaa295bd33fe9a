package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// fakePool is an OldPool whose answers are set per test.
type fakePool struct {
	signIn    migrate.SignIn
	signInErr error
	user      migrate.User
	getErr    error

	// bothStarted, when set, makes each call wait until the other one has
	// started, so a sequential implementation deadlocks and fails.
	bothStarted *sync.WaitGroup

	mu    sync.Mutex
	calls []string
}

func (p *fakePool) record(call string) {
	p.mu.Lock()
	p.calls = append(p.calls, call)
	p.mu.Unlock()
	if p.bothStarted != nil {
		p.bothStarted.Done()
		p.bothStarted.Wait()
	}
}

func (p *fakePool) SignIn(ctx context.Context, username, password string) (migrate.SignIn, error) {
	p.record("SignIn " + username)
	return p.signIn, p.signInErr
}

func (p *fakePool) GetUser(ctx context.Context, username string) (migrate.User, error) {
	p.record("GetUser " + username)
	return p.user, p.getErr
}

// standardSchema is every standard attribute of a Cognito pool, plus
// custom:tenant.
var standardSchema = func() map[string]migrate.AttributeSpec {
	m := map[string]migrate.AttributeSpec{}
	for _, n := range []string{"sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale",
		"phone_number", "phone_number_verified", "address", "updated_at", "custom:tenant"} {
		m[n] = migrate.AttributeSpec{}
	}
	m["sub"] = migrate.AttributeSpec{Required: true}
	return m
}()

// fakeNewPool describes the new pool: cfg, or a username pool with the
// standard schema when cfg is nil.
type fakeNewPool struct {
	cfg *migrate.PoolConfig
	err error
}

func (f fakeNewPool) Config(ctx context.Context, poolID string) (migrate.PoolConfig, error) {
	if f.err != nil {
		return migrate.PoolConfig{}, f.err
	}
	if f.cfg != nil {
		return *f.cfg, nil
	}
	return migrate.PoolConfig{Attributes: standardSchema, CaseSensitive: true, MFA: "OFF"}, nil
}

func confirmedUser(attrs map[string]string) migrate.User {
	return migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusConfirmed, Attributes: attrs}
}

var aliceAttrs = map[string]string{
	"sub":            "0b6f4c9e-0000-4000-8000-000000000001",
	"email":          "alice@example.com",
	"email_verified": "true",
	"given_name":     "Alice",
	"custom:tenant":  "acme",
	"identities":     `[{"providerName":"Google"}]`,
	"cognito:mfa":    "x",
}

// aliceTransferable is aliceAttrs without the names Cognito will not accept.
var aliceTransferable = map[string]string{
	"email":          "alice@example.com",
	"email_verified": "true",
	"given_name":     "Alice",
	"custom:tenant":  "acme",
}

func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name string
		pool *fakePool
		want migrate.Decision
	}{
		{
			name: "tokens and an enabled confirmed user migrate as CONFIRMED with every settable attribute",
			pool: &fakePool{user: confirmedUser(aliceAttrs)},
			want: migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "alice", ResponseUsername: "alice",
				Attributes: aliceTransferable, FinalStatus: migrate.FinalConfirmed},
		},
		{
			name: "verified flags are copied as they are, never invented",
			pool: &fakePool{user: confirmedUser(map[string]string{"email": "a@example.com", "email_verified": "false", "phone_number": "+15550100"})},
			want: migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "alice", ResponseUsername: "alice",
				Attributes:  map[string]string{"email": "a@example.com", "email_verified": "false", "phone_number": "+15550100"},
				FinalStatus: migrate.FinalConfirmed},
		},
		{
			name: "wrong password",
			pool: &fakePool{signInErr: fmt.Errorf("admin initiate auth: %w", migrate.ErrBadCredentials), user: confirmedUser(aliceAttrs)},
			want: migrate.Decision{Reason: migrate.BadCredentials},
		},
		{
			name: "unknown user",
			pool: &fakePool{signInErr: fmt.Errorf("x: %w", migrate.ErrUserNotFound), getErr: migrate.ErrUserNotFound},
			want: migrate.Decision{Reason: migrate.UserNotFound},
		},
		{
			name: "password reset required in the old pool",
			pool: &fakePool{signInErr: migrate.ErrPasswordResetRequired},
			want: migrate.Decision{Reason: migrate.PasswordResetNeeded},
		},
		{
			name: "unconfirmed refused at sign-in",
			pool: &fakePool{signInErr: migrate.ErrUserNotConfirmed},
			want: migrate.Decision{Reason: migrate.UserNotConfirmed},
		},
		{
			name: "tokens but the user is disabled: the lookup is trusted, not the sign-in",
			pool: &fakePool{user: migrate.User{Username: "alice", Enabled: false, Status: migrate.StatusConfirmed, Attributes: aliceAttrs}},
			want: migrate.Decision{Reason: migrate.UserDisabled},
		},
		{
			name: "tokens but the user is unconfirmed",
			pool: &fakePool{user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusUnconfirmed}},
			want: migrate.Decision{Reason: migrate.UserNotConfirmed},
		},
		{
			name: "tokens but the user must reset their password",
			pool: &fakePool{user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusResetRequired}},
			want: migrate.Decision{Reason: migrate.PasswordResetNeeded},
		},
		{
			name: "tokens but a status we do not know",
			pool: &fakePool{user: migrate.User{Username: "alice", Enabled: true, Status: "COMPROMISED"}},
			want: migrate.Decision{Reason: migrate.UnsupportedStatus, Detail: "COMPROMISED"},
		},
		{
			name: "MFA challenge is not success",
			pool: &fakePool{signIn: migrate.SignIn{Challenge: "SOFTWARE_TOKEN_MFA"}, user: confirmedUser(aliceAttrs)},
			want: migrate.Decision{Reason: migrate.ChallengeRequired, Detail: "SOFTWARE_TOKEN_MFA"},
		},
		{
			name: "SMS MFA challenge is not success",
			pool: &fakePool{signIn: migrate.SignIn{Challenge: "SMS_MFA"}, user: confirmedUser(aliceAttrs)},
			want: migrate.Decision{Reason: migrate.ChallengeRequired, Detail: "SMS_MFA"},
		},
		{
			name: "a temporary password is never turned into CONFIRMED: it migrates as RESET_REQUIRED",
			pool: &fakePool{signIn: migrate.SignIn{Challenge: "NEW_PASSWORD_REQUIRED"},
				user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusForceChangePassword, Attributes: aliceAttrs}},
			want: migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "alice", ResponseUsername: "alice",
				Attributes: aliceTransferable, FinalStatus: migrate.FinalResetRequired, Detail: "NEW_PASSWORD_REQUIRED"},
		},
		{
			name: "a temporary password with only a verified phone migrates as RESET_REQUIRED",
			pool: &fakePool{signIn: migrate.SignIn{Challenge: "NEW_PASSWORD_REQUIRED"},
				user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusForceChangePassword,
					Attributes: map[string]string{"phone_number": "+15550100", "phone_number_verified": "true"}}},
			want: migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "alice", ResponseUsername: "alice",
				Attributes:  map[string]string{"phone_number": "+15550100", "phone_number_verified": "true"},
				FinalStatus: migrate.FinalResetRequired, Detail: "NEW_PASSWORD_REQUIRED"},
		},
		{
			name: "a temporary password without a verified email or phone is declined: a reset could never reach them",
			pool: &fakePool{signIn: migrate.SignIn{Challenge: "NEW_PASSWORD_REQUIRED"},
				user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusForceChangePassword,
					Attributes: map[string]string{"email": "a@example.com", "email_verified": "false", "phone_number": "+15550100"}}},
			want: migrate.Decision{Reason: migrate.NoVerifiedContact, Detail: "NEW_PASSWORD_REQUIRED"},
		},
		{
			name: "a temporary-password challenge for a user not in FORCE_CHANGE_PASSWORD",
			pool: &fakePool{signIn: migrate.SignIn{Challenge: "NEW_PASSWORD_REQUIRED"}, user: confirmedUser(aliceAttrs)},
			want: migrate.Decision{Reason: migrate.UnsupportedStatus, Detail: migrate.StatusConfirmed},
		},
		{
			name: "a custom challenge is declined",
			pool: &fakePool{signIn: migrate.SignIn{Challenge: "CUSTOM_CHALLENGE"}, user: confirmedUser(aliceAttrs)},
			want: migrate.Decision{Reason: migrate.ChallengeRequired, Detail: "CUSTOM_CHALLENGE"},
		},
		{
			name: "tokens but the lookup no longer finds the user",
			pool: &fakePool{getErr: fmt.Errorf("admin get user: %w", migrate.ErrUserNotFound)},
			want: migrate.Decision{Reason: migrate.UserNotFound, Detail: "after sign-in"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := migrate.New(tt.pool, fakeNewPool{}, migrate.Rules{})
			got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: "correct horse"})
			if err != nil {
				t.Fatalf("Authenticate() error = %v, want a decision", err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreNameKnown); diff != "" {
				t.Errorf("Authenticate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthenticateWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	wrong := migrate.New(&fakePool{signInErr: migrate.ErrBadCredentials, user: confirmedUser(aliceAttrs)}, fakeNewPool{}, migrate.Rules{})
	unknown := migrate.New(&fakePool{signInErr: migrate.ErrUserNotFound, getErr: migrate.ErrUserNotFound}, fakeNewPool{}, migrate.Rules{})
	a, errA := wrong.Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: "wrong"})
	b, errB := unknown.Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "nobody", Password: "wrong"})
	if errA != nil || errB != nil {
		t.Fatalf("errors = %v, %v; want none", errA, errB)
	}
	// Only the logged reason may differ: nothing the caller builds a response
	// from.
	a.Reason, b.Reason = "", ""
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("wrong password and unknown user differ (-wrong +unknown):\n%s", diff)
	}
	if a.Migrate || a.Attributes != nil {
		t.Errorf("declined decision carries a migration: %+v", a)
	}
}

func TestAuthenticateEmptyInputTouchesNothing(t *testing.T) {
	for _, in := range [][2]string{{"", "pw"}, {"alice", ""}} {
		pool := &fakePool{user: confirmedUser(aliceAttrs)}
		got, err := migrate.New(pool, fakeNewPool{}, migrate.Rules{}).Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: in[0], Password: in[1]})
		if err != nil || got.Migrate || got.Reason != migrate.EmptyInput {
			t.Errorf("Authenticate(%q, %q) = %+v, %v; want declined %q", in[0], in[1], got, err, migrate.EmptyInput)
		}
		if len(pool.calls) != 0 {
			t.Errorf("Authenticate(%q, %q) called the old pool: %v", in[0], in[1], pool.calls)
		}
	}
}

func TestAuthenticateOneRoundTrip(t *testing.T) {
	// Each fake call waits for the other to start: this only completes when
	// sign-in and lookup are in flight together.
	var both sync.WaitGroup
	both.Add(2)
	pool := &fakePool{user: confirmedUser(aliceAttrs), bothStarted: &both}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := migrate.New(pool, fakeNewPool{}, migrate.Rules{}).Authenticate(ctx, migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: "pw"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Authenticate() error = %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Authenticate() did not send sign-in and lookup concurrently (deadlocked waiting for the second call)")
	}
}

func TestAuthenticateFaults(t *testing.T) {
	boom := errors.New("throttled")
	tests := []struct {
		name string
		pool *fakePool
	}{
		{"sign-in fault", &fakePool{signInErr: boom, user: confirmedUser(aliceAttrs)}},
		{"lookup fault after tokens", &fakePool{getErr: boom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := migrate.New(tt.pool, fakeNewPool{}, migrate.Rules{}).Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: "pw"})
			if !errors.Is(err, boom) {
				t.Fatalf("Authenticate() error = %v, want %v", err, boom)
			}
			if got.Migrate {
				t.Errorf("Authenticate() migrated on a fault: %+v", got)
			}
		})
	}
}

func TestAuthenticateLookupFaultIgnoredWhenSignInRefuses(t *testing.T) {
	// A failing lookup must not turn a wrong password into a fault (which
	// would answer differently from an unknown user).
	pool := &fakePool{signInErr: migrate.ErrBadCredentials, getErr: errors.New("throttled")}
	got, err := migrate.New(pool, fakeNewPool{}, migrate.Rules{}).Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: "pw"})
	if err != nil || got.Reason != migrate.BadCredentials {
		t.Errorf("Authenticate() = %+v, %v; want declined %q", got, err, migrate.BadCredentials)
	}
}

func TestForgotPassword(t *testing.T) {
	tests := []struct {
		name string
		pool *fakePool
		want migrate.Decision
	}{
		{
			name: "enabled confirmed user with a verified email moves without a final status",
			pool: &fakePool{user: confirmedUser(aliceAttrs)},
			want: migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "alice", ResponseUsername: "alice", Attributes: aliceTransferable},
		},
		{
			name: "a verified phone is enough",
			pool: &fakePool{user: confirmedUser(map[string]string{"phone_number": "+15550100", "phone_number_verified": "true", "email": "a@example.com", "email_verified": "false"})},
			want: migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "alice", ResponseUsername: "alice",
				Attributes: map[string]string{"phone_number": "+15550100", "phone_number_verified": "true", "email": "a@example.com", "email_verified": "false"}},
		},
		{
			name: "no verified email or phone: Cognito could not deliver the code",
			pool: &fakePool{user: confirmedUser(map[string]string{"email": "a@example.com", "email_verified": "false"})},
			want: migrate.Decision{Reason: migrate.NoVerifiedContact},
		},
		{
			name: "a verified flag without the address is no contact",
			pool: &fakePool{user: confirmedUser(map[string]string{"email_verified": "true"})},
			want: migrate.Decision{Reason: migrate.NoVerifiedContact},
		},
		{
			name: "disabled",
			pool: &fakePool{user: migrate.User{Username: "alice", Enabled: false, Status: migrate.StatusConfirmed, Attributes: aliceAttrs}},
			want: migrate.Decision{Reason: migrate.UserDisabled},
		},
		{
			name: "unconfirmed",
			pool: &fakePool{user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusUnconfirmed, Attributes: aliceAttrs}},
			want: migrate.Decision{Reason: migrate.UserNotConfirmed},
		},
		{
			name: "reset required",
			pool: &fakePool{user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusResetRequired, Attributes: aliceAttrs}},
			want: migrate.Decision{Reason: migrate.PasswordResetNeeded},
		},
		{
			name: "temporary password",
			pool: &fakePool{user: migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusForceChangePassword, Attributes: aliceAttrs}},
			want: migrate.Decision{Reason: migrate.UnsupportedStatus, Detail: migrate.StatusForceChangePassword},
		},
		{
			name: "unknown user",
			pool: &fakePool{getErr: fmt.Errorf("admin get user: %w", migrate.ErrUserNotFound)},
			want: migrate.Decision{Reason: migrate.UserNotFound},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := migrate.New(tt.pool, fakeNewPool{}, migrate.Rules{}).ForgotPassword(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice"})
			if err != nil {
				t.Fatalf("ForgotPassword() error = %v, want a decision", err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreNameKnown); diff != "" {
				t.Errorf("ForgotPassword() mismatch (-want +got):\n%s", diff)
			}
			if got.FinalStatus == migrate.FinalConfirmed {
				t.Errorf("ForgotPassword() final status CONFIRMED: no password was proven")
			}
			for _, c := range tt.pool.calls {
				if c != "GetUser alice" {
					t.Errorf("ForgotPassword() made call %q; only a lookup is allowed", c)
				}
			}
		})
	}
}

func TestForgotPasswordMFA(t *testing.T) {
	withMFA := func(attrs map[string]string, factors ...string) migrate.User {
		u := confirmedUser(attrs)
		u.MFA = factors
		return u
	}
	phone := map[string]string{"phone_number": "+15550100", "phone_number_verified": "true"}
	email := map[string]string{"email": "a@example.com", "email_verified": "true"}
	tests := []struct {
		name    string
		policy  migrate.MFAPolicy
		user    migrate.User
		poolMFA string
		want    migrate.Reason
		wantSMS bool
	}{
		{"default policy declines TOTP", "", withMFA(email, "SOFTWARE_TOKEN_MFA"), "OPTIONAL", migrate.MFARequired, false},
		{"deny declines SMS MFA", migrate.MFADeny, withMFA(phone, "SMS_MFA"), "OPTIONAL", migrate.MFARequired, false},
		{"deny declines email OTP", migrate.MFADeny, withMFA(email, "EMAIL_OTP"), "ON", migrate.MFARequired, false},
		{"deny declines any factor", migrate.MFADeny, withMFA(email, "SOFTWARE_TOKEN_MFA", "SMS_MFA"), "ON", migrate.MFARequired, false},
		{"deny moves a user without a factor", migrate.MFADeny, withMFA(email), "ON", migrate.Migrated, false},
		{"migrate: SMS user with a phone keeps SMS MFA", migrate.MFAMigrate, withMFA(phone, "SMS_MFA"), "OPTIONAL", migrate.Migrated, true},
		{"migrate: SMS MFA needs pool MFA", migrate.MFAMigrate, withMFA(phone, "SMS_MFA"), "OFF", migrate.Migrated, false},
		{"migrate: SMS MFA needs a phone number", migrate.MFAMigrate, withMFA(email, "SMS_MFA"), "ON", migrate.Migrated, false},
		{"migrate: TOTP cannot move, the user re-enrols", migrate.MFAMigrate, withMFA(email, "SOFTWARE_TOKEN_MFA"), "ON", migrate.Migrated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := migrate.PoolConfig{Attributes: standardSchema, CaseSensitive: true, MFA: tt.poolMFA}
			m := migrate.New(&fakePool{user: tt.user}, fakeNewPool{cfg: &cfg}, migrate.Rules{MFA: tt.policy})
			got, err := m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice"})
			if err != nil {
				t.Fatalf("ForgotPassword() error = %v", err)
			}
			if got.Reason != tt.want || got.Migrate != (tt.want == migrate.Migrated) || got.EnableSMSMFA != tt.wantSMS {
				t.Errorf("ForgotPassword() = reason %q, migrate %v, enableSMSMFA %v; want %q, %v",
					got.Reason, got.Migrate, got.EnableSMSMFA, tt.want, tt.wantSMS)
			}
			if got.Migrate && got.FinalStatus != "" {
				t.Errorf("ForgotPassword() final status %q, want none", got.FinalStatus)
			}
		})
	}
}

func TestForgotPasswordFault(t *testing.T) {
	boom := errors.New("connection reset")
	got, err := migrate.New(&fakePool{getErr: boom}, fakeNewPool{}, migrate.Rules{}).ForgotPassword(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice"})
	if !errors.Is(err, boom) || got.Migrate {
		t.Errorf("ForgotPassword() = %+v, %v; want fault %v", got, err, boom)
	}
}

func TestTransferable(t *testing.T) {
	in := map[string]string{
		"sub": "x", "identities": "[]", "cognito:user_status": "CONFIRMED", "cognito:mfa_enabled": "true",
		"username": "alice", "email": "a@example.com", "custom:tenant": "acme", "phone_number_verified": "false",
	}
	want := map[string]string{"email": "a@example.com", "custom:tenant": "acme", "phone_number_verified": "false"}
	if diff := cmp.Diff(want, migrate.Transferable(in)); diff != "" {
		t.Errorf("Transferable() mismatch (-want +got):\n%s", diff)
	}
}

package migrate_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// schema returns the standard schema plus extra names.
func schema(extra ...string) map[string]migrate.AttributeSpec {
	m := maps.Clone(standardSchema)
	for _, n := range extra {
		m[n] = migrate.AttributeSpec{}
	}
	return m
}

const legacySub = "0b6f4c9e-0000-4000-8000-000000000001" // aliceAttrs' sub

func TestReshape(t *testing.T) {
	usernamePool := migrate.PoolConfig{Attributes: schema(), CaseSensitive: true}
	tests := []struct {
		name  string
		cfg   migrate.PoolConfig
		rules migrate.Rules
		user  migrate.User
		typed string
		want  migrate.Decision
	}{
		{
			name: "attributes the new schema lacks are dropped and named",
			cfg:  migrate.PoolConfig{Attributes: schema("custom:org_id"), CaseSensitive: true},
			user: confirmedUser(map[string]string{"email": "a@example.com", "custom:tenant": "acme", "custom:shoe_size": "9"}),
			want: migrate.Decision{Attributes: map[string]string{"email": "a@example.com", "custom:tenant": "acme"}, Dropped: []string{"custom:shoe_size"}},
		},
		{
			name: "required attributes the user lacks are named",
			cfg: migrate.PoolConfig{Attributes: func() map[string]migrate.AttributeSpec {
				m := schema()
				m["given_name"] = migrate.AttributeSpec{Required: true}
				m["family_name"] = migrate.AttributeSpec{Required: true}
				return m
			}(), CaseSensitive: true},
			user: confirmedUser(map[string]string{"email": "a@example.com", "given_name": "Alice"}),
			want: migrate.Decision{Attributes: map[string]string{"email": "a@example.com", "given_name": "Alice"}, Missing: []string{"family_name"}},
		},
		{
			name:  "ATTRIBUTE_MAP renames and EXCLUDE_ATTRIBUTES drops",
			cfg:   migrate.PoolConfig{Attributes: schema("custom:org_id"), CaseSensitive: true},
			rules: migrate.Rules{Rename: map[string]string{"custom:tenant": "custom:org_id", "given_name": "name"}, Exclude: []string{"family_name"}},
			user:  confirmedUser(map[string]string{"custom:tenant": "acme", "given_name": "Alice", "family_name": "L", "email": "a@example.com"}),
			want:  migrate.Decision{Attributes: map[string]string{"custom:org_id": "acme", "name": "Alice", "email": "a@example.com"}},
		},
		{
			name:  "the old sub is kept in LEGACY_SUB_ATTRIBUTE",
			cfg:   migrate.PoolConfig{Attributes: schema("custom:legacy_sub"), CaseSensitive: true},
			rules: migrate.Rules{LegacySub: "custom:legacy_sub"},
			user:  confirmedUser(map[string]string{"sub": legacySub, "email": "a@example.com"}),
			want:  migrate.Decision{Attributes: map[string]string{"custom:legacy_sub": legacySub, "email": "a@example.com"}},
		},
		{
			name:  "TRUST_EMAIL marks an unverified email verified",
			cfg:   usernamePool,
			rules: migrate.Rules{TrustEmail: true},
			user:  confirmedUser(map[string]string{"email": "a@example.com", "email_verified": "false"}),
			want:  migrate.Decision{Attributes: map[string]string{"email": "a@example.com", "email_verified": "true"}},
		},
		{
			name:  "TRUST_EMAIL invents nothing without an email",
			cfg:   usernamePool,
			rules: migrate.Rules{TrustEmail: true},
			user:  confirmedUser(map[string]string{"phone_number": "+15550100"}),
			want:  migrate.Decision{Attributes: map[string]string{"phone_number": "+15550100"}},
		},
		// Sign-in names.
		{
			name:  "alias pool, typed email: real username, typed value in the alias",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email"}, CaseSensitive: true},
			user:  confirmedUser(map[string]string{"email": "Alice@Example.com"}),
			typed: "alice@example.com",
			want:  migrate.Decision{ResponseUsername: "alice", Attributes: map[string]string{"email": "alice@example.com"}},
		},
		{
			name:  "alias pool, typed preferred_username",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email", "preferred_username"}, CaseSensitive: true},
			user:  confirmedUser(map[string]string{"preferred_username": "ally"}),
			typed: "ally",
			want:  migrate.Decision{ResponseUsername: "alice", Attributes: map[string]string{"preferred_username": "ally"}},
		},
		{
			name:  "username pool, typed email of a user with a real username: declined, it would make a second account",
			cfg:   usernamePool,
			user:  confirmedUser(map[string]string{"email": "alice@example.com"}),
			typed: "alice@example.com",
			want:  migrate.Decision{Reason: migrate.SignInNameNotUsable},
		},
		{
			name: "username pool from an email-as-username pool: the email becomes the username",
			cfg:  usernamePool,
			user: migrate.User{Username: legacySub, Enabled: true, Status: migrate.StatusConfirmed,
				Attributes: map[string]string{"sub": legacySub, "email": "alice@example.com"}},
			typed: "alice@example.com",
			want:  migrate.Decision{Username: legacySub, Attributes: map[string]string{"email": "alice@example.com"}},
		},
		{
			name:  "email-as-username pool, typed email: username left to Cognito",
			cfg:   migrate.PoolConfig{Attributes: schema(), UsernameAttributes: []string{"email"}},
			user:  confirmedUser(map[string]string{"email": "Alice@example.com", "email_verified": "true"}),
			typed: "alice@example.com",
			want:  migrate.Decision{Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}},
		},
		{
			name:  "email-as-username pool, typed username: declined, the new pool signs in by email",
			cfg:   migrate.PoolConfig{Attributes: schema(), UsernameAttributes: []string{"email"}},
			user:  confirmedUser(map[string]string{"email": "alice@example.com"}),
			typed: "alice",
			want:  migrate.Decision{Reason: migrate.SignInNameNotUsable},
		},
		{
			name:  "phone-as-username pool, typed phone",
			cfg:   migrate.PoolConfig{Attributes: schema(), UsernameAttributes: []string{"email", "phone_number"}},
			user:  confirmedUser(map[string]string{"phone_number": "+15550100"}),
			typed: "+15550100",
			want:  migrate.Decision{Attributes: map[string]string{"phone_number": "+15550100"}},
		},
		{
			name:  "case-sensitive pool, username typed in other case: declined, it would be another user",
			cfg:   usernamePool,
			user:  confirmedUser(nil),
			typed: "Alice",
			want:  migrate.Decision{Reason: migrate.UsernameCaseMismatch},
		},
		{
			name:  "case-insensitive pool, username typed in other case: the typed spelling",
			cfg:   migrate.PoolConfig{Attributes: schema(), CaseSensitive: false},
			user:  confirmedUser(nil),
			typed: "Alice",
			want:  migrate.Decision{Attributes: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typed := tt.typed
			if typed == "" {
				typed = "alice"
			}
			want := tt.want
			if want.Reason == "" {
				want.Migrate, want.Reason, want.FinalStatus = true, migrate.Migrated, migrate.FinalConfirmed
				if want.Username == "" {
					want.Username = "alice"
				}
				if want.ResponseUsername == "" && typed == "alice" {
					want.ResponseUsername = "alice"
				}
			}
			cfg := tt.cfg
			m := migrate.New(&fakePool{user: tt.user}, fakeNewPool{cfg: &cfg}, tt.rules)
			got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: typed, Password: "pw"})
			if err != nil {
				t.Fatalf("Authenticate(%q) error = %v", typed, err)
			}
			if diff := cmp.Diff(want, got, ignoreNameKnown); diff != "" {
				t.Errorf("Authenticate(%q) mismatch (-want +got):\n%s", typed, diff)
			}
		})
	}
}

func TestLegacySubNotInSchemaIsAConfigurationFault(t *testing.T) {
	cfg := migrate.PoolConfig{Attributes: schema(), CaseSensitive: true}
	m := migrate.New(&fakePool{user: confirmedUser(aliceAttrs)}, fakeNewPool{cfg: &cfg}, migrate.Rules{LegacySub: "custom:legacy_sub"})
	for name, decide := range map[string]func() (migrate.Decision, error){
		"sign-in": func() (migrate.Decision, error) {
			return m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: "pw"})
		},
		"forgot password": func() (migrate.Decision, error) {
			return m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice"})
		},
	} {
		d, err := decide()
		var ce *migrate.ConfigError
		if !errors.As(err, &ce) || ce.Setting != "LEGACY_SUB_ATTRIBUTE" || d.Migrate {
			t.Errorf("%s: = %+v, %v; want a LEGACY_SUB_ATTRIBUTE configuration error", name, d, err)
		}
	}
}

func TestNewPoolUnreadableIsAFault(t *testing.T) {
	boom := errors.New("AccessDeniedException: not authorized to perform cognito-idp:DescribeUserPool")
	m := migrate.New(&fakePool{user: confirmedUser(aliceAttrs)}, fakeNewPool{err: boom}, migrate.Rules{})
	d, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: "pw"})
	if !errors.Is(err, boom) || d.Migrate {
		t.Errorf("Authenticate() = %+v, %v; want the describe error", d, err)
	}
}

func TestMFAPolicy(t *testing.T) {
	smsUser := confirmedUser(map[string]string{"phone_number": "+15550100", "phone_number_verified": "true"})
	smsUser.MFA = []string{"SMS_MFA"}
	totpUser := confirmedUser(map[string]string{"email": "a@example.com"})
	totpUser.MFA = []string{"SOFTWARE_TOKEN_MFA"}
	tests := []struct {
		name      string
		policy    migrate.MFAPolicy
		challenge string
		user      migrate.User
		poolMFA   string
		wantFinal migrate.FinalStatus // "" = declined
		wantSMS   bool
	}{
		{"deny (default) declines SMS MFA", "", "SMS_MFA", smsUser, "OPTIONAL", "", false},
		{"deny declines TOTP", migrate.MFADeny, "SOFTWARE_TOKEN_MFA", totpUser, "ON", "", false},
		{"migrate: SMS user keeps SMS MFA", migrate.MFAMigrate, "SMS_MFA", smsUser, "OPTIONAL", migrate.FinalConfirmed, true},
		{"migrate: no SMS MFA when the new pool has MFA off", migrate.MFAMigrate, "SMS_MFA", smsUser, "OFF", migrate.FinalConfirmed, false},
		{"migrate: TOTP user is confirmed, MFA left to the new pool", migrate.MFAMigrate, "SOFTWARE_TOKEN_MFA", totpUser, "ON", migrate.FinalConfirmed, false},
		{"migrate: email OTP", migrate.MFAMigrate, "EMAIL_OTP", totpUser, "ON", migrate.FinalConfirmed, false},
		{"migrate: choose-a-factor", migrate.MFAMigrate, "SELECT_MFA_TYPE", smsUser, "ON", migrate.FinalConfirmed, true},
		{"migrate: MFA not yet set up", migrate.MFAMigrate, "MFA_SETUP", totpUser, "ON", migrate.FinalConfirmed, false},
		{"migrate never covers a custom challenge", migrate.MFAMigrate, "CUSTOM_CHALLENGE", totpUser, "ON", "", false},
		{"migrate never covers device checks", migrate.MFAMigrate, "DEVICE_SRP_AUTH", totpUser, "ON", "", false},
		{"SMS MFA needs a phone number", migrate.MFAMigrate, "SMS_MFA", func() migrate.User {
			u := confirmedUser(map[string]string{"email": "a@example.com"})
			u.MFA = []string{"SMS_MFA"}
			return u
		}(), "ON", migrate.FinalConfirmed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := migrate.PoolConfig{Attributes: schema(), CaseSensitive: true, MFA: tt.poolMFA}
			m := migrate.New(&fakePool{signIn: migrate.SignIn{Challenge: tt.challenge}, user: tt.user}, fakeNewPool{cfg: &cfg}, migrate.Rules{MFA: tt.policy})
			got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantFinal == "" {
				if got.Migrate || got.Reason != migrate.ChallengeRequired || got.Detail != tt.challenge {
					t.Errorf("Authenticate() = %+v, want declined for %s", got, tt.challenge)
				}
				return
			}
			if !got.Migrate || got.FinalStatus != tt.wantFinal || got.EnableSMSMFA != tt.wantSMS {
				t.Errorf("Authenticate() = migrate %v, final %q, enableSMSMFA %v; want true, %q, %v",
					got.Migrate, got.FinalStatus, got.EnableSMSMFA, tt.wantFinal, tt.wantSMS)
			}
		})
	}
}

func TestEnforcePasswordPolicy(t *testing.T) {
	policy := migrate.PasswordPolicy{MinimumLength: 10, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true}
	cfg := migrate.PoolConfig{Attributes: schema(), CaseSensitive: true, Password: policy}
	tests := []struct {
		password string
		enforce  bool
		want     migrate.FinalStatus
		detail   string
	}{
		{"Str0ng-enough", true, migrate.FinalConfirmed, ""},
		{"weak", true, migrate.FinalResetRequired, "password policy: minimum_length,uppercase,numbers,symbols"},
		{"weak", false, migrate.FinalConfirmed, ""},
		{"NoDigitsHere!", true, migrate.FinalResetRequired, "password policy: numbers"},
	}
	for _, tt := range tests {
		m := migrate.New(&fakePool{user: confirmedUser(map[string]string{"email": "a@example.com"})}, fakeNewPool{cfg: &cfg}, migrate.Rules{EnforcePasswordPolicy: tt.enforce})
		got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: tt.password})
		if err != nil || !got.Migrate || got.FinalStatus != tt.want || got.Detail != tt.detail {
			t.Errorf("enforce=%v: Authenticate() = %+v, %v; want migrated as %s (%q)", tt.enforce, got, err, tt.want, tt.detail)
		}
	}
}

func TestPasswordPolicyUnmet(t *testing.T) {
	all := migrate.PasswordPolicy{MinimumLength: 8, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true}
	tests := []struct {
		password string
		want     []string
	}{
		{"Aa1!aaaa", nil},
		{"Aa1 aaaa", nil}, // a space counts as a special character
		{"Aa1!aaa", []string{"minimum_length"}},
		{"ÀÉÎ1!ààà", []string{"uppercase", "lowercase"}}, // ASCII letters only: stricter is safe
		{"aa1!aaaa", []string{"uppercase"}},
		{"AA1!AAAA", []string{"lowercase"}},
		{"Aab!aaaa", []string{"numbers"}},
		{"Aa1aaaaa", []string{"symbols"}},
		{"", []string{"minimum_length", "uppercase", "lowercase", "numbers", "symbols"}},
	}
	for _, tt := range tests {
		if got := all.Unmet(tt.password); !cmp.Equal(got, tt.want) {
			t.Errorf("Unmet(%q) = %v, want %v", tt.password, got, tt.want)
		}
	}
	if got := (migrate.PasswordPolicy{MinimumLength: 3}).Unmet("abc"); got != nil {
		t.Errorf("length-only policy: Unmet = %v", got)
	}
}

func TestForgotPasswordWithRules(t *testing.T) {
	unverified := confirmedUser(map[string]string{"email": "a@example.com", "email_verified": "false"})
	cfg := migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email"}, CaseSensitive: true}
	t.Run("TRUST_EMAIL lets an unverified email receive the code", func(t *testing.T) {
		m := migrate.New(&fakePool{user: unverified}, fakeNewPool{cfg: &cfg}, migrate.Rules{TrustEmail: true})
		got, err := m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice"})
		if err != nil || !got.Migrate || got.Attributes["email_verified"] != "true" || got.FinalStatus != "" {
			t.Errorf("ForgotPassword() = %+v, %v", got, err)
		}
	})
	t.Run("without it, declined", func(t *testing.T) {
		m := migrate.New(&fakePool{user: unverified}, fakeNewPool{cfg: &cfg}, migrate.Rules{})
		got, err := m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice"})
		if err != nil || got.Migrate || got.Reason != migrate.NoVerifiedContact {
			t.Errorf("ForgotPassword() = %+v, %v", got, err)
		}
	})
	t.Run("typed alias in an alias pool", func(t *testing.T) {
		verified := confirmedUser(map[string]string{"email": "a@example.com", "email_verified": "true"})
		m := migrate.New(&fakePool{user: verified}, fakeNewPool{cfg: &cfg}, migrate.Rules{})
		got, err := m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: "a@example.com"})
		if err != nil || !got.Migrate || got.ResponseUsername != "alice" || got.Attributes["email"] != "a@example.com" {
			t.Errorf("ForgotPassword() = %+v, %v", got, err)
		}
	})
}

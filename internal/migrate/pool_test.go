package migrate_test

import (
	"context"
	"errors"
	"maps"
	"strings"
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
			user:  confirmedUser(map[string]string{"email": "alice@example.com"}),
			typed: "alice@example.com",
			want:  migrate.Decision{ResponseUsername: "alice", Attributes: map[string]string{"email": "alice@example.com"}},
		},
		{
			name:  "case-insensitive alias pool, typed email in other case: the typed spelling in the alias",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email"}, CaseSensitive: false},
			user:  confirmedUser(map[string]string{"email": "Alice@Example.com"}),
			typed: "alice@example.com",
			want:  migrate.Decision{ResponseUsername: "alice", Attributes: map[string]string{"email": "alice@example.com"}},
		},
		{
			name:  "case-sensitive alias pool, typed email in other case: declined, two spellings would be two sign-in names",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email"}, CaseSensitive: true},
			user:  confirmedUser(map[string]string{"email": "Alice@Example.com"}),
			typed: "alice@example.com",
			want:  migrate.Decision{Reason: migrate.AliasCaseMismatch},
		},
		{
			name:  "case-sensitive alias pool, preferred_username in other case: declined",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"preferred_username"}, CaseSensitive: true},
			user:  confirmedUser(map[string]string{"preferred_username": "Ally"}),
			typed: "ally",
			want:  migrate.Decision{Reason: migrate.AliasCaseMismatch},
		},
		{
			name:  "case-insensitive alias pool, preferred_username in other case: migrated with the typed spelling",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"preferred_username"}, CaseSensitive: false},
			user:  confirmedUser(map[string]string{"preferred_username": "Ally"}),
			typed: "ally",
			want:  migrate.Decision{ResponseUsername: "alice", Attributes: map[string]string{"preferred_username": "ally"}},
		},
		{
			name:  "case-sensitive email-as-username pool, email typed in other case: declined",
			cfg:   migrate.PoolConfig{Attributes: schema(), UsernameAttributes: []string{"email"}, CaseSensitive: true},
			user:  confirmedUser(map[string]string{"email": "Alice@example.com", "email_verified": "true"}),
			typed: "alice@example.com",
			want:  migrate.Decision{Reason: migrate.AliasCaseMismatch},
		},
		{
			name: "case-sensitive username pool from an email-as-username pool, email typed in other case: declined",
			cfg:  usernamePool,
			user: migrate.User{Username: legacySub, Enabled: true, Status: migrate.StatusConfirmed,
				Attributes: map[string]string{"sub": legacySub, "email": "Alice@example.com"}},
			typed: "alice@example.com",
			want:  migrate.Decision{Reason: migrate.AliasCaseMismatch},
		},
		{
			name:  "the Kelvin sign is not a k: no match, whatever the pool's case",
			cfg:   migrate.PoolConfig{Attributes: schema(), CaseSensitive: false},
			user:  migrate.User{Username: "kate", Enabled: true, Status: migrate.StatusConfirmed},
			typed: "\u212Aate",
			want:  migrate.Decision{Reason: migrate.SignInNameNotUsable},
		},
		{
			name:  "the Kelvin sign in an email alias is not a k",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email"}, CaseSensitive: false},
			user:  confirmedUser(map[string]string{"email": "kate@example.com"}),
			typed: "\u212Aate@example.com",
			want:  migrate.Decision{Reason: migrate.SignInNameNotUsable},
		},
		{
			name:  "email alias pool, username in email format: declined, Cognito refuses it",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email"}, CaseSensitive: true},
			user:  migrate.User{Username: "alice@old.example", Enabled: true, Status: migrate.StatusConfirmed, Attributes: map[string]string{"email": "alice@example.com"}},
			typed: "alice@old.example",
			want:  migrate.Decision{Reason: migrate.UsernameIsEmail},
		},
		{
			name:  "email alias pool, typed email of a user whose username is in email format: declined",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"email"}, CaseSensitive: true},
			user:  migrate.User{Username: "alice@old.example", Enabled: true, Status: migrate.StatusConfirmed, Attributes: map[string]string{"email": "alice@example.com"}},
			typed: "alice@example.com",
			want:  migrate.Decision{Reason: migrate.UsernameIsEmail},
		},
		{
			name:  "username in email format, new pool without an email alias: migrated",
			cfg:   migrate.PoolConfig{Attributes: schema(), AliasAttributes: []string{"preferred_username"}, CaseSensitive: true},
			user:  migrate.User{Username: "alice@old.example", Enabled: true, Status: migrate.StatusConfirmed, Attributes: map[string]string{"email": "alice@example.com"}},
			typed: "alice@old.example",
			want:  migrate.Decision{Username: "alice@old.example", ResponseUsername: "alice@old.example", Attributes: map[string]string{"email": "alice@example.com"}},
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
			name:  "username pool, email typed in other case: not usable, whatever the case",
			cfg:   usernamePool,
			user:  confirmedUser(map[string]string{"email": "Alice@example.com"}),
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
			name:  "case-insensitive pool, username typed in other case: the typed spelling, sent as username",
			cfg:   migrate.PoolConfig{Attributes: schema(), CaseSensitive: false},
			user:  confirmedUser(nil),
			typed: "Alice",
			want:  migrate.Decision{ResponseUsername: "Alice", Attributes: map[string]string{}},
		},
		// Attribute values.
		{
			name:  "an ATTRIBUTE_MAP target the user also has gets the renamed value, and is named",
			cfg:   usernamePool,
			rules: migrate.Rules{Rename: map[string]string{"given_name": "name"}},
			user:  confirmedUser(map[string]string{"given_name": "Alice", "name": "A. Liddell"}),
			want:  migrate.Decision{Attributes: map[string]string{"name": "Alice"}, Overwritten: []string{"name"}},
		},
		{
			name:  "swapped names overwrite nothing",
			cfg:   usernamePool,
			rules: migrate.Rules{Rename: map[string]string{"given_name": "name", "name": "given_name"}},
			user:  confirmedUser(map[string]string{"given_name": "Alice", "name": "A. Liddell"}),
			want:  migrate.Decision{Attributes: map[string]string{"name": "Alice", "given_name": "A. Liddell"}},
		},
		{
			name:  "LEGACY_SUB_ATTRIBUTE overwrites the user's own value, and is named",
			cfg:   migrate.PoolConfig{Attributes: schema("custom:legacy_sub"), CaseSensitive: true},
			rules: migrate.Rules{LegacySub: "custom:legacy_sub"},
			user:  confirmedUser(map[string]string{"sub": legacySub, "custom:legacy_sub": "older"}),
			want:  migrate.Decision{Attributes: map[string]string{"custom:legacy_sub": legacySub}, Overwritten: []string{"custom:legacy_sub"}},
		},
		{
			name: "a verified flag is never sent without its attribute",
			cfg:  usernamePool,
			user: confirmedUser(map[string]string{"email_verified": "true", "phone_number_verified": "false", "given_name": "Alice"}),
			want: migrate.Decision{Attributes: map[string]string{"given_name": "Alice"}, Dropped: []string{"email_verified", "phone_number_verified"}},
		},
		{
			name:  "an excluded email takes its verified flag with it",
			cfg:   usernamePool,
			rules: migrate.Rules{Exclude: []string{"email"}},
			user:  confirmedUser(map[string]string{"email": "a@example.com", "email_verified": "true"}),
			want:  migrate.Decision{Attributes: map[string]string{}, Dropped: []string{"email_verified"}},
		},
		{
			name: "values the schema refuses are dropped and named, and an unsendable email takes its flag along",
			cfg: migrate.PoolConfig{CaseSensitive: true, Attributes: func() map[string]migrate.AttributeSpec {
				m := schema()
				m["email"] = migrate.AttributeSpec{Type: "String", MaxLength: 10}
				m["custom:tenant"] = migrate.AttributeSpec{Type: "String", MinLength: 5}
				m["custom:age"] = migrate.AttributeSpec{Type: "Number", MinValue: ptr(int64(0)), MaxValue: ptr(int64(150))}
				m["custom:vip"] = migrate.AttributeSpec{Type: "Boolean"}
				m["custom:since"] = migrate.AttributeSpec{Type: "DateTime"}
				m["dev:custom:note"] = migrate.AttributeSpec{Type: "String", DeveloperOnly: true}
				return m
			}()},
			user: confirmedUser(map[string]string{
				"email": "alice@example.com", "email_verified": "true", "custom:tenant": "acme",
				"custom:age": "200", "custom:vip": "yes", "custom:since": "last year", "dev:custom:note": "x",
				"given_name": "Alice",
			}),
			want: migrate.Decision{Attributes: map[string]string{"given_name": "Alice"},
				Dropped: []string{"email_verified"},
				Invalid: []string{"custom:age", "custom:since", "custom:tenant", "custom:vip", "dev:custom:note", "email"}},
		},
		{
			name: "values the schema takes are sent",
			cfg: migrate.PoolConfig{CaseSensitive: true, Attributes: func() map[string]migrate.AttributeSpec {
				m := schema()
				m["custom:age"] = migrate.AttributeSpec{Type: "Number", MinValue: ptr(int64(0)), MaxValue: ptr(int64(150))}
				m["custom:vip"] = migrate.AttributeSpec{Type: "Boolean"}
				m["custom:since"] = migrate.AttributeSpec{Type: "DateTime"}
				return m
			}()},
			user: confirmedUser(map[string]string{"custom:age": "42", "custom:vip": "true", "custom:since": "2024-02-29T10:00:00Z"}),
			want: migrate.Decision{Attributes: map[string]string{"custom:age": "42", "custom:vip": "true", "custom:since": "2024-02-29T10:00:00Z"}},
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

func ptr[T any](v T) *T { return &v }

func TestAttributeSpecAccepts(t *testing.T) {
	long := strings.Repeat("x", migrate.DefaultMaxLength)
	tests := []struct {
		name  string
		spec  migrate.AttributeSpec
		attr  string
		value string
		want  bool
	}{
		{"string within the default limit", migrate.AttributeSpec{}, "name", long, true},
		{"string over the default limit", migrate.AttributeSpec{}, "name", long + "x", false},
		{"string over its own limit", migrate.AttributeSpec{Type: "String", MaxLength: 3}, "custom:c", "abcd", false},
		{"string at its own limit", migrate.AttributeSpec{Type: "String", MaxLength: 3}, "custom:c", "abc", true},
		{"multi-byte characters count as bytes against the maximum", migrate.AttributeSpec{Type: "String", MaxLength: 3}, "custom:c", "éé", false},
		{"string under its minimum", migrate.AttributeSpec{Type: "String", MinLength: 2}, "custom:c", "a", false},
		{"multi-byte characters count as characters against the minimum", migrate.AttributeSpec{Type: "String", MinLength: 2}, "custom:c", "é", false},
		{"integer", migrate.AttributeSpec{Type: "Number"}, "custom:n", "-12", true},
		{"not an integer", migrate.AttributeSpec{Type: "Number"}, "custom:n", "1.5", false},
		{"number under its minimum", migrate.AttributeSpec{Type: "Number", MinValue: ptr(int64(1))}, "custom:n", "0", false},
		{"number over its maximum", migrate.AttributeSpec{Type: "Number", MaxValue: ptr(int64(9))}, "custom:n", "10", false},
		{"number at its bounds", migrate.AttributeSpec{Type: "Number", MinValue: ptr(int64(1)), MaxValue: ptr(int64(9))}, "custom:n", "9", true},
		{"boolean", migrate.AttributeSpec{Type: "Boolean"}, "email_verified", "true", true},
		{"boolean in upper case", migrate.AttributeSpec{Type: "Boolean"}, "email_verified", "FALSE", true},
		{"not a boolean", migrate.AttributeSpec{Type: "Boolean"}, "email_verified", "1", false},
		{"date and time", migrate.AttributeSpec{Type: "DateTime"}, "custom:d", "2026-12-06T01:00:00Z", true},
		{"not a date and time", migrate.AttributeSpec{Type: "DateTime"}, "custom:d", "yesterday", false},
		{"developer-only", migrate.AttributeSpec{Type: "String", DeveloperOnly: true}, "dev:custom:d", "x", false},
		{"dev: name without the flag", migrate.AttributeSpec{Type: "String"}, "dev:custom:d", "x", false},
	}
	for _, tt := range tests {
		if got := tt.spec.Accepts(tt.attr, tt.value); got != tt.want {
			t.Errorf("%s: %+v.Accepts(%q, %.20q) = %v, want %v", tt.name, tt.spec, tt.attr, tt.value, got, tt.want)
		}
	}
}

func TestRenameIsDeterministic(t *testing.T) {
	// Map order is random: repeat so that an order-dependent merge shows.
	rules := migrate.Rules{Rename: map[string]string{"given_name": "name", "family_name": "nickname", "custom:tenant": "custom:org"}}
	cfg := migrate.PoolConfig{Attributes: schema("custom:org"), CaseSensitive: true}
	user := confirmedUser(map[string]string{"given_name": "Alice", "name": "A. Liddell", "family_name": "Liddell",
		"nickname": "Al", "custom:tenant": "acme", "custom:org": "old-org"})
	want := map[string]string{"name": "Alice", "nickname": "Liddell", "custom:org": "acme"}
	for range 50 {
		s, reason, err := rules.Shape(cfg, user, "alice")
		if err != nil || reason != "" {
			t.Fatalf("Shape() = %v, %v", reason, err)
		}
		if diff := cmp.Diff(want, s.Attributes); diff != "" {
			t.Fatalf("Shape() attributes (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"custom:org", "name", "nickname"}, s.Overwritten); diff != "" {
			t.Fatalf("Shape() overwritten (-want +got):\n%s", diff)
		}
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
	verifiedEmail := map[string]string{"email": "a@example.com", "email_verified": "true"}
	verifiedPhone := map[string]string{"phone_number": "+15550100", "phone_number_verified": "true"}
	unverified := map[string]string{"email": "a@example.com", "email_verified": "false"}
	tests := []struct {
		password string
		enforce  bool
		attrs    map[string]string
		want     migrate.FinalStatus
		detail   string
	}{
		{"Str0ng-enough", true, verifiedEmail, migrate.FinalConfirmed, ""},
		{"weak", true, verifiedEmail, migrate.FinalResetRequired, "password policy: minimum_length,uppercase,numbers,symbols"},
		{"weak", false, verifiedEmail, migrate.FinalConfirmed, ""},
		{"NoDigitsHere!", true, verifiedEmail, migrate.FinalResetRequired, "password policy: numbers"},
		{"NoDigitsHere!", true, verifiedPhone, migrate.FinalResetRequired, "password policy: numbers"},
		// No dead end: a reset needs somewhere to send the code.
		{"weak", true, unverified, migrate.FinalConfirmed, migrate.DetailPasswordPolicyUnmet},
		{"weak", true, map[string]string{"email_verified": "true"}, migrate.FinalConfirmed, migrate.DetailPasswordPolicyUnmet},
		{"Str0ng-enough", true, unverified, migrate.FinalConfirmed, ""},
	}
	for _, tt := range tests {
		m := migrate.New(&fakePool{user: confirmedUser(tt.attrs)}, fakeNewPool{cfg: &cfg}, migrate.Rules{EnforcePasswordPolicy: tt.enforce})
		got, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: tt.password})
		if err != nil || !got.Migrate || got.FinalStatus != tt.want || got.Detail != tt.detail {
			t.Errorf("enforce=%v, %v: Authenticate() = %+v, %v; want migrated as %s (%q)", tt.enforce, tt.attrs, got, err, tt.want, tt.detail)
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

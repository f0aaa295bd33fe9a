package settings_test

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want settings.Settings
	}{
		{
			name: "required only: region from the pool id, defaults",
			env:  map[string]string{"OLD_USER_POOL_ID": "eu-west-1_AbCdEf123", "OLD_CLIENT_ID": "1ab23kqn9j6ncsimddqs13sgok"},
			want: settings.Settings{OldUserPoolID: "eu-west-1_AbCdEf123", OldClientID: "1ab23kqn9j6ncsimddqs13sgok",
				OldRegion: "eu-west-1", Decline: migrate.DeclineEmpty, LogLevel: slog.LevelInfo, Lookup: migrate.LookupParallel, Rules: migrate.Rules{MFA: migrate.MFADeny}},
		},
		{
			name: "explicit region and endpoint win",
			env: map[string]string{"OLD_USER_POOL_ID": "eu-west-1_AbCdEf123", "OLD_CLIENT_ID": "abc",
				"OLD_USER_POOL_REGION": "us-east-2", "OLD_USER_POOL_ENDPOINT": "http://127.0.0.1:9229",
				"DECLINE_RESPONSE": "error", "LOG_LEVEL": "debug", "OLD_POOL_LOOKUP": "After-Sign-In"},
			want: settings.Settings{OldUserPoolID: "eu-west-1_AbCdEf123", OldClientID: "abc", OldRegion: "us-east-2",
				OldEndpoint: "http://127.0.0.1:9229", Decline: migrate.DeclineError, LogLevel: slog.LevelDebug, Lookup: migrate.LookupAfterSignIn, Rules: migrate.Rules{MFA: migrate.MFADeny}},
		},
		{
			name: "cognito-local pool ids",
			env:  map[string]string{"OLD_USER_POOL_ID": "local_5Ej4ZrGc", "OLD_CLIENT_ID": "4ii2vn4n5ypbi4y33y8j2xmli"},
			want: settings.Settings{OldUserPoolID: "local_5Ej4ZrGc", OldClientID: "4ii2vn4n5ypbi4y33y8j2xmli",
				OldRegion: "local", Decline: migrate.DeclineEmpty, LogLevel: slog.LevelInfo, Lookup: migrate.LookupParallel, Rules: migrate.Rules{MFA: migrate.MFADeny}},
		},
		{
			name: "surrounding spaces are trimmed",
			env:  map[string]string{"OLD_USER_POOL_ID": " us-gov-west-1_Ab1 ", "OLD_CLIENT_ID": "abc\n"},
			want: settings.Settings{OldUserPoolID: "us-gov-west-1_Ab1", OldClientID: "abc",
				OldRegion: "us-gov-west-1", Decline: migrate.DeclineEmpty, LogLevel: slog.LevelInfo, Lookup: migrate.LookupParallel, Rules: migrate.Rules{MFA: migrate.MFADeny}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := settings.Load(env(tt.env))
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrorsNameTheSetting(t *testing.T) {
	valid := map[string]string{"OLD_USER_POOL_ID": "eu-west-1_AbCdEf123", "OLD_CLIENT_ID": "abc"}
	tests := []struct {
		name    string
		set     map[string]string
		wantErr []string // substrings, each naming the setting
	}{
		{"pool id missing", map[string]string{"OLD_USER_POOL_ID": ""}, []string{"OLD_USER_POOL_ID: is required"}},
		{"client id missing", map[string]string{"OLD_CLIENT_ID": ""}, []string{"OLD_CLIENT_ID: is required"}},
		{"both missing, both reported", map[string]string{"OLD_USER_POOL_ID": "", "OLD_CLIENT_ID": ""},
			[]string{"OLD_USER_POOL_ID: is required", "OLD_CLIENT_ID: is required"}},
		{"pool id malformed", map[string]string{"OLD_USER_POOL_ID": "AbCdEf123"}, []string{`OLD_USER_POOL_ID: "AbCdEf123" is not a user pool id`}},
		{"pool id is an ARN", map[string]string{"OLD_USER_POOL_ID": "arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_AbC"}, []string{"OLD_USER_POOL_ID:"}},
		{"client id malformed", map[string]string{"OLD_CLIENT_ID": "abc def"}, []string{"OLD_CLIENT_ID:"}},
		{"region malformed", map[string]string{"OLD_USER_POOL_REGION": "Ireland"}, []string{"OLD_USER_POOL_REGION:"}},
		{"endpoint not a URL", map[string]string{"OLD_USER_POOL_ENDPOINT": "127.0.0.1:9229"}, []string{"OLD_USER_POOL_ENDPOINT:"}},
		{"endpoint wrong scheme", map[string]string{"OLD_USER_POOL_ENDPOINT": "ftp://host"}, []string{"OLD_USER_POOL_ENDPOINT:"}},
		{"decline mode unknown", map[string]string{"DECLINE_RESPONSE": "silent"}, []string{`DECLINE_RESPONSE: "silent" is not one of`}},
		{"lookup mode unknown", map[string]string{"OLD_POOL_LOOKUP": "lazy"}, []string{`OLD_POOL_LOOKUP: "lazy" is not one of "parallel"`}},
		{"log level unknown", map[string]string{"LOG_LEVEL": "TRACE"}, []string{"LOG_LEVEL:"}},
		{"scope without a kind", map[string]string{"MIGRATE_ONLY": "acme"}, []string{`MIGRATE_ONLY: "acme" is not a condition`}},
		{"scope with an empty value", map[string]string{"MIGRATE_ONLY": "custom:tenant="}, []string{"MIGRATE_ONLY:", "empty value"}},
		{"scope with an empty condition", map[string]string{"MIGRATE_ONLY": "custom:tenant=acme;;user:alice"}, []string{"MIGRATE_ONLY: empty condition"}},
		{"scope with a bad domain", map[string]string{"MIGRATE_ONLY": "email@acme"}, []string{"MIGRATE_ONLY:", "not an email domain"}},
		{"scope on a bad attribute name", map[string]string{"MIGRATE_ONLY": "custom:a_name_longer_than_twenty=x"}, []string{"MIGRATE_ONLY:", "not an attribute name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range valid {
				e[k] = v
			}
			for k, v := range tt.set {
				e[k] = v
			}
			_, err := settings.Load(env(e))
			if err == nil {
				t.Fatalf("Load() succeeded, want an error naming %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestNamesAreAllDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range settings.Names() {
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("%s is not in the README's configuration table", name)
		}
	}
}

func TestLoadRules(t *testing.T) {
	got, err := settings.Load(env(map[string]string{
		"OLD_USER_POOL_ID": "eu-west-1_AbC", "OLD_CLIENT_ID": "abc",
		"ATTRIBUTE_MAP":        " custom:tenant = custom:org_id , given_name=name",
		"EXCLUDE_ATTRIBUTES":   "nickname, custom:internal",
		"LEGACY_SUB_ATTRIBUTE": "custom:legacy_sub", "MFA_POLICY": "Migrate",
		"ENFORCE_PASSWORD_POLICY": "true", "TRUST_EMAIL": "1",
		"MIGRATE_ONLY": "custom:tenant=acme; email@acme.com,acme.org ;group:staff;user:alice,bob@acme.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := migrate.Rules{
		Rename:  map[string]string{"custom:tenant": "custom:org_id", "given_name": "name"},
		Exclude: []string{"nickname", "custom:internal"}, LegacySub: "custom:legacy_sub",
		MFA: migrate.MFAMigrate, EnforcePasswordPolicy: true, TrustEmail: true,
		Scope: migrate.Scope{All: []migrate.Condition{
			{Kind: migrate.ScopeAttribute, Attribute: "custom:tenant", Values: []string{"acme"}},
			{Kind: migrate.ScopeEmailDomain, Values: []string{"acme.com", "acme.org"}},
			{Kind: migrate.ScopeGroup, Values: []string{"staff"}},
			{Kind: migrate.ScopeUser, Values: []string{"alice", "bob@acme.com"}},
		}},
	}
	if diff := cmp.Diff(want, got.Rules); diff != "" {
		t.Errorf("Rules (-want +got):\n%s", diff)
	}
	defaults, err := settings.Load(env(map[string]string{"OLD_USER_POOL_ID": "eu-west-1_AbC", "OLD_CLIENT_ID": "abc"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(migrate.Rules{MFA: migrate.MFADeny}, defaults.Rules); diff != "" {
		t.Errorf("default Rules (-want +got):\n%s", diff)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s, err := settings.Load(env(map[string]string{"OLD_USER_POOL_ID": "eu-west-1_AbC", "OLD_CLIENT_ID": "abc", "OLD_CLIENT_SECRET": "hunter2-client-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, s); strings.Contains(out, "hunter2") {
			t.Errorf("Sprintf(%q) shows the secret: %s", f, out)
		}
	}
	if s.OldClientSecret.Reveal() != "hunter2-client-secret" {
		t.Error("Reveal() lost the secret")
	}
}

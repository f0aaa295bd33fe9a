package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

// explainUsers are old users in every situation explain must get right,
// with their passwords (which explain never sees).
func explainUsers() []struct {
	user     cognitotest.User
	password string
} {
	verified := func(name string, extra ...string) map[string]string {
		m := map[string]string{"email": name + "@example.com", "email_verified": "true", "custom:tenant": "t-" + name}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	return []struct {
		user     cognitotest.User
		password string
	}{
		{cognitotest.User{Username: "ann", Enabled: true, Attributes: verified("ann", "custom:plan", "gold", "sub", "old-sub-ann")}, "Ann-Passw0rd!-long-enough1"},
		{cognitotest.User{Username: "tess", Enabled: true, Status: "FORCE_CHANGE_PASSWORD", Attributes: verified("tess")}, "Temp-Passw0rd!"},
		{cognitotest.User{Username: "tina", Enabled: true, Status: "FORCE_CHANGE_PASSWORD", Attributes: map[string]string{"email": "tina@example.com"}}, "Temp-Passw0rd!"},
		{cognitotest.User{Username: "max", Enabled: true, Challenge: "SOFTWARE_TOKEN_MFA", MFASettings: []string{"SOFTWARE_TOKEN_MFA"}, Attributes: verified("max")}, "Max-Passw0rd!"},
		{cognitotest.User{Username: "dan", Enabled: false, Attributes: verified("dan")}, "Dan-Passw0rd!"},
		{cognitotest.User{Username: "una", Enabled: true, Status: "UNCONFIRMED", Attributes: verified("una")}, "Una-Passw0rd!"},
		{cognitotest.User{Username: "rita", Enabled: true, Status: "RESET_REQUIRED", Attributes: verified("rita")}, "Rita-Passw0rd!"},
	}
}

type explainJSON struct {
	Found bool          `json:"found"`
	Cases []explainCase `json:"cases"`
	Error *errorResult  `json:"error"`
}

func runExplainJSON(t *testing.T, e *env, args ...string) (explainJSON, runResult) {
	t.Helper()
	r := e.run(t, append([]string{"explain", "--user-pool-id", twoNewID, "--output", "json"}, args...)...)
	var out explainJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("explain --output json: %v\n%s", err, r.stdout)
	}
	return out, r
}

// TestExplainAgreesWithTheDecision compares explain with the function's
// decision for the same user, made with the right password through the
// old pool's real AdminInitiateAuth (on the fake), for every MFA_POLICY and
// ENFORCE_PASSWORD_POLICY.
func TestExplainAgreesWithTheDecision(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"MFA_POLICY": "migrate"},
		{"ENFORCE_PASSWORD_POLICY": "true", "ATTRIBUTE_MAP": "custom:tenant=custom:org"},
	} {
		s := correctSetup()
		for k, v := range env {
			s.fnEnv[k] = v
		}
		s.newPool = strings.Replace(s.newPool, `"MfaConfiguration":"OFF"`,
			`"MfaConfiguration":"OFF","Policies":{"PasswordPolicy":{"MinimumLength":16,"RequireNumbers":true}}`, 1)
		s.newPool = strings.Replace(s.newPool, `{"Name":"custom:tenant"`, `{"Name":"custom:org","AttributeDataType":"String","Mutable":true},{"Name":"custom:tenant"`, 1)
		s.oldPool = strings.Replace(s.oldPool, `"MfaConfiguration":"OFF"`, `"MfaConfiguration":"OPTIONAL"`, 1)
		s.oldUsers, s.newUsers = nil, nil
		users := explainUsers()
		for _, u := range users {
			u.user.Password = u.password
			s.oldUsers = append(s.oldUsers, u.user)
		}
		e := s.world(t)
		loaded, err := settings.Load(func(name string) string { return s.fnEnv[name] })
		if err != nil {
			t.Fatal(err)
		}
		api := e.cognito.Client()
		function := migrate.New(cognito.NewOldPool(api, twoOldID, twoOldCl, ""), cognito.NewNewPool(api), loaded.Rules)

		for _, u := range append(users, struct {
			user     cognitotest.User
			password string
		}{cognitotest.User{Username: "nobody"}, "Nobody-Passw0rd!"}) {
			t.Run(u.user.Username+" "+strings.Join(mapPairs(env), ","), func(t *testing.T) {
				got, r := runExplainJSON(t, e, "--username", u.user.Username)
				if r.code != ExitOK {
					t.Fatalf("exit %d", r.code)
				}
				for _, op := range r.cognitoOps {
					if op == "AdminInitiateAuth" || strings.HasPrefix(op, "AdminCreate") || strings.HasPrefix(op, "AdminUpdate") {
						t.Errorf("explain called %s", op)
					}
				}
				if strings.Contains(r.stdout+r.stderr, u.password) {
					t.Errorf("explain printed the password")
				}
				ctx := context.Background()
				req := migrate.Request{NewPoolID: twoNewID, Username: u.user.Username, Password: u.password}
				signIn, err := function.Authenticate(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				req.Password = ""
				forgot, err := function.ForgotPassword(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				want := []explainCase{caseOf(signIn), caseOf(forgot)}
				var cases []explainCase
				for _, c := range got.Cases {
					if c.Case != "sign-in, weak password" {
						cases = append(cases, normalized(c))
					}
				}
				if diff := cmp.Diff(want, cases, cmpopts.IgnoreFields(explainCase{}, "Case", "TriggerSource", "Challenge"), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("explain differs from the function's decision (-function +explain):\n%s", diff)
				}
			})
		}
	}
}

func mapPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// caseOf is the part of a case a decision determines.
func caseOf(d migrate.Decision) explainCase {
	c, _ := explained("", "", "", d, nil)
	return normalized(c)
}

func normalized(c explainCase) explainCase {
	if c.Reason == string(migrate.UserNotFound) || c.Reason == string(migrate.BadCredentials) {
		// The sign-in of an unknown user is refused as unknown or as a
		// bad password depending on the old client's
		// PreventUserExistenceErrors; both decline alike.
		c.Reason = "unknown"
	}
	return c
}

func TestExplainCases(t *testing.T) {
	s := correctSetup()
	s.fnEnv["ENFORCE_PASSWORD_POLICY"] = "true"
	s.newPool = strings.Replace(s.newPool, `"MfaConfiguration":"OFF"`,
		`"MfaConfiguration":"OFF","Policies":{"PasswordPolicy":{"MinimumLength":16,"RequireNumbers":true}}`, 1)
	s.oldPool = strings.Replace(s.oldPool, `"MfaConfiguration":"OFF"`, `"MfaConfiguration":"OPTIONAL"`, 1)
	s.oldUsers = nil
	for _, u := range explainUsers() {
		s.oldUsers = append(s.oldUsers, u.user)
	}
	e := s.world(t)

	// Signed in by her email alias, typed in other case: the pools ignore
	// case, and the alias is sent as typed, as Cognito requires.
	got, _ := runExplainJSON(t, e, "--username", "ANN@example.com")
	attrs := map[string]string{"email": "ANN@example.com", "email_verified": "true", "custom:tenant": "t-ann", "custom:legacy_sub": "old-sub-ann"}
	want := []explainCase{
		{Case: "sign-in", TriggerSource: "UserMigration_Authentication", Migrate: true, Reason: "migrated",
			Username: "ann", FinalStatus: "CONFIRMED", Dropped: []string{"custom:plan"},
			Attributes: attrs},
		{Case: "sign-in, weak password", TriggerSource: "UserMigration_Authentication", Migrate: true, Reason: "migrated",
			Username: "ann", FinalStatus: "RESET_REQUIRED", Dropped: []string{"custom:plan"},
			Attributes: attrs},
		{Case: "forgot-password", TriggerSource: "UserMigration_ForgotPassword", Migrate: true, Reason: "migrated",
			Username: "ann", Dropped: []string{"custom:plan"},
			Attributes: attrs},
	}
	if diff := cmp.Diff(want, got.Cases, cmpopts.IgnoreFields(explainCase{}, "Detail")); diff != "" || !got.Found {
		t.Errorf("explain ann by her email alias (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ user, signIn, challenge, forgot string }{
		// A temporary password proves the user at sign-in only.
		{"tess", "migrated RESET_REQUIRED", "NEW_PASSWORD_REQUIRED", "unsupported_status"},
		{"tina", "no_verified_contact", "NEW_PASSWORD_REQUIRED", "unsupported_status"},
		{"max", "challenge_required", "SOFTWARE_TOKEN_MFA", "mfa_required"},
		// The old pool refuses a disabled user's sign-in ("User is disabled.").
		{"dan", "bad_credentials", "", "user_disabled"},
		{"una", "user_not_confirmed", "", "user_not_confirmed"},
		{"rita", "password_reset_required", "", "password_reset_required"},
		{"nobody", "user_not_found", "", "user_not_found"},
	} {
		got, _ := runExplainJSON(t, e, "--username", tt.user)
		first, last := got.Cases[0], got.Cases[len(got.Cases)-1]
		summary := func(c explainCase) string {
			if c.Migrate {
				return c.Reason + " " + c.FinalStatus
			}
			return c.Reason
		}
		if summary(first) != tt.signIn || first.Challenge != tt.challenge || summary(last) != tt.forgot {
			t.Errorf("explain %s: sign-in %q (challenge %q), forgot %q; want %q (%q), %q", tt.user, summary(first), first.Challenge, summary(last), tt.signIn, tt.challenge, tt.forgot)
		}
	}
}

func TestExplainText(t *testing.T) {
	s := correctSetup()
	e := s.world(t)
	r := e.run(t, "explain", "--user-pool-id", twoNewID, "--username", "ann")
	for _, want := range []string{
		`"ann" in the old pool: user "ann", CONFIRMED, enabled true, MFA none; MFA_POLICY=deny`,
		"sign-in (UserMigration_Authentication)\n  MIGRATE\n",
		`    custom:legacy_sub = "old-sub-ann"`,
		"forgot-password (UserMigration_ForgotPassword)\n  MIGRATE\n",
		"  final status: (none: the user sets a password with the reset code Cognito sends)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if r := e.run(t, "explain", "--user-pool-id", twoNewID); r.code != ExitUsage || !strings.Contains(r.stderr, "--username is required") {
		t.Errorf("no --username: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestHelpOfTheTwoPoolCommands(t *testing.T) {
	for _, name := range []string{"check", "explain", "status"} {
		t.Run(name, func(t *testing.T) {
			r := newEnv(t).run(t, name, "-h")
			if r.code != ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden(t, "help."+name+".txt", []byte(r.stdout))
		})
	}
}

// TestExplainPredictsTheOldPoolsMFA: where the old pool requires MFA, a
// user without a second factor is asked to set one up (MFA_SETUP); where it
// is off, nobody is asked, whatever the user's settings say.
func TestExplainPredictsTheOldPoolsMFA(t *testing.T) {
	for _, tt := range []struct {
		poolMFA, policy, challenge, reason string
	}{
		{"ON", "deny", "MFA_SETUP", "challenge_required"},
		{"ON", "migrate", "MFA_SETUP", "migrated"},
		{"OFF", "deny", "", "migrated"},
	} {
		t.Run(tt.poolMFA+" "+tt.policy, func(t *testing.T) {
			s := correctSetup()
			s.fnEnv["MFA_POLICY"] = tt.policy
			s.oldPool = strings.Replace(s.oldPool, `"MfaConfiguration":"OFF"`, `"MfaConfiguration":"`+tt.poolMFA+`"`, 1)
			// The fake does not model pool MFA: the user's challenge is
			// what Cognito would ask.
			s.oldUsers = []cognitotest.User{{Username: "nina", Password: "Nina-Passw0rd!", Enabled: true, Challenge: tt.challenge,
				Attributes: map[string]string{"email": "nina@example.com", "email_verified": "true"}}}
			e := s.world(t)
			got, _ := runExplainJSON(t, e, "--username", "nina")
			signIn := got.Cases[0]
			if signIn.Challenge != tt.challenge || signIn.Reason != tt.reason {
				t.Errorf("explain: challenge %q, reason %q; want %q, %q", signIn.Challenge, signIn.Reason, tt.challenge, tt.reason)
			}
			loaded, err := settings.Load(func(name string) string { return s.fnEnv[name] })
			if err != nil {
				t.Fatal(err)
			}
			api := e.cognito.Client()
			d, err := migrate.New(cognito.NewOldPool(api, twoOldID, twoOldCl, ""), cognito.NewNewPool(api), loaded.Rules).
				Authenticate(context.Background(), migrate.Request{NewPoolID: twoNewID, Username: "nina", Password: "Nina-Passw0rd!"})
			if err != nil || string(d.Reason) != tt.reason {
				t.Errorf("the function's decision: %s, %v; explain said %s", d.Reason, err, signIn.Reason)
			}
		})
	}
}

// Package e2e runs the migration end to end: the real migrate-trigger binary,
// the real AWS SDK, and two cognito-local instances (old pool, new pool).
package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/e2e/rehearsal"
	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
)

// testWriter sends the emulators' output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// start builds the binary and starts a rehearsal stopped at cleanup.
func start(t *testing.T, env map[string]string) *rehearsal.Rehearsal {
	t.Helper()
	return startWith(t, rehearsal.Options{TriggerEnv: env})
}

// startWith builds the binary and starts a rehearsal with opts.
func startWith(t *testing.T, opts rehearsal.Options) *rehearsal.Rehearsal {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	if _, err := cognitolocal.Bin(); err != nil {
		t.Fatal(err) // never skipped: CI must fail when the emulator is missing
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	bin, err := rehearsal.Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts.Bootstrap, opts.Log = bin, testWriter{t}
	r, err := rehearsal.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		t.Logf("migrate-trigger output:\n%s", r.TriggerOutput())
	})
	return r
}

func TestMigrationEndToEnd(t *testing.T) {
	r := start(t, nil)
	ctx := context.Background()

	users := []rehearsal.OldUser{
		{Username: "alice", Password: "Alice-Passw0rd!", Attributes: map[string]string{
			"email": "alice@example.com", "email_verified": "true", "given_name": "Alice", "family_name": "Liddell",
			"phone_number": "+15550100001", "phone_number_verified": "false", "custom:tenant": "wonderland",
		}},
		{Username: "erin", Password: "Erin-Passw0rd!", Attributes: map[string]string{"email": "erin@example.com"}},
		{Username: "bob", Password: "Bob-Passw0rd!", Disabled: true, Attributes: map[string]string{"email": "bob@example.com"}},
		{Username: "carol", Password: "Carol-Passw0rd!", Unconfirmed: true, Attributes: map[string]string{"email": "carol@example.com"}},
	}
	for _, u := range users {
		if err := r.AddOldUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	oldAlice, err := r.OldUserAttributes(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a user signs in to the new pool with their old password and arrives with their attributes", func(t *testing.T) {
		if err := r.SignIn(ctx, "alice", "Alice-Passw0rd!"); err != nil {
			t.Fatalf("SignIn(alice) error = %v, want tokens", err)
		}
		got, err := r.NewUser(ctx, "alice")
		if err != nil {
			t.Fatalf("alice in the new pool: %v", err)
		}
		for k, want := range users[0].Attributes {
			if got[k] != want {
				t.Errorf("new pool alice %s = %q, want %q", k, got[k], want)
			}
		}
		if oldSub := oldAlice["sub"]; oldSub == "" || got["sub"] == oldSub {
			t.Errorf("new pool sub = %q, old sub = %q: the old sub must not be carried over", got["sub"], oldSub)
		}
	})

	t.Run("the second sign-in does not call the trigger again", func(t *testing.T) {
		before := len(r.Decisions())
		if err := r.SignIn(ctx, "alice", "Alice-Passw0rd!"); err != nil {
			t.Fatalf("second SignIn(alice) error = %v", err)
		}
		if after := len(r.Decisions()); after != before {
			t.Errorf("trigger invoked %d more times for a user already migrated", after-before)
		}
	})

	declined := []struct {
		name, user, password, reason string
	}{
		{"wrong password", "erin", "not-erins-password", "bad_credentials"},
		{"unknown user", "zed", "Zed-Passw0rd!", "bad_credentials"},
		{"disabled user with the right password", "bob", "Bob-Passw0rd!", "user_disabled"},
		{"unconfirmed user with the right password", "carol", "Carol-Passw0rd!", "user_not_confirmed"},
	}
	for _, tt := range declined {
		t.Run("declined: "+tt.name, func(t *testing.T) {
			before := len(r.Decisions())
			if err := r.SignIn(ctx, tt.user, tt.password); err == nil {
				t.Fatalf("SignIn(%s) succeeded, want it refused", tt.user)
			}
			if _, err := r.NewUser(ctx, tt.user); !errors.Is(err, rehearsal.ErrNotInNewPool) {
				t.Errorf("%s in the new pool: %v, want %v", tt.user, err, rehearsal.ErrNotInNewPool)
			}
			ds := r.Decisions()
			if len(ds) != before+1 {
				t.Fatalf("trigger decisions = %d, want %d", len(ds), before+1)
			}
			// The typed name is logged in clear only once the old pool
			// returned the user it names; a refused sign-in logs its hash.
			d := ds[len(ds)-1]
			named := d["userName"] == tt.user || (d["userName"] == nil && d["userNameHash"] != nil)
			if d["outcome"] != "declined" || !named {
				t.Errorf("decision = %v, want declined for %s", d, tt.user)
			} else if tt.reason != "bad_credentials" && d["reason"] != tt.reason {
				// Wrong password and unknown user are told apart by the
				// emulator's error codes, not by us: only the others are checked.
				t.Errorf("decision reason = %v, want %s", d["reason"], tt.reason)
			}
		})
	}

	t.Run("erin can still migrate with the right password after a wrong one", func(t *testing.T) {
		if err := r.SignIn(ctx, "erin", "Erin-Passw0rd!"); err != nil {
			t.Fatalf("SignIn(erin) error = %v", err)
		}
		if got, err := r.NewUser(ctx, "erin"); err != nil || got["email"] != "erin@example.com" {
			t.Errorf("erin in the new pool = %v, %v", got, err)
		}
	})

	t.Run("no password ever reaches the function's output", func(t *testing.T) {
		out := r.TriggerOutput()
		for _, pw := range []string{"Alice-Passw0rd!", "Erin-Passw0rd!", "not-erins-password", "Zed-Passw0rd!", "Bob-Passw0rd!", "Carol-Passw0rd!"} {
			if strings.Contains(out, pw) {
				t.Errorf("function output contains password %q", pw)
			}
		}
		if strings.Contains(out, "eyJ") {
			t.Errorf("function output contains something shaped like a token")
		}
	})
}

// The old pool in another account: the binary assumes the role through STS
// (a wire-protocol fake; cognito-local has no STS) before it serves.
func TestCrossAccountEndToEnd(t *testing.T) {
	const (
		role       = "arn:aws:iam::111111111111:role/cognito-migrate-old-pool"
		externalID = "e2e-external-id"
	)
	sts := awstest.NewSTS(t)
	sts.AllowRole(role, externalID)
	r := start(t, map[string]string{
		"OLD_ROLE_ARN": role, "OLD_EXTERNAL_ID": externalID, "AWS_ENDPOINT_URL_STS": sts.URL,
	})
	ctx := context.Background()
	if err := r.AddOldUser(ctx, rehearsal.OldUser{Username: "alice", Password: "Alice-Passw0rd!",
		Attributes: map[string]string{"email": "alice@example.com", "custom:tenant": "acme"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.SignIn(ctx, "alice", "Alice-Passw0rd!"); err != nil {
		t.Fatalf("SignIn(alice) error = %v", err)
	}
	if got, err := r.NewUser(ctx, "alice"); err != nil || got["custom:tenant"] != "acme" {
		t.Errorf("alice in the new pool = %v, %v", got, err)
	}
	calls := sts.Calls()
	if len(calls) != 1 || calls[0].RoleARN != role || calls[0].ExternalID != externalID || calls[0].RoleSessionName != "cognito-migrate" {
		t.Errorf("AssumeRole calls = %+v, want one for %s with the external id", calls, role)
	}
}

// The reason teams migrate: the new pool has another schema. The user
// arrives with a renamed attribute, their old sub recorded, and nothing the
// new schema lacks.
func TestDifferentSchemaEndToEnd(t *testing.T) {
	r := startWith(t, rehearsal.Options{
		NewPoolCustomAttributes: []string{"org_id", "legacy_sub"},
		TriggerEnv: map[string]string{
			"ATTRIBUTE_MAP":        "custom:tenant=custom:org_id",
			"LEGACY_SUB_ATTRIBUTE": "custom:legacy_sub",
			"EXCLUDE_ATTRIBUTES":   "nickname",
		},
	})
	ctx := context.Background()
	if err := r.AddOldUser(ctx, rehearsal.OldUser{Username: "alice", Password: "Alice-Passw0rd!", Attributes: map[string]string{
		"email": "alice@example.com", "email_verified": "true", "given_name": "Alice", "nickname": "Al", "custom:tenant": "wonderland",
	}}); err != nil {
		t.Fatal(err)
	}
	old, err := r.OldUserAttributes(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SignIn(ctx, "alice", "Alice-Passw0rd!"); err != nil {
		t.Fatalf("SignIn(alice) error = %v", err)
	}
	got, err := r.NewUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"custom:org_id": "wonderland", "custom:legacy_sub": old["sub"],
		"email": "alice@example.com", "email_verified": "true", "given_name": "Alice",
	} {
		if want == "" || got[k] != want {
			t.Errorf("new pool alice %s = %q, want %q", k, got[k], want)
		}
	}
	for _, k := range []string{"custom:tenant", "nickname"} {
		if v, ok := got[k]; ok {
			t.Errorf("new pool alice has %s = %q; it was renamed or excluded", k, v)
		}
	}
}

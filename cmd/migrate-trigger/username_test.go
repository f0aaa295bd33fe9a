package main

import (
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// A name no Cognito user can have (people type their password into the
// username box) is declined as user_not_found without an old-pool call, in
// both flows: never a configuration fault, and never logged. The sign-up
// guard does not look it up either.
func TestUnacceptableUsernameIsNotAConfigurationFault(t *testing.T) {
	f := oldPoolWith(t, cognitotest.Pool{}, scopeUsers()...)
	tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID,
		"OLD_USER_POOL_ENDPOINT": f.URL})
	const typed = "correct horse battery staple"
	for _, source := range []string{"UserMigration_Authentication", "UserMigration_ForgotPassword"} {
		pw := password
		if source == "UserMigration_ForgotPassword" {
			pw = ""
		}
		before := len(f.Calls())
		got, reason := migratedBy(t, tr, source, typed, pw)
		if got || reason != "user_not_found" {
			t.Errorf("%s: migrated = %v, reason %v; want user_not_found", source, got, reason)
		}
		if calls := f.Calls()[before:]; len(calls) != 0 {
			t.Errorf("%s: %d old-pool calls for a name Cognito cannot accept", source, len(calls))
		}
	}
	out := tr.stdout.String()
	if strings.Contains(out, "configuration") || strings.Contains(out, "horse") {
		t.Errorf("the log shows a configuration fault or the typed name:\n%s", out)
	}
}

package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// typedPassword is a password typed into the username box.
const typedPassword = "Hunter2-Correct-Horse!"

func authEvent(user string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "1", "triggerSource": migrate.SourceAuthentication, "region": "eu-west-1",
		"userPoolId": "eu-west-1_aaBBcC8dd", "userName": user,
		"callerContext": map[string]any{"clientId": "1ab23kqn9j6ncsimddqs13sgok"},
		"request":       map[string]any{"password": password}, "response": map[string]any{},
	})
	return b
}

var hash12 = regexp.MustCompile(`^[0-9a-f]{12}$`)

// stsTimeout is what the old pool adapter returns when the assumed role's
// credentials could not be renewed in time.
type stsTimeout struct{}

func (stsTimeout) Error() string {
	return "sts:AssumeRole: no answer: " + context.DeadlineExceeded.Error()
}
func (stsTimeout) Unwrap() error        { return context.DeadlineExceeded }
func (stsTimeout) FaultService() string { return "sts" }

// A typed name the old pool does not know is logged as a keyed hash, on
// every path: declines, faults, and errors that quote what was typed.
func TestTypedNameLoggedOnlyWhenKnown(t *testing.T) {
	quoting := fmt.Errorf("sign in: %w", &migrate.Fault{Kind: migrate.FaultConfiguration,
		Err: errors.New("InvalidParameterException: 1 validation error detected: Value '" + typedPassword + "' at 'username' failed to satisfy constraint; password " + password)})
	tests := []struct {
		name     string
		decision migrate.Decision
		err      error
		wantName bool
	}{
		{"bad credentials", migrate.Decision{Reason: migrate.BadCredentials}, nil, false},
		{"unknown user", migrate.Decision{Reason: migrate.UserNotFound}, nil, false},
		{"password reset required", migrate.Decision{Reason: migrate.PasswordResetNeeded}, nil, false},
		{"fault quoting the typed name", migrate.Decision{}, quoting, false},
		{"known to the old pool", migrate.Decision{Reason: migrate.UserDisabled, NameKnown: true}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := newHandler(&fakeDecider{decision: tt.decision, err: tt.err})
			_, _ = h.Invoke(context.Background(), authEvent(typedPassword))
			line := logLine(t, logs)
			if tt.wantName {
				if line["userName"] != typedPassword || line["userNameHash"] != nil {
					t.Errorf("log userName, userNameHash = %v, %v; want the name in clear", line["userName"], line["userNameHash"])
				}
				return
			}
			if strings.Contains(logs.String(), typedPassword) {
				t.Errorf("log quotes a typed name the old pool does not know:\n%s", logs)
			}
			if h, _ := line["userNameHash"].(string); !hash12.MatchString(h) || line["userName"] != nil {
				t.Errorf("log userNameHash, userName = %v, %v; want 12 hex digits and no userName", line["userNameHash"], line["userName"])
			}
			if tt.err != nil && !strings.Contains(fmt.Sprint(line["error"]), "[userNameHash ") {
				t.Errorf("log error = %v, want the typed name replaced by its hash", line["error"])
			}
			assertNoSecrets(t, logs)
		})
	}
}

// The hash correlates attempts within a container, and differs between
// containers (the key is random per handler).
func TestTypedNameHashCorrelates(t *testing.T) {
	hashOf := func(h *trigger.Handler, logs *bytes.Buffer, user string) string {
		logs.Reset()
		_, _ = h.Invoke(context.Background(), authEvent(user))
		return fmt.Sprint(logLine(t, logs)["userNameHash"])
	}
	d := &fakeDecider{decision: migrate.Decision{Reason: migrate.BadCredentials}}
	h, logs := newHandler(d)
	a, b, c := hashOf(h, logs, typedPassword), hashOf(h, logs, typedPassword), hashOf(h, logs, "someone-else")
	if a != b || a == c {
		t.Errorf("hashes %s, %s (same name), %s (another): want equal, then different", a, b, c)
	}
	h2, logs2 := newHandler(d)
	if other := hashOf(h2, logs2, typedPassword); other == a {
		t.Errorf("two handlers hash %q alike (%s): the key must be random per container", typedPassword, a)
	}
}

// A fault of the old pool's credentials names STS, not the old pool.
func TestSTSFaultNamesSTS(t *testing.T) {
	h, logs := newHandler(&fakeDecider{err: fmt.Errorf("sign in: %w", &migrate.Fault{Kind: migrate.FaultTimeout, Err: stsTimeout{}})})
	_, _ = h.Invoke(context.Background(), authEvent("alice"))
	line := logLine(t, logs)
	if line["faultService"] != "sts" || !strings.Contains(fmt.Sprint(line["why"]), "sts") || strings.Contains(fmt.Sprint(line["why"]), "old pool did not") {
		t.Errorf("log faultService, why = %v, %v; want sts named as the cause", line["faultService"], line["why"])
	}
}

package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/logging"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// The password in every fixture. No log line may ever contain it.
const password = "Tr0ub4dor&3-plaintext"

// fakeDecider returns a scripted decision and records what it was asked.
type fakeDecider struct {
	decision migrate.Decision
	err      error
	panicV   any

	mu       sync.Mutex
	calls    []string
	deadline time.Duration // time left when called
}

func (f *fakeDecider) note(call string, ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if dl, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(dl)
	}
	if f.panicV != nil {
		panic(f.panicV)
	}
}

func (f *fakeDecider) Authenticate(ctx context.Context, req migrate.Request) (migrate.Decision, error) {
	f.note("Authenticate "+req.NewPoolID+" "+req.Username+" "+req.Password, ctx)
	return f.decision, f.err
}

func (f *fakeDecider) ForgotPassword(ctx context.Context, req migrate.Request) (migrate.Decision, error) {
	f.note("ForgotPassword "+req.NewPoolID+" "+req.Username+" "+req.Password, ctx)
	return f.decision, f.err
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newHandler returns a handler around d and the buffer it logs to.
func newHandler(d trigger.Decider, opts ...trigger.Option) (*trigger.Handler, *bytes.Buffer) {
	var logs bytes.Buffer
	return trigger.NewHandler(d, logging.New(&logs, slog.LevelDebug), opts...), &logs
}

var migrated = migrate.Decision{
	Migrate: true, Reason: migrate.Migrated, Username: "alice", ResponseUsername: "alice",
	Attributes:  map[string]string{"email": "alice@example.com", "email_verified": "true", "custom:tenant": "acme"},
	FinalStatus: migrate.FinalConfirmed, NameKnown: true,
}

// decode parses a handler output into a generic map.
func decode(t *testing.T, out []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return m
}

// logLine parses the handler's single per-invocation log line.
func logLine(t *testing.T, logs *bytes.Buffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(lines), logs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, lines[0])
	}
	return m
}

// assertFunctionError checks that Invoke failed with the function error the
// runtime reports as errorType typ and errorMessage msg.
func assertFunctionError(t *testing.T, out []byte, err error, typ, msg string) {
	t.Helper()
	var ie messages.InvokeResponse_Error
	if out != nil || !errors.As(err, &ie) || ie.Type != typ || ie.Message != msg {
		t.Fatalf("Invoke() = %s, %#v; want function error %s %q", out, err, typ, msg)
	}
}

func assertNoSecrets(t *testing.T, logs *bytes.Buffer) {
	t.Helper()
	if strings.Contains(logs.String(), password) {
		t.Errorf("log contains the password:\n%s", logs)
	}
	if strings.Contains(logs.String(), "Tr0ub4dor") {
		t.Errorf("log contains part of the password:\n%s", logs)
	}
}

func TestMigratedSignIn(t *testing.T) {
	d := &fakeDecider{decision: migrated}
	h, logs := newHandler(d)
	in := fixture(t, "authentication.json")
	out, err := h.Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("Invoke() error = %v", err)
	}
	if want := []string{"Authenticate eu-west-1_aaBBcC8dd alice " + password}; !cmp.Equal(d.calls, want) {
		t.Errorf("decider calls = %q, want %q", d.calls, want)
	}

	got := decode(t, out)
	orig := decode(t, in)
	// Everything but the response comes back as it was sent.
	for k, v := range orig {
		if k == "response" {
			continue
		}
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("event field %q changed (-sent +returned):\n%s", k, diff)
		}
	}
	wantResp := map[string]any{
		"userAttributes": map[string]any{
			"email": "alice@example.com", "email_verified": "true", "custom:tenant": "acme", "username": "alice",
		},
		"finalUserStatus": "CONFIRMED",
		"messageAction":   "SUPPRESS",
	}
	if diff := cmp.Diff(wantResp, got["response"]); diff != "" {
		t.Errorf("response mismatch (-want +got):\n%s", diff)
	}

	line := logLine(t, logs)
	for k, want := range map[string]any{
		"level": "INFO", "message": "user migration", "outcome": "migrated", "reason": "migrated",
		"triggerSource": migrate.SourceAuthentication, "userPoolId": "eu-west-1_aaBBcC8dd",
		"userName": "alice", "finalUserStatus": "CONFIRMED",
	} {
		if line[k] != want {
			t.Errorf("log %q = %v, want %v", k, line[k], want)
		}
	}
	if _, ok := line["durationMs"].(float64); !ok {
		t.Errorf("log has no numeric durationMs: %v", line)
	}
	assertNoSecrets(t, logs)
}

func TestResponseUsernameFromDecision(t *testing.T) {
	for _, tt := range []struct {
		name, responseUsername string
		want                   any
	}{
		{"left out: the typed name becomes the username", "", nil},
		{"alias sign-in: the real username", "alice-real", "alice-real"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := migrated
			d.ResponseUsername = tt.responseUsername
			h, _ := newHandler(&fakeDecider{decision: d})
			out, err := h.Invoke(context.Background(), fixture(t, "authentication.json"))
			if err != nil {
				t.Fatalf("Invoke() error = %v", err)
			}
			attrs := decode(t, out)["response"].(map[string]any)["userAttributes"].(map[string]any)
			if attrs["username"] != tt.want {
				t.Errorf("userAttributes.username = %v, want %v", attrs["username"], tt.want)
			}
			if len(migrated.Attributes) != 3 {
				t.Errorf("the decision's attributes were modified: %v", migrated.Attributes)
			}
		})
	}
}

func TestEnableSMSMFA(t *testing.T) {
	d := migrated
	d.EnableSMSMFA = true
	h, _ := newHandler(&fakeDecider{decision: d})
	out, err := h.Invoke(context.Background(), fixture(t, "authentication.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, out)["response"].(map[string]any)["enableSMSMFA"]; got != true {
		t.Errorf("enableSMSMFA = %v, want true", got)
	}
	h, _ = newHandler(&fakeDecider{decision: migrated})
	out, _ = h.Invoke(context.Background(), fixture(t, "authentication.json"))
	if _, ok := decode(t, out)["response"].(map[string]any)["enableSMSMFA"]; ok {
		t.Error("enableSMSMFA sent when the decision does not ask for it")
	}
}

func TestDroppedAndMissingAttributeNamesLogged(t *testing.T) {
	d := migrated
	d.Dropped, d.Missing = []string{"custom:shoe_size"}, []string{"family_name"}
	d.Invalid, d.Overwritten = []string{"custom:age"}, []string{"name"}
	h, logs := newHandler(&fakeDecider{decision: d})
	if _, err := h.Invoke(context.Background(), fixture(t, "authentication.json")); err != nil {
		t.Fatal(err)
	}
	line := logLine(t, logs)
	if diff := cmp.Diff([]any{"custom:shoe_size"}, line["droppedAttributes"]); diff != "" {
		t.Errorf("droppedAttributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"family_name"}, line["missingRequiredAttributes"]); diff != "" {
		t.Errorf("missingRequiredAttributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"custom:age"}, line["invalidAttributes"]); diff != "" {
		t.Errorf("invalidAttributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"name"}, line["overwrittenAttributes"]); diff != "" {
		t.Errorf("overwrittenAttributes (-want +got):\n%s", diff)
	}
}

func TestForgotPasswordNeverPassesAPassword(t *testing.T) {
	d := &fakeDecider{decision: migrated}
	h, _ := newHandler(d)
	in := bytes.Replace(fixture(t, "forgot-password.json"), []byte(`"request":  {`), []byte(`"request":  {"password": "smuggled",`), 1)
	if _, err := h.Invoke(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if want := []string{"ForgotPassword eu-west-1_aaBBcC8dd alice "}; !cmp.Equal(d.calls, want) {
		t.Errorf("decider calls = %q, want %q", d.calls, want)
	}
}

func TestMigratedForgotPassword(t *testing.T) {
	dec := migrated
	dec.FinalStatus = ""
	d := &fakeDecider{decision: dec}
	h, logs := newHandler(d)
	out, err := h.Invoke(context.Background(), fixture(t, "forgot-password.json"))
	if err != nil {
		t.Fatalf("Invoke() error = %v", err)
	}
	if want := []string{"ForgotPassword eu-west-1_aaBBcC8dd alice "}; !cmp.Equal(d.calls, want) {
		t.Errorf("decider calls = %q, want %q", d.calls, want)
	}
	resp := decode(t, out)["response"].(map[string]any)
	if _, ok := resp["finalUserStatus"]; ok {
		t.Errorf("forgot-password response has finalUserStatus %v; it must be left out", resp["finalUserStatus"])
	}
	if resp["messageAction"] != "SUPPRESS" {
		t.Errorf("messageAction = %v, want SUPPRESS", resp["messageAction"])
	}
	if line := logLine(t, logs); line["triggerSource"] != migrate.SourceForgotPassword || line["outcome"] != "migrated" {
		t.Errorf("log line = %v", line)
	}
}

// emptyResponse is the response Cognito sends, every field null.
var emptyResponse = map[string]any{"userAttributes": nil, "forceAliasCreation": nil, "enableSMSMFA": nil,
	"finalUserStatus": nil, "messageAction": nil, "desiredDeliveryMediums": nil}

func TestDeclineEmptyReturnsTheEventWithAnEmptyResponse(t *testing.T) {
	for _, fx := range []string{"authentication.json", "forgot-password.json", "cognito-local.json"} {
		t.Run(fx, func(t *testing.T) {
			h, logs := newHandler(&fakeDecider{decision: migrate.Decision{Reason: migrate.BadCredentials}})
			in := fixture(t, fx)
			out, err := h.Invoke(context.Background(), in)
			if err != nil {
				t.Fatalf("Invoke() error = %v, want the event back", err)
			}
			want := decode(t, in)
			want["response"] = emptyResponse
			if diff := cmp.Diff(want, decode(t, out)); diff != "" {
				t.Errorf("declined answer (-want +got):\n%s", diff)
			}
			if line := logLine(t, logs); line["outcome"] != "declined" || line["reason"] != "bad_credentials" || line["level"] != "INFO" {
				t.Errorf("log line = %v", line)
			}
			assertNoSecrets(t, logs)
		})
	}
}

func TestDeclineClearsAPrefilledResponse(t *testing.T) {
	// Cognito sends nulls; whatever arrives, a decline carries no attributes.
	in := bytes.Replace(fixture(t, "authentication.json"), []byte(`"response": { "userAttributes": null,`),
		[]byte(`"response": { "userAttributes": {"email": "mallory@example.com"},`), 1)
	h, _ := newHandler(&fakeDecider{decision: migrate.Decision{Reason: migrate.BadCredentials}})
	out, err := h.Invoke(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(emptyResponse, decode(t, out)["response"]); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func TestDeclineError(t *testing.T) {
	h, logs := newHandler(&fakeDecider{decision: migrate.Decision{Reason: migrate.UserDisabled}}, trigger.WithDeclineMode(migrate.DeclineError))
	out, err := h.Invoke(context.Background(), fixture(t, "authentication.json"))
	assertFunctionError(t, out, err, trigger.ErrorTypeDeclined, trigger.DeclineMessage)
	if line := logLine(t, logs); line["outcome"] != "declined" || line["reason"] != "user_disabled" {
		t.Errorf("log line = %v", line)
	}
}

// Every decline reason must produce the very same answer.
func TestDeclinesLookAlike(t *testing.T) {
	reasons := []migrate.Reason{migrate.BadCredentials, migrate.UserNotFound, migrate.UserDisabled,
		migrate.UserNotConfirmed, migrate.PasswordResetNeeded, migrate.ChallengeRequired, migrate.UnsupportedStatus}
	for _, mode := range []migrate.DeclineMode{migrate.DeclineEmpty, migrate.DeclineError} {
		t.Run(string(mode), func(t *testing.T) {
			type answer struct {
				Out []byte
				Err string
			}
			var first *answer
			for _, r := range reasons {
				h, _ := newHandler(&fakeDecider{decision: migrate.Decision{Reason: r, Detail: "detail of " + string(r)}}, trigger.WithDeclineMode(mode))
				out, err := h.Invoke(context.Background(), fixture(t, "authentication.json"))
				a := answer{Out: out}
				if err != nil {
					a.Err = err.Error()
				}
				if first == nil {
					first = &a
					continue
				}
				if diff := cmp.Diff(*first, a); diff != "" {
					t.Errorf("decline %q answers differently from %q (-first +this):\n%s", r, reasons[0], diff)
				}
			}
		})
	}
}

func TestFault(t *testing.T) {
	h, logs := newHandler(&fakeDecider{err: context.DeadlineExceeded})
	out, err := h.Invoke(context.Background(), fixture(t, "authentication.json"))
	assertFunctionError(t, out, err, trigger.ErrorTypeUnavailable, trigger.UnavailableMessage)
	line := logLine(t, logs)
	if line["level"] != "ERROR" || line["outcome"] != "error" || line["errorKind"] != "timeout" || line["why"] == nil {
		t.Errorf("log line = %v", line)
	}
}

func TestInvalidEvents(t *testing.T) {
	tests := map[string]string{
		"not JSON":               `{"triggerSource": "UserMigration_Authentication", "request": {"password": "` + password,
		"JSON array":             `["` + password + `"]`,
		"JSON null":              `null`,
		"JSON string":            `"` + password + `"`,
		"empty body":             ``,
		"no trigger source":      `{"userName": "alice", "request": {"password": "` + password + `"}}`,
		"unknown trigger source": `{"triggerSource": "PreSignUp_SignUp", "userName": "alice", "request": {"password": "` + password + `"}}`,
		"password is a number":   `{"triggerSource": "UserMigration_Authentication", "userName": "alice", "request": {"password": 12345678}}`,
		"request is a string":    `{"triggerSource": "UserMigration_Authentication", "userName": "alice", "request": "` + password + `"}`,
		"user name is an object": `{"triggerSource": "UserMigration_Authentication", "userName": {"n": "` + password + `"}}`,
		"bad character in JSON":  `{"triggerSource": "UserMigration_Authentication", "request": {"password": ` + password + `}}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			d := &fakeDecider{decision: migrated}
			h, logs := newHandler(d)
			out, err := h.Invoke(context.Background(), []byte(body))
			assertFunctionError(t, out, err, trigger.ErrorTypeInvalid, trigger.InvalidMessage)
			if len(d.calls) != 0 {
				t.Errorf("decider called for an invalid event: %q", d.calls)
			}
			line := logLine(t, logs)
			if line["errorKind"] != "invalid_event" || !strings.Contains(line["error"].(string), "invalid event") &&
				!strings.Contains(line["error"].(string), "unsupported trigger source") {
				t.Errorf("log line = %v", line)
			}
			assertNoSecrets(t, logs)
		})
	}
}

func TestToleratesSeedConsoleEvent(t *testing.T) {
	// The console test event people copy from the seed article has "None"
	// strings where maps belong; the fields we read are intact.
	d := &fakeDecider{decision: migrated}
	h, _ := newHandler(d)
	if _, err := h.Invoke(context.Background(), fixture(t, "seed-console-test-event.json")); err != nil {
		t.Fatalf("Invoke() error = %v", err)
	}
	if want := []string{"Authenticate ENTER-SOURCE-APP-CLIENT-ID alice " + password}; !cmp.Equal(d.calls, want) {
		t.Errorf("decider calls = %q, want %q", d.calls, want)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	h, logs := newHandler(&fakeDecider{panicV: "boom with " + password})
	out, err := h.Invoke(context.Background(), fixture(t, "authentication.json"))
	assertFunctionError(t, out, err, trigger.ErrorTypeUnavailable, trigger.UnavailableMessage)
	if line := logLine(t, logs); line["errorKind"] != "panic" {
		t.Errorf("log line = %v", line)
	}
	assertNoSecrets(t, logs)
}

func TestBudget(t *testing.T) {
	t.Run("handler budget", func(t *testing.T) {
		d := &fakeDecider{decision: migrated}
		h, _ := newHandler(d, trigger.WithBudget(700*time.Millisecond))
		if _, err := h.Invoke(context.Background(), fixture(t, "authentication.json")); err != nil {
			t.Fatal(err)
		}
		if d.deadline <= 0 || d.deadline > 700*time.Millisecond {
			t.Errorf("decider had %v left, want (0, 700ms]", d.deadline)
		}
	})
	t.Run("lambda deadline comes first", func(t *testing.T) {
		d := &fakeDecider{decision: migrated}
		h, _ := newHandler(d) // default budget, 3 s
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := h.Invoke(ctx, fixture(t, "authentication.json")); err != nil {
			t.Fatal(err)
		}
		if d.deadline <= 0 || d.deadline > 900*time.Millisecond {
			t.Errorf("decider had %v left, want (0, 900ms]: the answer needs time after the calls", d.deadline)
		}
	})
}

// A slow start-up shortens the first invocation's budget, so start-up and
// the first event together stay within trigger.ColdStartLimit; later events
// get the whole budget.
func TestColdStartBudget(t *testing.T) {
	tests := []struct {
		name        string
		spent       time.Duration
		first, next time.Duration // most time the decider may have left
	}{
		{"slow start-up", 2500 * time.Millisecond, 2 * time.Second, trigger.DefaultBudget},
		{"fast start-up", 10 * time.Millisecond, trigger.DefaultBudget, trigger.DefaultBudget},
		{"start-up retried long after the cold start", time.Minute, trigger.DefaultBudget, trigger.DefaultBudget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDecider{decision: migrated}
			h, _ := newHandler(d, trigger.WithColdStart(tt.spent))
			for i, most := range []time.Duration{tt.first, tt.next} {
				if _, err := h.Invoke(context.Background(), fixture(t, "authentication.json")); err != nil {
					t.Fatal(err)
				}
				if d.deadline <= 0 || d.deadline > most || d.deadline < most-500*time.Millisecond {
					t.Errorf("invocation %d: decider had %v left, want about %v", i+1, d.deadline, most)
				}
			}
		})
	}
}

func TestRequestIDLogged(t *testing.T) {
	h, logs := newHandler(&fakeDecider{decision: migrated})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
	if _, err := h.Invoke(ctx, fixture(t, "authentication.json")); err != nil {
		t.Fatal(err)
	}
	if line := logLine(t, logs); line["requestId"] != "req-123" {
		t.Errorf("log requestId = %v, want req-123", line["requestId"])
	}
}

// The Lambda runtime wraps the handler with aws-lambda-go; it must produce
// the same bytes.
func TestSameUnderLambdaRuntimeWrapper(t *testing.T) {
	h, _ := newHandler(&fakeDecider{decision: migrated})
	in := fixture(t, "cognito-local.json")
	direct, err := h.Invoke(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := lambda.NewHandler(h).Invoke(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(direct, wrapped) {
		t.Errorf("runtime wrapper output differs:\n%s\n%s", direct, wrapped)
	}
}

func TestInvalidEventMessagesNameTheField(t *testing.T) {
	for body, want := range map[string]string{
		`{"triggerSource": "UserMigration_Authentication", "request": "x"}`:             `field "request" must be an object, not string`,
		`{"triggerSource": "UserMigration_Authentication", "request": {"password": 1}}`: `field "request.password" must be a string, not number`,
		`{"triggerSource": "UserMigration_Authentication", "userName": ["a"]}`:          `field "userName" must be a string, not array`,
	} {
		h, logs := newHandler(&fakeDecider{})
		_, _ = h.Invoke(context.Background(), []byte(body))
		if got := logLine(t, logs)["error"]; !strings.Contains(fmt.Sprint(got), want) {
			t.Errorf("Invoke(%s) logged error %q, want it to contain %q", body, got, want)
		}
	}
}

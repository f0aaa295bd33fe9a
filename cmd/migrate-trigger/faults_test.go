package main

// What the function does when the old pool (or the new pool's description)
// misbehaves, and proof that no path writes a secret. docs/operations.md lists every row here by name.
//
// The fault table drives the handler main builds (the real adapter, SDK
// client, retryer and HTTP client from awsconfig) against the Cognito wire
// fake, with a short budget so that timeouts cost 300 ms, not 3 s. The
// tests through run() use the command as it ships, 3-second budget included.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/invoke"
	"github.com/cognito-migrate/cognito-migrate/internal/logging"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics/emftest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

const (
	// faultBudget is the handler's budget where a row waits for it: short,
	// so a hang costs little, and a bound the answer must meet.
	faultBudget = 300 * time.Millisecond
	// retryBudget is for rows that must retry: 3 attempts with 250 ms of
	// backoff between them fit in it with room to spare, as they do in the
	// production 3 s.
	retryBudget = 2 * time.Second
	// margin is how late after its budget an invocation may answer: a
	// correctness bound (Cognito stops waiting at 5 s), not a speed target.
	margin = time.Second
)

// faultHandler builds the handler as newHandler does, for the old pool f
// and the new pool at AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER (a standard
// one unless the test started another), with budget, logging and writing
// metrics to out.
func faultHandler(t *testing.T, f *cognitotest.Fake, budget time.Duration, out *syncBuffer) *trigger.Handler {
	t.Helper()
	if os.Getenv("AWS_ACCESS_KEY_ID") != "AKIDFUNCTION" {
		awsEnv(t)
	}
	if os.Getenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER") == "" {
		startNewPool(t, standardNewPool())
	}
	s, err := settings.Load(func(k string) string {
		return map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err := awsconfig.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pool := cognito.NewOldPool(awsconfig.OldPoolClient(base, oldPool(s), base.Credentials), s.OldUserPoolID, s.OldClientID, "")
	newPool := cognito.NewNewPool(awsconfig.NewPoolClient(base))
	return trigger.NewHandler(migrate.New(pool, newPool, s.Rules), logging.New(out, slog.LevelInfo),
		trigger.WithBudget(budget), trigger.WithMetrics(metrics.NewEMF(out)))
}

// invocation is what one Invoke answered, logged and measured.
type invocation struct {
	out    []byte
	err    error
	took   time.Duration
	log    map[string]any // the "user migration" line
	metric map[string]any // the EMF record
}

// invokeOnce runs one event through h and returns its one log line and one
// EMF record, failing the test if there are not exactly one of each.
func invokeOnce(t *testing.T, h *trigger.Handler, out *syncBuffer, ev string) invocation {
	t.Helper()
	before := len(out.String())
	start := time.Now()
	o, err := h.Invoke(context.Background(), []byte(ev))
	inv := invocation{out: o, err: err, took: time.Since(start)}
	recs, lines := emftest.Split(t, out.String()[before:])
	if len(recs) != 1 || len(lines) != 1 {
		t.Fatalf("invocation wrote %d EMF records and %d other lines, want 1 and 1:\n%s", len(recs), len(lines), out.String()[before:])
	}
	inv.metric = recs[0]
	if err := json.Unmarshal([]byte(lines[0]), &inv.log); err != nil {
		t.Fatalf("log line is not JSON: %s", lines[0])
	}
	return inv
}

// unavailable reports whether err is the function error every fault gets.
func unavailable(err error) bool {
	var ie messages.InvokeResponse_Error
	return errors.As(err, &ie) && ie.Type == trigger.ErrorTypeUnavailable && ie.Message == trigger.UnavailableMessage
}

func migrated(t *testing.T, out []byte) bool {
	t.Helper()
	var ev struct {
		Response struct {
			FinalUserStatus string            `json:"finalUserStatus"`
			UserAttributes  map[string]string `json:"userAttributes"`
		} `json:"response"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatalf("answer is not JSON: %s", out)
	}
	return ev.Response.UserAttributes["email"] == "alice@example.com"
}

func TestFaults(t *testing.T) {
	const (
		auth   = "UserMigration_Authentication"
		forgot = "UserMigration_ForgotPassword"
		signIn = "AdminInitiateAuth"
		lookup = "AdminGetUser"
	)
	type fault struct {
		op string
		f  cognitotest.Fault
	}
	tests := []struct {
		name    string
		source  string
		faults  []fault
		latency time.Duration
		// newPool, when set, is how the new pool's DescribeUserPool fails.
		newPool string
		budget  time.Duration
		// want is "migrated" or the errorKind of an error.
		want string
		// calls is how many AdminInitiateAuth (or, for forgot password,
		// AdminGetUser) requests the old pool must have seen; 0: not checked.
		calls int
	}{
		{name: "slow old pool, answers within the budget", source: auth, latency: 100 * time.Millisecond, budget: faultBudget, want: "migrated", calls: 1},
		{name: "slow old pool, answers after the budget", source: auth, faults: []fault{{signIn, cognitotest.Fault{Delay: 5 * time.Second}}}, budget: faultBudget, want: string(migrate.FaultTimeout), calls: 1},
		{name: "sign-in hangs", source: auth, faults: []fault{{signIn, cognitotest.Fault{Hang: true}}}, budget: faultBudget, want: string(migrate.FaultTimeout), calls: 1},
		{name: "lookup hangs after a good sign-in", source: auth, faults: []fault{{lookup, cognitotest.Fault{Hang: true}}}, budget: faultBudget, want: string(migrate.FaultTimeout), calls: 1},
		{name: "forgot password, lookup hangs", source: forgot, faults: []fault{{lookup, cognitotest.Fault{Hang: true}}}, budget: faultBudget, want: string(migrate.FaultTimeout), calls: 1},
		{name: "5xx once, then answers", source: auth, faults: []fault{{signIn, cognitotest.Fault{ErrorType: "InternalErrorException", Message: "Internal error", Times: 1}}}, budget: retryBudget, want: "migrated", calls: 2},
		{name: "5xx every time", source: auth, faults: []fault{{signIn, cognitotest.Fault{ErrorType: "InternalErrorException", Message: "Internal error"}}}, budget: retryBudget, want: string(migrate.FaultUnavailable), calls: awsconfig.MaxAttempts},
		// A load balancer's bare 503 has no error code: the SDK retries it
		// and names it UnknownError; its HTTP status makes it unavailable.
		{name: "503 without a body every time", source: auth, faults: []fault{{signIn, cognitotest.Fault{Status: http.StatusServiceUnavailable}}}, budget: retryBudget, want: string(migrate.FaultUnavailable), calls: awsconfig.MaxAttempts},
		{name: "throttled twice, then answers", source: auth, faults: []fault{{signIn, cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded", Times: 2}}}, budget: retryBudget, want: "migrated", calls: 3},
		{name: "throttled every time", source: auth, faults: []fault{{signIn, cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"}}}, budget: retryBudget, want: string(migrate.FaultThrottled), calls: awsconfig.MaxAttempts},
		{name: "forgot password, lookup throttled every time", source: forgot, faults: []fault{{lookup, cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"}}}, budget: retryBudget, want: string(migrate.FaultThrottled), calls: awsconfig.MaxAttempts},
		{name: "connection reset once, then answers", source: auth, faults: []fault{{signIn, cognitotest.Fault{ResetConn: true, Times: 1}}}, budget: retryBudget, want: "migrated", calls: 2},
		{name: "connection reset every time", source: auth, faults: []fault{{signIn, cognitotest.Fault{ResetConn: true}}}, budget: retryBudget, want: string(migrate.FaultUnavailable), calls: awsconfig.MaxAttempts},
		{name: "malformed JSON answer", source: auth, faults: []fault{{signIn, cognitotest.Fault{RawBody: `{"AuthenticationResult": {"AccessToken": `}}}, budget: retryBudget, want: string(migrate.FaultUnavailable), calls: 1},
		{name: "malformed JSON lookup", source: forgot, faults: []fault{{lookup, cognitotest.Fault{RawBody: `{"Username": "alice", "UserAttributes": [`}}}, budget: retryBudget, want: string(migrate.FaultUnavailable), calls: 1},
		{name: "access denied", source: auth, faults: []fault{{signIn, cognitotest.Fault{ErrorType: "AccessDeniedException", Message: "User: arn:aws:sts::222222222222:assumed-role/x is not authorized to perform: cognito-idp:AdminInitiateAuth"}}}, budget: retryBudget, want: string(migrate.FaultConfiguration), calls: 1},
		{name: "old pool deleted", source: auth, faults: []fault{{signIn, cognitotest.Fault{ErrorType: "ResourceNotFoundException", Message: "User pool does not exist."}}}, budget: retryBudget, want: string(migrate.FaultConfiguration), calls: 1},
		{name: "error code nobody knows", source: auth, faults: []fault{{signIn, cognitotest.Fault{ErrorType: "BrandNewException", Message: "?"}}}, budget: retryBudget, want: string(migrate.FaultUnknown), calls: 1},
		// The new pool's configuration (DescribeUserPool, in the function's
		// own account) is the third call of a sign-in.
		{name: "new pool description hangs", source: auth, newPool: "hang", budget: faultBudget, want: string(migrate.FaultTimeout), calls: 1},
		{name: "new pool description throttled every time", source: auth, newPool: "TooManyRequestsException", budget: retryBudget, want: string(migrate.FaultThrottled), calls: 1},
		{name: "new pool description access denied", source: forgot, newPool: "AccessDeniedException", budget: retryBudget, want: string(migrate.FaultConfiguration), calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			if tt.newPool != "" {
				faultyNewPool(t, tt.newPool)
			}
			f := fakeOldPool(t)
			f.SetLatency(tt.latency)
			for _, fl := range tt.faults {
				f.SetFault(fl.op, fl.f)
			}
			out := &syncBuffer{}
			h := faultHandler(t, f, tt.budget, out)
			inv := invokeOnce(t, h, out, event(tt.source, "alice", password))

			if inv.took > tt.budget+margin {
				t.Errorf("answered after %v, budget %v", inv.took, tt.budget)
			}
			wantLevel, wantOutcome, wantReason := "ERROR", "error", tt.want
			if tt.want == "migrated" {
				wantLevel, wantOutcome = "INFO", "migrated"
				if inv.err != nil || !migrated(t, inv.out) {
					t.Errorf("Invoke() = %s, %v; want alice migrated", inv.out, inv.err)
				}
				if inv.log["errorKind"] != nil {
					t.Errorf("log errorKind = %v, want none", inv.log["errorKind"])
				}
			} else {
				if inv.out != nil || !unavailable(inv.err) {
					t.Errorf("Invoke() = %s, %#v; want the %s function error", inv.out, inv.err, trigger.ErrorTypeUnavailable)
				}
				if inv.log["errorKind"] != tt.want {
					t.Errorf("log errorKind = %v, want %s", inv.log["errorKind"], tt.want)
				}
				if tt.want == string(migrate.FaultTimeout) && inv.log["why"] == nil {
					t.Errorf("timeout log line does not say why: %v", inv.log)
				}
			}
			if inv.log["level"] != wantLevel || inv.log["outcome"] != wantOutcome {
				t.Errorf("log level, outcome = %v, %v; want %s, %s", inv.log["level"], inv.log["outcome"], wantLevel, wantOutcome)
			}
			if m := inv.metric; m["Outcome"] != wantOutcome || m["Reason"] != wantReason || m["TriggerSource"] != tt.source {
				t.Errorf("metric Outcome, Reason, TriggerSource = %v, %v, %v; want %s, %s, %s",
					m["Outcome"], m["Reason"], m["TriggerSource"], wantOutcome, wantReason, tt.source)
			}
			op := signIn
			if tt.source == forgot {
				op = lookup
			}
			if n := f.CallCount(op); tt.calls != 0 && n != tt.calls {
				t.Errorf("%s requests = %d, want %d", op, n, tt.calls)
			}
		})
	}
}

// Under a hung old pool every invocation, however many at once, answers
// within its budget, with the fault's function error and errorKind timeout.
func TestHungOldPoolAnswersWithinTheBudget(t *testing.T) {
	f := fakeOldPool(t)
	f.SetFault("AdminInitiateAuth", cognitotest.Fault{Hang: true})
	f.SetFault("AdminGetUser", cognitotest.Fault{Hang: true})
	out := &syncBuffer{}
	h := faultHandler(t, f, faultBudget, out)

	const n = 40
	took := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		source := "UserMigration_Authentication"
		if i%2 == 1 {
			source = "UserMigration_ForgotPassword"
		}
		wg.Go(func() {
			start := time.Now()
			_, errs[i] = h.Invoke(context.Background(), []byte(event(source, "alice", password)))
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i := range n {
		if took[i] > faultBudget+margin {
			t.Errorf("invocation %d answered after %v, budget %v", i, took[i], faultBudget)
		}
		if !unavailable(errs[i]) {
			t.Errorf("invocation %d: %#v, want the %s function error", i, errs[i], trigger.ErrorTypeUnavailable)
		}
	}
	recs, lines := emftest.Split(t, out.String())
	if len(recs) != n || len(lines) != n {
		t.Fatalf("%d EMF records and %d log lines for %d invocations", len(recs), len(lines), n)
	}
	for _, r := range recs {
		if r["Outcome"] != "error" || r["Reason"] != string(migrate.FaultTimeout) {
			t.Errorf("metric = %v, want error/timeout", r)
		}
	}
	for _, l := range lines {
		if !strings.Contains(l, `"errorKind":"timeout"`) || !strings.Contains(l, `"level":"ERROR"`) {
			t.Errorf("log line = %s, want an ERROR with errorKind timeout", l)
		}
	}
}

// The same through the command as it ships (3-second budget, local invoke
// server): every invocation answers before Cognito's 5 seconds run out.
func TestHungOldPoolThroughTheCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("waits the full 3-second budget")
	}
	f := fakeOldPool(t)
	f.SetFault("AdminInitiateAuth", cognitotest.Fault{Hang: true})
	f.SetFault("AdminGetUser", cognitotest.Fault{Hang: true})
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
	})
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			resp, out := tr.invoke(t, event("UserMigration_Authentication", fmt.Sprintf("user%d", i), password))
			took := time.Since(start)
			if took > trigger.DefaultBudget+margin || took >= invoke.Timeout {
				t.Errorf("invocation %d answered after %v; budget %v, Cognito waits %v", i, took, trigger.DefaultBudget, invoke.Timeout)
			}
			if resp.Header.Get("X-Amz-Function-Error") == "" || out["errorType"] != trigger.ErrorTypeUnavailable || out["errorMessage"] != trigger.UnavailableMessage {
				t.Errorf("invocation %d: %v %v, want the %s function error", i, resp.Header, out, trigger.ErrorTypeUnavailable)
			}
		})
	}
	wg.Wait()
	recs, _ := emftest.Split(t, tr.stdout.String())
	if len(recs) != n {
		t.Errorf("%d EMF records for %d invocations", len(recs), n)
	}
	for _, r := range recs {
		if r["Outcome"] != "error" || r["Reason"] != string(migrate.FaultTimeout) {
			t.Errorf("metric = %v, want error/timeout", r)
		}
	}
}

// panicOnDeadline is a context whose Deadline panics, with a secret in the
// panic value: a stand-in for a bug anywhere in an invocation.
type panicOnDeadline struct {
	context.Context
	value string
}

func (c panicOnDeadline) Deadline() (time.Time, bool) { panic(c.value) }

// Every path the function can take (success, each decline, each fault,
// a bad event, a recovered panic) through the command's own output, stdout
// and stderr: no password, client secret, SECRET_HASH or token in any log
// line or metric, and exactly one log line and one EMF record for each
// invocation, with the outcome the row expects.
func TestNoPathWritesASecret(t *testing.T) {
	pw := func(user string) string { return user + "-Pw-7q!Zx" }
	f := cognitotest.New(t)
	// An old pool that signs in by email too, whatever the case: the new
	// pool (a username pool, case sensitive) then has reasons to decline.
	f.AddPool(cognitotest.Pool{ID: oldPoolID, AliasAttributes: []string{"email"}, CaseInsensitive: true})
	f.AddClient(cognitotest.AppClient{PoolID: oldPoolID, ID: oldClientID, Secret: clientSecret, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	verified := func(user string) map[string]string {
		return map[string]string{"email": user + "@example.com", "email_verified": "true", "custom:tenant": "acme"}
	}
	users := []cognitotest.User{
		{Username: "alice", Enabled: true, Attributes: verified("alice")},
		{Username: "mfa", Enabled: true, Challenge: "SOFTWARE_TOKEN_MFA", MFASettings: []string{"SOFTWARE_TOKEN_MFA"}, Attributes: verified("mfa")},
		{Username: "disabled", Enabled: false, Attributes: verified("disabled")},
		{Username: "unconfirmed", Enabled: true, Status: "UNCONFIRMED", Attributes: verified("unconfirmed")},
		{Username: "reset", Enabled: true, Status: "RESET_REQUIRED", Attributes: verified("reset")},
		{Username: "temporary", Enabled: true, Status: "FORCE_CHANGE_PASSWORD", Attributes: verified("temporary")},
		{Username: "nocontact", Enabled: true, Attributes: map[string]string{"email": "nocontact@example.com", "email_verified": "false"}},
		{Username: "tempnocontact", Enabled: true, Status: "FORCE_CHANGE_PASSWORD", Attributes: map[string]string{"email": "tempnocontact@example.com"}},
	}
	secrets := []string{clientSecret, "eyJ"}
	for _, u := range users {
		u.Password = pw(u.Username)
		f.AddUser(oldPoolID, u)
		secrets = append(secrets, u.Password, cognito.SecretHash([]byte(clientSecret), u.Username, oldClientID))
	}
	const (
		auth   = "UserMigration_Authentication"
		forgot = "UserMigration_ForgotPassword"
	)
	type row struct {
		name         string
		payload      string
		fault        *cognitotest.Fault // on AdminInitiateAuth and AdminGetUser
		outcome, why string             // why: the reason or errorKind
	}
	rows := []row{
		{"migrated", event(auth, "alice", pw("alice")), nil, "migrated", "migrated"},
		{"migrated by forgot password", event(forgot, "alice", ""), nil, "migrated", "migrated"},
		{"wrong password", event(auth, "alice", "Wrong-"+pw("alice")), nil, "declined", "bad_credentials"},
		{"unknown user", event(auth, "nobody", pw("nobody")), nil, "declined", "user_not_found"},
		{"unknown user, forgot password", event(forgot, "nobody", ""), nil, "declined", "user_not_found"},
		{"disabled user, right password", event(auth, "disabled", pw("disabled")), nil, "declined", "bad_credentials"},
		{"disabled user, forgot password", event(forgot, "disabled", ""), nil, "declined", "user_disabled"},
		{"unconfirmed user", event(auth, "unconfirmed", pw("unconfirmed")), nil, "declined", "user_not_confirmed"},
		{"password reset required", event(auth, "reset", pw("reset")), nil, "declined", "password_reset_required"},
		{"MFA challenge", event(auth, "mfa", pw("mfa")), nil, "declined", "challenge_required"},
		{"temporary password (migrates as RESET_REQUIRED)", event(auth, "temporary", pw("temporary")), nil, "migrated", "migrated"},
		{"temporary password, forgot password", event(forgot, "temporary", ""), nil, "declined", "unsupported_status"},
		{"no verified contact, forgot password", event(forgot, "nocontact", ""), nil, "declined", "no_verified_contact"},
		{"MFA user, forgot password", event(forgot, "mfa", ""), nil, "declined", "mfa_required"},
		{"temporary password, no verified contact", event(auth, "tempnocontact", pw("tempnocontact")), nil, "declined", "no_verified_contact"},
		{"empty password", event(auth, "alice", ""), nil, "declined", "empty_input"},
		{"email typed, new pool has no email alias", event(auth, "alice@example.com", pw("alice")), nil, "declined", "sign_in_name_not_usable"},
		{"username in other case, case-sensitive new pool", event(auth, "ALICE", pw("alice")), nil, "declined", "username_case_mismatch"},
		{"throttled", event(auth, "alice", pw("alice")), &cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"}, "error", "throttled"},
		{"5xx", event(auth, "alice", pw("alice")), &cognitotest.Fault{ErrorType: "InternalErrorException", Message: "Internal error"}, "error", "unavailable"},
		{"connection reset", event(auth, "alice", pw("alice")), &cognitotest.Fault{ResetConn: true}, "error", "unavailable"},
		{"malformed answer", event(auth, "alice", pw("alice")), &cognitotest.Fault{RawBody: `{"AuthenticationResult":{"IdToken":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.`}, "error", "unavailable"},
		{"access denied", event(auth, "alice", pw("alice")), &cognitotest.Fault{ErrorType: "AccessDeniedException", Message: "not authorized"}, "error", "configuration"},
		{"unknown error code", event(auth, "alice", pw("alice")), &cognitotest.Fault{ErrorType: "BrandNewException", Message: "?"}, "error", "unknown"},
		{"hang", event(auth, "alice", pw("alice")), &cognitotest.Fault{Hang: true}, "error", "timeout"},
		{"event not JSON", `{"triggerSource":"UserMigration_Authentication","userName":"alice","request":{"password":"` + pw("alice") + `"`, nil, "error", "invalid_event"},
		{"password of the wrong type", `{"triggerSource":"UserMigration_Authentication","userName":"alice","request":{"password":["` + pw("alice") + `"]}}`, nil, "error", "invalid_event"},
		{"another trigger source", strings.Replace(event(auth, "alice", pw("alice")), auth, "PostConfirmation_ConfirmSignUp", 1), nil, "error", "invalid_event"},
	}

	env := map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"OLD_CLIENT_SECRET": clientSecret, "LOG_LEVEL": "DEBUG",
	}
	var output []string // everything every run wrote
	for _, mode := range []string{"empty", "error"} {
		env["DECLINE_RESPONSE"] = mode
		tr := startTrigger(t, env)
		for _, r := range rows {
			if mode == "error" && r.outcome != "declined" {
				continue // the mode changes only how declines are answered
			}
			t.Run(mode+"/"+r.name, func(t *testing.T) {
				if r.fault != nil {
					f.SetFault("AdminInitiateAuth", *r.fault)
					f.SetFault("AdminGetUser", *r.fault)
					defer f.ClearFault("AdminInitiateAuth")
					defer f.ClearFault("AdminGetUser")
				}
				resp, body := tr.invoke(t, r.payload)
				functionError := resp.Header.Get("X-Amz-Function-Error") != ""
				if want := r.outcome == "error" || (r.outcome == "declined" && mode == "error"); functionError != want {
					t.Errorf("function error = %v, want %v: %v", functionError, want, body)
				}
				if r.outcome == "migrated" && body["response"].(map[string]any)["userAttributes"] == nil {
					t.Errorf("not migrated: %v", body)
				}
				checkOneRecord(t, tr.stdout.String(), resp.Header.Get("X-Amzn-Requestid"), r.outcome, r.why)
			})
		}
		output = append(output, tr.stdout.String(), tr.stderr.String())
	}

	for name, set := range map[string]map[string]string{
		"wrong client secret":                     {"OLD_CLIENT_SECRET": "Wrong-" + clientSecret},
		"legacy sub attribute the new pool lacks": {"OLD_CLIENT_SECRET": clientSecret, "LEGACY_SUB_ATTRIBUTE": "custom:legacy_sub"},
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL}
			for k, v := range set {
				env[k] = v
			}
			secrets = append(secrets, cognito.SecretHash([]byte("Wrong-"+clientSecret), "alice", oldClientID))
			tr := startTrigger(t, env)
			resp, _ := tr.invoke(t, event(auth, "alice", pw("alice")))
			checkOneRecord(t, tr.stdout.String(), resp.Header.Get("X-Amzn-Requestid"), "error", "configuration")
			output = append(output, tr.stdout.String(), tr.stderr.String())
		})
	}

	t.Run("recovered panic", func(t *testing.T) {
		// run() offers no way to make the handler panic: newHandler, which
		// run calls, builds it with the same settings and output.
		awsEnv(t)
		out := &syncBuffer{}
		h, _, err := newHandler(context.Background(), func(k string) string { return env[k] }, out)
		if err != nil {
			t.Fatal(err)
		}
		ctx := panicOnDeadline{context.Background(), "boom: " + pw("alice") + " " + clientSecret}
		_, err = h.Invoke(ctx, []byte(event(auth, "alice", pw("alice"))))
		if !unavailable(err) {
			t.Errorf("Invoke() error = %#v, want the %s function error", err, trigger.ErrorTypeUnavailable)
		}
		recs, lines := emftest.Split(t, out.String())
		var decisions []string
		for _, l := range lines {
			if strings.Contains(l, `"message":"user migration"`) {
				decisions = append(decisions, l)
			}
		}
		if len(recs) != 1 || len(decisions) != 1 {
			t.Fatalf("%d EMF records and %d decision lines, want 1 and 1:\n%s", len(recs), len(decisions), out)
		}
		if recs[0]["Outcome"] != "error" || recs[0]["Reason"] != "panic" || !strings.Contains(decisions[0], `"errorKind":"panic"`) {
			t.Errorf("metric %v, log %s; want error/panic", recs[0], decisions[0])
		}
		output = append(output, out.String())
	})

	all := strings.Join(output, "\n")
	if !strings.Contains(all, `"errorKind":"timeout"`) || !strings.Contains(all, `"Reason":"migrated"`) {
		t.Fatalf("the output does not hold the invocations' lines:\n%s", all)
	}
	for _, s := range secrets {
		if i := strings.Index(all, s); i >= 0 {
			t.Errorf("output holds %q: ...%s...", s, all[max(0, i-200):min(len(all), i+len(s)+50)])
		}
	}
}

// checkOneRecord finds the one log line and the one EMF record of the
// invocation requestID in out, and checks their outcome and reason.
func checkOneRecord(t *testing.T, out, requestID, outcome, why string) {
	t.Helper()
	if requestID == "" {
		t.Fatal("no request id in the answer")
	}
	recs, lines := emftest.Split(t, out)
	var mine []map[string]any
	for _, r := range recs {
		if r["requestId"] == requestID {
			mine = append(mine, r)
		}
	}
	var logs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["requestId"] == requestID && m["message"] == "user migration" {
			logs = append(logs, m)
		}
	}
	if len(mine) != 1 || len(logs) != 1 {
		t.Fatalf("request %s: %d EMF records and %d log lines, want 1 and 1", requestID, len(mine), len(logs))
	}
	if m := mine[0]; m["Outcome"] != outcome || m["Reason"] != why {
		t.Errorf("metric Outcome, Reason = %v, %v; want %s, %s", m["Outcome"], m["Reason"], outcome, why)
	}
	l := logs[0]
	got := l["reason"]
	if outcome == "error" {
		got = l["errorKind"]
	}
	if l["outcome"] != outcome || got != why {
		t.Errorf("log outcome = %v, reason/errorKind = %v; want %s, %s", l["outcome"], got, outcome, why)
	}
}

// faultyNewPool serves a new pool whose DescribeUserPool hangs ("hang") or
// fails with the error code fault, at AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
func faultyNewPool(t *testing.T, fault string) {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server notice a client
		// that gives up, and end r.Context().
		_, _ = io.Copy(io.Discard, r.Body)
		if fault == "hang" {
			select {
			case <-r.Context().Done():
			case <-done:
			}
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", fault)
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": fault, "message": "new pool: " + fault})
	}))
	t.Cleanup(func() {
		close(done) // Close waits for handlers still hanging
		srv.Close()
	})
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", srv.URL)
}

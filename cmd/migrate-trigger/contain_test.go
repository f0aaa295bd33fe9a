package main

// Containment through the command as it ships: STS trouble never fails a
// sign-in the cached credentials can sign, a hung STS does not wedge the
// container, and a password typed as a username never reaches the output.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// hangable makes the fake STS hang every AssumeRole while hung is set
// (its handler waits in the clock), until released; release runs at
// cleanup, before the fake closes (which waits for its handlers).
type hangable struct {
	mu      sync.Mutex
	hung    bool
	release chan struct{}
	skew    time.Duration
}

func newHangable(t *testing.T, s *awstest.STS, skew time.Duration) *hangable {
	h := &hangable{release: make(chan struct{}), skew: skew}
	s.SetNow(h.now)
	t.Cleanup(h.unhang)
	return h
}

func (h *hangable) now() time.Time {
	h.mu.Lock()
	hung, release := h.hung, h.release
	h.mu.Unlock()
	if hung {
		<-release
	}
	return time.Now().Add(h.skew)
}

func (h *hangable) hang() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hung = true
}

func (h *hangable) unhang() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hung {
		h.hung = false
		close(h.release)
		h.release = make(chan struct{})
	}
}

func crossAccountEnv(f *cognitotest.Fake) map[string]string {
	return map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"OLD_ROLE_ARN": roleARN, "OLD_EXTERNAL_ID": externalID,
	}
}

// decisionLines are the "user migration" log lines in out.
func decisionLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var ds []map[string]any
	for _, l := range strings.Split(out, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["message"] == "user migration" {
			ds = append(ds, m)
		}
	}
	return ds
}

func isMigrated(out map[string]any) bool {
	r, _ := out["response"].(map[string]any)
	return r != nil && r["finalUserStatus"] == "CONFIRMED"
}

// With credentials inside their renewal window but still valid, a failing
// and then a hung STS fail no sign-in and do not slow them down; once STS
// answers again, the old pool is called with renewed credentials.
func TestSTSTroubleNeverFailsSignInsWithGoodCredentials(t *testing.T) {
	awsEnv(t)
	sts := newSTS(t)
	// One-hour credentials issued 58 minutes "ago": 2 minutes left, inside
	// the renewal window whatever its jitter (2.5 to 5 minutes), well above
	// the minimum validity.
	h := newHangable(t, sts, -58*time.Minute)
	f := fakeOldPool(t)
	tr := startTrigger(t, crossAccountEnv(f))
	first := sts.Calls()[0].Issued.AccessKeyID

	sts.FailWith(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
	for i := 0; i < 3; i++ {
		if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); !isMigrated(out) {
			t.Fatalf("sign-in %d while STS fails: %v", i, out)
		}
	}
	if n := len(sts.Calls()); n < 2 {
		t.Fatalf("AssumeRole calls = %d while STS failed, want renewals tried", n)
	}
	sts.FailWith(0, "", "")
	h.hang()
	for i := 0; i < 3; i++ {
		start := time.Now()
		if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); !isMigrated(out) {
			t.Fatalf("sign-in %d while STS hangs: %v", i, out)
		}
		if took := time.Since(start); took > awsconfig.RenewWait+time.Second {
			t.Errorf("sign-in %d while STS hangs took %v: it must not wait for the renewal", i, took)
		}
	}
	for _, sig := range signatures(t, f) {
		if sig.AccessKeyID != first {
			t.Fatalf("old pool called with %s during the outage, want the cached %s", sig.AccessKeyID, first)
		}
	}
	h.unhang()
	// A renewal still hung when STS recovers ends by its own deadline at
	// the latest; a later one then renews.
	renewed := false
	for deadline := time.Now().Add(awsconfig.RenewTimeout + 2*time.Second); !renewed && time.Now().Before(deadline); {
		if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); !isMigrated(out) {
			t.Fatalf("sign-in after STS recovered: %v", out)
		}
		sigs := signatures(t, f)
		renewed = sigs[len(sigs)-1].AccessKeyID != first
		time.Sleep(100 * time.Millisecond)
	}
	if !renewed {
		var issued []string
		for _, c := range sts.Calls() {
			issued = append(issued, c.Issued.AccessKeyID+"@"+c.Issued.Expiration.Format(time.TimeOnly))
		}
		t.Errorf("old pool still called with %s after STS answered again: credentials never renewed (AssumeRole answers: %q, now %s)",
			first, issued, time.Now().UTC().Format(time.TimeOnly))
	}
	for _, d := range decisionLines(t, tr.stdout.String()) {
		if d["outcome"] != "migrated" {
			t.Errorf("decision %v, want every sign-in migrated", d)
		}
	}
}

// Credentials that ran out while STS hangs: the sign-in fails with a log
// that names STS, and the container does not stay wedged: once STS answers
// again, sign-ins succeed.
func TestHungSTSNamedAndNotWedged(t *testing.T) {
	awsEnv(t)
	sts := newSTS(t)
	h := newHangable(t, sts, 0)
	// Credentials good for 2 s beyond the minimum validity.
	sts.SetLifetime(awsconfig.MinValidity + 2*time.Second)
	f := fakeOldPool(t)
	tr := startTrigger(t, crossAccountEnv(f))
	time.Sleep(2500 * time.Millisecond) // the start-up credentials are no longer good
	h.hang()
	sts.SetLifetime(time.Hour)
	resp, _ := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
	if resp.Header.Get("X-Amz-Function-Error") == "" {
		t.Fatal("sign-in without credentials, STS hung: want a function error")
	}
	ds := decisionLines(t, tr.stdout.String())
	d := ds[len(ds)-1]
	if d["errorKind"] != "timeout" || d["faultService"] != "sts" || !strings.Contains(d["why"].(string), "sts") ||
		!strings.Contains(d["error"].(string), "sts:AssumeRole") {
		t.Errorf("decision %v; want errorKind timeout, faultService sts, a why and an error naming STS", d)
	}
	if n := f.CallCount("AdminInitiateAuth"); n != 0 {
		t.Errorf("old pool saw %d sign-ins without credentials, want 0", n)
	}

	h.unhang()
	// The hung renewal ends at its own deadline; the next sign-ins renew.
	deadline := time.Now().Add(awsconfig.RenewTimeout + 2*time.Second)
	for {
		_, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
		if isMigrated(out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing %v after STS answered again: the container is wedged; last answer %v", awsconfig.RenewTimeout, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A password typed into the username box never reaches the output, on any
// decline or fault path, for sign-in and forgot password alike.
func TestPasswordTypedAsUsernameNeverLogged(t *testing.T) {
	const typed = "Hunter2-Correct-Horse-Battery!"
	f := fakeOldPool(t)
	env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL, "LOG_LEVEL": "DEBUG"}
	rows := []struct {
		name, source, password string
		fault                  *cognitotest.Fault
		outcome, why           string
	}{
		{"unknown user", "UserMigration_Authentication", "anything", nil, "declined", "user_not_found"},
		{"forgot password, unknown user", "UserMigration_ForgotPassword", "", nil, "declined", "user_not_found"},
		{"empty password", "UserMigration_Authentication", "", nil, "declined", "empty_input"},
		{"wrong password", "UserMigration_Authentication", "x", &cognitotest.Fault{ErrorType: "NotAuthorizedException", Message: "Incorrect username or password."}, "declined", "bad_credentials"},
		{"throttled", "UserMigration_Authentication", "x", &cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"}, "error", "throttled"},
		{"AWS quotes the value it refuses", "UserMigration_Authentication", "x", &cognitotest.Fault{ErrorType: "InvalidParameterException",
			Message: "1 validation error detected: Value '" + typed + "' at 'username' failed to satisfy constraint"}, "error", "configuration"},
		{"forgot password, AWS quotes the value", "UserMigration_ForgotPassword", "", &cognitotest.Fault{ErrorType: "InvalidParameterException",
			Message: "1 validation error detected: Value '" + typed + "' at 'username' failed to satisfy constraint"}, "error", "configuration"},
	}
	tr := startTrigger(t, env)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if r.fault != nil {
				f.SetFault("AdminInitiateAuth", *r.fault)
				f.SetFault("AdminGetUser", *r.fault)
				defer f.ClearFault("AdminInitiateAuth")
				defer f.ClearFault("AdminGetUser")
			}
			resp, _ := tr.invoke(t, event(r.source, typed, r.password))
			checkOneRecord(t, tr.stdout.String(), resp.Header.Get("X-Amzn-Requestid"), r.outcome, r.why)
		})
	}
	all := tr.stdout.String() + tr.stderr.String()
	if strings.Contains(all, typed) {
		t.Errorf("output holds the typed name:\n%s", all)
	}
	ds := decisionLines(t, tr.stdout.String())
	if len(ds) != len(rows) {
		t.Fatalf("%d decision lines, want %d", len(ds), len(rows))
	}
	for _, d := range ds {
		if d["userNameHash"] == nil || d["userNameHash"] != ds[0]["userNameHash"] {
			t.Errorf("decision userNameHash = %v, want the same hash on every line (%v)", d["userNameHash"], ds[0]["userNameHash"])
		}
	}
}

// 100 cold invocations at once read the new pool's description once.
func TestConcurrentColdInvocationsDescribeOnce(t *testing.T) {
	awsEnv(t)
	np := startNewPool(t, standardNewPool())
	f := fakeOldPool(t)
	out := &syncBuffer{}
	h := faultHandler(t, f, 3*time.Second, out)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := h.Invoke(context.Background(), []byte(event("UserMigration_Authentication", "alice", password)))
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	// Under a loaded machine some may time out; the count is what matters.
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed > 0 {
		t.Logf("%d of 100 invocations failed (a loaded machine)", failed)
	}
	n := 0
	for _, op := range np.operations() {
		if op == "DescribeUserPool" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("DescribeUserPool calls = %d for 100 concurrent cold invocations, want 1", n)
	}
}

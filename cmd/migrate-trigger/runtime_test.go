package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
	"github.com/cognito-migrate/cognito-migrate/internal/logging"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// jsonLines parses out, failing t on any line that is not a JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("output line is not JSON: %q", sc.Text())
			continue
		}
		lines = append(lines, m)
	}
	return lines
}

// restoreStdLog undoes startRuntime's change to the standard logger.
func restoreStdLog() {
	log.SetOutput(os.Stderr)
	log.SetFlags(log.LstdFlags)
}

// captureRuntime replaces the Lambda runtime start for one test and
// returns the handler run gave it.
func captureRuntime(t *testing.T) *lambda.Handler {
	t.Helper()
	var got lambda.Handler
	saved := startLambda
	startLambda = func(_ context.Context, h lambda.Handler) { got = h }
	t.Cleanup(func() { startLambda = saved })
	return &got
}

// Under the Lambda runtime a bad configuration no longer exits at init: the
// function starts and answers every event with the fixed message, so
// Cognito never shows users Lambda's own error text, and the
// configuration alarm gets its metric.
func TestRuntimeConfigurationErrorAnswersEveryEvent(t *testing.T) {
	awsEnv(t)
	h := captureRuntime(t)
	t.Cleanup(restoreStdLog)
	var stdout, stderr syncBuffer
	env := map[string]string{"OLD_CLIENT_ID": oldClientID, envRuntimeAPI: "127.0.0.1:9001"} // OLD_USER_POOL_ID missing
	if code := run(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code = %d, want the runtime started (stderr %q)", code, stderr.String())
	}
	if *h == nil {
		t.Fatal("the Lambda runtime was not started")
	}
	started := stdout.String()
	jsonLines(t, started)
	if !strings.Contains(started, "OLD_USER_POOL_ID") {
		t.Errorf("start-up log %q does not name OLD_USER_POOL_ID", started)
	}

	for i, payload := range []string{
		event("UserMigration_Authentication", "alice", password),
		event("UserMigration_ForgotPassword", "alice", ""),
		`not json`,
	} {
		before := len(stdout.String())
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
		out, err := (*h).Invoke(ctx, []byte(payload))
		var ie messages.InvokeResponse_Error
		if out != nil || !errors.As(err, &ie) || ie.Message != trigger.UnavailableMessage || ie.Type != trigger.ErrorTypeUnavailable {
			t.Fatalf("event %d: Invoke = %q, %v; want the %s error %q", i, out, err, trigger.ErrorTypeUnavailable, trigger.UnavailableMessage)
		}
		lines := jsonLines(t, stdout.String()[before:])
		var logged, emf bool
		for _, l := range lines {
			if _, ok := l["_aws"]; ok {
				emf = true
				if l["Outcome"] != "error" || l["Reason"] != "configuration" || l["requestId"] != "req-1" {
					t.Errorf("event %d: EMF record %v, want Outcome error, Reason configuration", i, l)
				}
				if i < 2 && l["TriggerSource"] == metrics.Unknown {
					t.Errorf("event %d: EMF TriggerSource unknown, want the event's", i)
				}
				continue
			}
			logged = true
			if l["level"] != "ERROR" || l["errorKind"] != "configuration" || !strings.Contains(l["error"].(string), "OLD_USER_POOL_ID") {
				t.Errorf("event %d: log line %v, want an ERROR naming OLD_USER_POOL_ID", i, l)
			}
		}
		if !logged || !emf {
			t.Errorf("event %d: log line written %v, EMF record written %v; want both:\n%s", i, logged, emf, stdout.String()[before:])
		}
		if strings.Contains(stdout.String(), password) || strings.Contains(stdout.String(), "alice") {
			t.Errorf("event %d: the output holds the event's user or password", i)
		}
	}
	if stderr.String() != "" {
		t.Errorf("stderr = %q, want every line on stdout as JSON", stderr.String())
	}
}

// -listen, or the binary run by hand, keeps failing fast: a person at a
// terminal reads the message.
func TestConfigurationErrorOutsideLambdaStillExits(t *testing.T) {
	for name, args := range map[string][]string{"-listen": {"-listen", "127.0.0.1:0"}, "run by hand": nil} {
		t.Run(name, func(t *testing.T) {
			awsEnv(t)
			h := captureRuntime(t)
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			if *h != nil {
				t.Error("the Lambda runtime was started")
			}
			if !strings.Contains(stderr.String(), "OLD_USER_POOL_ID") {
				t.Errorf("stderr = %q, want it to name OLD_USER_POOL_ID", stderr.String())
			}
		})
	}
}

// aws-lambda-go logs each function error with the standard log package, as
// plain text; in a function whose every other line is JSON that line must
// be JSON too, or CloudWatch's JSON log format and Logs Insights miss it.
func TestStandardLogLinesBecomeJSON(t *testing.T) {
	var out bytes.Buffer
	std := log.New(stdLogWriter{logging.New(&out, slog.LevelInfo)}, "", 0)

	// What aws-lambda-go's reportFailure prints (lambda/invoke_loop.go).
	std.Printf("%s", `{"errorMessage":"Sign-in is temporarily unavailable. Please try again.","errorType":"UserMigrationUnavailable"}`)
	std.Print("WARNING! AWS_LAMBDA_RUNTIME_API environment variable not found.")
	std.Printf("two\nlines")

	lines := jsonLines(t, out.String())
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4:\n%s", len(lines), out.String())
	}
	if l := lines[0]; l["level"] != "ERROR" || l["message"] != "function error" ||
		l["errorType"] != trigger.ErrorTypeUnavailable || l["errorMessage"] != trigger.UnavailableMessage {
		t.Errorf("function error line = %v", l)
	}
	if l := lines[1]; l["level"] != "WARN" || l["message"] != "WARNING! AWS_LAMBDA_RUNTIME_API environment variable not found." {
		t.Errorf("other line = %v", l)
	}
	if lines[2]["message"] != "two" || lines[3]["message"] != "lines" {
		t.Errorf("multi-line write = %v, %v", lines[2], lines[3])
	}
}

// The standard logger is pointed at the JSON writer when the runtime
// starts, with no prefix or timestamp of its own.
func TestRuntimeStartRoutesTheStandardLogger(t *testing.T) {
	captureRuntime(t)
	t.Cleanup(restoreStdLog)
	var out bytes.Buffer
	startRuntime(context.Background(), nil, logging.New(&out, slog.LevelInfo))
	log.Printf("%s", `{"errorMessage":"m","errorType":"t"}`)
	lines := jsonLines(t, out.String())
	if len(lines) != 1 || lines[0]["errorType"] != "t" {
		t.Errorf("standard log output = %q, want one JSON function error line", out.String())
	}
}

func TestListenOnThisMachineOnly(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"all interfaces", []string{"-listen", ":9000"}, 2, "-listen-any"},
		{"unspecified IPv4", []string{"-listen", "0.0.0.0:0"}, 2, "-listen-any"},
		{"a LAN address", []string{"-listen", "192.168.1.10:9000"}, 2, "-listen-any"},
		{"a host name", []string{"-listen", "trigger.example.com:9000"}, 2, "-listen-any"},
		{"-listen-any without -listen", []string{"-listen-any"}, 2, "-listen-any needs -listen"},
		// Past the address check, the empty configuration stops it.
		{"-listen-any lifts the refusal", []string{"-listen-any", "-listen", "0.0.0.0:0"}, 1, "OLD_USER_POOL_ID"},
		{"loopback passes", []string{"-listen", "127.0.0.1:0"}, 1, "OLD_USER_POOL_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, func(string) string { return "" }, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("run(%q) = %d, stderr %q; want %d naming %q", tt.args, code, stderr.String(), tt.wantCode, tt.want)
			}
		})
	}
}

// A start-up that failed on a call, not on the settings, is retried by a
// later event (at most once per interval), and once it succeeds the real
// handler answers: a Secrets Manager or STS blip at a cold start must not
// leave the container failing for its whole life.
func TestRuntimeRetriesAStartUpThatFailedOnACall(t *testing.T) {
	awsEnv(t)
	startNewPool(t, standardNewPool())
	f := fakeOldPool(t)
	sm := awstest.NewSecretsManager(t)
	sm.Put(secretARN, clientSecret)
	sm.Deny(true)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
	env := map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"OLD_CLIENT_SECRET_ARN": secretARN, envRuntimeAPI: "127.0.0.1:9001",
	}
	h := captureRuntime(t)
	t.Cleanup(restoreStdLog)
	var stdout, stderr syncBuffer
	if code := run(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code = %d (stderr %q)", code, stderr.String())
	}
	failed, ok := (*h).(*configurationFailure)
	if !ok || failed.retry == nil {
		t.Fatalf("runtime handler = %T (retry set: %v), want a configurationFailure that retries", *h, ok && failed.retry != nil)
	}
	clock := time.Now()
	failed.now = func() time.Time { return clock }

	wrongPassword := event("UserMigration_Authentication", "alice", "not-alices-password")
	answer := func() error {
		_, err := (*h).Invoke(context.Background(), []byte(wrongPassword))
		return err
	}
	unavailable := func(err error) bool {
		var ie messages.InvokeResponse_Error
		return errors.As(err, &ie) && ie.Message == trigger.UnavailableMessage
	}

	if err := answer(); !unavailable(err) {
		t.Fatalf("secret still denied: %v, want the unavailable message", err)
	}
	sm.Deny(false)
	if err := answer(); !unavailable(err) {
		t.Fatalf("within the retry interval: %v, want the unavailable message (no retry yet)", err)
	}
	clock = clock.Add(startupRetryInterval)
	if err := answer(); err != nil {
		t.Fatalf("after the interval, with the secret readable: %v, want the real handler's decline", err)
	}
	if err := answer(); err != nil {
		t.Fatalf("the next event: %v, want the real handler's decline", err)
	}
	if got := strings.Count(stdout.String(), `"outcome":"declined"`); got != 2 {
		t.Errorf("%d declined decisions logged, want 2:\n%s", got, stdout.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), clientSecret) {
		t.Error("the output holds the client secret")
	}
}

// A problem in the settings lasts as long as the container: no retry.
func TestRuntimeDoesNotRetryInvalidSettings(t *testing.T) {
	awsEnv(t)
	h := captureRuntime(t)
	t.Cleanup(restoreStdLog)
	var stdout, stderr bytes.Buffer
	env := map[string]string{envRuntimeAPI: "127.0.0.1:9001"}
	run(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr)
	if failed, ok := (*h).(*configurationFailure); !ok || failed.retry != nil {
		t.Errorf("runtime handler = %T, want a configurationFailure without retry", *h)
	}
}

func TestStartupRetryLeavesTheHandlerItsBudget(t *testing.T) {
	var calls int
	failed := &configurationFailure{
		log: slog.New(slog.DiscardHandler), problem: "OLD_CLIENT_SECRET_ARN: cannot read the secret", now: time.Now,
		retry: func(ctx context.Context) (lambda.Handler, error) {
			calls++
			dl, _ := ctx.Deadline()
			if left := time.Until(dl); left > startupRetryBudget {
				t.Errorf("retry budget %v, want at most %v", left, startupRetryBudget)
			}
			return nil, errors.New("still failing")
		},
	}
	// 3.05 s before the deadline: the handler needs its 3 s, no retry.
	ctx, cancel := context.WithTimeout(context.Background(), trigger.DefaultBudget+50*time.Millisecond)
	defer cancel()
	if _, err := failed.Invoke(ctx, []byte(`{}`)); err == nil || calls != 0 {
		t.Errorf("near the deadline: err %v, %d retries; want the error and no retry", err, calls)
	}
	if _, err := failed.Invoke(context.Background(), []byte(`{}`)); err == nil || calls != 1 {
		t.Errorf("no deadline: err %v, %d retries; want the error after one retry", err, calls)
	}
}

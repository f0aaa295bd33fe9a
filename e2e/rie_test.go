//go:build unix

package e2e

// The function under the real Lambda runtime: the bootstrap built exactly as
// the Lambda package builds it (tools/packaging), run by the AWS Lambda
// Runtime Interface Emulator (pinned in tools/rie, built by `make tools`),
// which speaks the Lambda Runtime API to it as Lambda does. Every other
// test reaches the handler through -listen; this one goes through
// aws-lambda-go's runtime loop, its deadline and its error reporting.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
	"github.com/cognito-migrate/cognito-migrate/tools/packaging"
)

// rieBinEnv overrides where the tests look for the emulator.
const rieBinEnv = "AWS_LAMBDA_RIE_BIN"

// rieFunction is the one function name the emulator serves.
const rieFunction = "function"

// rieBin returns the emulator built by `make tools`. A missing emulator
// fails the test (CI must never pass without it); only -short skips.
func rieBin(t *testing.T) string {
	t.Helper()
	p := os.Getenv(rieBinEnv)
	if p == "" {
		p = filepath.Join("..", "tools", "rie", "bin", "aws-lambda-rie")
	}
	abs, err := filepath.Abs(p)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		if testing.Short() {
			t.Skipf("skipping in -short mode: the Lambda runtime emulator is not built: %v", err)
		}
		t.Fatalf("the Lambda runtime emulator is not built (%v): run `make tools` in the module root, or set %s", err, rieBinEnv)
	}
	return abs
}

// buildLambdaBootstrap builds cmd/migrate-trigger with the Lambda
// package's flags (lambda.norpc, static, no cgo) for this machine's
// architecture.
func buildLambdaBootstrap(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", packaging.BuildArgs(out)...)
	cmd.Dir = root
	cmd.Env = packaging.BuildEnv(os.Environ(), runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(packaging.BuildArgs(out), " "), err, b)
	}
	return out
}

// rie is one emulator running one function.
type rie struct {
	url string // the Invoke API URL of the function
	log string // the file with the emulator's and the function's output
}

// output is everything the emulator and the function wrote so far.
func (r *rie) output(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(r.log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// functionLines are the function's JSON lines (log lines and EMF records).
// The emulator's own lines (START, END, REPORT, its logrus lines) are left
// out; any other line that is not JSON fails t: the function writes JSON
// only, aws-lambda-go's error report included.
func (r *rie) functionLines(t *testing.T) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.output(t)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "{") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Errorf("function line is not JSON: %q", line)
				continue
			}
			lines = append(lines, m)
			continue
		}
		if isEmulatorLine(line) {
			continue
		}
		t.Errorf("a line that is neither the emulator's nor JSON: %q", line)
	}
	return lines
}

// emulatorLine matches the emulator's own lines: the per-invocation START,
// END and REPORT lines and its timestamped "(rapid)" log lines.
var emulatorLine = regexp.MustCompile(`^(START|END|REPORT) RequestId: |^\d{2} [A-Z][a-z]{2} \d{4} [0-9:,]+ \[[A-Z]+\] \(rapid\) |^\s*$`)

func isEmulatorLine(line string) bool { return emulatorLine.MatchString(line) }

// startRIE runs bootstrap under the emulator on port (0: a free one) with
// exactly env (plus PATH) and stops it at cleanup.
func startRIE(t *testing.T, bootstrap string, port int, env map[string]string) *rie {
	t.Helper()
	bin := rieBin(t)
	if port == 0 {
		port = freeLoopbackPort(t)
	}
	apiPort := freeLoopbackPort(t)
	logFile, err := os.CreateTemp(t.TempDir(), "rie-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the child has its own descriptor
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// Both of the emulator's listeners on loopback: its Invoke API
	// defaults to 0.0.0.0:8080, its Runtime API to 127.0.0.1:9001.
	cmd := exec.Command(bin,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	// The emulator passes its whole environment to the function: give it
	// the function's settings and nothing from this machine.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r := &rie{url: "http://" + addr + "/2015-03-31/functions/" + rieFunction + "/invocations", log: logFile.Name()}
	t.Cleanup(func() {
		// The emulator and the function it started share a process group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("emulator output:\n%s", r.output(t))
		}
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return r
		}
		select {
		case <-done:
			t.Fatalf("the emulator exited before listening:\n%s", r.output(t))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator is not listening on %s after 15s:\n%s", addr, r.output(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// invoke sends payload as a synchronous invocation and returns the answer
// and how long it took.
func (r *rie) invoke(t *testing.T, payload string) (int, string, time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()
	resp, err := client.Post(r.url, "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), time.Since(start)
}

// functionError decodes a function error body, failing t if it is not one.
func functionError(t *testing.T, body string) (errorType, errorMessage string) {
	t.Helper()
	var e struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Type == "" {
		t.Fatalf("answer %q is not a function error", body)
	}
	return e.Type, e.Message
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// rieEvent is a "Migrate user" event as Cognito sends it.
func rieEvent(source, poolID, user, password string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "1", "triggerSource": source, "region": "eu-west-2", "userPoolId": poolID,
		"userName": user, "callerContext": map[string]string{"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "rieclient"},
		"request":  map[string]any{"password": password, "validationData": nil, "clientMetadata": nil},
		"response": map[string]any{"userAttributes": nil, "finalUserStatus": nil, "messageAction": nil, "desiredDeliveryMediums": nil, "forceAliasCreation": nil},
	})
	return string(b)
}

// rieAWSEnv is what the SDK needs in the function: a region and dummy
// credentials (the emulators check no signature), nothing else.
func rieAWSEnv(newPoolURL string) map[string]string {
	return map[string]string{
		"AWS_REGION":                                 "eu-west-2",
		"AWS_ACCESS_KEY_ID":                          "AKIDRUNTIMEEMULATOR",
		"AWS_SECRET_ACCESS_KEY":                      "runtime-emulator",
		"AWS_CONFIG_FILE":                            os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":                os.DevNull,
		"AWS_EC2_METADATA_DISABLED":                  "true",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": newPoolURL,
	}
}

func rieCreatePool(t *testing.T, c *cip.Client, name string, flow types.ExplicitAuthFlowsType) (poolID, clientID string) {
	t.Helper()
	ctx := context.Background()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name)})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	poolID = aws.ToString(pool.UserPool.Id)
	client, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(poolID), ClientName: aws.String(name + "-client"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{flow, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatalf("create %s client: %v", name, err)
	}
	return poolID, aws.ToString(client.UserPoolClient.ClientId)
}

func rieAddUser(t *testing.T, c *cip.Client, poolID, username, password, email string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(poolID), Username: aws.String(username), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(email)}, {Name: aws.String("email_verified"), Value: aws.String("true")}},
	}); err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(poolID), Username: aws.String(username), Password: aws.String(password), Permanent: true,
	}); err != nil {
		t.Fatalf("set password of %s: %v", username, err)
	}
}

// decisions are the function's per-event log lines.
func decisions(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["message"] == "user migration" {
			out = append(out, l)
		}
	}
	return out
}

// emfRecords are the function's metric records.
func emfRecords(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if _, ok := l["_aws"]; ok {
			out = append(out, l)
		}
	}
	return out
}

func TestLambdaRuntimeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	rieBin(t) // fail before building anything when it is missing
	bootstrap := buildLambdaBootstrap(t)

	// The old pool, and the new pool whose trigger calls the emulator.
	oldPool := cognitolocal.StartTB(t, cognitolocal.Options{})
	oldClient := oldPool.Client()
	oldPoolID, oldClientID := rieCreatePool(t, oldClient, "old-pool", types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth)
	rieAddUser(t, oldClient, oldPoolID, "alice", "Alice-Passw0rd!", "alice@example.com")
	rieAddUser(t, oldClient, oldPoolID, "erin", "Erin-Passw0rd!", "erin@example.com")

	port := freeLoopbackPort(t)
	newPool := cognitolocal.StartTB(t, cognitolocal.Options{
		UserMigrationFunction: rieFunction,
		LambdaEndpoint:        fmt.Sprintf("http://127.0.0.1:%d", port),
	})
	newClient := newPool.Client()
	newPoolID, newClientID := rieCreatePool(t, newClient, "new-pool", types.ExplicitAuthFlowsTypeAllowUserPasswordAuth)

	env := rieAWSEnv(newPool.URL)
	env["OLD_USER_POOL_ID"] = oldPoolID
	env["OLD_CLIENT_ID"] = oldClientID
	env["OLD_USER_POOL_ENDPOINT"] = oldPool.URL
	// cognito-local signs a user in when the trigger answers an empty
	// response, where Cognito refuses: declines must be errors here.
	env["DECLINE_RESPONSE"] = "error"
	env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "5"
	fn := startRIE(t, bootstrap, port, env)

	signIn := func(user, password string) error {
		out, err := newClient.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
			ClientId: aws.String(newClientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password},
		})
		if err == nil && (out.AuthenticationResult == nil || out.AuthenticationResult.AccessToken == nil) {
			err = errors.New("no tokens")
		}
		return err
	}
	inNewPool := func(user string) bool {
		_, err := newClient.AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: aws.String(newPoolID), Username: aws.String(user)})
		var nf *types.UserNotFoundException
		if err != nil && !errors.As(err, &nf) {
			t.Fatalf("AdminGetUser(%s): %v", user, err)
		}
		return err == nil
	}

	t.Run("a user signs in to the new pool with their old password and is migrated", func(t *testing.T) {
		if err := signIn("alice", "Alice-Passw0rd!"); err != nil {
			t.Fatalf("SignIn(alice) = %v, want tokens", err)
		}
		if !inNewPool("alice") {
			t.Error("alice is not in the new pool")
		}
		ds := decisions(fn.functionLines(t))
		if len(ds) == 0 || ds[len(ds)-1]["outcome"] != "migrated" || ds[len(ds)-1]["requestId"] == "" {
			t.Errorf("decisions = %v, want the last one migrated, with the runtime's request id", ds)
		}
	})

	t.Run("a wrong password is declined", func(t *testing.T) {
		if err := signIn("erin", "not-erins-password"); err == nil {
			t.Fatal("SignIn(erin, wrong password) succeeded")
		}
		if inNewPool("erin") {
			t.Error("erin is in the new pool after a wrong password")
		}
		ds := decisions(fn.functionLines(t))
		if len(ds) == 0 || ds[len(ds)-1]["outcome"] != "declined" || ds[len(ds)-1]["reason"] != "bad_credentials" {
			t.Errorf("decisions = %v, want the last one declined for bad_credentials", ds)
		}
	})

	t.Run("bad input gets the fixed message, reported as JSON", func(t *testing.T) {
		for _, payload := range []string{`not json`, `{"triggerSource":"UserMigration_Authentication","userName":42}`, `{}`} {
			status, body, _ := fn.invoke(t, payload)
			typ, msg := functionError(t, body)
			if status != http.StatusOK || typ != trigger.ErrorTypeInvalid || msg != trigger.InvalidMessage {
				t.Errorf("invoke(%s) = %d %s, want 200 %s %q", payload, status, body, trigger.ErrorTypeInvalid, trigger.InvalidMessage)
			}
		}
		// aws-lambda-go reports each function error with the standard log
		// package: that line is JSON too (functionLines fails on plain text).
		var reported int
		for _, l := range fn.functionLines(t) {
			if l["message"] == "function error" && l["errorType"] == trigger.ErrorTypeInvalid {
				reported++
			}
		}
		if reported < 3 {
			t.Errorf("%d JSON function error lines for InvalidEvent, want at least 3:\n%s", reported, fn.output(t))
		}
	})

	t.Run("no password or event reaches the output", func(t *testing.T) {
		out := fn.output(t)
		for _, s := range []string{"Alice-Passw0rd!", "not-erins-password", "eyJ", `"request"`} {
			if strings.Contains(out, s) {
				t.Errorf("the output holds %q", s)
			}
		}
	})

	t.Run("an invalid configuration starts and answers every event with the fixed message", func(t *testing.T) {
		bad := rieAWSEnv(newPool.URL)
		bad["OLD_CLIENT_ID"] = oldClientID // OLD_USER_POOL_ID is missing
		broken := startRIE(t, bootstrap, 0, bad)
		for i := range 2 {
			status, body, _ := broken.invoke(t, rieEvent("UserMigration_Authentication", newPoolID, "alice", "Alice-Passw0rd!"))
			typ, msg := functionError(t, body)
			if status != http.StatusOK || typ != trigger.ErrorTypeUnavailable || msg != trigger.UnavailableMessage {
				t.Errorf("invocation %d = %d %s, want 200 %s %q", i, status, body, trigger.ErrorTypeUnavailable, trigger.UnavailableMessage)
			}
		}
		lines := broken.functionLines(t)
		var named int
		for _, l := range lines {
			if e, _ := l["error"].(string); strings.Contains(e, "OLD_USER_POOL_ID") {
				named++
			}
		}
		if named < 3 { // one at start, one per event
			t.Errorf("%d log lines name OLD_USER_POOL_ID, want at least 3:\n%s", named, broken.output(t))
		}
		records := emfRecords(lines)
		if len(records) != 2 {
			t.Fatalf("%d EMF records, want one per event:\n%s", len(records), broken.output(t))
		}
		for _, r := range records {
			if r["Outcome"] != "error" || r["Reason"] != "configuration" || r["TriggerSource"] != "UserMigration_Authentication" {
				t.Errorf("EMF record = %v, want Outcome error, Reason configuration", r)
			}
		}
		if strings.Contains(broken.output(t), "Alice-Passw0rd!") {
			t.Error("the output holds the password")
		}
	})

	t.Run("a hung old pool is answered before the function's deadline", func(t *testing.T) {
		release := make(chan struct{})
		var once sync.Once
		hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(hung.Close)
		t.Cleanup(func() { once.Do(func() { close(release) }) })

		const timeout = 2 * time.Second // under the handler's own 3 s budget
		slow := rieAWSEnv(newPool.URL)
		slow["OLD_USER_POOL_ID"] = oldPoolID
		slow["OLD_CLIENT_ID"] = oldClientID
		slow["OLD_USER_POOL_ENDPOINT"] = hung.URL
		slow["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "2"
		stuck := startRIE(t, bootstrap, 0, slow)
		// Init runs at the first invocation: do it with an event that
		// needs no pool, so the timed one measures the invocation only.
		stuck.invoke(t, `{}`)

		status, body, took := stuck.invoke(t, rieEvent("UserMigration_Authentication", newPoolID, "alice", "Alice-Passw0rd!"))
		if strings.Contains(body, "Task timed out") {
			t.Fatalf("the function timed out (%v): %s", took, body)
		}
		typ, msg := functionError(t, body)
		if status != http.StatusOK || typ != trigger.ErrorTypeUnavailable || msg != trigger.UnavailableMessage {
			t.Errorf("answer = %d %s, want 200 %s %q", status, body, trigger.ErrorTypeUnavailable, trigger.UnavailableMessage)
		}
		ds := decisions(stuck.functionLines(t))
		if len(ds) == 0 || ds[len(ds)-1]["outcome"] != "error" {
			t.Fatalf("decisions = %v, want the last one an error", ds)
		}
		// The handler's own time, and the round trip with the emulator's
		// hop (a little slack for a loaded machine).
		if ms, _ := ds[len(ds)-1]["durationMs"].(float64); ms <= 0 || time.Duration(ms*float64(time.Millisecond)) >= timeout {
			t.Errorf("the handler took %v ms, want less than the function's %v deadline", ms, timeout)
		}
		if took >= timeout+500*time.Millisecond {
			t.Errorf("answered after %v, want about the function's %v deadline at most", took, timeout)
		}
		t.Logf("hung old pool answered in %v (function timeout %v)", took, timeout)
	})
}

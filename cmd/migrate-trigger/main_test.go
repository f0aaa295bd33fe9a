package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

const (
	oldPoolID   = "eu-west-1_OldPool1"
	oldClientID = "7f3k2j1h0g9f8e7d6c5b4a3z2y"
	password    = "Pl41ntext-Passw0rd!"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// awsEnv gives the SDK what it reads from the process environment: dummy
// credentials and a region, and no shared config files.
func awsEnv(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFUNCTION")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "function-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "eu-west-2")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// newPoolServer answers DescribeUserPool for the new pool (Cognito's JSON
// 1.1 protocol) and records which operations it was asked.
type newPoolServer struct {
	URL string
	mu  sync.Mutex
	ops []string
}

// standardNewPool is a username pool with Cognito's standard attributes and
// custom:tenant.
func standardNewPool() map[string]any {
	var schema []any
	for _, n := range []string{"sub", "name", "given_name", "family_name", "email", "email_verified",
		"phone_number", "phone_number_verified", "preferred_username", "custom:tenant"} {
		schema = append(schema, map[string]any{"Name": n, "AttributeDataType": "String", "Mutable": true, "Required": n == "sub"})
	}
	return map[string]any{"Id": "eu-west-2_NewPool1", "MfaConfiguration": "OFF", "SchemaAttributes": schema}
}

// startNewPool serves pool as the new pool at
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, where the SDK sends the
// function's new-pool calls.
func startNewPool(t *testing.T, pool map[string]any) *newPoolServer {
	t.Helper()
	s := &newPoolServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
		_, _ = io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.ops = append(s.ops, op)
		s.mu.Unlock()
		if op != "DescribeUserPool" {
			w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"UserPool": pool})
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", srv.URL)
	return s
}

func (s *newPoolServer) operations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ops...)
}

type running struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
}

// startTrigger runs the command with -listen 127.0.0.1:0 and env, and
// returns its invoke URL once it listens. It is stopped at cleanup.
func startTrigger(t *testing.T, env map[string]string) *running {
	t.Helper()
	if os.Getenv("AWS_ACCESS_KEY_ID") != "AKIDFUNCTION" {
		awsEnv(t) // a test that set up more (STS, a new pool) has called it already
	}
	if os.Getenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER") == "" {
		startNewPool(t, standardNewPool())
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr := &running{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"-listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, tr.stdout, tr.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exited:
			if code != 0 {
				t.Errorf("exit code %d after shutdown; stderr: %s", code, tr.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Error("did not shut down")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(tr.stdout.String()))
		for sc.Scan() {
			var line struct {
				Message, URL string
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "local invoke server listening" {
				tr.url = line.URL
				return tr
			}
		}
		select {
		case code := <-exited:
			t.Fatalf("exited with %d before listening; stderr: %s", code, tr.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("not listening after 10s; stdout: %s", tr.stdout)
	return nil
}

func (tr *running) invoke(t *testing.T, event string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.Post(tr.url, "application/json", strings.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("response is not JSON: %s", body)
	}
	return resp, m
}

func event(source, user, pw string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "1", "triggerSource": source, "region": "eu-west-2", "userPoolId": "eu-west-2_NewPool1",
		"userName": user, "callerContext": map[string]string{"clientId": "newclient"},
		"request":  map[string]any{"password": pw},
		"response": map[string]any{"userAttributes": nil, "finalUserStatus": nil, "messageAction": nil},
	})
	return string(b)
}

func fakeOldPool(t *testing.T) *cognitotest.Fake {
	f := cognitotest.New(t)
	f.AddPool(cognitotest.Pool{ID: oldPoolID})
	f.AddClient(cognitotest.AppClient{PoolID: oldPoolID, ID: oldClientID, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser(oldPoolID, cognitotest.User{Username: "alice", Password: password, Enabled: true, Status: "CONFIRMED",
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true", "custom:tenant": "acme"}})
	return f
}

func TestListenMigratesAndDeclines(t *testing.T) {
	f := fakeOldPool(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
	})

	resp, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("status %d, function error %q", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
	}
	r := out["response"].(map[string]any)
	attrs := r["userAttributes"].(map[string]any)
	if r["finalUserStatus"] != "CONFIRMED" || attrs["email"] != "alice@example.com" || attrs["custom:tenant"] != "acme" {
		t.Errorf("response = %v", r)
	}
	if _, ok := attrs["sub"]; ok {
		t.Errorf("sub returned: %v", attrs)
	}

	// Old-pool calls are signed for the old pool's region, not AWS_REGION.
	for _, c := range f.Calls() {
		if auth := c.Header.Get("Authorization"); !strings.Contains(auth, "/eu-west-1/cognito-idp/") {
			t.Errorf("%s signed for %q, want region eu-west-1", c.Operation, auth)
		}
	}

	resp, out = tr.invoke(t, event("UserMigration_Authentication", "alice", "wrong-"+password))
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("decline: status %d, function error %q", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
	}
	if r := out["response"].(map[string]any); r["userAttributes"] != nil || r["finalUserStatus"] != nil {
		t.Errorf("declined response changed: %v", r)
	}

	if strings.Contains(tr.stdout.String()+tr.stderr.String(), password) {
		t.Errorf("output holds the password:\n%s\n%s", tr.stdout, tr.stderr)
	}
}

func TestListenDeclineError(t *testing.T) {
	f := fakeOldPool(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"DECLINE_RESPONSE": "error",
	})
	for _, user := range []string{"alice", "nobody"} {
		resp, out := tr.invoke(t, event("UserMigration_Authentication", user, "wrong"))
		if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") == "" {
			t.Fatalf("%s: status %d, function error %q", user, resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
		}
		if out["errorMessage"] != "Incorrect username or password." || out["errorType"] != "UserMigrationDeclined" {
			t.Errorf("%s: body = %v", user, out)
		}
	}
	// A malformed event gets the error shape and the server keeps serving.
	resp, out := tr.invoke(t, `{"triggerSource": 42`)
	if resp.Header.Get("X-Amz-Function-Error") == "" || out["errorType"] != "InvalidEvent" {
		t.Errorf("malformed: %v %v", resp.Header, out)
	}
	if resp, _ := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Errorf("server stopped serving after a malformed event")
	}
}

func TestStartupFailsNamingTheSetting(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", nil, []string{"OLD_USER_POOL_ID: is required", "OLD_CLIENT_ID: is required"}},
		{"bad endpoint", map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": "localhost:9229"},
			[]string{"OLD_USER_POOL_ENDPOINT"}},
		{"external id without role", map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_EXTERNAL_ID": "abc123"},
			[]string{"OLD_EXTERNAL_ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"-listen", "127.0.0.1:0"}, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr = %q, want it to name %q", stderr.String(), w)
				}
			}
		})
	}
}

func TestBadFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-nope"}, func(string) string { return "" }, &stdout, &stderr); code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "-listen") {
		t.Errorf("usage does not mention -listen: %s", stderr.String())
	}
}

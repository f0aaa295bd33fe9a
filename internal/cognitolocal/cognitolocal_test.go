//go:build unix

package cognitolocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
)

const password = "Correct-Horse-9"

// newPool creates a pool (username-only unless usernameAttributes is given)
// with a custom:tenant attribute, and an app client that allows both
// password flows. It returns the pool and client ids.
func newPool(ctx context.Context, t *testing.T, c *cip.Client, usernameAttributes ...types.UsernameAttributeType) (poolID, clientID string) {
	t.Helper()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:           aws.String("test"),
		UsernameAttributes: usernameAttributes,
		Schema: []types.SchemaAttributeType{{
			Name:              aws.String("tenant"),
			AttributeDataType: types.AttributeDataTypeString,
			Mutable:           aws.Bool(true),
		}},
	})
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	client, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: pool.UserPool.Id,
		ClientName: aws.String("test"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{
			types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
		},
	})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	return *pool.UserPool.Id, *client.UserPoolClient.ClientId
}

// attrs turns attributes into a map, without sub (random) when dropSub.
func attrs(as []types.AttributeType, dropSub bool) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		if dropSub && aws.ToString(a.Name) == "sub" {
			continue
		}
		m[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return m
}

func checkTokens(t *testing.T, api string, r *types.AuthenticationResultType) {
	t.Helper()
	if r == nil || aws.ToString(r.IdToken) == "" || aws.ToString(r.AccessToken) == "" || aws.ToString(r.RefreshToken) == "" {
		t.Fatalf("%s returned no tokens: %+v", api, r)
	}
}

func TestInstanceWithoutTriggers(t *testing.T) {
	inst := cognitolocal.StartTB(t, cognitolocal.Options{})
	ctx := t.Context()
	c := inst.Client()
	poolID, clientID := newPool(ctx, t, c)

	want := map[string]string{
		"email":          "alice@example.com",
		"email_verified": "true",
		"given_name":     "Alice",
		"custom:tenant":  "acme",
	}
	var ua []types.AttributeType
	for k, v := range want {
		ua = append(ua, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:     &poolID,
		Username:       aws.String("alice"),
		UserAttributes: ua,
		MessageAction:  types.MessageActionTypeSuppress,
	}); err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: &poolID,
		Username:   aws.String("alice"),
		Password:   aws.String(password),
		Permanent:  true,
	}); err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}

	auth, err := c.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId:     &poolID,
		ClientId:       &clientID,
		AuthFlow:       types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password},
	})
	if err != nil {
		t.Fatalf("AdminInitiateAuth: %v", err)
	}
	checkTokens(t, "AdminInitiateAuth", auth.AuthenticationResult)

	got, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &poolID, Username: aws.String("alice")})
	if err != nil {
		t.Fatalf("AdminGetUser: %v", err)
	}
	// The pool is username-only (see the package doc), so the username is
	// kept rather than replaced by the sub.
	if aws.ToString(got.Username) != "alice" || got.UserStatus != types.UserStatusTypeConfirmed {
		t.Errorf("AdminGetUser(alice) = %q, %s; want alice, CONFIRMED", aws.ToString(got.Username), got.UserStatus)
	}
	if diff := cmp.Diff(want, attrs(got.UserAttributes, true)); diff != "" {
		t.Errorf("AdminGetUser(alice) attributes (-want +got):\n%s", diff)
	}
	if a := attrs(got.UserAttributes, false); a["sub"] == "" {
		t.Errorf("AdminGetUser(alice) has no sub: %v", a)
	}
}

func TestUsernameAttributes(t *testing.T) {
	inst := cognitolocal.StartTB(t, cognitolocal.Options{})
	ctx := t.Context()
	c := inst.Client()

	tests := []struct {
		name     string
		attrs    []types.UsernameAttributeType
		username string
		wantErr  bool
	}{
		{name: "default is username-only", username: "bob"},
		{name: "email pool rejects a plain username", attrs: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}, username: "bob", wantErr: true},
		{name: "email pool accepts an email", attrs: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}, username: "bob@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			poolID, _ := newPool(ctx, t, c, tt.attrs...)
			d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &poolID})
			if err != nil {
				t.Fatalf("DescribeUserPool: %v", err)
			}
			if diff := cmp.Diff(tt.attrs, d.UserPool.UsernameAttributes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("UsernameAttributes (-want +got):\n%s", diff)
			}
			_, err = c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
				UserPoolId:    &poolID,
				Username:      &tt.username,
				MessageAction: types.MessageActionTypeSuppress,
			})
			var ipe *types.InvalidParameterException
			if tt.wantErr != errors.As(err, &ipe) {
				t.Errorf("AdminCreateUser(%q) = %v, want InvalidParameterException: %v", tt.username, err, tt.wantErr)
			}
		})
	}
}

// invocation is one request the fake Lambda received.
type invocation struct {
	Path, Function string
	Header         http.Header
	Body           []byte
	Event          map[string]any
}

// fakeLambda is the Lambda Invoke API, answering every invocation with
// respond's status and body (the event with its response filled in when
// respond is nil).
type fakeLambda struct {
	*httptest.Server
	mu    sync.Mutex
	calls []invocation
}

func newFakeLambda(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, event map[string]any)) *fakeLambda {
	f := &fakeLambda{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("fake Lambda: read event: %v", err)
		}
		// Decoded twice: one copy to record, one to answer with.
		var recorded, event map[string]any
		if err := json.Unmarshal(body, &recorded); err != nil {
			t.Errorf("fake Lambda: bad event %q: %v", body, err)
		}
		_ = json.Unmarshal(body, &event)
		f.mu.Lock()
		f.calls = append(f.calls, invocation{Path: r.URL.Path, Function: r.PathValue("name"), Header: r.Header.Clone(), Body: body, Event: recorded})
		f.mu.Unlock()
		if respond != nil {
			respond(w, r, event)
			return
		}
		event["response"] = map[string]any{
			"userAttributes": map[string]string{
				"username":       event["userName"].(string),
				"email":          event["userName"].(string) + "@example.com",
				"email_verified": "true",
			},
			"finalUserStatus": "CONFIRMED",
			"messageAction":   "SUPPRESS",
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(event)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake Lambda: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeLambda) Calls() []invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]invocation(nil), f.calls...)
}

func TestUserMigrationTrigger(t *testing.T) {
	const fn = "migrate-user-fn"
	lambda := newFakeLambda(t, nil)
	inst := cognitolocal.StartTB(t, cognitolocal.Options{UserMigrationFunction: fn, LambdaEndpoint: lambda.URL})
	ctx := t.Context()
	c := inst.Client()
	poolID, clientID := newPool(ctx, t, c)

	signIn := func() {
		t.Helper()
		auth, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			ClientId:       &clientID,
			AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "carol", "PASSWORD": password},
			ClientMetadata: map[string]string{"source": "e2e"},
		})
		if err != nil {
			t.Fatalf("InitiateAuth(carol): %v", err)
		}
		checkTokens(t, "InitiateAuth", auth.AuthenticationResult)
	}
	signIn()

	calls := lambda.Calls()
	if len(calls) != 1 {
		t.Fatalf("Lambda invoked %d times, want 1", len(calls))
	}
	call := calls[0]
	if call.Function != fn || call.Path != "/2015-03-31/functions/"+fn+"/invocations" {
		t.Errorf("Lambda invoked as %q (path %q), want %q", call.Function, call.Path, fn)
	}
	if got := call.Header.Get("X-Amz-Invocation-Type"); got != "RequestResponse" {
		t.Errorf("X-Amz-Invocation-Type = %q, want RequestResponse", got)
	}
	if got := call.Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=local/") {
		t.Errorf("Authorization = %q, want a SigV4 signature by the dummy key", got)
	}
	// The whole event, as cognito-local 5.3.0 sends it: the migration
	// Lambda's decoding depends on this shape (docs/cognito-behaviour.md §9).
	wantEvent := map[string]any{
		"version":       "0",
		"triggerSource": "UserMigration_Authentication",
		"region":        "local",
		"userPoolId":    poolID,
		"userName":      "carol",
		"callerContext": map[string]any{"awsSdkVersion": "2.1693.0", "clientId": clientID},
		"request": map[string]any{
			"password":       password,
			"validationData": map[string]any{"source": "e2e"},
		},
		"response": map[string]any{
			"userAttributes":         map[string]any{},
			"desiredDeliveryMediums": []any{},
		},
	}
	if diff := cmp.Diff(wantEvent, call.Event); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}

	got, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &poolID, Username: aws.String("carol")})
	if err != nil {
		t.Fatalf("AdminGetUser(carol) after migration: %v", err)
	}
	if aws.ToString(got.Username) != "carol" || got.UserStatus != types.UserStatusTypeConfirmed {
		t.Errorf("AdminGetUser(carol) = %q, %s; want carol, CONFIRMED", aws.ToString(got.Username), got.UserStatus)
	}
	// cognito-local keeps "username" as an attribute and adds no sub.
	wantAttrs := map[string]string{"username": "carol", "email": "carol@example.com", "email_verified": "true"}
	if diff := cmp.Diff(wantAttrs, attrs(got.UserAttributes, false)); diff != "" {
		t.Errorf("AdminGetUser(carol) attributes (-want +got):\n%s", diff)
	}

	// Now that carol exists, signing in again must not migrate her again.
	signIn()
	if n := len(lambda.Calls()); n != 1 {
		t.Errorf("Lambda invoked %d times after a second sign-in, want still 1", n)
	}
}

// TestLambdaClientSettings checks the LambdaClient settings that make
// cognito-local closer to Cognito: no retry of a failed Invoke, and a
// bounded wait.
func TestLambdaClientSettings(t *testing.T) {
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter, r *http.Request, event map[string]any)
	}{
		{
			name: "5xx is not retried",
			respond: func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
				w.Header().Set("X-Amzn-ErrorType", "ServiceException")
				http.Error(w, `{"Message":"boom"}`, http.StatusInternalServerError)
			},
		},
		{
			name: "slow Lambda times out",
			respond: func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				// Hold the invocation until cognito-local gives up on it.
				select {
				case <-r.Context().Done():
				case <-time.After(20 * time.Second):
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lambda := newFakeLambda(t, tt.respond)
			inst := cognitolocal.StartTB(t, cognitolocal.Options{
				UserMigrationFunction: "fn",
				LambdaEndpoint:        lambda.URL,
				LambdaTimeout:         500 * time.Millisecond,
			})
			ctx := t.Context()
			c := inst.Client()
			_, clientID := newPool(ctx, t, c)

			start := time.Now()
			_, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
				ClientId:       &clientID,
				AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
				AuthParameters: map[string]string{"USERNAME": "dave", "PASSWORD": password},
			})
			var na *types.NotAuthorizedException
			if !errors.As(err, &na) {
				t.Errorf("InitiateAuth(dave) = %v, want NotAuthorizedException", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("InitiateAuth(dave) took %v, want well under the 20 s the Lambda would take", d)
			}
			if n := len(lambda.Calls()); n != 1 {
				t.Errorf("Lambda invoked %d times, want 1", n)
			}
		})
	}
}

func TestConfigJSON(t *testing.T) {
	tests := []struct {
		name string
		opts cognitolocal.Options
		want string
	}{
		{
			name: "no trigger",
			want: `{
			  "LambdaClient": {
			    "region": "local",
			    "credentials": {"accessKeyId": "local", "secretAccessKey": "local"},
			    "maxRetries": 0,
			    "httpOptions": {"timeout": 5000}
			  },
			  "UserPoolDefaults": {"UsernameAttributes": []}
			}`,
		},
		{
			name: "user migration",
			opts: cognitolocal.Options{UserMigrationFunction: "migrate", LambdaEndpoint: "http://127.0.0.1:1234", LambdaTimeout: 2 * time.Second},
			want: `{
			  "LambdaClient": {
			    "endpoint": "http://127.0.0.1:1234",
			    "region": "local",
			    "credentials": {"accessKeyId": "local", "secretAccessKey": "local"},
			    "maxRetries": 0,
			    "httpOptions": {"timeout": 2000}
			  },
			  "TriggerFunctions": {"UserMigration": "migrate"},
			  "UserPoolDefaults": {"UsernameAttributes": []}
			}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := cognitolocal.StartTB(t, tt.opts)
			b, err := os.ReadFile(filepath.Join(inst.Dir, ".cognito", "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("config.json: %v\n%s", err, b)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config.json (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStop(t *testing.T) {
	inst := cognitolocal.StartTB(t, cognitolocal.Options{})
	u, err := url.Parse(inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Client().ListUserPools(t.Context(), &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)}); err != nil {
		t.Fatalf("ListUserPools before Stop: %v", err)
	}

	if err := inst.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", u.Host)
	}
	if _, err := os.Stat(inst.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(%s) after Stop = %v, want not exist", inst.Dir, err)
	}
	if err := inst.Stop(); err != nil {
		t.Errorf("second Stop = %v, want nil", err)
	}
}

// TestInstancesAreIndependent starts the two instances a migration test
// needs, side by side: neither sees the other's pools.
func TestInstancesAreIndependent(t *testing.T) {
	a := cognitolocal.StartTB(t, cognitolocal.Options{})
	b := cognitolocal.StartTB(t, cognitolocal.Options{})
	if a.URL == b.URL || a.Dir == b.Dir {
		t.Fatalf("instances share %s / %s", a.URL, a.Dir)
	}
	ctx := t.Context()
	newPool(ctx, t, a.Client())
	for _, tt := range []struct {
		name string
		inst *cognitolocal.Instance
		want int
	}{{"a", a, 1}, {"b", b, 0}} {
		out, err := tt.inst.Client().ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
		if err != nil {
			t.Fatalf("ListUserPools(%s): %v", tt.name, err)
		}
		if len(out.UserPools) != tt.want {
			t.Errorf("ListUserPools(%s) = %d pools, want %d", tt.name, len(out.UserPools), tt.want)
		}
	}
}

func TestBin(t *testing.T) {
	t.Run("override", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "cognito-local")
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv(cognitolocal.BinEnv, p)
		if got, err := cognitolocal.Bin(); got != p || err != nil {
			t.Errorf("Bin() = %q, %v; want %q, nil", got, err, p)
		}
	})
	t.Run("missing override", func(t *testing.T) {
		t.Setenv(cognitolocal.BinEnv, filepath.Join(t.TempDir(), "nope"))
		_, err := cognitolocal.Bin()
		if !errors.Is(err, cognitolocal.ErrNotInstalled) {
			t.Errorf("Bin() = %v, want ErrNotInstalled", err)
		}
	})
	t.Run("not installed", func(t *testing.T) {
		t.Setenv(cognitolocal.BinEnv, "")
		t.Chdir(t.TempDir()) // no go.mod above a temporary directory
		_, err := cognitolocal.Bin()
		if !errors.Is(err, cognitolocal.ErrNotInstalled) || !strings.Contains(err.Error(), cognitolocal.InstallCommand) {
			t.Errorf("Bin() = %v, want ErrNotInstalled saying %q", err, cognitolocal.InstallCommand)
		}
	})
}

// fakeBin installs a shell script as cognito-local.
func fakeBin(t *testing.T, script string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cognito-local")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cognitolocal.BinEnv, p)
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		want    []string // in the error
	}{
		{
			name:   "exits at once",
			script: "echo 'something broke' >&2; exit 3\n",
			want:   []string{"exited before it was ready", "something broke"},
		},
		{
			name:   "port taken every time",
			script: "echo 'Error: listen EADDRINUSE: address already in use' >&2; exit 1\n",
			want:   []string{"attempt 5", "EADDRINUSE"},
		},
		{
			name:    "never answers",
			script:  "echo 'starting up'\nexec sleep 60\n",
			timeout: 500 * time.Millisecond,
			want:    []string{"not ready", "context deadline exceeded", "starting up"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeBin(t, tt.script)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			inst, err := cognitolocal.Start(ctx, cognitolocal.Options{})
			if err == nil {
				inst.Stop()
				t.Fatal("Start succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Start error does not mention %q:\n%v", w, err)
				}
			}
			// "never answers" must not wait for its sleep 60: Stop
			// kills the group and Start returns.
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("Start took %v to fail", d)
			}
		})
	}
}

func TestStartNeedsLambdaEndpoint(t *testing.T) {
	_, err := cognitolocal.Start(t.Context(), cognitolocal.Options{UserMigrationFunction: "fn"})
	if err == nil || !strings.Contains(err.Error(), "LambdaEndpoint") {
		t.Errorf("Start without LambdaEndpoint = %v, want an error naming LambdaEndpoint", err)
	}
}

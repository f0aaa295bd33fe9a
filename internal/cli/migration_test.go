package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

const (
	oldPoolID   = "us-east-1_OldPool1"
	oldClientID = "oldclient123"
	oldSecret   = "old-client-secret-that-must-never-be-printed"
	otherFnARN  = "arn:aws:lambda:eu-west-1:111122223333:function:other-migrate"
)

// resolve parses args as a two-pool command would and resolves them.
func (e *env) resolve(t *testing.T, args ...string) (*migration, string, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	opts := &twoPoolOptions{}
	opts.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	if err := opts.validate("test"); err != nil {
		return nil, explain(err), err
	}
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, getenv: e.getenv, clients: e.clients}
	m, err := a.resolveMigration(context.Background(), "test", opts)
	msg := ""
	if err != nil {
		msg = explain(err)
		t.Logf("resolve %v: %s", args, msg)
	}
	return m, msg, err
}

// attached is the rich env with the function attached and its settings.
func attached(t *testing.T, vars map[string]string) *env {
	t.Helper()
	e := richEnv(t)
	pool := e.cognito.UserPool(richPoolID)
	setPath(pool, functionARN, "LambdaConfig", "UserMigration")
	b, _ := json.Marshal(pool)
	e.cognito.PutUserPool(b)
	e.lambda.SetEnvironment(functionARN, vars)
	return e
}

func TestResolveMigrationFromTheTrigger(t *testing.T) {
	e := attached(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "ATTRIBUTE_MAP": "custom:tenant=custom:org_id",
		"OLD_USER_POOL_ENDPOINT": "https://vpce-only-the-function-reaches.example", "LOG_LEVEL": "DEBUG",
	})
	old := cognitotest.New(t)
	old.AddPool(cognitotest.Pool{ID: oldPoolID})
	e.vars = map[string]string{"OLD_USER_POOL_ENDPOINT": old.URL}
	e.clients.profiles = map[string]string{"": "AKIDNEW", "old": "AKIDOLD"}

	m, _, err := e.resolve(t, "--user-pool-id", richPoolID, "--old-profile", "old", "--old-client-id", "overridden1")
	if err != nil {
		t.Fatal(err)
	}
	if m.From != SettingsFromTrigger || m.FunctionARN != functionARN {
		t.Errorf("settings from %s %s, want the trigger's function %s", m.From, m.FunctionARN, functionARN)
	}
	if m.Settings.OldUserPoolID != oldPoolID || m.Settings.OldClientID != "overridden1" || m.Settings.Rules.Rename["custom:tenant"] != "custom:org_id" {
		t.Errorf("settings = %+v, want the function's with OLD_CLIENT_ID overridden", m.Settings)
	}
	if !slices.Equal(m.Overridden, []string{"OLD_CLIENT_ID"}) {
		t.Errorf("Overridden = %v, want [OLD_CLIENT_ID]", m.Overridden)
	}
	if got := e.lambda.Calls(); len(got) != 1 || got[0].Operation != "GetFunctionConfiguration" || got[0].Signature.AccessKeyID != "AKIDNEW" || got[0].Signature.Region != "eu-west-1" {
		t.Errorf("lambda calls = %+v, want one GetFunctionConfiguration signed by AKIDNEW for eu-west-1", got)
	}
	// The old pool: its region from its ID, the --old-profile's
	// credentials, the CLI's own OLD_USER_POOL_ENDPOINT.
	if m.OldPool.Region != "us-east-1" || m.OldPool.Endpoint != old.URL {
		t.Errorf("OldPool = %+v, want us-east-1 at %s", m.OldPool, old.URL)
	}
	_, _ = m.Old.DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(oldPoolID)})
	calls := old.Calls()
	if len(calls) != 1 {
		t.Fatalf("old pool calls = %d, want 1", len(calls))
	}
	if sig := calls[0].Header.Get("Authorization"); !strings.Contains(sig, "Credential=AKIDOLD/") || !strings.Contains(sig, "/us-east-1/cognito-idp/") {
		t.Errorf("old pool call signed %q, want AKIDOLD for us-east-1", sig)
	}
}

func TestResolveMigrationOverrides(t *testing.T) {
	base := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_CLIENT_SECRET": oldSecret}
	tests := []struct {
		name      string
		vars      map[string]string // the function's environment; nil: no trigger attached
		args      []string
		check     func(t *testing.T, m *migration)
		wantError []string
	}{
		{
			name: "an empty flag clears the setting", vars: base, args: []string{"--old-client-secret="},
			check: func(t *testing.T, m *migration) {
				if m.Settings.OldClientSecret != "" || m.OldPool.ClientSecret != "" {
					t.Error("OLD_CLIENT_SECRET is still set")
				}
			},
		},
		{
			name: "--function-arn wins over the trigger", vars: base, args: []string{"--function-arn", otherFnARN},
			wantError: []string{"OLD_USER_POOL_ID: is required", "The settings are the environment of " + otherFnARN + " (--function-arn)", "--old-user-pool-id"},
		},
		{
			name: "no function: flags only", args: []string{"--old-user-pool-id", oldPoolID, "--old-client-id", oldClientID, "--old-region", "eu-central-1"},
			check: func(t *testing.T, m *migration) {
				if m.From != SettingsFromNone || m.OldPool.Region != "eu-central-1" {
					t.Errorf("From %s, old region %s; want flags and eu-central-1", m.From, m.OldPool.Region)
				}
			},
		},
		{
			name: "no function, no flags", args: nil,
			wantError: []string{"OLD_USER_POOL_ID: is required", "OLD_CLIENT_ID: is required", "settings come from the flags only",
				"OLD_USER_POOL_ID: --old-user-pool-id", "OLD_CLIENT_ID: --old-client-id"},
		},
		{
			name: "an invalid override is the function's own message", vars: base, args: []string{"--attribute-map", "sub=custom:x"},
			wantError: []string{"ATTRIBUTE_MAP:", "with flags for ATTRIBUTE_MAP", "ATTRIBUTE_MAP: --attribute-map"},
		},
		{
			name: "a secret never reaches a message", vars: map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID,
				"OLD_CLIENT_SECRET": oldSecret, "OLD_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:222222222222:secret:old-AbCdEf"},
			wantError: []string{"OLD_CLIENT_SECRET: and OLD_CLIENT_SECRET_ARN are both set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			if tt.vars != nil {
				e = attached(t, tt.vars)
			}
			e.lambda.AddFunction(otherFnARN)
			m, msg, err := e.resolve(t, append([]string{"--user-pool-id", richPoolID}, tt.args...)...)
			if strings.Contains(msg, oldSecret) {
				t.Errorf("the client secret is in the message: %s", msg)
			}
			if tt.wantError == nil {
				if err != nil {
					t.Fatalf("resolve error = %s", msg)
				}
				tt.check(t, m)
				return
			}
			if err == nil {
				t.Fatal("resolve succeeded, want an error")
			}
			for _, w := range tt.wantError {
				if !strings.Contains(msg, w) {
					t.Errorf("message does not contain %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestResolveMigrationWithoutGetFunctionConfiguration(t *testing.T) {
	e := attached(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID})
	e.lambda.Deny("GetFunctionConfiguration", true)
	_, msg, err := e.resolve(t, "--user-pool-id", richPoolID)
	if err == nil || !strings.Contains(msg, "the caller needs lambda:GetFunctionConfiguration") || !strings.Contains(msg, "Grant lambda:GetFunctionConfiguration on "+functionARN) {
		t.Errorf("error = %s, want what to grant", msg)
	}
}

// The old pool through an assumed role, as the function reaches it:
// OLD_ROLE_ARN and OLD_EXTERNAL_ID, STS in the new pool's region.
func TestResolveMigrationAssumesTheOldRole(t *testing.T) {
	const role = "arn:aws:iam::222222222222:role/cognito-migrate-old-pool"
	e := attached(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_ROLE_ARN": role, "OLD_EXTERNAL_ID": "ext-123"})
	sts := awstest.NewSTS(t)
	sts.AllowRole(role, "ext-123")
	e.clients.endpoints = map[string]string{"STS": sts.URL}
	old := cognitotest.New(t)
	old.AddPool(cognitotest.Pool{ID: oldPoolID})

	m, _, err := e.resolve(t, "--user-pool-id", richPoolID, "--old-endpoint-url", old.URL)
	if err != nil {
		t.Fatal(err)
	}
	if calls := sts.Calls(); len(calls) != 0 {
		t.Errorf("AssumeRole before any old-pool call: %+v", calls)
	}
	_, _ = m.Old.DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(oldPoolID)})
	calls := sts.Calls()
	if len(calls) != 1 || calls[0].RoleARN != role || calls[0].ExternalID != "ext-123" {
		t.Fatalf("AssumeRole calls = %+v, want one for %s with the external id", calls, role)
	}
	sig := old.Calls()[0].Header.Get("Authorization")
	if strings.Contains(sig, "Credential=AKIDOPERATOR/") {
		t.Errorf("old pool call signed with the operator's own key, want the role's: %s", sig)
	}
}

// No command hangs: a server that never answers costs one call timeout.
func TestEveryCallHasATimeout(t *testing.T) {
	silent := silentServer(t)
	e := richEnv(t)
	e.clients.timeout = 300 * time.Millisecond
	start := time.Now()
	r := e.run(t, "detach-trigger", "--user-pool-id", richPoolID, "--endpoint-url", silent.URL)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the command took %v against a silent endpoint, want about the call timeout", took)
	}
	if r.code != ExitFailure || !strings.Contains(r.stderr, "cognito-idp:DescribeUserPool") || !strings.Contains(r.stderr, "got no answer within 300ms") {
		t.Errorf("exit %d, stderr %q; want 1 and the call that got no answer", r.code, r.stderr)
	}
	e.clients.endpoints = map[string]string{"Lambda": silent.URL}
	r = e.run(t, "attach-trigger", "--user-pool-id", richPoolID, "--function-arn", functionARN)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "lambda:GetPolicy") || !strings.Contains(r.stderr, "got no answer within 300ms") {
		t.Errorf("exit %d, stderr %q; want 1 and the Lambda call that got no answer", r.code, r.stderr)
	}
}

// silentServer accepts requests and never answers them.
func silentServer(t *testing.T) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func TestCredentialProblemsSayWhatToRun(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{name: "none found", err: errors.New("no EC2 IMDS role found"),
			want: []string{"no usable AWS credentials for cognito-idp:DescribeUserPool", "--profile", "aws sso login", "aws configure", "no EC2 IMDS role found"}},
		{name: "expired SSO session", err: &ssocreds.InvalidTokenError{Err: errors.New("the SSO session has expired or is invalid")},
			want: []string{"the AWS SSO session has expired or is not signed in: run 'aws sso login'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := richEnv(t)
			e.clients.credentialsErr = tt.err
			r := e.run(t, "detach-trigger", "--user-pool-id", richPoolID)
			if r.code != ExitFailure {
				t.Errorf("exit code = %d, want 1", r.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not contain %q: %s", w, r.stderr)
				}
			}
			if len(e.cognito.Calls()) != 0 {
				t.Errorf("an unsigned call reached the pool: %v", e.cognito.Calls())
			}
		})
	}
}

// Every setting has its flag, named after it, and bad flags are usage
// errors.
func TestTwoPoolFlags(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	opts := &twoPoolOptions{}
	opts.register(fs)
	for _, name := range settings.Names() {
		if fs.Lookup(settingFlag(name)) == nil {
			t.Errorf("no flag for %s", name)
		}
	}
	for _, f := range []string{"old-user-pool-id", "old-client-id", "attribute-map", "function-arn", "old-profile", "old-region", "old-endpoint-url", "profile", "region", "endpoint-url", "user-pool-id", "output"} {
		if fs.Lookup(f) == nil {
			t.Errorf("no --%s", f)
		}
	}
	e := richEnv(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--user-pool-id", richPoolID, "--function-arn", "cognito-migrate"}, "--function-arn: "},
		{[]string{"--user-pool-id", richPoolID, "--old-region", "EU"}, `--old-region "EU" is not a region name`},
		{[]string{"--user-pool-id", richPoolID, "--old-endpoint-url", "cognito.local"}, `--old-endpoint-url "cognito.local" is not an absolute http(s) URL`},
	} {
		_, msg, err := e.resolve(t, tt.args...)
		if exitCode(err) != ExitUsage || !strings.Contains(msg, tt.want) {
			t.Errorf("resolve(%v) = exit %d, %q; want a usage error saying %q", tt.args, exitCode(err), msg, tt.want)
		}
	}
}

// TestMainProfiles runs Main with shared config files: --profile picks the
// new pool's credentials, an unknown profile says how to list them, and the
// region comes from the pool ID, whatever AWS_REGION says.
func TestMainProfiles(t *testing.T) {
	fake := cognitotest.New(t)
	fake.PutUserPool(readFile(t, "testdata/rich-user-pool.json"))
	dir := t.TempDir()
	config := "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n\n" +
		"[profile new]\naws_access_key_id = AKIDNEWPROFILE\naws_secret_access_key = new-secret\n"
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", fake.URL)

	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"detach-trigger", "--user-pool-id", richPoolID, "--profile", "new"}, os.Getenv, strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("Main() = %d; stderr:\n%s", code, stderr.String())
	}
	calls := fake.Calls()
	if len(calls) == 0 {
		t.Fatal("no call reached the pool")
	}
	for _, c := range calls {
		if sig := c.Header.Get("Authorization"); !strings.Contains(sig, "Credential=AKIDNEWPROFILE/") || !strings.Contains(sig, "/eu-west-1/cognito-idp/") {
			t.Errorf("%s signed %q, want the profile's key for eu-west-1 (the pool ID's region)", c.Operation, sig)
		}
	}

	stdout.Reset()
	stderr.Reset()
	code = Main(context.Background(), []string{"detach-trigger", "--user-pool-id", richPoolID, "--profile", "nope"}, os.Getenv, strings.NewReader(""), &stdout, &stderr)
	if code != ExitFailure || !strings.Contains(stderr.String(), `the AWS profile "nope" is not in the shared config files`) ||
		!strings.Contains(stderr.String(), "aws configure list-profiles") {
		t.Errorf("unknown profile: exit %d, stderr %q", code, stderr.String())
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

const (
	roleARN    = "arn:aws:iam::111111111111:role/cognito-migrate-old-pool"
	externalID = "migrate-7c1e2f"
	secretARN  = "arn:aws:secretsmanager:eu-west-2:222222222222:secret:old-client-AbCdEf"
	// The old app client's secret. It must never reach any output.
	clientSecret = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6"
)

// signatures parses the Authorization header of every call the fake old
// pool received.
func signatures(t *testing.T, f *cognitotest.Fake) []awstest.Signature {
	t.Helper()
	var sigs []awstest.Signature
	for _, c := range f.Calls() {
		sig, err := awstest.ParseAuthorization(c.Header.Get("Authorization"))
		if err != nil {
			t.Fatalf("%s: %v", c.Operation, err)
		}
		sigs = append(sigs, sig)
	}
	return sigs
}

func newSTS(t *testing.T) *awstest.STS {
	s := awstest.NewSTS(t)
	s.AllowRole(roleARN, externalID)
	t.Setenv("AWS_ENDPOINT_URL_STS", s.URL)
	return s
}

func TestCrossAccount(t *testing.T) {
	awsEnv(t)
	sts := newSTS(t)
	f := fakeOldPool(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"OLD_ROLE_ARN": roleARN, "OLD_EXTERNAL_ID": externalID,
	})
	for i := 0; i < 3; i++ {
		if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); out["response"].(map[string]any)["finalUserStatus"] != "CONFIRMED" {
			t.Fatalf("sign-in %d not migrated: %v", i, out)
		}
	}

	calls := sts.Calls()
	if len(calls) != 1 {
		t.Fatalf("AssumeRole calls = %d, want 1 (at start-up, then cached)", len(calls))
	}
	c := calls[0]
	if c.RoleARN != roleARN || c.ExternalID != externalID || c.RoleSessionName != "cognito-migrate" || c.DurationSeconds != 3600 {
		t.Errorf("AssumeRole = %+v", c)
	}
	// STS is called with the function's own credentials, in its own region.
	if c.CallerAccessKeyID != "AKIDFUNCTION" || c.SigningRegion != "eu-west-2" {
		t.Errorf("AssumeRole signed by %q for %q, want AKIDFUNCTION in eu-west-2", c.CallerAccessKeyID, c.SigningRegion)
	}
	for i, sig := range signatures(t, f) {
		if sig.AccessKeyID != c.Issued.AccessKeyID || sig.Region != "eu-west-1" || sig.Service != "cognito-idp" {
			t.Errorf("old-pool call %d signed %+v, want the assumed key %s for eu-west-1", i, sig, c.Issued.AccessKeyID)
		}
	}
	for _, call := range f.Calls() {
		if call.Header.Get("X-Amz-Security-Token") != c.Issued.SessionToken {
			t.Errorf("%s: session token is not the assumed role's", call.Operation)
		}
	}
}

// With credentials close to expiry, every request is signed with credentials
// that are still valid: the cache renews them first.
func TestAssumedCredentialsRenewedBeforeExpiry(t *testing.T) {
	awsEnv(t)
	sts := newSTS(t)
	// The fake's clock runs 58.5 minutes behind: the one-hour credentials it
	// issues expire 90 s from now, inside the 2.5-5 minute refresh window.
	sts.SetNow(func() time.Time { return time.Now().Add(-58*time.Minute - 30*time.Second) })
	f := fakeOldPool(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"OLD_ROLE_ARN": roleARN, "OLD_EXTERNAL_ID": externalID,
	})
	const signIns = 3
	for i := 0; i < signIns; i++ {
		tr.invoke(t, event("UserMigration_Authentication", "alice", password))
	}
	if n := len(sts.Calls()); n < signIns+1 {
		t.Errorf("AssumeRole calls = %d, want at least %d: credentials inside the window must be renewed", n, signIns+1)
	}
	calls := f.Calls()
	keys := map[string]bool{}
	for i, sig := range signatures(t, f) {
		creds, ok := sts.Issued(sig.AccessKeyID)
		if !ok {
			t.Fatalf("call %d signed with %q, which STS never issued", i, sig.AccessKeyID)
		}
		if !creds.Expiration.After(calls[i].Start) {
			t.Errorf("call %d signed with credentials that expired at %v", i, creds.Expiration)
		}
		keys[sig.AccessKeyID] = true
	}
	if len(keys) < 2 {
		t.Errorf("old-pool calls used %d distinct keys, want renewed keys", len(keys))
	}
}

func TestRegionOverride(t *testing.T) {
	f := fakeOldPool(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"OLD_USER_POOL_REGION": "ap-southeast-2",
	})
	tr.invoke(t, event("UserMigration_Authentication", "alice", password))
	sigs := signatures(t, f)
	if len(sigs) == 0 {
		t.Fatal("no old-pool calls")
	}
	for _, sig := range sigs {
		if sig.Region != "ap-southeast-2" || sig.AccessKeyID != "AKIDFUNCTION" {
			t.Errorf("signed %+v, want the function's key for ap-southeast-2", sig)
		}
	}
}

// fakeSecretPool is an old pool whose app client has clientSecret.
func fakeSecretPool(t *testing.T) *cognitotest.Fake {
	f := cognitotest.New(t)
	f.AddPool(cognitotest.Pool{ID: oldPoolID})
	f.AddClient(cognitotest.AppClient{PoolID: oldPoolID, ID: oldClientID, Secret: clientSecret, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser(oldPoolID, cognitotest.User{Username: "alice", Password: password, Enabled: true, Status: "CONFIRMED",
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}})
	return f
}

func TestClientSecret(t *testing.T) {
	for name, stored := range map[string]string{
		"plain":       clientSecret,
		"JSON object": `{"clientSecret": "` + clientSecret + `"}`,
		// As `aws ... --output text | aws secretsmanager create-secret
		// --secret-string file:///dev/stdin` stores it (docs/deploy.md).
		"ending with a newline": clientSecret + "\n",
	} {
		t.Run("from Secrets Manager, "+name, func(t *testing.T) {
			awsEnv(t)
			sm := awstest.NewSecretsManager(t)
			sm.Put(secretARN, stored)
			t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
			f := fakeSecretPool(t)
			tr := startTrigger(t, map[string]string{
				"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
				"OLD_CLIENT_SECRET_ARN": secretARN,
			})
			for i := 0; i < 5; i++ {
				if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); out["response"].(map[string]any)["finalUserStatus"] != "CONFIRMED" {
					t.Fatalf("sign-in %d not migrated (SECRET_HASH refused?): %v", i, out)
				}
			}
			if n := sm.Calls(); n != 1 {
				t.Errorf("GetSecretValue calls = %d, want 1 for the whole container", n)
			}
			if strings.Contains(tr.stdout.String()+tr.stderr.String(), clientSecret) {
				t.Errorf("output holds the client secret")
			}
		})
	}
	t.Run("literal", func(t *testing.T) {
		f := fakeSecretPool(t)
		tr := startTrigger(t, map[string]string{
			"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
			"OLD_CLIENT_SECRET": clientSecret,
		})
		if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); out["response"].(map[string]any)["finalUserStatus"] != "CONFIRMED" {
			t.Fatalf("not migrated: %v", out)
		}
	})
	t.Run("without it the client's sign-ins are a configuration fault, not declines", func(t *testing.T) {
		f := fakeSecretPool(t)
		tr := startTrigger(t, map[string]string{
			"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		})
		resp, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password))
		if resp.Header.Get("X-Amz-Function-Error") == "" || out["errorType"] != "UserMigrationUnavailable" {
			t.Errorf("got %v %v, want a function error", resp.Header, out)
		}
		if !strings.Contains(tr.stdout.String(), `"errorKind":"configuration"`) {
			t.Errorf("log does not name a configuration fault:\n%s", tr.stdout)
		}
	})
}

// All of it at once: another account, another region, a client secret.
func TestCrossAccountCrossRegionWithSecret(t *testing.T) {
	awsEnv(t)
	sts := newSTS(t)
	sm := awstest.NewSecretsManager(t)
	sm.Put(secretARN, clientSecret)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
	f := fakeSecretPool(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"OLD_ROLE_ARN": roleARN, "OLD_EXTERNAL_ID": externalID, "OLD_CLIENT_SECRET_ARN": secretARN,
		"OLD_USER_POOL_REGION": "us-east-1",
	})
	if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); out["response"].(map[string]any)["finalUserStatus"] != "CONFIRMED" {
		t.Fatalf("not migrated: %v", out)
	}
	issued := sts.Calls()[0].Issued.AccessKeyID
	for _, sig := range signatures(t, f) {
		if sig.AccessKeyID != issued || sig.Region != "us-east-1" {
			t.Errorf("signed %+v, want %s for us-east-1", sig, issued)
		}
	}
}

func TestStartupFailsOnUnusableRoleOrSecret(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) map[string]string
		want  []string
	}{
		{
			name: "role not assumable with this external id",
			setup: func(t *testing.T) map[string]string {
				newSTS(t)
				return map[string]string{"OLD_ROLE_ARN": roleARN, "OLD_EXTERNAL_ID": "wrong-id"}
			},
			want: []string{"OLD_ROLE_ARN: cannot assume the role", "OLD_EXTERNAL_ID", "AccessDenied"},
		},
		{
			name: "secret unreadable",
			setup: func(t *testing.T) map[string]string {
				sm := awstest.NewSecretsManager(t)
				sm.Put(secretARN, clientSecret)
				sm.Deny(true)
				t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
				return map[string]string{"OLD_CLIENT_SECRET_ARN": secretARN}
			},
			want: []string{"OLD_CLIENT_SECRET_ARN: cannot read the secret", "secretsmanager:GetSecretValue", "AccessDeniedException"},
		},
		{
			name: "secret missing",
			setup: func(t *testing.T) map[string]string {
				sm := awstest.NewSecretsManager(t)
				t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
				return map[string]string{"OLD_CLIENT_SECRET_ARN": secretARN}
			},
			want: []string{"OLD_CLIENT_SECRET_ARN", "ResourceNotFoundException"},
		},
		{
			name: "secret is JSON without the key",
			setup: func(t *testing.T) map[string]string {
				sm := awstest.NewSecretsManager(t)
				sm.Put(secretARN, `{"secret": "`+clientSecret+`"}`)
				t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
				return map[string]string{"OLD_CLIENT_SECRET_ARN": secretARN}
			},
			want: []string{`OLD_CLIENT_SECRET_ARN: the secret is a JSON object without a string "clientSecret" key`},
		},
		{
			name: "both secret settings",
			setup: func(t *testing.T) map[string]string {
				return map[string]string{"OLD_CLIENT_SECRET_ARN": secretARN, "OLD_CLIENT_SECRET": clientSecret}
			},
			want: []string{"OLD_CLIENT_SECRET: and OLD_CLIENT_SECRET_ARN are both set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			env := tt.setup(t)
			env["OLD_USER_POOL_ID"], env["OLD_CLIENT_ID"] = oldPoolID, oldClientID
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"-listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, &stderr)
			if code != 1 {
				t.Fatalf("exit code = %d, want 1; stderr: %s", code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr = %q, want it to contain %q", stderr.String(), w)
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), clientSecret) {
				t.Errorf("output holds the client secret")
			}
		})
	}
}

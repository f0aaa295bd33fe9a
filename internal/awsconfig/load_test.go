package awsconfig_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
)

// functionEnv sets what Lambda gives a function, and clears what could
// leak in from the machine running the test.
func functionEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDFUNCTION", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
		"AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_CA_BUNDLE": "",
		"AWS_ENDPOINT_URL_STS": "", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "", "AWS_USE_FIPS_ENDPOINT": "", "AWS_USE_DUALSTACK_ENDPOINT": "",
	} {
		t.Setenv(k, v)
	}
}

// endpoint is where a client of cfg sends its request.
func endpoint(t *testing.T, cfg aws.Config) string {
	t.Helper()
	var got string
	c := cip.NewFromConfig(cfg, func(o *cip.Options) {
		o.HTTPClient = clientFunc(func(r *http.Request) (*http.Response, error) {
			got = r.URL.Scheme + "://" + r.URL.Host
			return nil, context.Canceled
		})
		o.Retryer = aws.NopRetryer{}
	})
	_, _ = c.DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String("eu-west-2_X")})
	return got
}

type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func TestLoadFromTheFunctionsEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"AWS's endpoint of the region", nil, "https://cognito-idp.eu-west-2.amazonaws.com"},
		{"the service's own endpoint", map[string]string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://127.0.0.1:1"}, "http://127.0.0.1:1"},
		{"the global endpoint", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:2"}, "http://127.0.0.1:2"},
		{"the service's over the global one", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:2", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://127.0.0.1:1"}, "http://127.0.0.1:1"},
		{"another service's is not used", map[string]string{"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:3"}, "https://cognito-idp.eu-west-2.amazonaws.com"},
		{"configured endpoints ignored", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:2", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "https://cognito-idp.eu-west-2.amazonaws.com"},
		{"FIPS", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, "https://cognito-idp-fips.eu-west-2.amazonaws.com"},
		{"region from AWS_DEFAULT_REGION", map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-east-1"}, "https://cognito-idp.us-east-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			functionEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := awsconfig.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := endpoint(t, cfg); got != tt.want {
				t.Errorf("endpoint = %q, want %q", got, tt.want)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "AKIDFUNCTION" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
				t.Errorf("credentials = %+v, %v; want the environment's", creds, err)
			}
		})
	}
}

func TestLoadNeedsCredentials(t *testing.T) {
	functionEnv(t)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err := awsconfig.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("Load() without a secret key = %v, want an error naming it", err)
	}
}

// AWS_CA_BUNDLE: the function trusts the bundle's certificates, as the SDK's
// own configuration does; an unreadable or empty bundle stops start-up.
func TestLoadCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111122223333</Account><Arn>arn:aws:iam::111122223333:user/x</Arn><UserId>X</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bundle, pemOf(srv.Certificate().Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	call := func() error {
		cfg, err := awsconfig.Load(context.Background())
		if err != nil {
			return err
		}
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		return err
	}
	functionEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	if err := call(); err == nil {
		t.Fatal("a call to a server of an unknown CA succeeded without AWS_CA_BUNDLE")
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if err := call(); err != nil {
		t.Errorf("with AWS_CA_BUNDLE: %v", err)
	}
	t.Setenv("AWS_CA_BUNDLE", filepath.Join(dir, "missing.pem"))
	if _, err := awsconfig.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Errorf("Load() with a missing bundle = %v, want an error naming AWS_CA_BUNDLE", err)
	}
}

func pemOf(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

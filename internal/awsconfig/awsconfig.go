// Package awsconfig builds the AWS clients, once per process: the SDK's own
// configuration for everything in the caller's account, and a separate one
// for the old pool (its region, its endpoint, an assumed role). It takes
// plain options, so the function and the operator CLI reach the old pool
// the same way.
package awsconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Retry policy for old-pool calls. Cognito gives the whole invocation 5
// seconds, so retries are short and jittered: three attempts, at most 250 ms
// apart, all inside the handler's deadline. (The SDK default backs off up to
// 20 s.)
const (
	MaxAttempts = 3
	MaxBackoff  = 250 * time.Millisecond
)

// Load returns the SDK configuration for the function's own account, from
// the environment Lambda gives it: the region (AWS_REGION, else
// AWS_DEFAULT_REGION), the execution role's credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the SDK's endpoint variables
// (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>,
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), AWS_USE_FIPS_ENDPOINT,
// AWS_USE_DUALSTACK_ENDPOINT and AWS_CA_BUNDLE; with an HTTP client and a
// retryer fit for a 5-second budget.
//
// It reads the process environment, as the SDK's config.LoadDefaultConfig
// does, but nothing else: no shared config or credentials files, profiles,
// SSO or instance metadata, which a Lambda function never uses. Leaving them
// out leaves their packages out of the binary, a sixth of the cold start's
// package initialisation (docs/performance.md).
func Load(ctx context.Context) (aws.Config, error) {
	env := processEnv{os.Getenv}
	id, secret := env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("load AWS configuration: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set " +
			"(Lambda sets them from the function's execution role; to run the function elsewhere, export credentials)")
	}
	region := env.get("AWS_REGION")
	if region == "" {
		region = env.get("AWS_DEFAULT_REGION")
	}
	client := httpClient()
	if path := env.get("AWS_CA_BUNDLE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return aws.Config{}, fmt.Errorf("load AWS configuration: AWS_CA_BUNDLE: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return aws.Config{}, fmt.Errorf("load AWS configuration: AWS_CA_BUNDLE %s holds no PEM certificate", path)
		}
		client = client.WithTransportOptions(func(t *http.Transport) {
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			t.TLSClientConfig.RootCAs = roots
		})
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, env.get("AWS_SESSION_TOKEN"))),
		HTTPClient:    client,
		Retryer:       NewRetryer,
		ConfigSources: []any{env},
	}
	if v := env.get("AWS_ENDPOINT_URL"); v != "" {
		if ignore, _, _ := env.GetIgnoreConfiguredEndpoints(ctx); !ignore {
			cfg.BaseEndpoint = aws.String(v)
		}
	}
	return cfg, nil
}

// processEnv answers the SDK clients' questions about the environment (they
// ask their aws.Config's ConfigSources), as the SDK's config.EnvConfig does
// for these variables: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
type processEnv struct{ getenv func(string) string }

func (e processEnv) get(name string) string { return strings.TrimSpace(e.getenv(name)) }

func (e processEnv) flag(name string) (bool, bool) {
	v, err := strconv.ParseBool(e.get(name))
	return v, err == nil
}

// GetServiceBaseEndpoint is AWS_ENDPOINT_URL_<SERVICE>: the service's SDK id
// in capitals, spaces as underscores (AWS_ENDPOINT_URL_SECRETS_MANAGER).
func (e processEnv) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e.get("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints is AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (e processEnv) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	v, ok := e.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	return v, ok, nil
}

// GetUseFIPSEndpoint is AWS_USE_FIPS_ENDPOINT.
func (e processEnv) GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error) {
	v, ok := e.flag("AWS_USE_FIPS_ENDPOINT")
	if !ok {
		return aws.FIPSEndpointStateUnset, false, nil
	}
	if v {
		return aws.FIPSEndpointStateEnabled, true, nil
	}
	return aws.FIPSEndpointStateDisabled, true, nil
}

// GetUseDualStackEndpoint is AWS_USE_DUALSTACK_ENDPOINT.
func (e processEnv) GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error) {
	v, ok := e.flag("AWS_USE_DUALSTACK_ENDPOINT")
	if !ok {
		return aws.DualStackEndpointStateUnset, false, nil
	}
	if v {
		return aws.DualStackEndpointStateEnabled, true, nil
	}
	return aws.DualStackEndpointStateDisabled, true, nil
}

// NewRetryer returns the retry policy of every client: the SDK's standard
// retryer (throttling, 5xx and network errors) with MaxAttempts and a
// jittered backoff capped at MaxBackoff.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
		o.Backoff = retry.BackoffDelayerFunc(Backoff)
	})
}

// Backoff is "full jitter": a random delay up to 50 ms doubled per attempt,
// capped at MaxBackoff. (The SDK's exponential jitter backoff returns
// exactly its cap whenever the cap is under a second, so containers that
// are throttled together would all retry together.)
func Backoff(attempt int, _ error) (time.Duration, error) {
	ceiling := MaxBackoff
	if attempt < 8 {
		ceiling = min(MaxBackoff, 50*time.Millisecond<<attempt)
	}
	return rand.N(ceiling) + 1, nil
}

// httpClient keeps connections to the old pool open between invocations and
// fails fast on a dead network rather than waiting for the OS.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = time.Second
			d.KeepAlive = 30 * time.Second
		}).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = time.Second
			t.MaxIdleConnsPerHost = 16
			t.IdleConnTimeout = 90 * time.Second
		})
}

// Assumed-role credentials for the old pool.
const (
	// RoleSessionName names the session in the old account's CloudTrail.
	RoleSessionName = "cognito-migrate"
	// RoleDuration is the session length asked of STS. AssumeRole from a
	// Lambda execution role is role chaining, which AWS caps at one hour.
	RoleDuration = time.Hour
	// RefreshWindow: credentials are renewed this long before they expire
	// (minus up to half of it, at random, so containers do not all call STS
	// at once), so no request is signed with credentials about to expire.
	RefreshWindow = 5 * time.Minute
	// RenewTimeout bounds one renewal (AssumeRole, retries included). It
	// runs under its own deadline, not the sign-in's: a renewal is shared,
	// and one that hangs must end so the next sign-in can try again.
	RenewTimeout = 3 * time.Second
	// RenewWait is how long the sign-in that starts a renewal waits for it
	// while the current credentials are still good; past it, the sign-in
	// goes on with them and the renewal finishes in the background.
	RenewWait = 300 * time.Millisecond
	// MinValidity: credentials this close to their expiry are not used, so
	// none expires while a request is on its way.
	MinValidity = 30 * time.Second
	// STSResponseTimeout is how long the STS client waits for an answer's
	// headers before the attempt fails (and is retried within RenewTimeout).
	STSResponseTimeout = time.Second
)

// OldPool says how to reach the old user pool. The function fills it from
// its settings (OLD_USER_POOL_REGION, OLD_USER_POOL_ENDPOINT, OLD_ROLE_ARN,
// OLD_EXTERNAL_ID, OLD_CLIENT_SECRET_ARN, OLD_CLIENT_SECRET), the CLI from
// its flags.
type OldPool struct {
	// Region is where old-pool calls go and how they are signed.
	Region string
	// Endpoint overrides the old pool's endpoint URL; empty means the AWS
	// endpoint of Region.
	Endpoint string
	// RoleARN, when set, is assumed for every old-pool call, with
	// ExternalID when that is set.
	RoleARN, ExternalID string
	// ClientSecretARN is a Secrets Manager secret holding the old app
	// client's secret; ClientSecret is the secret itself. At most one is set.
	ClientSecretARN, ClientSecret string
}

// OldPoolCredentials returns the credentials old-pool calls are signed
// with: the caller's own, or, with a role, those of the assumed role,
// cached and renewed ahead of expiry (see Renewing). STS is called in the
// caller's own account and region (AWS_ENDPOINT_URL_STS applies), with
// short response timeouts.
func OldPoolCredentials(base aws.Config, p OldPool) aws.CredentialsProvider {
	if p.RoleARN == "" {
		return base.Credentials
	}
	client := sts.NewFromConfig(base, func(o *sts.Options) {
		o.HTTPClient = stsHTTPClient()
	})
	provider := stscreds.NewAssumeRoleProvider(client, p.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = RoleSessionName
		o.Duration = RoleDuration
		if p.ExternalID != "" {
			o.ExternalID = aws.String(p.ExternalID)
		}
	})
	return NewRenewing(provider, p.RoleARN)
}

// stsHTTPClient is httpClient with a deadline on STS's answer: a renewal
// that gets no answer fails its attempt and is retried, rather than waiting
// for the whole RenewTimeout.
func stsHTTPClient() *awshttp.BuildableClient {
	return httpClient().WithTransportOptions(func(t *http.Transport) {
		t.ResponseHeaderTimeout = STSResponseTimeout
	})
}

// OldPoolClient returns the cognito-idp client for the old pool: signed with
// creds for the old pool's region and sent there, or to p.Endpoint when set.
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, which is about the caller's
// own account and region, does not apply.
func OldPoolClient(base aws.Config, p OldPool, creds aws.CredentialsProvider) *cip.Client {
	cfg := base.Copy()
	cfg.Region = p.Region
	cfg.Credentials = creds
	return cip.NewFromConfig(cfg, func(o *cip.Options) {
		o.BaseEndpoint = nil
		if p.Endpoint != "" {
			o.BaseEndpoint = aws.String(p.Endpoint)
		}
	})
}

// NewPoolClient returns the cognito-idp client for the new pool: the
// function's own account, region and credentials, and the SDK's usual
// endpoint resolution (AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER applies).
func NewPoolClient(base aws.Config) *cip.Client {
	return cip.NewFromConfig(base)
}

// ClientSecret returns the old app client's secret: p.ClientSecret as it
// is, or the secret stored at p.ClientSecretARN (read from Secrets Manager in
// the secret's own region; AWS_ENDPOINT_URL_SECRETS_MANAGER applies). The
// stored value is the client secret itself, or a JSON object with a
// "clientSecret" key. "" when the client has no secret. Errors never quote
// the secret; the caller names the setting.
func ClientSecret(ctx context.Context, base aws.Config, p OldPool) (string, error) {
	if p.ClientSecretARN == "" {
		return p.ClientSecret, nil
	}
	client := secretsmanager.NewFromConfig(base, func(o *secretsmanager.Options) {
		if a, err := arn.Parse(p.ClientSecretARN); err == nil {
			o.Region = a.Region
		}
	})
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(p.ClientSecretARN)})
	if err != nil {
		return "", fmt.Errorf("cannot read the secret (the execution role needs secretsmanager:GetSecretValue on it): %w", err)
	}
	value := aws.ToString(out.SecretString)
	if strings.HasPrefix(strings.TrimSpace(value), "{") {
		var fields struct {
			ClientSecret string `json:"clientSecret"`
		}
		if err := json.Unmarshal([]byte(value), &fields); err != nil || fields.ClientSecret == "" {
			// The JSON error could quote the secret: it is not wrapped.
			return "", errors.New(`the secret is a JSON object without a string "clientSecret" key`)
		}
		value = fields.ClientSecret
	}
	// An app client's secret holds no white space; a stored one often ends
	// with the newline of the command that printed it.
	value = strings.TrimSpace(value)
	if value == "" {
		return "", errors.New("the secret is empty (store the old app client's secret as the secret string)")
	}
	return value, nil
}

// Package awsconfig builds the AWS clients, once per process: the SDK's own
// configuration for everything in the caller's account, and a separate one
// for the old pool (its region, its endpoint, an assumed role). It takes
// plain options, so the function and the operator CLI reach the old pool
// the same way.
package awsconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
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

// Load returns the SDK configuration for the function's own account: the
// SDK's usual sources (AWS_REGION, credentials, AWS_ENDPOINT_URL_<SERVICE>),
// with an HTTP client and retryer fit for a 5-second budget.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithHTTPClient(httpClient()),
		config.WithRetryer(NewRetryer),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
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

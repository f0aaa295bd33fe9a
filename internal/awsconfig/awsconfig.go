// Package awsconfig builds the AWS clients the function uses, once per
// process: the SDK's own configuration for everything in the function's
// account, and a separate one for the old pool (its region, its endpoint).
package awsconfig

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-migrate/cognito-migrate/internal/settings"
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
		o.Backoff = retry.NewExponentialJitterBackoff(MaxBackoff)
	})
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

// OldPoolClient returns the cognito-idp client for the old pool: signed for
// and sent to the old pool's region, at OLD_USER_POOL_ENDPOINT when set.
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, which is about the function's
// own account and region, does not apply to it.
func OldPoolClient(base aws.Config, s settings.Settings) *cip.Client {
	cfg := base.Copy()
	cfg.Region = s.OldRegion
	return cip.NewFromConfig(cfg, func(o *cip.Options) {
		o.BaseEndpoint = nil
		if s.OldEndpoint != "" {
			o.BaseEndpoint = aws.String(s.OldEndpoint)
		}
	})
}

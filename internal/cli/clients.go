package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go/middleware"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
)

// Clients gives the commands their AWS configuration.
type Clients interface {
	// Config returns the AWS SDK configuration of a shared-config profile
	// ("" for the SDK's default chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO,
	// ...), with the SDK's own endpoint settings
	// (AWS_ENDPOINT_URL_<SERVICE>). The commands set the region.
	Config(ctx context.Context, profile string) (aws.Config, error)
}

// DefaultCallTimeout bounds every AWS call a command makes, retries
// included, so that no command hangs on an endpoint that never answers.
const DefaultCallTimeout = 30 * time.Second

// SDKClients returns Clients built from the AWS SDK's default
// configuration (the process environment and the shared config files),
// loaded once per profile.
func SDKClients() Clients { return &sdkClients{configs: map[string]loaded{}} }

type sdkClients struct {
	mu      sync.Mutex
	configs map[string]loaded // by profile
}

type loaded struct {
	cfg aws.Config
	err error
}

func (c *sdkClients) Config(ctx context.Context, profile string) (aws.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.configs[profile]
	if !ok {
		opts := []func(*config.LoadOptions) error{config.WithHTTPClient(httpClient())}
		if profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(profile))
		}
		l.cfg, l.err = config.LoadDefaultConfig(ctx, opts...)
		if l.err != nil {
			l.err = configError(profile, l.err)
		} else {
			l.cfg.HTTPClient = bufferedRequests{l.cfg.HTTPClient} // after the CA bundle is applied to the BuildableClient
		}
		c.configs[profile] = l
	}
	return l.cfg.Copy(), l.err
}

// configError explains why the SDK's configuration could not be loaded.
func configError(profile string, err error) error {
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		return failf("the AWS profile %q is not in the shared config files (~/.aws/config, ~/.aws/credentials): "+
			"list the profiles with 'aws configure list-profiles', or create it with 'aws configure --profile %s' (or 'aws configure sso')", missing.Profile, missing.Profile)
	}
	if profile != "" {
		return fmt.Errorf("load the AWS configuration of profile %q: %w", profile, err)
	}
	return fmt.Errorf("load the AWS configuration: %w", err)
}

// httpClient fails fast on a dead network; the call timeout bounds the
// rest.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second }).
		WithTransportOptions(func(t *http.Transport) { t.TLSHandshakeTimeout = 5 * time.Second })
}

// Optional interfaces a Clients may implement, for tests.
type (
	// callTimeouter sets the bound of every call (default
	// DefaultCallTimeout).
	callTimeouter interface{ callTimeout() time.Duration }
	// decorator wraps the clients the existing commands use, to inject
	// faults.
	decorator interface {
		decorateCognito(cognito.AdminAPI) cognito.AdminAPI
		decorateLambda(lambdaapi.API) lambdaapi.API
	}
)

// timeoutError is an AWS call that got no answer within the call timeout.
type timeoutError struct {
	after time.Duration
	err   error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no answer within %v: %v", e.after, e.err)
}
func (e *timeoutError) Unwrap() error { return e.err }

// withCallTimeout bounds every operation of the clients built from cfg by
// d, retries included.
func withCallTimeout(cfg aws.Config, d time.Duration) aws.Config {
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("CognitoMigrateCallTimeout",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				callCtx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				out, md, err := next.HandleInitialize(callCtx, in)
				if err != nil && ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) {
					err = &timeoutError{after: d, err: err}
				}
				return out, md, err
			}), middleware.Before)
	})
	return cfg
}

// awsConfig returns the configuration of profile with the call timeout.
func (a *app) awsConfig(ctx context.Context, profile string) (aws.Config, error) {
	cfg, err := a.clients.Config(ctx, profile)
	if err != nil {
		return aws.Config{}, err
	}
	d := DefaultCallTimeout
	if t, ok := a.clients.(callTimeouter); ok {
		d = t.callTimeout()
	}
	if cfg.Credentials != nil {
		cfg.Credentials = credentialsGuard{cfg.Credentials}
	}
	return withCallTimeout(cfg, d), nil
}

// credentialsGuard marks a failure to get credentials (none found, an
// expired session), which the SDK reports only as text.
type credentialsGuard struct{ next aws.CredentialsProvider }

func (g credentialsGuard) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := g.next.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err: err}
	}
	return c, nil
}

// credentialsError: no usable credentials.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// newPoolClient returns the cognito-idp client for the new pool: the
// --profile's credentials, the region of o.region, and --endpoint-url (else
// the SDK's AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER).
func (a *app) newPoolClient(ctx context.Context, cmd string, o *poolOptions) (*cip.Client, string, error) {
	cfg, err := a.awsConfig(ctx, o.Profile)
	if err != nil {
		return nil, "", err
	}
	region := o.region()
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		return nil, "", usagef(cmd, "no AWS region: the pool ID %q does not start with one; pass --region or set AWS_REGION", o.PoolID)
	}
	cfg.Region = region
	return cip.NewFromConfig(cfg, func(opts *cip.Options) {
		if o.EndpointURL != "" {
			opts.BaseEndpoint = aws.String(o.EndpointURL)
		}
	}), region, nil
}

// adminAPI is the new pool's client for the configuration commands.
func (a *app) adminAPI(ctx context.Context, cmd string, o *poolOptions) (cognito.AdminAPI, string, error) {
	c, region, err := a.newPoolClient(ctx, cmd, o)
	if err != nil {
		return nil, "", err
	}
	var api cognito.AdminAPI = c
	if d, ok := a.clients.(decorator); ok {
		api = d.decorateCognito(api)
	}
	return api, region, nil
}

// lambdaClient returns a Lambda client for a function in region, with the
// new pool's --profile (the function runs in the new pool's account) and
// the SDK's AWS_ENDPOINT_URL_LAMBDA.
func (a *app) lambdaClient(ctx context.Context, o *poolOptions, region string) (*lambda.Client, error) {
	cfg, err := a.awsConfig(ctx, o.Profile)
	if err != nil {
		return nil, err
	}
	cfg.Region = region
	return lambda.NewFromConfig(cfg), nil
}

// permissionAPI is the Lambda client of attach-trigger.
func (a *app) permissionAPI(ctx context.Context, o *poolOptions, region string) (lambdaapi.API, error) {
	c, err := a.lambdaClient(ctx, o, region)
	if err != nil {
		return nil, err
	}
	var api lambdaapi.API = c
	if d, ok := a.clients.(decorator); ok {
		api = d.decorateLambda(api)
	}
	return api, nil
}

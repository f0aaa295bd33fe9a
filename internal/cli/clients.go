package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
)

// Clients makes the AWS clients a command uses.
type Clients interface {
	// Cognito returns the cognito-idp client for the region (the --region
	// flag; "" for the SDK's own resolution) and the region it uses.
	Cognito(ctx context.Context, region string) (cognito.AdminAPI, string, error)
	// Lambda returns a Lambda client for a function in region (taken from
	// the function's ARN).
	Lambda(ctx context.Context, region string) (lambdaapi.API, error)
}

// errNoRegion: neither --region nor the SDK's configuration names a region.
var errNoRegion = errors.New("no AWS region")

// SDKClients returns Clients built from the AWS SDK's default configuration:
// credentials, region, profiles and AWS_ENDPOINT_URL_<SERVICE> (for example
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER and AWS_ENDPOINT_URL_LAMBDA)
// from the process environment and the shared config files, loaded once.
func SDKClients() Clients { return &sdkClients{} }

type sdkClients struct {
	once sync.Once
	cfg  aws.Config
	err  error
}

func (c *sdkClients) load(ctx context.Context) (aws.Config, error) {
	c.once.Do(func() {
		c.cfg, c.err = config.LoadDefaultConfig(ctx)
		if c.err != nil {
			c.err = fmt.Errorf("load the AWS configuration: %w", c.err)
		}
	})
	return c.cfg.Copy(), c.err
}

func (c *sdkClients) Cognito(ctx context.Context, region string) (cognito.AdminAPI, string, error) {
	cfg, err := c.load(ctx)
	if err != nil {
		return nil, "", err
	}
	if region != "" {
		cfg.Region = region
	}
	if cfg.Region == "" {
		return nil, "", errNoRegion
	}
	return cip.NewFromConfig(cfg), cfg.Region, nil
}

func (c *sdkClients) Lambda(ctx context.Context, region string) (lambdaapi.API, error) {
	cfg, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	cfg.Region = region
	return lambda.NewFromConfig(cfg), nil
}

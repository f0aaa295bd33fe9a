package cognito

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// NewPoolAPI is the part of the cognito-idp client the function uses on the
// NEW pool (the one whose trigger it is), in its own account: it only reads
// the pool's configuration.
type NewPoolAPI interface {
	DescribeUserPool(ctx context.Context, in *cip.DescribeUserPoolInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error)
}

// ConfigTTL is how long a new pool's description is reused. A container
// reads it once, then again after this long, so a schema change (say, the
// LEGACY_SUB_ATTRIBUTE just added) is seen without a redeploy.
const ConfigTTL = 10 * time.Minute

// NewPool reads new pools' configuration, cached per pool id.
type NewPool struct {
	api NewPoolAPI
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedConfig
}

type cachedConfig struct {
	cfg     migrate.PoolConfig
	fetched time.Time
}

// NewNewPool returns a NewPool that describes pools with api.
func NewNewPool(api NewPoolAPI) *NewPool {
	return &NewPool{api: api, now: time.Now, cache: map[string]cachedConfig{}}
}

var _ migrate.NewPool = (*NewPool)(nil)

// Config returns the configuration of pool poolID, from the cache when it
// is younger than ConfigTTL.
func (p *NewPool) Config(ctx context.Context, poolID string) (migrate.PoolConfig, error) {
	p.mu.Lock()
	c, ok := p.cache[poolID]
	p.mu.Unlock()
	if ok && p.now().Sub(c.fetched) < ConfigTTL {
		return c.cfg, nil
	}
	out, err := p.api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		return migrate.PoolConfig{}, fmt.Errorf("describe user pool %s: %w", poolID, awserr.Fault(awserr.Wrap("cognito-idp:DescribeUserPool", poolID, err)))
	}
	if out.UserPool == nil {
		return migrate.PoolConfig{}, fmt.Errorf("describe user pool %s: no pool in the answer", poolID)
	}
	cfg := poolConfig(out.UserPool)
	p.mu.Lock()
	p.cache[poolID] = cachedConfig{cfg: cfg, fetched: p.now()}
	p.mu.Unlock()
	return cfg, nil
}

// poolConfig extracts what the decision needs from a pool's description.
func poolConfig(up *types.UserPoolType) migrate.PoolConfig {
	cfg := migrate.PoolConfig{
		Attributes: make(map[string]migrate.AttributeSpec, len(up.SchemaAttributes)),
		MFA:        string(up.MfaConfiguration),
		// Pools made before the setting existed, and pools that do not say,
		// are case sensitive (the API's default).
		CaseSensitive: up.UsernameConfiguration == nil || up.UsernameConfiguration.CaseSensitive == nil ||
			*up.UsernameConfiguration.CaseSensitive,
	}
	for _, a := range up.SchemaAttributes {
		spec := migrate.AttributeSpec{Required: aws.ToBool(a.Required), Immutable: a.Mutable != nil && !*a.Mutable}
		if c := a.StringAttributeConstraints; c != nil {
			spec.MaxLength, _ = strconv.Atoi(aws.ToString(c.MaxLength))
		}
		cfg.Attributes[aws.ToString(a.Name)] = spec
	}
	for _, a := range up.AliasAttributes {
		cfg.AliasAttributes = append(cfg.AliasAttributes, string(a))
	}
	for _, a := range up.UsernameAttributes {
		cfg.UsernameAttributes = append(cfg.UsernameAttributes, string(a))
	}
	if up.Policies != nil && up.Policies.PasswordPolicy != nil {
		pp := up.Policies.PasswordPolicy
		cfg.Password = migrate.PasswordPolicy{
			MinimumLength:    int(aws.ToInt32(pp.MinimumLength)),
			RequireUppercase: pp.RequireUppercase,
			RequireLowercase: pp.RequireLowercase,
			RequireNumbers:   pp.RequireNumbers,
			RequireSymbols:   pp.RequireSymbols,
		}
	}
	return cfg
}

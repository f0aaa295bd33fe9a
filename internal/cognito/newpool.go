package cognito

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
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

// MaxStale is how long past ConfigTTL a description is still served when
// reading it again fails: a DescribeUserPool outage or throttling does not
// fail sign-ins that the cached copy can decide.
const MaxStale = time.Hour

// StaleWait is how long a caller that holds a servable stale copy waits
// for the refresh before it is served that copy: a refresh that hangs until
// DescribeTimeout must not hold every sign-in for its whole budget (the
// decision gives up when its deadline passes, so it would fail them).
const StaleWait = 300 * time.Millisecond

// DescribeTimeout bounds one DescribeUserPool call. The call is shared by
// every invocation that needs the description at that moment, so it runs
// under its own deadline rather than the first caller's.
const DescribeTimeout = 3 * time.Second

// NewPool reads new pools' configuration, cached per pool id. Concurrent
// callers share one DescribeUserPool call per pool.
type NewPool struct {
	api NewPoolAPI
	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex
	cache   map[string]cachedConfig
	flights map[string]*flight
}

type cachedConfig struct {
	cfg     migrate.PoolConfig
	fetched time.Time
}

// flight is one DescribeUserPool call in progress; done is closed when cfg
// and err are set.
type flight struct {
	done chan struct{}
	cfg  migrate.PoolConfig
	err  error
}

// NewPoolOption configures a NewPool.
type NewPoolOption func(*NewPool)

// WithLogger logs each failed refresh that is answered from the cache.
func WithLogger(log *slog.Logger) NewPoolOption { return func(p *NewPool) { p.log = log } }

// NewNewPool returns a NewPool that describes pools with api.
func NewNewPool(api NewPoolAPI, opts ...NewPoolOption) *NewPool {
	p := &NewPool{api: api, now: time.Now, log: slog.New(slog.DiscardHandler),
		cache: map[string]cachedConfig{}, flights: map[string]*flight{}}
	for _, o := range opts {
		o(p)
	}
	return p
}

var _ migrate.NewPool = (*NewPool)(nil)

// Config returns the configuration of pool poolID, from the cache when it
// is younger than ConfigTTL. Otherwise it reads it again (one call shared by
// all concurrent callers); if that fails, or has not answered within
// StaleWait, a cached copy younger than ConfigTTL+MaxStale is returned
// instead of the error.
func (p *NewPool) Config(ctx context.Context, poolID string) (migrate.PoolConfig, error) {
	p.mu.Lock()
	c, cached := p.cache[poolID]
	if cached && p.now().Sub(c.fetched) < ConfigTTL {
		p.mu.Unlock()
		return c.cfg, nil
	}
	f := p.flights[poolID]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		p.flights[poolID] = f
		go p.refresh(context.WithoutCancel(ctx), poolID, f)
	}
	p.mu.Unlock()

	var stale <-chan time.Time
	if cached && p.now().Sub(c.fetched) < ConfigTTL+MaxStale {
		t := time.NewTimer(StaleWait)
		defer t.Stop()
		stale = t.C
	}
	select {
	case <-stale:
		// The refresh goes on in the background and updates the cache
		// (or logs its failure) when it ends.
		return c.cfg, nil
	case <-f.done:
		if f.err == nil {
			return f.cfg, nil
		}
		if cached && p.now().Sub(c.fetched) < ConfigTTL+MaxStale {
			return c.cfg, nil
		}
		return migrate.PoolConfig{}, f.err
	case <-ctx.Done():
		if cached && p.now().Sub(c.fetched) < ConfigTTL+MaxStale {
			return c.cfg, nil
		}
		return migrate.PoolConfig{}, fmt.Errorf("describe user pool %s: %w", poolID, ctx.Err())
	}
}

// refresh makes the one DescribeUserPool call of flight f and publishes its
// answer. A panic in it is an error of kind panic, like one in the handler.
func (p *NewPool) refresh(ctx context.Context, poolID string, f *flight) {
	defer func() {
		if r := recover(); r != nil {
			f.err = fmt.Errorf("describe user pool %s: %w", poolID, migrate.Recovered(r))
		}
		p.mu.Lock()
		delete(p.flights, poolID)
		if f.err == nil {
			p.cache[poolID] = cachedConfig{cfg: f.cfg, fetched: p.now()}
		} else if c, ok := p.cache[poolID]; ok {
			age := p.now().Sub(c.fetched)
			if age < ConfigTTL+MaxStale {
				p.log.Warn("new pool description could not be read again; the cached copy is used",
					slog.String("userPoolId", poolID), slog.Duration("cachedFor", age.Round(time.Second)),
					slog.Duration("servedUntilAge", ConfigTTL+MaxStale), slog.String("error", f.err.Error()))
			}
		}
		p.mu.Unlock()
		close(f.done)
	}()
	ctx, cancel := context.WithTimeout(ctx, DescribeTimeout)
	defer cancel()
	f.cfg, f.err = p.describe(ctx, poolID)
}

func (p *NewPool) describe(ctx context.Context, poolID string) (migrate.PoolConfig, error) {
	out, err := p.api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		return migrate.PoolConfig{}, fmt.Errorf("describe user pool %s: %w", poolID, awserr.Fault(awserr.Wrap("cognito-idp:DescribeUserPool", poolID, err)))
	}
	if out.UserPool == nil {
		return migrate.PoolConfig{}, fmt.Errorf("describe user pool %s: no pool in the answer", poolID)
	}
	return poolConfig(out.UserPool), nil
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
		cfg.Attributes[aws.ToString(a.Name)] = attributeSpec(a)
	}
	for _, a := range up.AliasAttributes {
		cfg.AliasAttributes = append(cfg.AliasAttributes, string(a))
	}
	for _, a := range up.UsernameAttributes {
		cfg.UsernameAttributes = append(cfg.UsernameAttributes, string(a))
	}
	if up.AccountRecoverySetting != nil {
		ms := slices.Clone(up.AccountRecoverySetting.RecoveryMechanisms)
		slices.SortStableFunc(ms, func(a, b types.RecoveryOptionType) int {
			return cmp.Compare(aws.ToInt32(a.Priority), aws.ToInt32(b.Priority))
		})
		for _, m := range ms {
			cfg.Recovery = append(cfg.Recovery, string(m.Name))
		}
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

// attributeSpec reads one schema attribute. The API carries the constraints
// as strings; one that does not parse is left out of the check rather than
// guessed.
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_SchemaAttributeType.html
func attributeSpec(a types.SchemaAttributeType) migrate.AttributeSpec {
	spec := migrate.AttributeSpec{
		Required:      aws.ToBool(a.Required),
		Type:          string(a.AttributeDataType),
		DeveloperOnly: aws.ToBool(a.DeveloperOnlyAttribute),
		Mutable:       aws.ToBool(a.Mutable),
	}
	if c := a.StringAttributeConstraints; c != nil {
		spec.MinLength, _ = strconv.Atoi(aws.ToString(c.MinLength))
		spec.MaxLength, _ = strconv.Atoi(aws.ToString(c.MaxLength))
	}
	if c := a.NumberAttributeConstraints; c != nil {
		spec.MinValue = parseBound(c.MinValue)
		spec.MaxValue = parseBound(c.MaxValue)
	}
	return spec
}

func parseBound(s *string) *int64 {
	n, err := strconv.ParseInt(aws.ToString(s), 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

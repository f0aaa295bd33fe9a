package cognito

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// ListAPI is the part of the cognito-idp client the operator commands use
// to read a whole pool: its users, its app clients and its MFA
// configuration.
type ListAPI interface {
	cip.ListUsersAPIClient
	cip.ListUserPoolClientsAPIClient
	DescribeUserPoolClient(ctx context.Context, in *cip.DescribeUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error)
	GetUserPoolMfaConfig(ctx context.Context, in *cip.GetUserPoolMfaConfigInput, optFns ...func(*cip.Options)) (*cip.GetUserPoolMfaConfigOutput, error)
}

// ListUsersQuota is Cognito's quota for ListUsers (and ListUsersInGroup,
// which shares it): 30 requests per second per account and region, not
// adjustable (https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html).
const ListUsersQuota = 30

// ListUsersPageSize is the largest page ListUsers returns ("Limit" 0-60,
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ListUsers.html).
const ListUsersPageSize = 60

// DefaultListUsersRate is the rate a Lister asks for by default: a little
// under ListUsersQuota, so that the jitter between our clock and Cognito's
// window does not turn the last request of a second into a throttle (29 x 60
// = 1,740 users/s, 97% of the quota's ceiling).
const DefaultListUsersRate = 29

// RateLimiter makes a caller wait for its turn under a quota: one shared
// by every caller of the same quota (the account and region), such as
// bulk.Limiter at DefaultListUsersRate with a burst of 1, which spaces
// requests evenly.
type RateLimiter interface {
	Wait(ctx context.Context) error
}

// Lister reads whole pools: every call has its own timeout, throttled and
// transient failures are retried with jittered exponential backoff, and
// every ListUsers request, retries included, waits for the shared
// RateLimiter.
type Lister struct {
	api     ListAPI
	limiter RateLimiter

	// CallTimeout bounds each request, retries excluded.
	CallTimeout time.Duration
	// Attempts is how many times a throttled (or timed-out) request is
	// tried in all.
	Attempts int
	// BackoffBase and BackoffMax bound the wait before a retry: a random
	// duration up to BackoffBase x 2^retry, at most BackoffMax.
	BackoffBase, BackoffMax time.Duration
}

// NewLister returns a Lister with api, whose ListUsers calls wait for
// limiter (nil: no limit). The SDK's own retries are turned off for its
// calls: a retry the limiter does not see would break the quota.
func NewLister(api ListAPI, limiter RateLimiter) *Lister {
	return &Lister{
		api: api, limiter: limiter,
		CallTimeout: 10 * time.Second, Attempts: 8,
		BackoffBase: 100 * time.Millisecond, BackoffMax: 5 * time.Second,
	}
}

// noSDKRetries leaves retries to the Lister.
func noSDKRetries(o *cip.Options) { o.Retryer = aws.NopRetryer{} }

// Page describes one ListUsers page, for a progress bar.
type Page struct {
	// Number counts pages from 1; Users is how many this page held (pages
	// may be short, even empty, before the end); Total is the running sum.
	Number, Users, Total int
}

// ListUsersOptions select and observe a listing.
type ListUsersOptions struct {
	// Filter is ListUsers' Filter (`email ^= "a"`, `sub ^= "0"`), "" for all.
	Filter string
	// OnPage, when set, is called after each page's users.
	OnPage func(Page)
}

// ListUsers calls each with every user of the pool, page by page (pages of
// ListUsersPageSize), without keeping them. It stops at the first error of
// each, which it returns. A throttled page is retried, the same page again:
// the SDK's paginator only moves on after a success.
func (l *Lister) ListUsers(ctx context.Context, poolID string, opts ListUsersOptions, each func(types.UserType) error) error {
	in := &cip.ListUsersInput{UserPoolId: aws.String(poolID), Limit: aws.Int32(ListUsersPageSize)}
	if opts.Filter != "" {
		in.Filter = aws.String(opts.Filter)
	}
	pages := cip.NewListUsersPaginator(l.api, in)
	page := Page{}
	for pages.HasMorePages() {
		var out *cip.ListUsersOutput
		err := l.call(ctx, true, func(ctx context.Context) (err error) {
			out, err = pages.NextPage(ctx, noSDKRetries)
			return err
		})
		if err != nil {
			return callError("ListUsers", poolID, err)
		}
		for _, u := range out.Users {
			if err := each(u); err != nil {
				return err
			}
		}
		page.Number++
		page.Users = len(out.Users)
		page.Total += len(out.Users)
		if opts.OnPage != nil {
			opts.OnPage(page)
		}
	}
	return nil
}

// AppClients lists the pool's app clients (ListUserPoolClients, pages of
// 60) and describes each (DescribeUserPoolClient): the list holds only ids
// and names. The descriptions hold any client secret: never print them.
func (l *Lister) AppClients(ctx context.Context, poolID string) ([]types.UserPoolClientType, error) {
	pages := cip.NewListUserPoolClientsPaginator(l.api, &cip.ListUserPoolClientsInput{
		UserPoolId: aws.String(poolID), MaxResults: aws.Int32(60),
	})
	var ids []string
	for pages.HasMorePages() {
		var out *cip.ListUserPoolClientsOutput
		err := l.call(ctx, false, func(ctx context.Context) (err error) {
			out, err = pages.NextPage(ctx, noSDKRetries)
			return err
		})
		if err != nil {
			return nil, callError("ListUserPoolClients", poolID, err)
		}
		for _, c := range out.UserPoolClients {
			ids = append(ids, aws.ToString(c.ClientId))
		}
	}
	clients := make([]types.UserPoolClientType, 0, len(ids))
	for _, id := range ids {
		var out *cip.DescribeUserPoolClientOutput
		err := l.call(ctx, false, func(ctx context.Context) (err error) {
			out, err = l.api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{
				UserPoolId: aws.String(poolID), ClientId: aws.String(id),
			}, noSDKRetries)
			return err
		})
		if err != nil {
			return nil, callError("DescribeUserPoolClient", poolID, err)
		}
		if out.UserPoolClient == nil {
			return nil, fmt.Errorf("cognito-idp:DescribeUserPoolClient: no client %s in the answer", id)
		}
		clients = append(clients, *out.UserPoolClient)
	}
	return clients, nil
}

// MFAConfig reads the pool's MFA configuration (GetUserPoolMfaConfig):
// which factors are enabled, beyond DescribeUserPool's MfaConfiguration.
func (l *Lister) MFAConfig(ctx context.Context, poolID string) (*cip.GetUserPoolMfaConfigOutput, error) {
	var out *cip.GetUserPoolMfaConfigOutput
	err := l.call(ctx, false, func(ctx context.Context) (err error) {
		out, err = l.api.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(poolID)}, noSDKRetries)
		return err
	})
	if err != nil {
		return nil, callError("GetUserPoolMfaConfig", poolID, err)
	}
	return out, nil
}

// call runs one request with the Lister's timeout, limited when limited,
// retrying throttles and timeouts with backoff.
func (l *Lister) call(ctx context.Context, limited bool, do func(context.Context) error) error {
	var err error
	for attempt := 0; attempt < max(l.Attempts, 1); attempt++ {
		if attempt > 0 {
			if werr := sleep(ctx, l.backoff(attempt)); werr != nil {
				return errors.Join(werr, err)
			}
		}
		if limited && l.limiter != nil {
			if werr := l.limiter.Wait(ctx); werr != nil {
				return werr
			}
		}
		err = l.once(ctx, do)
		if err == nil || !l.retryable(ctx, err) {
			return err
		}
	}
	return err
}

func (l *Lister) once(ctx context.Context, do func(context.Context) error) error {
	if l.CallTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.CallTimeout)
		defer cancel()
	}
	return do(ctx)
}

// retryable: throttled, timed out on its own while ctx still runs, or what
// the SDK's standard retryer would retry (connection errors, 5xx).
func (l *Lister) retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(awserr.Wrap("", "", err), awserr.ErrThrottled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

func (l *Lister) backoff(retry int) time.Duration {
	ceiling := l.BackoffBase << min(retry-1, 20)
	if ceiling <= 0 || ceiling > l.BackoffMax {
		ceiling = l.BackoffMax
	}
	if ceiling <= 0 {
		return 0
	}
	// Full jitter: shards that were throttled together do not retry together.
	return time.Duration(rand.Int64N(int64(ceiling))) + 1
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ListedUser reduces a listed user to what migrate.Progress needs.
func ListedUser(u types.UserType) migrate.ListedUser {
	lu := migrate.ListedUser{
		Username: aws.ToString(u.Username),
		Status:   string(u.UserStatus),
		Enabled:  u.Enabled,
		Created:  aws.ToTime(u.UserCreateDate),
	}
	if len(u.Attributes) > 0 {
		lu.Attributes = make(map[string]string, len(u.Attributes))
		for _, a := range u.Attributes {
			lu.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
	}
	return lu
}

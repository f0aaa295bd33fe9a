package cognito

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// WithGroups makes GetUser read the user's groups too (User.Groups), with
// AdminListGroupsForUser at the same time as AdminGetUser: MIGRATE_ONLY's
// group conditions need them. Without it no group is ever read.
func (p *OldPool) WithGroups() *OldPool {
	p.readGroups = true
	return p
}

// groupsResult is AdminListGroupsForUser's answer, arriving in the background.
type groupsResult struct {
	names []string
	err   error
}

// startGroups asks for username's groups in the background.
func (p *OldPool) startGroups(ctx context.Context, username string) <-chan groupsResult {
	c := make(chan groupsResult, 1)
	go func() {
		// A panic here is a fault like one in the handler, never a crash.
		defer func() {
			if v := recover(); v != nil {
				c <- groupsResult{err: migrate.Recovered(v)}
			}
		}()
		names, err := p.groups(ctx, username)
		c <- groupsResult{names, err}
	}()
	return c
}

// groups lists the names of every group of username (a username or an
// alias).
func (p *OldPool) groups(ctx context.Context, username string) ([]string, error) {
	names := []string{}
	err := listGroups(ctx, p.api, p.poolID, username, func(g types.GroupType) { names = append(names, aws.ToString(g.GroupName)) })
	if err != nil {
		return nil, fmt.Errorf("admin list groups for user: %w", outcome("cognito-idp:AdminListGroupsForUser", err))
	}
	return names, nil
}

// groupsPageSize is AdminListGroupsForUser's largest page.
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminListGroupsForUser.html
const groupsPageSize = 60

// listGroups calls each for every group of username in poolID, page by
// page: a user can be in up to 100 groups, more than one page holds. Its
// error is the service's, for the caller to classify.
func listGroups(ctx context.Context, api cip.AdminListGroupsForUserAPIClient, poolID, username string, each func(types.GroupType)) error {
	pages := cip.NewAdminListGroupsForUserPaginator(api, &cip.AdminListGroupsForUserInput{
		UserPoolId: aws.String(poolID), Username: aws.String(username), Limit: aws.Int32(groupsPageSize),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, g := range page.Groups {
			each(g)
		}
	}
	return nil
}

// awaitGroups completes GetUser's group read for the user realUsername, who
// was asked for as typed. AWS accepts an alias, but cognito-local answers one
// with no groups at all (docs/cognito-behaviour.md, §2.7 and §9), so an empty
// answer for an alias is asked again by the real username: one more round
// trip, in that case only, and AWS gives the same answer.
func (p *OldPool) awaitGroups(ctx context.Context, c <-chan groupsResult, typed, realUsername string) ([]string, error) {
	var r groupsResult
	select {
	case r = <-c:
	case <-ctx.Done():
		return nil, fmt.Errorf("admin list groups for user: %w", ctx.Err())
	}
	if r.err != nil || len(r.names) > 0 || typed == realUsername || realUsername == "" {
		return r.names, r.err
	}
	return p.groups(ctx, realUsername)
}

package cognito

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// GroupsAPI is the part of the cognito-idp client that lists a pool's
// groups and their members, for the export's manifests.
type GroupsAPI interface {
	cip.ListGroupsAPIClient
	cip.ListUsersInGroupAPIClient
}

// ListGroupsPageSize is the largest page ListGroups and ListUsersInGroup
// return ("Limit" 0-60 in the API reference).
const ListGroupsPageSize = 60

// GroupMembers calls each with every (group, username) membership of the
// pool: ListGroups, then ListUsersInGroup for each group. ListUsersInGroup
// shares ListUsers' quota (UserList, 30 requests per second,
// https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html), so
// its requests wait for the Lister's limiter, and are retried as ListUsers'
// are. api is usually the same client as the Lister's.
func (l *Lister) GroupMembers(ctx context.Context, api GroupsAPI, poolID string, each func(group, username string) error) error {
	var groups []string
	pages := cip.NewListGroupsPaginator(api, &cip.ListGroupsInput{UserPoolId: aws.String(poolID), Limit: aws.Int32(ListGroupsPageSize)})
	for pages.HasMorePages() {
		var out *cip.ListGroupsOutput
		err := l.call(ctx, false, func(ctx context.Context) (err error) {
			out, err = pages.NextPage(ctx, noSDKRetries)
			return err
		})
		if err != nil {
			return callError("ListGroups", poolID, err)
		}
		for _, g := range out.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
	}
	for _, g := range groups {
		members := cip.NewListUsersInGroupPaginator(api, &cip.ListUsersInGroupInput{
			UserPoolId: aws.String(poolID), GroupName: aws.String(g), Limit: aws.Int32(ListGroupsPageSize)})
		for members.HasMorePages() {
			var out *cip.ListUsersInGroupOutput
			err := l.call(ctx, true, func(ctx context.Context) (err error) {
				out, err = members.NextPage(ctx, noSDKRetries)
				return err
			})
			if err != nil {
				return fmt.Errorf("group %q: %w", g, callError("ListUsersInGroup", poolID, err))
			}
			for _, u := range out.Users {
				if err := each(g, aws.ToString(u.Username)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

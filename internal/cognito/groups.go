package cognito

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// OldDirectoryAPI is the part of the cognito-idp client that reads the old
// pool's groups and finds its users.
type OldDirectoryAPI interface {
	cip.AdminListGroupsForUserAPIClient
	GetGroup(ctx context.Context, in *cip.GetGroupInput, optFns ...func(*cip.Options)) (*cip.GetGroupOutput, error)
	cip.ListUsersAPIClient
}

// OldDirectory reads the old pool's groups and finds its users, for the
// companion triggers (pre token generation and pre sign-up).
type OldDirectory struct {
	api    OldDirectoryAPI
	pool   *OldPool
	poolID string
}

// NewOldDirectory returns the directory of the old pool that pool signs in
// to, read with api.
func NewOldDirectory(api OldDirectoryAPI, pool *OldPool) *OldDirectory {
	return &OldDirectory{api: api, pool: pool, poolID: pool.poolID}
}

var (
	_ migrate.GroupLister = (*OldDirectory)(nil)
	_ migrate.OldGroups   = (*OldDirectory)(nil)
	_ migrate.UserFinder  = (*OldDirectory)(nil)
)

// Groups lists every group of username (an alias works too), page by page.
func (d *OldDirectory) Groups(ctx context.Context, username string) ([]migrate.Group, error) {
	var out []migrate.Group
	if err := listGroups(ctx, d.api, d.poolID, username, func(g types.GroupType) { out = append(out, group(g)) }); err != nil {
		return nil, fmt.Errorf("admin list groups for user: %w", groupError("cognito-idp:AdminListGroupsForUser", err))
	}
	return out, nil
}

// GetGroup reads one of the old pool's groups.
func (d *OldDirectory) GetGroup(ctx context.Context, name string) (migrate.Group, error) {
	out, err := d.api.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: aws.String(d.poolID), GroupName: aws.String(name)})
	if err != nil {
		return migrate.Group{}, fmt.Errorf("get old group: %w", groupError("cognito-idp:GetGroup", err))
	}
	if out.Group == nil {
		return migrate.Group{}, errors.New("get old group: no group in the answer")
	}
	return group(*out.Group), nil
}

// GetUser reads a user, as OldPool does, but never their groups: the
// sign-up guard does not need them.
func (d *OldDirectory) GetUser(ctx context.Context, username string) (migrate.User, error) {
	return d.pool.getUser(ctx, username, false)
}

// FindUsers lists the users whose attr equals value. The filter has single
// spaces around "=" (some emulators need them) and escapes the value's
// backslashes and quotes.
// https://docs.aws.amazon.com/cognito/latest/developerguide/how-to-manage-user-accounts.html#cognito-user-pools-searching-for-users-using-listusers-api
func (d *OldDirectory) FindUsers(ctx context.Context, attr, value string) ([]migrate.User, error) {
	pages := cip.NewListUsersPaginator(d.api, &cip.ListUsersInput{
		UserPoolId: aws.String(d.poolID), Filter: aws.String(Filter(attr, value)), Limit: aws.Int32(usersPageSize),
	})
	var out []migrate.User
	// A filter on email or phone matches a handful of users at most; the
	// page limit keeps a misbehaving answer from using up the budget.
	for page := 0; pages.HasMorePages() && page < maxUserPages; page++ {
		p, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", awserr.Fault(awserr.Wrap("cognito-idp:ListUsers", d.poolID, err)))
		}
		for _, u := range p.Users {
			attrs := make(map[string]string, len(u.Attributes))
			for _, a := range u.Attributes {
				attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
			}
			out = append(out, migrate.User{
				Username: aws.ToString(u.Username), Enabled: u.Enabled,
				Status: string(u.UserStatus), Attributes: attrs,
			})
		}
	}
	return out, nil
}

const (
	// usersPageSize is ListUsers' largest page.
	usersPageSize = 60
	maxUserPages  = 3
)

// Filter is a ListUsers filter: attr = "value".
func Filter(attr, value string) string {
	v := strings.ReplaceAll(value, `\`, `\\`)
	v = strings.ReplaceAll(v, `"`, `\"`)
	return attr + ` = "` + v + `"`
}

func group(g types.GroupType) migrate.Group {
	return migrate.Group{Name: aws.ToString(g.GroupName), Description: aws.ToString(g.Description), Precedence: g.Precedence}
}

// groupError maps ResourceNotFoundException onto migrate.ErrGroupNotFound
// and UserNotFoundException onto migrate.ErrUserNotFound; anything else is
// a classified fault.
func groupError(action string, err error) error {
	var rnf *types.ResourceNotFoundException
	var unf *types.UserNotFoundException
	switch {
	case errors.As(err, &rnf):
		return fmt.Errorf("%w: %s", migrate.ErrGroupNotFound, rnf.ErrorMessage())
	case errors.As(err, &unf):
		return fmt.Errorf("%w: %s", migrate.ErrUserNotFound, unf.ErrorMessage())
	}
	return awserr.Fault(awserr.Wrap(action, "", err))
}

// NewGroupsAPI is the part of the cognito-idp client that manages the new
// pool's groups.
type NewGroupsAPI interface {
	AdminAddUserToGroup(ctx context.Context, in *cip.AdminAddUserToGroupInput, optFns ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error)
	GetGroup(ctx context.Context, in *cip.GetGroupInput, optFns ...func(*cip.Options)) (*cip.GetGroupOutput, error)
	CreateGroup(ctx context.Context, in *cip.CreateGroupInput, optFns ...func(*cip.Options)) (*cip.CreateGroupOutput, error)
	AdminDeleteUserAttributes(ctx context.Context, in *cip.AdminDeleteUserAttributesInput, optFns ...func(*cip.Options)) (*cip.AdminDeleteUserAttributesOutput, error)
	// AdminGetUser reads when a user carrying groups was created and last
	// modified, to vouch for the attribute.
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
}

// NewGroups manages the new pool's groups and memberships.
type NewGroups struct{ api NewGroupsAPI }

// NewNewGroups returns NewGroups calling api.
func NewNewGroups(api NewGroupsAPI) *NewGroups { return &NewGroups{api: api} }

var _ migrate.GroupPool = (*NewGroups)(nil)

// AddUserToGroup adds username to group; adding a member again succeeds.
func (n *NewGroups) AddUserToGroup(ctx context.Context, poolID, username, group string) error {
	_, err := n.api.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
		UserPoolId: aws.String(poolID), Username: aws.String(username), GroupName: aws.String(group),
	})
	if err != nil {
		err = groupError("cognito-idp:AdminAddUserToGroup", err)
		if errors.Is(err, migrate.ErrUserNotFound) {
			// The event's user is gone: nothing to decide, a fault.
			err = &migrate.Fault{Kind: migrate.FaultUnknown, Err: err}
		}
		return fmt.Errorf("admin add user to group: %w", err)
	}
	return nil
}

// GetGroup reads a group of the new pool.
func (n *NewGroups) GetGroup(ctx context.Context, poolID, name string) (migrate.Group, error) {
	out, err := n.api.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: aws.String(poolID), GroupName: aws.String(name)})
	if err != nil {
		return migrate.Group{}, fmt.Errorf("get group: %w", groupError("cognito-idp:GetGroup", err))
	}
	if out.Group == nil {
		return migrate.Group{}, errors.New("get group: no group in the answer")
	}
	return group(*out.Group), nil
}

// CreateGroup creates g; GroupExistsException (another sign-in was first)
// is success. Callers check with GetGroup first: some emulators overwrite
// an existing group, members and all, instead of refusing.
func (n *NewGroups) CreateGroup(ctx context.Context, poolID string, g migrate.Group) error {
	in := &cip.CreateGroupInput{UserPoolId: aws.String(poolID), GroupName: aws.String(g.Name), Precedence: g.Precedence}
	if g.Description != "" {
		in.Description = aws.String(g.Description)
	}
	_, err := n.api.CreateGroup(ctx, in)
	var exists *types.GroupExistsException
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create group: %w", awserr.Fault(awserr.Wrap("cognito-idp:CreateGroup", poolID, err)))
	}
	return nil
}

// DeleteUserAttributes removes names from username.
func (n *NewGroups) DeleteUserAttributes(ctx context.Context, poolID, username string, names ...string) error {
	_, err := n.api.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{
		UserPoolId: aws.String(poolID), Username: aws.String(username), UserAttributeNames: names,
	})
	if err != nil {
		return fmt.Errorf("admin delete user attributes: %w", awserr.Fault(awserr.Wrap("cognito-idp:AdminDeleteUserAttributes", poolID, err)))
	}
	return nil
}

// UserTimes reads when username was created and last modified.
func (n *NewGroups) UserTimes(ctx context.Context, poolID, username string) (migrate.UserTimes, error) {
	out, err := n.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(username)})
	if err != nil {
		err = groupError("cognito-idp:AdminGetUser", err)
		if errors.Is(err, migrate.ErrUserNotFound) {
			// The event's user is gone: nothing to decide, a fault.
			err = &migrate.Fault{Kind: migrate.FaultUnknown, Err: err}
		}
		return migrate.UserTimes{}, fmt.Errorf("admin get user: %w", err)
	}
	return migrate.UserTimes{Created: aws.ToTime(out.UserCreateDate), LastModified: aws.ToTime(out.UserLastModifiedDate)}, nil
}

package rehearsal

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// AddOldGroup creates a group in the old pool.
func (r *Rehearsal) AddOldGroup(ctx context.Context, name, description string, precedence int32) error {
	_, err := r.oldClient.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(r.OldPoolID),
		GroupName: aws.String(name), Description: aws.String(description), Precedence: aws.Int32(precedence)})
	if err != nil {
		return fmt.Errorf("create old group %s: %w", name, err)
	}
	return nil
}

// AddOldMember adds an old user to an old group.
func (r *Rehearsal) AddOldMember(ctx context.Context, username, group string) error {
	_, err := r.oldClient.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(r.OldPoolID),
		Username: aws.String(username), GroupName: aws.String(group)})
	if err != nil {
		return fmt.Errorf("add %s to old group %s: %w", username, group, err)
	}
	return nil
}

// AddNewGroup creates a group in the new pool.
func (r *Rehearsal) AddNewGroup(ctx context.Context, name string) error {
	_, err := r.newClient.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(r.NewPoolID), GroupName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("create new group %s: %w", name, err)
	}
	return nil
}

// NewGroup reads a group of the new pool.
func (r *Rehearsal) NewGroup(ctx context.Context, name string) (*types.GroupType, error) {
	out, err := r.newClient.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: aws.String(r.NewPoolID), GroupName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return out.Group, nil
}

// NewUserGroups lists a user's groups in the new pool.
func (r *Rehearsal) NewUserGroups(ctx context.Context, username string) ([]string, error) {
	out, err := r.newClient.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(r.NewPoolID), Username: aws.String(username)})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, g := range out.Groups {
		names = append(names, aws.ToString(g.GroupName))
	}
	return names, nil
}

// SignInClaims signs in to the new pool as SignIn does and returns the
// claims of the ID token and of the access token.
func (r *Rehearsal) SignInClaims(ctx context.Context, username, password string) (id, access map[string]any, err error) {
	out, err := r.newClient.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId:       aws.String(r.NewClientID),
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password},
	})
	if err != nil {
		return nil, nil, err
	}
	if out.AuthenticationResult == nil {
		return nil, nil, fmt.Errorf("no tokens (challenge %q)", out.ChallengeName)
	}
	if id, err = Claims(aws.ToString(out.AuthenticationResult.IdToken)); err != nil {
		return nil, nil, err
	}
	if access, err = Claims(aws.ToString(out.AuthenticationResult.AccessToken)); err != nil {
		return nil, nil, err
	}
	return id, access, nil
}

// Claims decodes a JWT's claims without checking its signature (tests
// only read what the pool put in).
func Claims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("JWT claims: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		return nil, fmt.Errorf("JWT claims: %w", err)
	}
	return claims, nil
}

// SignUp signs up to the new pool (self-service), which runs its pre
// sign-up trigger.
func (r *Rehearsal) SignUp(ctx context.Context, username, password string, attrs map[string]string) error {
	var as []types.AttributeType
	for k, v := range attrs {
		as = append(as, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	_, err := r.newClient.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(r.NewClientID),
		Username: aws.String(username), Password: aws.String(password), UserAttributes: as})
	return err
}

// Lines are the function's log lines whose message is msg.
func (r *Rehearsal) Lines(msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.TriggerOutput()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["message"] == msg {
			out = append(out, line)
		}
	}
	return out
}

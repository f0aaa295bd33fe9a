package cognito

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
)

// The post-import calls against cognito-local, which implements groups and
// AdminDisableUser faithfully (not the import jobs).
func TestImportJobsPostImportOnCognitoLocal(t *testing.T) {
	inst := cognitolocal.StartTB(t, cognitolocal.Options{})
	c := inst.Client()
	ctx := context.Background()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("new")})
	if err != nil {
		t.Fatal(err)
	}
	poolID := aws.ToString(pool.UserPool.Id)
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String("alice"),
		MessageAction: types.MessageActionTypeSuppress}); err != nil {
		t.Fatal(err)
	}
	jobs := NewImportJobs(c, poolID, "arn:aws:iam::111122223333:role/CognitoImportLogs", nil)
	// cognito-local 5.3.0 answers GetGroup with HTTP 500 while the pool has
	// no group at all (its store has no "Groups" key yet); with one group
	// there, a missing group is ResourceNotFoundException as on AWS.
	if err := jobs.CreateGroup(ctx, "other"); err != nil {
		t.Fatal(err)
	}

	if ok, err := jobs.GroupExists(ctx, "staff"); err != nil || ok {
		t.Fatalf("GroupExists(staff) before CreateGroup = %v, %v", ok, err)
	}
	if err := jobs.CreateGroup(ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	if ok, err := jobs.GroupExists(ctx, "staff"); err != nil || !ok {
		t.Fatalf("GroupExists(staff) after CreateGroup = %v, %v", ok, err)
	}
	for range 2 { // adding a member again succeeds
		if err := jobs.AddUserToGroup(ctx, "alice", "staff"); err != nil {
			t.Fatal(err)
		}
	}
	groups, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(poolID), Username: aws.String("alice")})
	if err != nil || len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupName) != "staff" {
		t.Errorf("alice's groups = %v, %v; want [staff]", groups, err)
	}
	if err := jobs.DisableUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	u, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("alice")})
	if err != nil || u.Enabled {
		t.Errorf("alice after DisableUser: %v, %v; want disabled", u, err)
	}
	var ae smithy.APIError
	if err := jobs.DisableUser(ctx, "nobody"); !errors.As(err, &ae) || ae.ErrorCode() != "UserNotFoundException" {
		t.Errorf("DisableUser(nobody) = %v, want UserNotFoundException", err)
	}
	if err := jobs.AddUserToGroup(ctx, "nobody", "staff"); !errors.As(err, &ae) || ae.ErrorCode() != "UserNotFoundException" {
		t.Errorf("AddUserToGroup(nobody) = %v, want UserNotFoundException", err)
	}
}

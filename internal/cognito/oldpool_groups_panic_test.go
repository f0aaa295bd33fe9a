package cognito

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// panickingGroups answers AdminGetUser and panics listing groups.
type panickingGroups struct{ OldPoolAPI }

func (panickingGroups) AdminGetUser(context.Context, *cip.AdminGetUserInput, ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	return &cip.AdminGetUserOutput{Username: aws.String("alice"), Enabled: true, UserStatus: types.UserStatusTypeConfirmed}, nil
}

func (panickingGroups) AdminListGroupsForUser(context.Context, *cip.AdminListGroupsForUserInput, ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error) {
	panic("boom in the group listing")
}

// A panic in the background group listing is a fault of kind panic, not a
// crash of the function.
func TestGroupListingPanicIsAFault(t *testing.T) {
	p := NewOldPool(panickingGroups{}, "eu-west-1_Old", "client", "").WithGroups()
	_, err := p.GetUser(context.Background(), "alice")
	if k := migrate.KindOf(err); k != migrate.FaultPanic {
		t.Fatalf("GetUser() error = %v (kind %q), want a panic fault", err, k)
	}
}

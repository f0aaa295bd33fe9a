package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/e2e/rehearsal"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
)

// secondOldPool starts another cognito-local with one pool (custom:tenant)
// and an app client for the function, and creates users in it, each with
// password name+"-Passw0rd!" and tenant globex.
func secondOldPool(t *testing.T, users ...string) (url, poolID, clientID string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	inst := cognitolocal.StartTB(t, cognitolocal.Options{})
	c, ctx := inst.Client(), context.Background()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("second-old-pool"),
		Schema: []types.SchemaAttributeType{{Name: aws.String("tenant"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	poolID = aws.ToString(pool.UserPool.Id)
	client, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientName: aws.String("migration"), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range users {
		if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String(name),
			MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{
				{Name: aws.String("email"), Value: aws.String(name + "@globex.com")},
				{Name: aws.String("email_verified"), Value: aws.String("true")},
				{Name: aws.String("custom:tenant"), Value: aws.String("globex")},
			}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID),
			Username: aws.String(name), Password: aws.String(name + "-Passw0rd!"), Permanent: true}); err != nil {
			t.Fatal(err)
		}
	}
	return inst.URL, poolID, aws.ToString(client.UserPoolClient.ClientId)
}

// Two old pools (two cognito-local instances) merge into one new pool: each
// user arrives with their own pool's attributes, and a username both pools
// hold is declined for whoever signs in with it.
func TestMergeEndToEnd(t *testing.T) {
	url, poolID, clientID := secondOldPool(t, "bruno", "sam")
	r := start(t, map[string]string{"OLD_2_USER_POOL_ID": poolID, "OLD_2_CLIENT_ID": clientID, "OLD_2_USER_POOL_ENDPOINT": url})
	ctx := context.Background()
	for _, u := range []rehearsal.OldUser{
		{Username: "alice", Password: "alice-Passw0rd!", Attributes: map[string]string{"email": "alice@acme.com", "email_verified": "true", "custom:tenant": "acme"}},
		{Username: "sam", Password: "sam-Passw0rd!", Attributes: map[string]string{"email": "sam@acme.com", "email_verified": "true", "custom:tenant": "acme"}},
	} {
		if err := r.AddOldUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for user, tenant := range map[string]string{"alice": "acme", "bruno": "globex"} {
		if err := r.SignIn(ctx, user, user+"-Passw0rd!"); err != nil {
			t.Errorf("SignIn(%s) error = %v", user, err)
			continue
		}
		got, err := r.NewUser(ctx, user)
		if err != nil || got["custom:tenant"] != tenant || got["email"] != user+"@"+tenant+".com" {
			t.Errorf("%s in the new pool = %v, %v; want their own pool's attributes (%s)", user, got, err, tenant)
		}
	}
	before := len(r.Decisions())
	if err := r.SignIn(ctx, "sam", "sam-Passw0rd!"); err == nil {
		t.Error("SignIn(sam) succeeded: a name two pools hold went to whoever signed in first")
	}
	if _, err := r.NewUser(ctx, "sam"); !errors.Is(err, rehearsal.ErrNotInNewPool) {
		t.Errorf("sam in the new pool: %v, want %v", err, rehearsal.ErrNotInNewPool)
	}
	if ds := r.Decisions(); len(ds) != before+1 || ds[len(ds)-1]["reason"] != "ambiguous_user" {
		t.Errorf("sam: decisions %v, want one ambiguous_user", ds[before:])
	}
}

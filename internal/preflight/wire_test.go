package preflight_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/preflight"
)

// TestCheckOnTheWire gathers the input as the check command does, through
// the real SDK from the fake, with problems planted in both pools, and
// expects each planted problem by its id and nothing else.
func TestCheckOnTheWire(t *testing.T) {
	const fn = "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate"
	const oldSecret = "the-old-client-secret-7d1e"
	f := cognitotest.New(t)
	f.PutUserPool([]byte(`{"Id":"eu-west-1_New","Arn":"arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_New",
	  "AliasAttributes":["email"],"MfaConfiguration":"OFF",
	  "SchemaAttributes":[{"Name":"sub","AttributeDataType":"String","Required":true},{"Name":"email","AttributeDataType":"String"},
	    {"Name":"custom:legacy_sub","AttributeDataType":"String","StringAttributeConstraints":{"MaxLength":"36"}}],
	  "LambdaConfig":{"UserMigration":"` + fn + `"}}`))
	f.PutUserPoolClient([]byte(`{"UserPoolId":"eu-west-1_New","ClientId":"web","ClientName":"web",
	  "ExplicitAuthFlows":["ALLOW_USER_PASSWORD_AUTH","ALLOW_REFRESH_TOKEN_AUTH"],"PreventUserExistenceErrors":"ENABLED"}`))
	// Planted: an Amplify client (SRP only, existence errors LEGACY).
	f.PutUserPoolClient([]byte(`{"UserPoolId":"eu-west-1_New","ClientId":"amplify","ClientName":"amplify",
	  "ExplicitAuthFlows":["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"],"PreventUserExistenceErrors":"LEGACY"}`))
	f.PutUserPool([]byte(`{"Id":"eu-west-1_Old","AliasAttributes":["email"],"MfaConfiguration":"OPTIONAL",
	  "SchemaAttributes":[{"Name":"sub","AttributeDataType":"String","Required":true},{"Name":"email","AttributeDataType":"String"},
	    {"Name":"custom:tenant","AttributeDataType":"String"}]}`))
	// Planted: a secret the function is not given; MFA optional (above) with MFA_POLICY=deny;
	// custom:tenant (above) missing from the new schema.
	f.PutUserPoolClient([]byte(`{"UserPoolId":"eu-west-1_Old","ClientId":"fn","ClientSecret":"` + oldSecret + `",
	  "ExplicitAuthFlows":["ALLOW_ADMIN_USER_PASSWORD_AUTH"]}`))
	f.PutUserPoolMfaConfig("eu-west-1_Old", []byte(`{"MfaConfiguration":"OPTIONAL","SoftwareTokenMfaConfiguration":{"Enabled":true}}`))

	ctx := context.Background()
	api := f.Client()
	lister := cognito.NewLister(api, nil)
	describe := func(id string) *types.UserPoolType {
		out, err := api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return out.UserPool
	}
	newClients, err := lister.AppClients(ctx, "eu-west-1_New")
	if err != nil {
		t.Fatal(err)
	}
	oldClient, err := api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String("eu-west-1_Old"), ClientId: aws.String("fn")})
	if err != nil {
		t.Fatal(err)
	}
	oldMFA, err := lister.MFAConfig(ctx, "eu-west-1_Old")
	if err != nil {
		t.Fatal(err)
	}
	in := preflight.Input{
		NewPool: describe("eu-west-1_New"), NewClients: newClients,
		OldPool: describe("eu-west-1_Old"), OldClient: oldClient.UserPoolClient, OldMFA: oldMFA,
		Settings: preflight.Settings{OldUserPoolID: "eu-west-1_Old", OldClientID: "fn", LegacySub: "custom:legacy_sub"},
		FunctionPolicy: `{"Statement":[{"Sid":"cognito-migrate-eu-west-1_New","Effect":"Allow","Principal":{"Service":"cognito-idp.amazonaws.com"},
		  "Action":"lambda:InvokeFunction","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_New"}}}]}`,
		Sample: []preflight.SampleUser{{Username: "ann", Attributes: map[string]string{"sub": "s1", "email": "ann@example.com", "custom:tenant": "t"}}},
	}
	findings, err := preflight.Check(in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fd := range findings {
		got = append(got, fd.ID+" "+string(fd.Severity))
		if strings.Contains(fd.Detail+fd.Fix, oldSecret) {
			t.Errorf("finding %s shows the client secret", fd.ID)
		}
	}
	want := []string{
		"old-client-secret error", "new-client-password-auth warning", "new-client-user-existence warning",
		"schema-missing-attribute warning", "mfa warning",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%+v", diff, findings)
	}
}

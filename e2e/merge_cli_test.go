package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// The operator commands over a merge of two old pools in two cognito-local
// instances: check reports the name both pools hold, explain says it is
// declined, and status counts each pool.
func TestCLIMergeEndToEnd(t *testing.T) {
	e := startCLI(t)
	url2, old2, client2 := secondOldPool(t, "bruno", "sam")
	c, ctx := e.local.Client(), context.Background()
	newPool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("merged"),
		Schema: []types.SchemaAttributeType{{Name: aws.String("tenant"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	old1, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("first-old-pool"),
		Schema: []types.SchemaAttributeType{{Name: aws.String("tenant"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	newID, old1ID := aws.ToString(newPool.UserPool.Id), aws.ToString(old1.UserPool.Id)
	client1, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(old1ID),
		ClientName: aws.String("migration"), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "sam"} {
		if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(old1ID), Username: aws.String(name),
			MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{
				{Name: aws.String("email"), Value: aws.String(name + "@acme.com")},
				{Name: aws.String("email_verified"), Value: aws.String("true")},
			}}); err != nil {
			t.Fatal(err)
		}
	}
	e.lambda.SetEnvironment(e2eFunctionARN, map[string]string{
		"OLD_USER_POOL_ID": old1ID, "OLD_CLIENT_ID": aws.ToString(client1.UserPoolClient.ClientId),
		"OLD_2_USER_POOL_ID": old2, "OLD_2_CLIENT_ID": client2,
		"DECLINE_RESPONSE": "error",
	})
	// Each old pool's endpoint is this shell's: the second is in another
	// emulator.
	e.env = append(e.env, "OLD_USER_POOL_ENDPOINT="+e.local.URL, "OLD_2_USER_POOL_ENDPOINT="+url2)
	pools := []string{"--user-pool-id", newID, "--function-arn", e2eFunctionARN, "--output", "json"}

	t.Run("check reports the name both pools hold", func(t *testing.T) {
		r := e.run(t, append([]string{"check"}, pools...)...)
		var out struct {
			Findings []struct{ ID, Severity, Detail, Fix string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("check: %v", err)
		}
		found := false
		for _, f := range out.Findings {
			if f.ID == "merge-name-collision" {
				found = true
				if f.Severity != "warning" || !strings.Contains(f.Detail, `"sam in old pools 1, 2"`) || strings.Contains(f.Detail, "bruno") || strings.Contains(f.Detail, "alice") {
					t.Errorf("merge-name-collision = %+v; want a warning about sam alone", f)
				}
			}
		}
		if !found {
			t.Errorf("check reported no merge-name-collision (exit %d)", r.code)
		}
	})

	t.Run("explain declines the shared name and finds the others", func(t *testing.T) {
		for name, want := range map[string]string{"sam": "ambiguous_user", "bruno": "migrated", "alice": "migrated"} {
			r := e.run(t, append([]string{"explain", "--username", name}, pools...)...)
			var out struct {
				Cases []struct{ Case, Reason, OldPool string }
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 || len(out.Cases) == 0 {
				t.Fatalf("explain %s: exit %d, %v", name, r.code, err)
			}
			if out.Cases[0].Reason != want {
				t.Errorf("explain %s: sign-in %+v, want %s", name, out.Cases[0], want)
			}
		}
	})

	t.Run("status counts each pool", func(t *testing.T) {
		r := e.run(t, append([]string{"status"}, pools...)...)
		var out struct {
			Old struct {
				Total int `json:"total"`
			} `json:"old"`
			Remaining int `json:"remaining"`
			Pools     []struct {
				Name  string `json:"name"`
				Total int    `json:"total"`
			} `json:"oldPools"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
			t.Fatalf("status: exit %d, %v", r.code, err)
		}
		if out.Old.Total != 4 || out.Remaining != 4 || len(out.Pools) != 2 || out.Pools[0].Total != 2 || out.Pools[1].Total != 2 {
			t.Errorf("status = %+v; want 2 users in each old pool, 4 remaining", out)
		}
	})
}

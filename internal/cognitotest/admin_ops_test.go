package cognitotest

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const adminPoolID = "eu-west-1_Admin1"

const adminPool = `{"UserPool": {
  "Id": "eu-west-1_Admin1", "Name": "new-pool",
  "Arn": "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_Admin1",
  "CreationDate": 1767225600, "LastModifiedDate": 1767225600,
  "MfaConfiguration": "OPTIONAL", "DeletionProtection": "ACTIVE",
  "SmsAuthenticationMessage": "Your code is {####}",
  "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": true, "UnusedAccountValidityDays": 3},
  "Policies": {"PasswordPolicy": {"MinimumLength": 12, "TemporaryPasswordValidityDays": 3}},
  "LambdaConfig": {"PreSignUp": "arn:aws:lambda:eu-west-1:111122223333:function:pre-sign-up"},
  "UserPoolTags": {"team": "identity"}
}}`

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestDescribeUserPoolReturnsThePutDescription(t *testing.T) {
	f := New(t)
	f.PutUserPool([]byte(adminPool))
	out, err := f.Client().DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(adminPoolID)})
	if err != nil {
		t.Fatalf("DescribeUserPool() error = %v", err)
	}
	p := out.UserPool
	if aws.ToString(p.Name) != "new-pool" || p.MfaConfiguration != types.UserPoolMfaTypeOptional ||
		aws.ToString(p.LambdaConfig.PreSignUp) != "arn:aws:lambda:eu-west-1:111122223333:function:pre-sign-up" ||
		aws.ToInt32(p.Policies.PasswordPolicy.MinimumLength) != 12 || p.CreationDate == nil || p.UserPoolTags["team"] != "identity" {
		t.Errorf("DescribeUserPool() = %+v, want the stored description", p)
	}
}

func TestUpdateUserPoolReplacesAndResets(t *testing.T) {
	f := New(t)
	f.PutUserPool([]byte(adminPool))
	before := f.UserPool(adminPoolID)

	// Only LambdaConfig, as `aws cognito-idp update-user-pool --lambda-config` sends.
	_, err := f.Client().UpdateUserPool(context.Background(), &cip.UpdateUserPoolInput{
		UserPoolId:   aws.String(adminPoolID),
		LambdaConfig: &types.LambdaConfigType{UserMigration: aws.String("arn:aws:lambda:eu-west-1:111122223333:function:migrate")},
	})
	if err != nil {
		t.Fatalf("UpdateUserPool() error = %v", err)
	}
	after := f.UserPool(adminPoolID)
	want := map[string]any{
		"Id": adminPoolID, "Name": "new-pool", "Arn": before["Arn"],
		"CreationDate": 1767225600.0, "LastModifiedDate": after["LastModifiedDate"],
		"MfaConfiguration": "OFF", "DeletionProtection": "INACTIVE", "UserPoolTier": "ESSENTIALS",
		"LambdaConfig":          map[string]any{"UserMigration": "arn:aws:lambda:eu-west-1:111122223333:function:migrate"},
		"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7.0},
		"Policies": map[string]any{
			"PasswordPolicy": map[string]any{
				"MinimumLength": 8.0, "RequireUppercase": true, "RequireLowercase": true,
				"RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": 7.0,
			},
			"SignInPolicy": map[string]any{"AllowedFirstAuthFactors": []any{"PASSWORD"}},
		},
		"EmailConfiguration":          map[string]any{"EmailSendingAccount": "COGNITO_DEFAULT"},
		"VerificationMessageTemplate": map[string]any{"DefaultEmailOption": "CONFIRM_WITH_CODE"},
	}
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("pool after a LambdaConfig-only update (-want +got):\n%s", diff)
	}
}

func TestUpdateUserPoolRefusesUnusedAccountValidityDaysWithTemporaryPasswordValidityDays(t *testing.T) {
	f := New(t)
	f.PutUserPool([]byte(adminPool))
	_, err := f.Client().UpdateUserPool(context.Background(), &cip.UpdateUserPoolInput{
		UserPoolId:            aws.String(adminPoolID),
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{UnusedAccountValidityDays: 3},
		Policies:              &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{TemporaryPasswordValidityDays: 3}},
	})
	if apiCode(err) != "InvalidParameterException" {
		t.Fatalf("UpdateUserPool() error = %v, want InvalidParameterException", err)
	}
	if got := f.UserPool(adminPoolID)["MfaConfiguration"]; got != "OPTIONAL" {
		t.Errorf("MfaConfiguration after a refused update = %v, want OPTIONAL (unchanged)", got)
	}
}

func TestUserPoolOfAnAddedPoolIsMinimal(t *testing.T) {
	f := New(t)
	f.AddPool(Pool{ID: "eu-west-1_Plain", UsernameAttributes: []string{"email"}})
	out, err := f.Client().DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String("eu-west-1_Plain")})
	if err != nil {
		t.Fatalf("DescribeUserPool() error = %v", err)
	}
	if got := aws.ToString(out.UserPool.Arn); got != "arn:aws:cognito-idp:eu-west-1:000000000000:userpool/eu-west-1_Plain" {
		t.Errorf("Arn = %q", got)
	}
	_, err = f.Client().DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String("eu-west-1_Nope")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeUserPool(unknown) error = %v, want ResourceNotFoundException", err)
	}
}

func TestUpdateUserPoolClient(t *testing.T) {
	const client = `{"UserPoolClient": {"UserPoolId": "eu-west-1_Admin1", "ClientId": "app", "ClientName": "web",
	  "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], "PreventUserExistenceErrors": "ENABLED",
	  "CallbackURLs": ["https://example.com/cb"], "RefreshTokenValidity": 7}}`
	tests := []struct {
		name     string
		in       cip.UpdateUserPoolClientInput
		wantCode string
		want     map[string]any // the stored client, without LastModifiedDate
	}{
		{
			name: "flows only: the rest is reset",
			in:   cip.UpdateUserPoolClientInput{ExplicitAuthFlows: []types.ExplicitAuthFlowsType{"ALLOW_USER_PASSWORD_AUTH"}},
			want: map[string]any{
				"UserPoolId": adminPoolID, "ClientId": "app", "ClientName": "web",
				"ExplicitAuthFlows": []any{"ALLOW_USER_PASSWORD_AUTH"}, "PreventUserExistenceErrors": "LEGACY",
				"RefreshTokenValidity": 30.0, "AllowedOAuthFlowsUserPoolClient": false,
				"AuthSessionValidity": 3.0, "EnableTokenRevocation": true,
			},
		},
		{
			name:     "legacy and ALLOW_ names mixed",
			in:       cip.UpdateUserPoolClientInput{ExplicitAuthFlows: []types.ExplicitAuthFlowsType{"USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"}},
			wantCode: "InvalidParameterException",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := New(t)
			f.PutUserPool([]byte(adminPool))
			f.PutUserPoolClient([]byte(client))
			tt.in.UserPoolId, tt.in.ClientId = aws.String(adminPoolID), aws.String("app")
			_, err := f.Client().UpdateUserPoolClient(context.Background(), &tt.in)
			if apiCode(err) != tt.wantCode {
				t.Fatalf("UpdateUserPoolClient() error = %v, want code %q", err, tt.wantCode)
			}
			if tt.want == nil {
				return
			}
			got := f.UserPoolClient("app")
			delete(got, "LastModifiedDate")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("client after update (-want +got):\n%s", diff)
			}
			f.mu.Lock()
			flows := f.clients["app"].Flows
			f.mu.Unlock()
			if diff := cmp.Diff([]string{"ALLOW_USER_PASSWORD_AUTH"}, flows); diff != "" {
				t.Errorf("AdminInitiateAuth flows (-want +got):\n%s", diff)
			}
		})
	}
}

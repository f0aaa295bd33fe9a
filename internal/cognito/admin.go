package cognito

import (
	"context"
	"errors"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
)

// AdminAPI is the part of the cognito-idp client the operator CLI uses on
// the NEW pool: reading and writing the configuration of the pool and of its
// app clients.
type AdminAPI interface {
	DescribeUserPool(ctx context.Context, in *cip.DescribeUserPoolInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error)
	UpdateUserPool(ctx context.Context, in *cip.UpdateUserPoolInput, optFns ...func(*cip.Options)) (*cip.UpdateUserPoolOutput, error)
	DescribeUserPoolClient(ctx context.Context, in *cip.DescribeUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error)
	UpdateUserPoolClient(ctx context.Context, in *cip.UpdateUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.UpdateUserPoolClientOutput, error)
}

// Admin reads and writes the new pool's configuration for the operator CLI.
//
// UpdateUserPool and UpdateUserPoolClient reset every setting the request
// leaves out to its default (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UpdateUserPool.html:
// "If you don't provide a value for an attribute, Amazon Cognito sets it to its default value"), so a change is always a
// read-modify-write: describe, build the update from the whole description
// with UpdateUserPoolInput or UpdateUserPoolClientInput, change one thing,
// update.
type Admin struct {
	api AdminAPI
}

// NewAdmin returns an Admin calling api.
func NewAdmin(api AdminAPI) *Admin { return &Admin{api: api} }

// UserPool returns the pool's configuration (DescribeUserPool).
func (a *Admin) UserPool(ctx context.Context, poolID string) (*types.UserPoolType, error) {
	out, err := a.api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		return nil, callError("DescribeUserPool", poolID, err)
	}
	if out.UserPool == nil {
		return nil, callError("DescribeUserPool", poolID, errors.New("answer has no UserPool"))
	}
	return out.UserPool, nil
}

// UpdateUserPool sends in. resource names the pool in errors (its ARN).
func (a *Admin) UpdateUserPool(ctx context.Context, in *cip.UpdateUserPoolInput, resource string) error {
	if _, err := a.api.UpdateUserPool(ctx, in); err != nil {
		return callError("UpdateUserPool", resource, err)
	}
	return nil
}

// UserPoolClient returns the app client's configuration
// (DescribeUserPoolClient). It holds the client secret, if any: never print
// it.
func (a *Admin) UserPoolClient(ctx context.Context, poolID, clientID string) (*types.UserPoolClientType, error) {
	out, err := a.api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(poolID),
		ClientId:   aws.String(clientID),
	})
	if err != nil {
		return nil, callError("DescribeUserPoolClient", poolID, err)
	}
	if out.UserPoolClient == nil {
		return nil, callError("DescribeUserPoolClient", poolID, errors.New("answer has no UserPoolClient"))
	}
	return out.UserPoolClient, nil
}

// UpdateUserPoolClient sends in. resource names the pool in errors (its
// ARN): IAM authorizes app-client calls on the pool.
func (a *Admin) UpdateUserPoolClient(ctx context.Context, in *cip.UpdateUserPoolClientInput, resource string) error {
	if _, err := a.api.UpdateUserPoolClient(ctx, in); err != nil {
		return callError("UpdateUserPoolClient", resource, err)
	}
	return nil
}

// SkippedUpdateUserPoolFields lists the members of UpdateUserPoolInput that
// UpdateUserPoolInput deliberately does not copy from DescribeUserPool, with
// the reason. A test fails when a member is neither copied nor listed here,
// so a member added to the SDK cannot be dropped silently.
var SkippedUpdateUserPoolFields = map[string]string{}

// UpdateUserPoolInput returns the UpdateUserPool request that writes the
// pool's configuration back exactly as described: every member of the
// request, copied from the description (PoolName from Name).
//
// One adjustment: AdminCreateUserConfig.UnusedAccountValidityDays is left out
// when Policies.PasswordPolicy.TemporaryPasswordValidityDays is set. Cognito
// refuses the pair ("Please use TemporaryPasswordValidityDays in
// PasswordPolicy instead of UnusedAccountValidityDays"), DescribeUserPool
// returns both, and the deprecated one is ignored when the other is set
// (pulumi/pulumi-aws-native#1256, hashicorp/terraform-provider-aws#8845).
//
// The result shares nothing that the With* functions change with p.
func UpdateUserPoolInput(p *types.UserPoolType) *cip.UpdateUserPoolInput {
	in := &cip.UpdateUserPoolInput{
		UserPoolId:                  p.Id,
		AccountRecoverySetting:      p.AccountRecoverySetting,
		AdminCreateUserConfig:       p.AdminCreateUserConfig,
		AutoVerifiedAttributes:      p.AutoVerifiedAttributes,
		DeletionProtection:          p.DeletionProtection,
		DeviceConfiguration:         p.DeviceConfiguration,
		EmailConfiguration:          p.EmailConfiguration,
		EmailVerificationMessage:    p.EmailVerificationMessage,
		EmailVerificationSubject:    p.EmailVerificationSubject,
		IssuerConfiguration:         p.IssuerConfiguration,
		KeyConfiguration:            p.KeyConfiguration,
		LambdaConfig:                p.LambdaConfig,
		MfaConfiguration:            p.MfaConfiguration,
		Policies:                    p.Policies,
		PoolName:                    p.Name,
		SmsAuthenticationMessage:    p.SmsAuthenticationMessage,
		SmsConfiguration:            p.SmsConfiguration,
		SmsVerificationMessage:      p.SmsVerificationMessage,
		UserAttributeUpdateSettings: p.UserAttributeUpdateSettings,
		UserPoolAddOns:              p.UserPoolAddOns,
		UserPoolTags:                p.UserPoolTags,
		UserPoolTier:                p.UserPoolTier,
		VerificationMessageTemplate: p.VerificationMessageTemplate,
	}
	if in.AdminCreateUserConfig != nil && temporaryPasswordValidityDays(p) {
		c := *in.AdminCreateUserConfig
		c.UnusedAccountValidityDays = 0 // omitted on the wire
		in.AdminCreateUserConfig = &c
	}
	if in.LambdaConfig != nil {
		c := *in.LambdaConfig
		in.LambdaConfig = &c
	}
	return in
}

func temporaryPasswordValidityDays(p *types.UserPoolType) bool {
	return p.Policies != nil && p.Policies.PasswordPolicy != nil && p.Policies.PasswordPolicy.TemporaryPasswordValidityDays != 0
}

// UserMigration returns the pool's "Migrate user" trigger, or "".
func UserMigration(p *types.UserPoolType) string {
	if p.LambdaConfig == nil {
		return ""
	}
	return aws.ToString(p.LambdaConfig.UserMigration)
}

// SetUserMigration sets the request's LambdaConfig.UserMigration to arn, or
// removes it when arn is "", leaving every other trigger as it is.
func SetUserMigration(in *cip.UpdateUserPoolInput, arn string) {
	c := types.LambdaConfigType{}
	if in.LambdaConfig != nil {
		c = *in.LambdaConfig
	}
	c.UserMigration = nil
	if arn != "" {
		c.UserMigration = aws.String(arn)
	}
	in.LambdaConfig = &c
}

// SkippedUpdateUserPoolClientFields is SkippedUpdateUserPoolFields for
// UpdateUserPoolClientInput.
var SkippedUpdateUserPoolClientFields = map[string]string{}

// UpdateUserPoolClientInput returns the UpdateUserPoolClient request that
// writes the app client's configuration back exactly as described: every
// member of the request, copied from the description. The client secret is
// not part of it (it cannot be updated).
func UpdateUserPoolClientInput(c *types.UserPoolClientType) *cip.UpdateUserPoolClientInput {
	return &cip.UpdateUserPoolClientInput{
		ClientId:                                 c.ClientId,
		UserPoolId:                               c.UserPoolId,
		AccessTokenValidity:                      c.AccessTokenValidity,
		AllowedOAuthFlows:                        c.AllowedOAuthFlows,
		AllowedOAuthFlowsUserPoolClient:          aws.ToBool(c.AllowedOAuthFlowsUserPoolClient),
		AllowedOAuthScopes:                       c.AllowedOAuthScopes,
		AnalyticsConfiguration:                   c.AnalyticsConfiguration,
		AuthSessionValidity:                      c.AuthSessionValidity,
		CallbackURLs:                             c.CallbackURLs,
		ClientName:                               c.ClientName,
		DefaultRedirectURI:                       c.DefaultRedirectURI,
		EnablePropagateAdditionalUserContextData: c.EnablePropagateAdditionalUserContextData,
		EnableTokenRevocation:                    c.EnableTokenRevocation,
		ExplicitAuthFlows:                        c.ExplicitAuthFlows,
		IdTokenValidity:                          c.IdTokenValidity,
		LogoutURLs:                               c.LogoutURLs,
		PreventUserExistenceErrors:               c.PreventUserExistenceErrors,
		ReadAttributes:                           c.ReadAttributes,
		RefreshTokenRotation:                     c.RefreshTokenRotation,
		RefreshTokenValidity:                     c.RefreshTokenValidity,
		SupportedIdentityProviders:               c.SupportedIdentityProviders,
		TokenValidityUnits:                       c.TokenValidityUnits,
		WriteAttributes:                          c.WriteAttributes,
	}
}

// PoolDrift compares the pool as described before a change and after it,
// and returns the settings that differ other than the change itself:
// LambdaConfig.UserMigration set to userMigration ("" for none). It does not
// rely on UpdateUserPoolInput, so it also catches a setting that function
// forgot. Ignored: what changes by itself (LastModifiedDate,
// EstimatedNumberOfUsers), and the deprecated
// AdminCreateUserConfig.UnusedAccountValidityDays next to
// TemporaryPasswordValidityDays, which UpdateUserPoolInput leaves out on
// purpose.
func PoolDrift(before, after *types.UserPoolType, userMigration string) []string {
	want, got := comparablePool(before), comparablePool(after)
	lc := types.LambdaConfigType{}
	if want.LambdaConfig != nil {
		lc = *want.LambdaConfig
	}
	lc.UserMigration = nil
	if userMigration != "" {
		lc.UserMigration = aws.String(userMigration)
	}
	want.LambdaConfig = &lc
	return ChangedFields(want, got)
}

func comparablePool(p *types.UserPoolType) *types.UserPoolType {
	c := *p
	c.LastModifiedDate, c.EstimatedNumberOfUsers = nil, 0
	if c.AdminCreateUserConfig != nil && temporaryPasswordValidityDays(p) {
		a := *c.AdminCreateUserConfig
		a.UnusedAccountValidityDays = 0
		c.AdminCreateUserConfig = &a
	}
	return &c
}

// ClientDrift is PoolDrift for an app client whose ExplicitAuthFlows were
// set to flows.
func ClientDrift(before, after *types.UserPoolClientType, flows []types.ExplicitAuthFlowsType) []string {
	want, got := *before, *after
	want.LastModifiedDate, got.LastModifiedDate = nil, nil
	want.ExplicitAuthFlows = flows
	return ChangedFields(&want, &got)
}

// ChangedFields compares two structs of the same type (two descriptions of
// a pool, say) and returns the names of the fields that differ, in
// declaration order. A member that was empty in before is ignored: Cognito may show a
// default it did not show before, but a setting that was there must not
// change or vanish.
func ChangedFields[T any](before, after *T) []string {
	var changed []string
	b, a := reflect.ValueOf(before).Elem(), reflect.ValueOf(after).Elem()
	for i := range b.NumField() {
		f := b.Type().Field(i)
		if !f.IsExported() || empty(b.Field(i)) {
			continue
		}
		if !reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) {
			changed = append(changed, f.Name)
		}
	}
	return changed
}

func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

// callError wraps a failed cognito-idp call op on resource.
func callError(op, resource string, err error) error {
	return awserr.Wrap("cognito-idp:"+op, resource, err)
}

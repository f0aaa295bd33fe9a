package preflight

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

const (
	newPoolID  = "eu-west-1_NewPool1"
	newPoolARN = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_NewPool1"
	oldPoolID  = "eu-west-1_OldPool1"
	fnARN      = "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate"
	secret     = "old-client-secret-4f9a1c"
)

func attr(name string, required bool) types.SchemaAttributeType {
	return types.SchemaAttributeType{Name: aws.String(name), AttributeDataType: types.AttributeDataTypeString, Required: aws.Bool(required), Mutable: aws.Bool(true)}
}

func standardSchema() []types.SchemaAttributeType {
	return []types.SchemaAttributeType{attr("sub", true), attr("email", false), attr("email_verified", false), attr("name", false), attr("phone_number", false)}
}

func policyDoc(conditions string) string {
	return `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"cognito-migrate-eu-west-1_NewPool1","Effect":"Allow",
	  "Principal":{"Service":"cognito-idp.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"` + conditions + `}]}`
}

var goodPolicy = policyDoc(`,"Condition":{"ArnLike":{"AWS:SourceArn":"` + newPoolARN + `"},"StringEquals":{"AWS:SourceAccount":"111122223333"}}`)

func passwordPolicy(min int32) *types.UserPoolPolicyType {
	return &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{
		MinimumLength: aws.Int32(min), RequireUppercase: true, RequireLowercase: true, RequireNumbers: true,
	}}
}

// good is a correct setup: it produces no finding at all.
func good() Input {
	legacy := attr("custom:legacy_sub", false)
	legacy.Mutable = aws.Bool(false)
	legacy.StringAttributeConstraints = &types.StringAttributeConstraintsType{MinLength: aws.String("1"), MaxLength: aws.String("36")}
	return Input{
		NewPool: &types.UserPoolType{
			Id: aws.String(newPoolID), Arn: aws.String(newPoolARN),
			AliasAttributes:  []types.AliasAttributeType{types.AliasAttributeTypeEmail},
			SchemaAttributes: append(standardSchema(), attr("custom:tenant", false), legacy),
			LambdaConfig:     &types.LambdaConfigType{UserMigration: aws.String(fnARN)},
			Policies:         passwordPolicy(8),
			MfaConfiguration: types.UserPoolMfaTypeOff,
		},
		NewClients: []types.UserPoolClientType{{
			ClientId: aws.String("web"), ClientName: aws.String("web app"),
			ExplicitAuthFlows:          []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
			PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesEnabled,
		}},
		OldPool: &types.UserPoolType{
			Id:               aws.String(oldPoolID),
			AliasAttributes:  []types.AliasAttributeType{types.AliasAttributeTypeEmail},
			SchemaAttributes: append(standardSchema(), attr("custom:tenant", false)),
			Policies:         passwordPolicy(8),
			MfaConfiguration: types.UserPoolMfaTypeOff,
		},
		OldClient: &types.UserPoolClientType{
			ClientId: aws.String("fn-client"), ClientSecret: aws.String(secret),
			ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth},
		},
		OldMFA:         &cip.GetUserPoolMfaConfigOutput{MfaConfiguration: types.UserPoolMfaTypeOff},
		Settings:       Settings{OldUserPoolID: oldPoolID, OldClientID: "fn-client", ClientSecretConfigured: true, LegacySub: "custom:legacy_sub", MFAPolicy: "deny"},
		FunctionARN:    fnARN,
		FunctionPolicy: goodPolicy,
		Sample: []SampleUser{
			{Username: "alice", Attributes: map[string]string{"sub": "s-1", "email": "alice@example.com", "email_verified": "true", "custom:tenant": "t1"}},
			{Username: "Bob", Attributes: map[string]string{"sub": "s-2", "name": "Bob", "cognito:mfa_enabled": "false"}},
		},
	}
}

func srpOnly(id string) types.UserPoolClientType {
	return types.UserPoolClientType{ClientId: aws.String(id), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth},
		PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesEnabled}
}

func requireAttr(p *types.UserPoolType, name string) {
	for i, a := range p.SchemaAttributes {
		if aws.ToString(a.Name) == name {
			p.SchemaAttributes[i].Required = aws.Bool(true)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Input)
		want   []string // "id severity", in report order
	}{
		{"correct setup", func(*Input) {}, nil},

		{"old client without admin auth", func(in *Input) {
			in.OldClient.ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth}
		}, []string{"old-client-admin-auth error"}},
		{"old client with default flows", func(in *Input) { in.OldClient.ExplicitAuthFlows = nil }, []string{"old-client-admin-auth error"}},
		{"old client with the legacy admin flow", func(in *Input) {
			in.OldClient.ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAdminNoSrpAuth}
		}, nil},

		{"old client secret not given", func(in *Input) { in.Settings.ClientSecretConfigured = false }, []string{"old-client-secret error"}},
		{"secret given for a client without one", func(in *Input) { in.OldClient.ClientSecret = nil }, []string{"old-client-secret warning"}},
		{"no secret anywhere", func(in *Input) { in.OldClient.ClientSecret = nil; in.Settings.ClientSecretConfigured = false }, nil},

		{"one SRP-only client among others", func(in *Input) { in.NewClients = append(in.NewClients, srpOnly("spa")) }, []string{"new-client-password-auth warning"}},
		{"only SRP clients", func(in *Input) { in.NewClients = []types.UserPoolClientType{srpOnly("spa")} }, []string{"new-client-password-auth error"}},
		{"client with default flows", func(in *Input) {
			in.NewClients[0].ExplicitAuthFlows = nil
		}, []string{"new-client-password-auth error"}},
		{"choice-based client, password allowed by default", func(in *Input) {
			in.NewClients[0].ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserAuth}
		}, nil},
		{"choice-based client without the password factor", func(in *Input) {
			in.NewClients[0].ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserAuth}
			in.NewPool.Policies.SignInPolicy = &types.SignInPolicyType{AllowedFirstAuthFactors: []types.AuthFactorType{types.AuthFactorTypeEmailOtp}}
		}, []string{"new-client-password-auth error"}},
		{"admin password client", func(in *Input) {
			in.NewClients[0].ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}
		}, nil},

		{"client with legacy existence errors", func(in *Input) {
			in.NewClients[0].PreventUserExistenceErrors = types.PreventUserExistenceErrorTypesLegacy
		}, []string{"new-client-user-existence warning"}},
		{"client without the existence setting", func(in *Input) { in.NewClients[0].PreventUserExistenceErrors = "" }, []string{"new-client-user-existence warning"}},

		{"no trigger", func(in *Input) { in.NewPool.LambdaConfig = nil }, []string{"trigger-not-attached error"}},
		{"another function attached", func(in *Input) {
			in.NewPool.LambdaConfig.UserMigration = aws.String(fnARN + "-old")
		}, []string{"trigger-not-attached error"}},
		{"settings read from the attached trigger", func(in *Input) { in.FunctionARN = "" }, nil},

		{"function without policy", func(in *Input) { in.FunctionPolicy = "" }, []string{"invoke-permission error"}},
		{"policy for another pool", func(in *Input) {
			in.FunctionPolicy = strings.ReplaceAll(goodPolicy, "userpool/eu-west-1_NewPool1", "userpool/eu-west-1_Other")
		}, []string{"invoke-permission error"}},
		{"policy that is not JSON", func(in *Input) { in.FunctionPolicy = "{" }, []string{"invoke-permission error"}},
		{"wildcard SourceArn without SourceAccount", func(in *Input) {
			in.FunctionPolicy = policyDoc(`,"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:cognito-idp:*:*:userpool/*"}}`)
		}, []string{"invoke-permission warning"}},
		{"no condition at all", func(in *Input) { in.FunctionPolicy = policyDoc("") }, []string{"invoke-permission warning"}},
		{"wildcard SourceArn within the account", func(in *Input) {
			in.FunctionPolicy = policyDoc(`,"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:cognito-idp:eu-west-1:111122223333:userpool/*"},"StringEquals":{"AWS:SourceAccount":"111122223333"}}`)
		}, nil},
		{"exact SourceArn without SourceAccount", func(in *Input) {
			in.FunctionPolicy = policyDoc(`,"Condition":{"ArnLike":{"AWS:SourceArn":"` + newPoolARN + `"}}`)
		}, nil},
		{"policy unreadable", func(in *Input) { in.PolicyError = "AccessDeniedException" }, []string{"invoke-permission warning"}},

		{"sampled users carry a custom attribute the new pool lacks", func(in *Input) {
			in.Sample[0].Attributes["custom:plan"] = "gold"
		}, []string{"schema-missing-attribute warning"}},
		{"old schema has a custom attribute the new pool lacks", func(in *Input) {
			in.OldPool.SchemaAttributes = append(in.OldPool.SchemaAttributes, attr("custom:region", false))
		}, []string{"schema-missing-attribute warning"}},
		{"missing attribute excluded", func(in *Input) {
			in.Sample[0].Attributes["custom:plan"] = "gold"
			in.Settings.Exclude = []string{"custom:plan"}
		}, nil},
		{"missing attribute renamed to one the new pool has", func(in *Input) {
			in.Sample[0].Attributes["custom:plan"] = "gold"
			in.Settings.Rename = map[string]string{"custom:plan": "custom:tenant"}
		}, nil},
		{"attribute renamed to one the new pool lacks", func(in *Input) {
			in.Settings.Rename = map[string]string{"custom:tenant": "custom:org"}
		}, []string{"schema-missing-attribute warning"}},

		{"new pool requires what a sampled user lacks", func(in *Input) { requireAttr(in.NewPool, "name") }, []string{"schema-required-attribute error"}},
		{"new pool requires what only the old schema does not", func(in *Input) {
			requireAttr(in.NewPool, "name")
			in.Sample[0].Attributes["name"] = "Alice"
		}, []string{"schema-required-attribute warning"}},
		{"both pools require it", func(in *Input) { requireAttr(in.NewPool, "name"); requireAttr(in.OldPool, "name") }, nil},

		{"no legacy sub attribute", func(in *Input) { in.Settings.LegacySub = "" }, []string{"legacy-sub-attribute info"}},
		{"legacy sub attribute not in the schema", func(in *Input) { in.Settings.LegacySub = "custom:old_sub" }, []string{"legacy-sub-attribute error"}},
		{"legacy sub attribute too short", func(in *Input) {
			in.NewPool.SchemaAttributes[len(in.NewPool.SchemaAttributes)-1].StringAttributeConstraints.MaxLength = aws.String("20")
		}, []string{"legacy-sub-attribute error"}},
		{"legacy sub attribute a number", func(in *Input) {
			in.NewPool.SchemaAttributes[len(in.NewPool.SchemaAttributes)-1].AttributeDataType = types.AttributeDataTypeNumber
		}, []string{"legacy-sub-attribute error"}},

		{"new pool without the email alias", func(in *Input) { in.NewPool.AliasAttributes = nil }, []string{"sign-in-type warning"}},
		{"new pool with an extra alias", func(in *Input) {
			in.NewPool.AliasAttributes = append(in.NewPool.AliasAttributes, types.AliasAttributeTypePreferredUsername)
		}, []string{"sign-in-type info"}},
		{"old pool signed in by email, new pool has usernames and the alias", func(in *Input) {
			in.OldPool.AliasAttributes = nil
			in.OldPool.UsernameAttributes = []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}
		}, []string{"sign-in-type info"}},
		{"new pool signs in by email only", func(in *Input) {
			in.NewPool.AliasAttributes = nil
			in.NewPool.UsernameAttributes = []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}
		}, []string{"sign-in-type warning"}},

		{"case-insensitive old pool, case-sensitive new pool", func(in *Input) {
			in.OldPool.UsernameConfiguration = &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)}
		}, []string{"username-case warning"}},
		{"case-insensitive new pool, no collisions", func(in *Input) {
			in.NewPool.UsernameConfiguration = &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)}
		}, []string{"username-case info"}},
		{"case-insensitive new pool, usernames collide", func(in *Input) {
			in.NewPool.UsernameConfiguration = &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)}
			in.Sample = append(in.Sample, SampleUser{Username: "bob", Attributes: map[string]string{"name": "Bob"}})
		}, []string{"username-case error"}},
		{"case-insensitive new pool, emails collide", func(in *Input) {
			in.NewPool.UsernameConfiguration = &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)}
			in.Sample = append(in.Sample, SampleUser{Username: "alice2", Attributes: map[string]string{"name": "A", "email": "Alice@example.com"}})
		}, []string{"username-case error"}},
		{"non-ASCII case does not collide", func(in *Input) {
			in.NewPool.UsernameConfiguration = &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)}
			in.Sample = []SampleUser{{Username: "Émile", Attributes: map[string]string{"name": "x"}}, {Username: "émile", Attributes: map[string]string{"name": "x"}}}
		}, []string{"username-case info"}},

		{"username in email format with an email alias", func(in *Input) {
			in.Sample = append(in.Sample, SampleUser{Username: "carol@example.com", Attributes: map[string]string{"name": "C"}})
		}, []string{"username-email-format error"}},
		{"username in email format without an email alias", func(in *Input) {
			in.NewPool.AliasAttributes, in.OldPool.AliasAttributes = nil, nil
			in.Sample = append(in.Sample, SampleUser{Username: "carol@example.com", Attributes: map[string]string{"name": "C"}})
		}, nil},

		{"old MFA optional, MFA_POLICY deny", func(in *Input) { in.OldMFA.MfaConfiguration = types.UserPoolMfaTypeOptional }, []string{"mfa warning"}},
		{"old MFA required, MFA_POLICY default", func(in *Input) {
			in.OldMFA = nil
			in.OldPool.MfaConfiguration = types.UserPoolMfaTypeOn
			in.Settings.MFAPolicy = ""
		}, []string{"mfa error"}},
		{"MFA_POLICY migrate into a pool without MFA", func(in *Input) {
			in.OldMFA.MfaConfiguration = types.UserPoolMfaTypeOptional
			in.Settings.MFAPolicy = "migrate"
		}, []string{"mfa warning"}},
		{"MFA_POLICY migrate with TOTP", func(in *Input) {
			in.OldMFA.MfaConfiguration = types.UserPoolMfaTypeOptional
			in.OldMFA.SoftwareTokenMfaConfiguration = &types.SoftwareTokenMfaConfigType{Enabled: true}
			in.NewPool.MfaConfiguration = types.UserPoolMfaTypeOptional
			in.Settings.MFAPolicy = "migrate"
		}, []string{"mfa info"}},
		{"MFA_POLICY migrate, SMS only, both pools with MFA", func(in *Input) {
			in.OldMFA.MfaConfiguration = types.UserPoolMfaTypeOptional
			in.OldMFA.SmsMfaConfiguration = &types.SmsMfaConfigType{}
			in.NewPool.MfaConfiguration = types.UserPoolMfaTypeOptional
			in.Settings.MFAPolicy = "migrate"
		}, nil},

		{"stricter new password policy", func(in *Input) {
			in.NewPool.Policies.PasswordPolicy.MinimumLength = aws.Int32(12)
			in.NewPool.Policies.PasswordPolicy.RequireSymbols = true
		}, []string{"password-policy warning"}},
		{"new password policy requires symbols", func(in *Input) {
			in.NewPool.Policies.PasswordPolicy.RequireSymbols = true
		}, []string{"password-policy warning"}},
		{"stricter new password policy, enforced", func(in *Input) {
			in.NewPool.Policies.PasswordPolicy.MinimumLength = aws.Int32(12)
			in.Settings.EnforcePasswordPolicy = true
		}, []string{"password-policy info"}},
		{"laxer new password policy", func(in *Input) { in.NewPool.Policies.PasswordPolicy.RequireNumbers = false }, nil},

		{"users in both pools", func(in *Input) { in.AlreadyPresent = []string{"dave", "erin", "frank", "gina"} }, []string{"already-present warning"}},

		{"several problems in report order", func(in *Input) {
			in.AlreadyPresent = []string{"dave"}
			in.Settings.ClientSecretConfigured = false
			in.NewPool.LambdaConfig = nil
			in.NewClients = append(in.NewClients, srpOnly("b-spa"), srpOnly("a-spa"))
		}, []string{"old-client-secret error", "new-client-password-auth warning", "new-client-password-auth warning", "trigger-not-attached error", "already-present warning"}},
	}
	tests = append(tests, companionCases()...)
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.change(&in)
			findings, err := Check(in)
			if err != nil {
				t.Fatalf("Check() error = %v", err)
			}
			var got []string
			for _, f := range findings {
				got = append(got, f.ID+" "+string(f.Severity))
				covered[f.ID] = true
				if f.Detail == "" || f.Fix == "" {
					t.Errorf("finding %s has an empty detail or fix: %+v", f.ID, f)
				}
				if strings.Contains(f.Detail+f.Fix, secret) {
					t.Errorf("finding %s shows the client secret: %+v", f.ID, f)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check() findings (-want +got):\n%s\nall: %+v", diff, findings)
			}
		})
	}
	for _, id := range IDs() {
		if !covered[id] {
			t.Errorf("no test produces finding %s", id)
		}
	}
}

func TestCheckOrderIsStable(t *testing.T) {
	in := good()
	in.NewClients = append(in.NewClients, srpOnly("z"), srpOnly("m"), srpOnly("a"))
	first, _ := Check(in)
	var ids []string
	for _, f := range first {
		if f.ID == NewClientPasswordAuth {
			ids = append(ids, f.Detail[:len("app client x")])
		}
	}
	if diff := cmp.Diff([]string{"app client a", "app client m", "app client z"}, ids); diff != "" {
		t.Errorf("clients out of order (-want +got):\n%s", diff)
	}
	for range 5 {
		again, _ := Check(in)
		if diff := cmp.Diff(first, again); diff != "" {
			t.Fatalf("Check() differs between runs:\n%s", diff)
		}
	}
}

func TestCheckNeedsTheNewPool(t *testing.T) {
	if _, err := Check(Input{}); !errors.Is(err, ErrNoNewPool) {
		t.Errorf("Check(Input{}) error = %v, want ErrNoNewPool", err)
	}
}

func TestCheckWithOnlyTheNewPool(t *testing.T) {
	in := good()
	findings, err := Check(Input{NewPool: in.NewPool, FunctionPolicy: goodPolicy, Settings: Settings{LegacySub: "custom:legacy_sub"}})
	if err != nil || len(findings) != 0 {
		t.Errorf("Check(new pool only) = %+v, %v; want no finding and no error", findings, err)
	}
}

func TestCount(t *testing.T) {
	got := Count([]Finding{{Severity: Error}, {Severity: Warning}, {Severity: Warning}, {Severity: Info}})
	if got != (Counts{Error: 1, Warning: 2, Info: 1}) {
		t.Errorf("Count() = %+v", got)
	}
}

func TestFixesNameThePools(t *testing.T) {
	in := good()
	in.NewClients = []types.UserPoolClientType{srpOnly("spa")}
	in.OldClient.ExplicitAuthFlows = nil
	findings, _ := Check(in)
	for _, f := range findings {
		var want string
		switch f.ID {
		case NewClientPasswordAuth:
			want = "cognito-migrate enable-password-auth --region eu-west-1 --user-pool-id " + newPoolID + " --client-id spa"
		case OldClientAdminAuth:
			want = "--user-pool-id " + oldPoolID
		default:
			continue
		}
		if !strings.Contains(f.Fix, want) {
			t.Errorf("%s fix = %q, want it to contain %q", f.ID, f.Fix, want)
		}
	}
}

package preflight

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// groupsAttr is custom:legacy_groups as docs/triggers.md asks for it.
func groupsAttr() types.SchemaAttributeType {
	a := attr("custom:legacy_groups", false)
	a.StringAttributeConstraints = &types.StringAttributeConstraintsType{MaxLength: aws.String("2048")}
	return a
}

// companions is good() with both companion triggers wired correctly.
func companions(in *Input) {
	in.Settings.LegacyGroups, in.Settings.SignupGuard = "custom:legacy_groups", true
	in.NewPool.SchemaAttributes = append(in.NewPool.SchemaAttributes, groupsAttr())
	in.NewPool.LambdaConfig.PreTokenGeneration = aws.String(fnARN)
	in.NewPool.LambdaConfig.PreSignUp = aws.String(fnARN)
	in.NewClients[0].WriteAttributes = []string{"email", "name", "custom:tenant"}
}

func setGroupsAttr(in *Input, edit func(*types.SchemaAttributeType)) {
	for i, a := range in.NewPool.SchemaAttributes {
		if aws.ToString(a.Name) == "custom:legacy_groups" {
			edit(&in.NewPool.SchemaAttributes[i])
		}
	}
}

// companionCases are TestCheck's rows for the companion triggers: each
// finding, and the setups that must not produce it.
func companionCases() []struct {
	name   string
	change func(*Input)
	want   []string
} {
	const other = "arn:aws:lambda:eu-west-1:111122223333:function:app-triggers"
	return []struct {
		name   string
		change func(*Input)
		want   []string
	}{
		{"both companions wired", companions, nil},
		{"companions on an alias of the function", func(in *Input) {
			companions(in)
			in.NewPool.LambdaConfig.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(fnARN + ":live"), LambdaVersion: "V1_0"}
			in.NewPool.LambdaConfig.PreTokenGeneration = aws.String(fnARN + ":live")
			in.NewPool.LambdaConfig.PreSignUp = aws.String(fnARN + ":2")
		}, nil},
		{"the app's own companions, the function's unused", func(in *Input) {
			in.NewPool.LambdaConfig.PreTokenGeneration = aws.String(other)
			in.NewPool.LambdaConfig.PreSignUp = aws.String(other)
		}, nil},

		{"pre token generation without LEGACY_GROUPS_ATTRIBUTE", func(in *Input) {
			companions(in)
			in.Settings.LegacyGroups = ""
		}, []string{"pre-token-generation-unconfigured error"}},
		{"pre token generation config without LEGACY_GROUPS_ATTRIBUTE", func(in *Input) {
			in.NewPool.LambdaConfig.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(fnARN), LambdaVersion: "V2_0"}
		}, []string{"pre-token-generation-unconfigured error"}},
		{"LEGACY_GROUPS_ATTRIBUTE without pre token generation", func(in *Input) {
			companions(in)
			in.NewPool.LambdaConfig.PreTokenGeneration = nil
		}, []string{"pre-token-generation-not-attached warning"}},
		{"LEGACY_GROUPS_ATTRIBUTE, another pre token generation function", func(in *Input) {
			companions(in)
			in.NewPool.LambdaConfig.PreTokenGeneration = aws.String(other)
		}, []string{"pre-token-generation-not-attached warning"}},

		{"V2_0 on a Lite pool", func(in *Input) {
			companions(in)
			in.NewPool.UserPoolTier = types.UserPoolTierTypeLite
			in.NewPool.LambdaConfig.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(fnARN), LambdaVersion: "V2_0"}
		}, []string{"pre-token-generation-version error"}},
		{"V2_0 on Essentials", func(in *Input) {
			companions(in)
			in.NewPool.UserPoolTier = types.UserPoolTierTypeEssentials
			in.NewPool.LambdaConfig.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(fnARN), LambdaVersion: "V2_0"}
		}, nil},
		{"V1_0 on a Lite pool", func(in *Input) {
			companions(in)
			in.NewPool.UserPoolTier = types.UserPoolTierTypeLite
		}, nil},

		{"groups attribute missing from the schema", func(in *Input) {
			companions(in)
			in.Settings.LegacyGroups = "custom:groups"
		}, []string{"groups-attribute-schema error"}},
		{"groups attribute immutable", func(in *Input) {
			companions(in)
			setGroupsAttr(in, func(a *types.SchemaAttributeType) { a.Mutable = aws.Bool(false) })
		}, []string{"groups-attribute-schema error"}},
		{"groups attribute shorter than 2048", func(in *Input) {
			companions(in)
			setGroupsAttr(in, func(a *types.SchemaAttributeType) { a.StringAttributeConstraints.MaxLength = aws.String("256") })
		}, []string{"groups-attribute-schema error"}},
		{"groups attribute without constraints (Cognito's 2048)", func(in *Input) {
			companions(in)
			setGroupsAttr(in, func(a *types.SchemaAttributeType) { a.StringAttributeConstraints = nil })
		}, nil},

		{"a client may write the groups attribute", func(in *Input) {
			companions(in)
			in.NewClients = append(in.NewClients, types.UserPoolClientType{ClientId: aws.String("admin-app"),
				ExplicitAuthFlows:          []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth},
				PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesEnabled,
				WriteAttributes:            []string{"email", "custom:legacy_groups"}})
		}, []string{"groups-attribute-writable error"}},
		{"a client may write other custom attributes", func(in *Input) {
			companions(in)
			in.NewClients[0].WriteAttributes = []string{"custom:tenant", "custom:legacy_groups_note"}
		}, nil},

		{"pre sign-up without SIGNUP_GUARD", func(in *Input) {
			companions(in)
			in.Settings.SignupGuard = false
		}, []string{"pre-signup-unconfigured warning"}},
		{"SIGNUP_GUARD without pre sign-up", func(in *Input) {
			companions(in)
			in.NewPool.LambdaConfig.PreSignUp = nil
		}, []string{"pre-signup-not-attached warning"}},
		{"SIGNUP_GUARD, the app's pre sign-up", func(in *Input) {
			companions(in)
			in.NewPool.LambdaConfig.PreSignUp = aws.String(other)
		}, []string{"pre-signup-not-attached warning"}},
	}
}

// The companion findings name what to run and never point at a function
// that is not known.
func TestCompanionFixes(t *testing.T) {
	in := good()
	companions(&in)
	in.NewPool.LambdaConfig.PreSignUp = nil
	in.NewPool.LambdaConfig.PreTokenGeneration = nil
	findings, err := Check(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		PreTokenNotAttached:  "cognito-migrate attach-trigger --region eu-west-1 --user-pool-id " + newPoolID + " --function-arn " + fnARN + " --trigger PreTokenGeneration",
		PreSignUpNotAttached: "cognito-migrate attach-trigger --region eu-west-1 --user-pool-id " + newPoolID + " --function-arn " + fnARN + " --trigger PreSignUp",
	}
	for _, f := range findings {
		if w, ok := want[f.ID]; ok && f.Fix != w {
			t.Errorf("%s fix = %q, want %q", f.ID, f.Fix, w)
		}
		delete(want, f.ID)
	}
	if len(want) != 0 {
		t.Errorf("missing findings: %v", want)
	}

	// Nothing known about the function: no claim that it is not attached.
	in.FunctionARN = ""
	in.NewPool.LambdaConfig.UserMigration = nil
	findings, _ = Check(in)
	for _, f := range findings {
		if strings.HasSuffix(f.ID, "-not-attached") && f.ID != TriggerNotAttached {
			t.Errorf("finding %s without a known function: %+v", f.ID, f)
		}
	}
}

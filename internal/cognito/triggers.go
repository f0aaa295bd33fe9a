package cognito

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// Trigger is a LambdaConfig trigger the migration function serves
// (docs/triggers.md).
type Trigger string

// The triggers, named as LambdaConfig names them.
const (
	TriggerUserMigration      Trigger = "UserMigration"
	TriggerPreTokenGeneration Trigger = "PreTokenGeneration"
	TriggerPreSignUp          Trigger = "PreSignUp"
)

// Triggers lists every Trigger.
func Triggers() []Trigger {
	return []Trigger{TriggerUserMigration, TriggerPreTokenGeneration, TriggerPreSignUp}
}

// Pre token generation event versions (PreTokenGenerationConfig.LambdaVersion).
// V1_0 works on every feature plan; V2_0 and V3_0 need Essentials or Plus.
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
const (
	PreTokenV1 = string(types.PreTokenGenerationLambdaVersionTypeV10)
	PreTokenV2 = string(types.PreTokenGenerationLambdaVersionTypeV20)
)

// Attached is the function on one trigger of a pool.
type Attached struct {
	// ARN is the function's ARN, "" for none.
	ARN string
	// Version is the pre token generation event version ("V1_0" for the
	// legacy PreTokenGeneration field alone); "" for the other triggers.
	Version string
}

// AttachedTo returns the function on trigger t of pool p. Pre token
// generation has two fields: the legacy PreTokenGeneration (V1_0 events) and
// PreTokenGenerationConfig{LambdaArn, LambdaVersion}; when both name a
// function they must name the same one, and an error says so otherwise
// (the Attached returned is then the config's).
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_LambdaConfigType.html
func AttachedTo(p *types.UserPoolType, t Trigger) (Attached, error) {
	lc := p.LambdaConfig
	if lc == nil {
		return Attached{}, nil
	}
	switch t {
	case TriggerUserMigration:
		return Attached{ARN: aws.ToString(lc.UserMigration)}, nil
	case TriggerPreSignUp:
		return Attached{ARN: aws.ToString(lc.PreSignUp)}, nil
	case TriggerPreTokenGeneration:
		legacy := aws.ToString(lc.PreTokenGeneration)
		if c := lc.PreTokenGenerationConfig; c != nil && aws.ToString(c.LambdaArn) != "" {
			a := Attached{ARN: aws.ToString(c.LambdaArn), Version: string(c.LambdaVersion)}
			if legacy != "" && legacy != a.ARN {
				return a, fmt.Errorf("LambdaConfig.PreTokenGeneration is %s but PreTokenGenerationConfig.LambdaArn is %s: they must be the same function", legacy, a.ARN)
			}
			return a, nil
		}
		if legacy == "" {
			return Attached{}, nil
		}
		return Attached{ARN: legacy, Version: PreTokenV1}, nil
	}
	return Attached{}, fmt.Errorf("unknown trigger %q", t)
}

// SetTrigger sets trigger t of c to a, or removes it when a.ARN is "",
// leaving every other trigger as it is. Pre token generation sets both of
// its fields to the same ARN (and removes both).
func SetTrigger(c *types.LambdaConfigType, t Trigger, a Attached) {
	arn := optionalString(a.ARN)
	switch t {
	case TriggerUserMigration:
		c.UserMigration = arn
	case TriggerPreSignUp:
		c.PreSignUp = arn
	case TriggerPreTokenGeneration:
		c.PreTokenGeneration, c.PreTokenGenerationConfig = arn, nil
		if arn != nil {
			v := a.Version
			if v == "" {
				v = PreTokenV1
			}
			c.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{
				LambdaArn: arn, LambdaVersion: types.PreTokenGenerationLambdaVersionType(v)}
		}
	}
}

// SetTriggers sets the request's triggers in set, leaving every other
// trigger as it is.
func SetTriggers(in *cip.UpdateUserPoolInput, set map[Trigger]Attached) {
	in.LambdaConfig = withTriggers(in.LambdaConfig, set)
}

// withTriggers returns a copy of c (none: empty) with the triggers in set.
func withTriggers(c *types.LambdaConfigType, set map[Trigger]Attached) *types.LambdaConfigType {
	out := types.LambdaConfigType{}
	if c != nil {
		out = *c
	}
	for t, a := range set {
		SetTrigger(&out, t, a)
	}
	return &out
}

// PoolDriftAfter is PoolDrift for a change of the triggers in set.
func PoolDriftAfter(before, after *types.UserPoolType, set map[Trigger]Attached) []string {
	want, got := comparablePool(before), comparablePool(after)
	want.LambdaConfig = withTriggers(want.LambdaConfig, set)
	return ChangedFields(want, got)
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

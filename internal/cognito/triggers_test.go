package cognito

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

func TestAttachedTo(t *testing.T) {
	const fn, other = "arn:aws:lambda:eu-west-1:111122223333:function:fn", "arn:aws:lambda:eu-west-1:111122223333:function:other"
	cfg := func(arn, v string) *types.PreTokenGenerationVersionConfigType {
		return &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(arn), LambdaVersion: types.PreTokenGenerationLambdaVersionType(v)}
	}
	tests := []struct {
		name    string
		lc      *types.LambdaConfigType
		trigger Trigger
		want    Attached
		wantErr string
	}{
		{"no LambdaConfig", nil, TriggerPreSignUp, Attached{}, ""},
		{"user migration", &types.LambdaConfigType{UserMigration: aws.String(fn)}, TriggerUserMigration, Attached{ARN: fn}, ""},
		{"pre sign-up", &types.LambdaConfigType{PreSignUp: aws.String(fn)}, TriggerPreSignUp, Attached{ARN: fn}, ""},
		{"legacy pre token generation is V1_0", &types.LambdaConfigType{PreTokenGeneration: aws.String(fn)}, TriggerPreTokenGeneration, Attached{ARN: fn, Version: "V1_0"}, ""},
		{"pre token generation config", &types.LambdaConfigType{PreTokenGeneration: aws.String(fn), PreTokenGenerationConfig: cfg(fn, "V2_0")}, TriggerPreTokenGeneration, Attached{ARN: fn, Version: "V2_0"}, ""},
		{"config alone", &types.LambdaConfigType{PreTokenGenerationConfig: cfg(fn, "V2_0")}, TriggerPreTokenGeneration, Attached{ARN: fn, Version: "V2_0"}, ""},
		{"the two fields disagree", &types.LambdaConfigType{PreTokenGeneration: aws.String(other), PreTokenGenerationConfig: cfg(fn, "V2_0")}, TriggerPreTokenGeneration, Attached{ARN: fn, Version: "V2_0"}, "must be the same"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AttachedTo(&types.UserPoolType{LambdaConfig: tt.lc}, tt.trigger)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("AttachedTo(%s) = %+v, %v; want %+v, %q", tt.trigger, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// SetTriggers changes the triggers asked for, both pre token generation
// fields together, and nothing else.
func TestSetTriggers(t *testing.T) {
	const fn, pre = "arn:aws:lambda:eu-west-1:111122223333:function:fn", "arn:aws:lambda:eu-west-1:111122223333:function:pre"
	base := func() *types.LambdaConfigType {
		return &types.LambdaConfigType{PreAuthentication: aws.String(pre), PreSignUp: aws.String(pre),
			PreTokenGeneration: aws.String(pre), PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(pre), LambdaVersion: "V2_0"}}
	}
	tests := []struct {
		name string
		set  map[Trigger]Attached
		want func(*types.LambdaConfigType)
	}{
		{"attach all three", map[Trigger]Attached{TriggerUserMigration: {ARN: fn}, TriggerPreSignUp: {ARN: fn}, TriggerPreTokenGeneration: {ARN: fn, Version: "V2_0"}},
			func(c *types.LambdaConfigType) {
				c.UserMigration, c.PreSignUp, c.PreTokenGeneration = aws.String(fn), aws.String(fn), aws.String(fn)
				c.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(fn), LambdaVersion: "V2_0"}
			}},
		{"pre token generation defaults to V1_0", map[Trigger]Attached{TriggerPreTokenGeneration: {ARN: fn}},
			func(c *types.LambdaConfigType) {
				c.PreTokenGeneration = aws.String(fn)
				c.PreTokenGenerationConfig = &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(fn), LambdaVersion: "V1_0"}
			}},
		{"detach pre token generation clears both fields", map[Trigger]Attached{TriggerPreTokenGeneration: {}},
			func(c *types.LambdaConfigType) { c.PreTokenGeneration, c.PreTokenGenerationConfig = nil, nil }},
		{"detach pre sign-up", map[Trigger]Attached{TriggerPreSignUp: {}}, func(c *types.LambdaConfigType) { c.PreSignUp = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := &types.UserPoolType{Id: aws.String("eu-west-1_X"), LambdaConfig: base()}
			in := UpdateUserPoolInput(pool)
			SetTriggers(in, tt.set)
			want := base()
			tt.want(want)
			if diff := cmp.Diff(want, in.LambdaConfig, cmp.AllowUnexported(types.LambdaConfigType{}, types.PreTokenGenerationVersionConfigType{})); diff != "" {
				t.Errorf("LambdaConfig (-want +got):\n%s", diff)
			}
			if !reflect.DeepEqual(pool.LambdaConfig, base()) {
				t.Errorf("SetTriggers changed the description's LambdaConfig to %+v", pool.LambdaConfig)
			}
			after := *pool
			after.LambdaConfig = in.LambdaConfig
			if drift := PoolDriftAfter(pool, &after, tt.set); len(drift) != 0 {
				t.Errorf("PoolDriftAfter = %v for exactly the change", drift)
			}
			after.LambdaConfig = base()
			if drift := PoolDriftAfter(pool, &after, tt.set); len(drift) == 0 {
				t.Error("PoolDriftAfter finds nothing when the change did not happen")
			}
		})
	}
}

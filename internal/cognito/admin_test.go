package cognito

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

// fill sets every exported field reachable from v to a non-zero value, so
// that a copy which drops a field shows up as a zero.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type().Elem() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(aws.Time(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))))
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("x-" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(3)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		// Document values: none in these types today.
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func filled[T any]() *T {
	p := new(T)
	fill(reflect.ValueOf(p).Elem())
	return p
}

// checkCopied fails for every member of the request that is neither copied
// from the description (same name, or the name in renamed) nor listed in
// skipped, and for every skipped name that is not a member.
func checkCopied(t *testing.T, request, description reflect.Value, renamed map[string]string, skipped map[string]string, adjusted map[string]any) {
	t.Helper()
	rt := request.Type()
	for name := range skipped {
		if _, ok := rt.FieldByName(name); !ok {
			t.Errorf("%s lists %q as skipped, but %s has no such member", rt.Name(), name, rt.Name())
		}
	}
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		if _, ok := skipped[f.Name]; ok {
			continue
		}
		got := request.Field(i)
		if got.IsZero() {
			t.Errorf("%s.%s is not copied from the description: copy it, or list it as skipped with the reason", rt.Name(), f.Name)
			continue
		}
		src := f.Name
		if r, ok := renamed[f.Name]; ok {
			src = r
		}
		want := description.FieldByName(src)
		if !want.IsValid() {
			continue // no counterpart in the description: non-zero is all we can check
		}
		wantValue := want.Interface()
		if a, ok := adjusted[f.Name]; ok {
			wantValue = a
		}
		gotValue := got.Interface()
		// bool in the request, *bool in the description
		if want.Kind() == reflect.Pointer && got.Kind() != reflect.Pointer {
			wantValue = want.Elem().Interface()
		}
		if !reflect.DeepEqual(gotValue, wantValue) {
			t.Errorf("%s.%s = %#v, want %#v (from the description's %s)", rt.Name(), f.Name, gotValue, wantValue, src)
		}
	}
}

func TestUpdateUserPoolInputCopiesEveryMember(t *testing.T) {
	pool := filled[types.UserPoolType]()
	in := UpdateUserPoolInput(pool)

	// The one deliberate change: the deprecated field is dropped next to
	// TemporaryPasswordValidityDays, which fill sets.
	adminCreateUser := *pool.AdminCreateUserConfig
	adminCreateUser.UnusedAccountValidityDays = 0
	checkCopied(t, reflect.ValueOf(in).Elem(), reflect.ValueOf(pool).Elem(),
		map[string]string{"PoolName": "Name", "UserPoolId": "Id"},
		SkippedUpdateUserPoolFields,
		map[string]any{"AdminCreateUserConfig": &adminCreateUser})
}

func TestUpdateUserPoolClientInputCopiesEveryMember(t *testing.T) {
	client := filled[types.UserPoolClientType]()
	in := UpdateUserPoolClientInput(client)
	checkCopied(t, reflect.ValueOf(in).Elem(), reflect.ValueOf(client).Elem(),
		nil, SkippedUpdateUserPoolClientFields, nil)
}

func TestUpdateUserPoolInputUnusedAccountValidityDays(t *testing.T) {
	tests := []struct {
		name              string
		temporaryPassword int32 // PasswordPolicy.TemporaryPasswordValidityDays; 0 = unset
		want              int32
	}{
		{"kept without TemporaryPasswordValidityDays", 0, 5},
		{"dropped next to TemporaryPasswordValidityDays", 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := &types.UserPoolType{
				Id:                    aws.String("eu-west-1_X"),
				AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true, UnusedAccountValidityDays: 5},
				Policies:              &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{TemporaryPasswordValidityDays: tt.temporaryPassword}},
			}
			in := UpdateUserPoolInput(pool)
			if got := in.AdminCreateUserConfig.UnusedAccountValidityDays; got != tt.want {
				t.Errorf("UnusedAccountValidityDays = %d, want %d", got, tt.want)
			}
			if !in.AdminCreateUserConfig.AllowAdminCreateUserOnly {
				t.Error("AllowAdminCreateUserOnly lost")
			}
			if pool.AdminCreateUserConfig.UnusedAccountValidityDays != 5 {
				t.Error("UpdateUserPoolInput changed the description")
			}
		})
	}
}

func TestSetUserMigration(t *testing.T) {
	const (
		preSignUp = "arn:aws:lambda:eu-west-1:111122223333:function:pre-sign-up"
		migrate   = "arn:aws:lambda:eu-west-1:111122223333:function:migrate"
		old       = "arn:aws:lambda:eu-west-1:111122223333:function:old"
	)
	tests := []struct {
		name   string
		lambda *types.LambdaConfigType
		arn    string
		want   *types.LambdaConfigType
	}{
		{"attach next to another trigger", &types.LambdaConfigType{PreSignUp: aws.String(preSignUp)}, migrate,
			&types.LambdaConfigType{PreSignUp: aws.String(preSignUp), UserMigration: aws.String(migrate)}},
		{"attach with no LambdaConfig", nil, migrate, &types.LambdaConfigType{UserMigration: aws.String(migrate)}},
		{"replace", &types.LambdaConfigType{UserMigration: aws.String(old)}, migrate, &types.LambdaConfigType{UserMigration: aws.String(migrate)}},
		{"detach, keeping the others", &types.LambdaConfigType{PreSignUp: aws.String(preSignUp), UserMigration: aws.String(old)}, "",
			&types.LambdaConfigType{PreSignUp: aws.String(preSignUp)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := &types.UserPoolType{Id: aws.String("eu-west-1_X"), LambdaConfig: tt.lambda}
			var before *types.LambdaConfigType
			if tt.lambda != nil {
				c := *tt.lambda
				before = &c
			}
			in := UpdateUserPoolInput(pool)
			SetUserMigration(in, tt.arn)
			if diff := cmp.Diff(tt.want, in.LambdaConfig, cmp.AllowUnexported(types.LambdaConfigType{})); diff != "" {
				t.Errorf("LambdaConfig (-want +got):\n%s", diff)
			}
			if !reflect.DeepEqual(pool.LambdaConfig, before) {
				t.Errorf("SetUserMigration changed the description's LambdaConfig to %+v", pool.LambdaConfig)
			}
		})
	}
}

func TestChangedFields(t *testing.T) {
	base := func() *cip.UpdateUserPoolInput {
		return &cip.UpdateUserPoolInput{
			UserPoolId:             aws.String("eu-west-1_X"),
			MfaConfiguration:       types.UserPoolMfaTypeOptional,
			AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
			LambdaConfig:           &types.LambdaConfigType{PreSignUp: aws.String("arn:pre")},
		}
	}
	tests := []struct {
		name   string
		change func(*cip.UpdateUserPoolInput)
		want   []string
	}{
		{"same", func(*cip.UpdateUserPoolInput) {}, nil},
		{"reset to default", func(in *cip.UpdateUserPoolInput) { in.MfaConfiguration = types.UserPoolMfaTypeOff }, []string{"MfaConfiguration"}},
		{"vanished", func(in *cip.UpdateUserPoolInput) { in.AutoVerifiedAttributes = nil }, []string{"AutoVerifiedAttributes"}},
		{"nested trigger lost", func(in *cip.UpdateUserPoolInput) { in.LambdaConfig = &types.LambdaConfigType{} }, []string{"LambdaConfig"}},
		{"a default appears", func(in *cip.UpdateUserPoolInput) { in.DeletionProtection = types.DeletionProtectionTypeInactive }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := base()
			tt.change(after)
			if diff := cmp.Diff(tt.want, ChangedFields(base(), after)); diff != "" {
				t.Errorf("ChangedFields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPoolDrift(t *testing.T) {
	const migrate = "arn:aws:lambda:eu-west-1:111122223333:function:migrate"
	before := func() *types.UserPoolType {
		return &types.UserPoolType{
			Id:                     aws.String("eu-west-1_X"),
			MfaConfiguration:       types.UserPoolMfaTypeOptional,
			EstimatedNumberOfUsers: 10,
			LastModifiedDate:       aws.Time(time.Unix(1, 0)),
			LambdaConfig:           &types.LambdaConfigType{PreSignUp: aws.String("arn:pre")},
			AdminCreateUserConfig:  &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true, UnusedAccountValidityDays: 7},
			Policies:               &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{TemporaryPasswordValidityDays: 3}},
		}
	}
	attached := func(p *types.UserPoolType) {
		p.LambdaConfig = &types.LambdaConfigType{PreSignUp: aws.String("arn:pre"), UserMigration: aws.String(migrate)}
	}
	tests := []struct {
		name   string
		change func(*types.UserPoolType)
		want   []string
	}{
		{"only the trigger", attached, nil},
		{"what changes by itself", func(p *types.UserPoolType) {
			attached(p)
			p.EstimatedNumberOfUsers, p.LastModifiedDate = 11, aws.Time(time.Unix(2, 0))
		}, nil},
		{"deprecated validity days no longer shown", func(p *types.UserPoolType) {
			attached(p)
			p.AdminCreateUserConfig = &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true}
		}, nil},
		{"trigger not set", func(*types.UserPoolType) {}, []string{"LambdaConfig"}},
		{"another trigger lost", func(p *types.UserPoolType) {
			p.LambdaConfig = &types.LambdaConfigType{UserMigration: aws.String(migrate)}
		}, []string{"LambdaConfig"}},
		{"MFA reset", func(p *types.UserPoolType) {
			attached(p)
			p.MfaConfiguration = types.UserPoolMfaTypeOff
		}, []string{"MfaConfiguration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, a := before(), before()
			tt.change(a)
			if diff := cmp.Diff(tt.want, PoolDrift(b, a, migrate)); diff != "" {
				t.Errorf("PoolDrift (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before(), b, cmp.AllowUnexported(types.UserPoolType{}, types.LambdaConfigType{}, types.AdminCreateUserConfigType{}, types.UserPoolPolicyType{}, types.PasswordPolicyType{})); diff != "" {
				t.Errorf("PoolDrift changed its input (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientDrift(t *testing.T) {
	flows := []types.ExplicitAuthFlowsType{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH"}
	before := &types.UserPoolClientType{
		ClientId: aws.String("c"), ExplicitAuthFlows: flows[:1], PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesEnabled,
		LastModifiedDate: aws.Time(time.Unix(1, 0)),
	}
	ok := &types.UserPoolClientType{
		ClientId: aws.String("c"), ExplicitAuthFlows: flows, PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesEnabled,
		LastModifiedDate: aws.Time(time.Unix(2, 0)),
	}
	if got := ClientDrift(before, ok, flows); got != nil {
		t.Errorf("ClientDrift(only flows) = %v, want none", got)
	}
	reset := *ok
	reset.PreventUserExistenceErrors = types.PreventUserExistenceErrorTypesLegacy
	if diff := cmp.Diff([]string{"PreventUserExistenceErrors"}, ClientDrift(before, &reset, flows)); diff != "" {
		t.Errorf("ClientDrift(reset) (-want +got):\n%s", diff)
	}
}

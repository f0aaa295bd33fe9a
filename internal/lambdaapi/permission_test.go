package lambdaapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
)

const (
	fnARN   = "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate"
	poolARN = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbC123"
	account = "111122223333"
)

var grant = Grant{FunctionARN: fnARN, SourceARN: poolARN, SourceAccount: account, StatementID: "cognito-migrate-eu-west-1_AbC123"}

func policy(statements ...string) string {
	return `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(statements, ",") + `]}`
}

func TestEvaluate(t *testing.T) {
	const (
		scoped = `{"Sid":"mine","Effect":"Allow","Principal":{"Service":"cognito-idp.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `",
		  "Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333"},"ArnLike":{"AWS:SourceArn":"` + poolARN + `"}}}`
		unscoped = `{"Sid":"open","Effect":"Allow","Principal":{"Service":"cognito-idp.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"}`
	)
	tests := []struct {
		name   string
		policy string
		want   Status
	}{
		{"the statement we add", policy(scoped), Status{Allowed: true, StatementID: "mine"}},
		{"console-style: SourceArn only, lower-case key", policy(`{"Sid":"console","Effect":"Allow","Principal":{"Service":"cognito-idp.amazonaws.com"},"Action":"lambda:InvokeFunction","Condition":{"ArnLike":{"aws:sourcearn":"` + poolARN + `"}}}`),
			Status{Allowed: true, StatementID: "console"}},
		{"wildcard pool ARN", policy(`{"Sid":"any-pool-here","Effect":"Allow","Principal":{"Service":["s3.amazonaws.com","cognito-idp.amazonaws.com"]},"Action":["lambda:*"],"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:cognito-idp:eu-west-1:111122223333:userpool/*"}}}`),
			Status{Allowed: true, StatementID: "any-pool-here"}},
		{"scoped wins over unscoped", policy(unscoped, scoped), Status{Allowed: true, StatementID: "mine"}},
		{"unscoped: any pool may invoke", policy(unscoped), Status{Allowed: true, StatementID: "open", Unscoped: true}},
		{"another pool", policy(strings.Replace(scoped, "eu-west-1_AbC123", "eu-west-1_Other", 1)), Status{}},
		{"another account", policy(strings.Replace(scoped, `"AWS:SourceAccount":"111122223333"`, `"AWS:SourceAccount":"444455556666"`, 1)), Status{}},
		{"another principal", policy(strings.Replace(scoped, "cognito-idp.amazonaws.com", "s3.amazonaws.com", 1)), Status{}},
		{"another action", policy(strings.Replace(scoped, "lambda:InvokeFunction", "lambda:GetFunction", 1)), Status{}},
		{"deny", policy(strings.Replace(scoped, `"Allow"`, `"Deny"`, 1)), Status{}},
		{"condition we do not understand", policy(strings.Replace(scoped, `"StringEquals"`, `"StringNotEquals"`, 1)), Status{}},
		{"condition key we do not understand", policy(`{"Sid":"org","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}}`), Status{}},
		{"single statement object", `{"Statement":` + scoped + `}`, Status{Allowed: true, StatementID: "mine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.policy, grant)
			if err != nil {
				t.Fatalf("Evaluate() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Evaluate() = %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := Evaluate("not json", grant); err == nil {
		t.Error("Evaluate(malformed) error = nil")
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"arn:aws:cognito-idp:*:111122223333:userpool/*", poolARN, true},
		{"arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbC12?", poolARN, true},
		{"arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbC12", poolARN, false},
		{"*", "", true},
		{"lambda:invoke*", "lambda:invokefunction", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func lambdaClient(l *awstest.Lambda) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(l.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDOPERATOR", "secret", ""),
	})
}

func TestGrantCheckAndAdd(t *testing.T) {
	fake := awstest.NewLambda(t)
	fake.AddFunction(fnARN)
	api := lambdaClient(fake)
	ctx := context.Background()

	st, err := grant.Check(ctx, api)
	if err != nil || st.Allowed || st.RevisionID != "" {
		t.Fatalf("Check() with no policy = %+v, %v; want not allowed", st, err)
	}
	if err := grant.Add(ctx, api, st.RevisionID); err != nil {
		t.Fatalf("Add() error = %v", err)
	}
	st, err = grant.Check(ctx, api)
	if err != nil || !st.Allowed || st.StatementID != grant.StatementID || st.Unscoped {
		t.Fatalf("Check() after Add = %+v, %v; want allowed by %s", st, err, grant.StatementID)
	}
	want := []map[string]any{{
		"Sid": grant.StatementID, "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": fnARN,
		"Principal": map[string]any{"Service": "cognito-idp.amazonaws.com"},
		"Condition": map[string]any{
			"StringEquals": map[string]any{"AWS:SourceAccount": account},
			"ArnLike":      map[string]any{"AWS:SourceArn": poolARN},
		},
	}}
	if diff := cmp.Diff(want, fake.Statements(fnARN)); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
}

func TestGrantErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*awstest.Lambda)
		call     func(context.Context, API) error
		wantKind error
		action   string
	}{
		{
			name:     "GetPolicy denied",
			setup:    func(l *awstest.Lambda) { l.Deny("GetPolicy", true) },
			call:     func(ctx context.Context, api API) error { _, err := grant.Check(ctx, api); return err },
			wantKind: awserr.ErrAccessDenied, action: "lambda:GetPolicy",
		},
		{
			name:     "AddPermission denied",
			setup:    func(l *awstest.Lambda) { l.Deny("AddPermission", true) },
			call:     func(ctx context.Context, api API) error { return grant.Add(ctx, api, "") },
			wantKind: awserr.ErrAccessDenied, action: "lambda:AddPermission",
		},
		{
			name:  "function missing",
			setup: func(l *awstest.Lambda) {},
			call: func(ctx context.Context, api API) error {
				g := grant
				g.FunctionARN = "arn:aws:lambda:eu-west-1:111122223333:function:missing"
				_, err := g.Check(ctx, api)
				return err
			},
			wantKind: awserr.ErrNotFound, action: "lambda:GetPolicy",
		},
		{
			name: "statement id taken by another statement",
			setup: func(l *awstest.Lambda) {
				l.PutStatement(fnARN, `{"Sid":"`+grant.StatementID+`","Effect":"Allow","Principal":{"Service":"cognito-idp.amazonaws.com"},"Action":"lambda:InvokeFunction","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_Old"}}}`)
			},
			call:     func(ctx context.Context, api API) error { return grant.Add(ctx, api, "") },
			wantKind: awserr.ErrConflict, action: "lambda:AddPermission",
		},
		{
			name:     "policy changed since it was read",
			setup:    func(l *awstest.Lambda) {},
			call:     func(ctx context.Context, api API) error { return grant.Add(ctx, api, "stale-revision") },
			wantKind: awserr.ErrPreconditionFailed, action: "lambda:AddPermission",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := awstest.NewLambda(t)
			fake.AddFunction(fnARN)
			tt.setup(fake)
			err := tt.call(context.Background(), lambdaClient(fake))
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("error = %v, want %v", err, tt.wantKind)
			}
			var ce *awserr.CallError
			if !errors.As(err, &ce) || ce.Action != tt.action {
				t.Errorf("CallError = %+v, want action %s", ce, tt.action)
			}
		})
	}
}

func TestParseFunctionARN(t *testing.T) {
	tests := []struct {
		in      string
		want    FunctionARN
		wantErr bool
	}{
		{in: fnARN, want: FunctionARN{Partition: "aws", Region: "eu-west-1", Account: account, Name: "cognito-migrate"}},
		{in: fnARN + ":live", want: FunctionARN{Partition: "aws", Region: "eu-west-1", Account: account, Name: "cognito-migrate", Qualifier: "live"}},
		{in: "arn:aws-cn:lambda:cn-north-1:111122223333:function:f:$LATEST", want: FunctionARN{Partition: "aws-cn", Region: "cn-north-1", Account: account, Name: "f", Qualifier: "$LATEST"}},
		{in: "cognito-migrate", wantErr: true},
		{in: "arn:aws:lambda:eu-west-1:1111:function:f", wantErr: true},
		{in: "arn:aws:iam::111122223333:role/f", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseFunctionARN(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFunctionARN(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

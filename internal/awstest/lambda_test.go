package awstest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const (
	testFunctionARN = "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate"
	testPoolARN     = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbC123"
)

func lambdaClient(l *Lambda) *lambda.Client {
	return lambda.NewFromConfig(baseConfig(), func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(l.URL)
	})
}

func cognitoPermission(sid string) *lambda.AddPermissionInput {
	return &lambda.AddPermissionInput{
		FunctionName:  aws.String(testFunctionARN),
		StatementId:   aws.String(sid),
		Action:        aws.String("lambda:InvokeFunction"),
		Principal:     aws.String("cognito-idp.amazonaws.com"),
		SourceArn:     aws.String(testPoolARN),
		SourceAccount: aws.String("111122223333"),
	}
}

func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestLambdaGetPolicyWithoutPolicyIsNotFound(t *testing.T) {
	tests := []struct {
		name, function string
		wantCode       string
	}{
		{"function with no policy", testFunctionARN, "ResourceNotFoundException"},
		{"unknown function", "arn:aws:lambda:eu-west-1:111122223333:function:other", "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := NewLambda(t)
			fake.AddFunction(testFunctionARN)
			_, err := lambdaClient(fake).GetPolicy(context.Background(), &lambda.GetPolicyInput{FunctionName: aws.String(tt.function)})
			if got := apiErrorCode(err); got != tt.wantCode {
				t.Fatalf("GetPolicy(%s) error = %v, want %s", tt.function, err, tt.wantCode)
			}
			if calls := fake.Calls(); len(calls) != 1 || calls[0].Status != http.StatusNotFound {
				t.Errorf("calls = %+v, want one answered 404", calls)
			}
		})
	}
}

func TestLambdaAddPermissionThenGetPolicy(t *testing.T) {
	fake := NewLambda(t)
	fake.AddFunction(testFunctionARN)
	client := lambdaClient(fake)
	ctx := context.Background()

	added, err := client.AddPermission(ctx, cognitoPermission("cognito-migrate-eu-west-1_AbC123"))
	if err != nil {
		t.Fatalf("AddPermission() error = %v", err)
	}
	wantStatement := map[string]any{
		"Sid":       "cognito-migrate-eu-west-1_AbC123",
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "cognito-idp.amazonaws.com"},
		"Action":    "lambda:InvokeFunction",
		"Resource":  testFunctionARN,
		"Condition": map[string]any{
			"StringEquals": map[string]any{"AWS:SourceAccount": "111122223333"},
			"ArnLike":      map[string]any{"AWS:SourceArn": testPoolARN},
		},
	}
	var gotStatement map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(added.Statement)), &gotStatement); err != nil {
		t.Fatalf("AddPermission Statement %q: %v", aws.ToString(added.Statement), err)
	}
	if diff := cmp.Diff(wantStatement, gotStatement); diff != "" {
		t.Errorf("AddPermission Statement (-want +got):\n%s", diff)
	}

	out, err := client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("cognito-migrate")})
	if err != nil {
		t.Fatalf("GetPolicy() error = %v", err)
	}
	var doc struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
		t.Fatalf("GetPolicy Policy %q: %v", aws.ToString(out.Policy), err)
	}
	if diff := cmp.Diff([]map[string]any{wantStatement}, doc.Statement); diff != "" {
		t.Errorf("GetPolicy statements (-want +got):\n%s", diff)
	}
	if aws.ToString(out.RevisionId) == "" {
		t.Error("GetPolicy RevisionId is empty")
	}

	calls := fake.Calls()
	if len(calls) != 2 || calls[0].Signature.Service != "lambda" || calls[0].Signature.Region != testRegion {
		t.Errorf("calls = %+v, want two signed for lambda in %s", calls, testRegion)
	}
	if calls[0].FunctionName != testFunctionARN || calls[1].FunctionName != "cognito-migrate" {
		t.Errorf("function names = %q, %q: the ARN must arrive decoded", calls[0].FunctionName, calls[1].FunctionName)
	}
}

func TestLambdaAddPermissionRefusals(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*Lambda, *lambda.Client) *lambda.AddPermissionInput
		wantCode string
	}{
		{
			name: "statement id already used",
			setup: func(l *Lambda, c *lambda.Client) *lambda.AddPermissionInput {
				l.PutStatement(testFunctionARN, `{"Sid":"taken","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+testFunctionARN+`"}`)
				return cognitoPermission("taken")
			},
			wantCode: "ResourceConflictException",
		},
		{
			name: "stale revision id",
			setup: func(l *Lambda, c *lambda.Client) *lambda.AddPermissionInput {
				in := cognitoPermission("new")
				in.RevisionId = aws.String("00000000-0000-4000-8000-999999999999")
				return in
			},
			wantCode: "PreconditionFailedException",
		},
		{
			name: "source account not an account id",
			setup: func(l *Lambda, c *lambda.Client) *lambda.AddPermissionInput {
				in := cognitoPermission("new")
				in.SourceAccount = aws.String("local")
				return in
			},
			wantCode: "ValidationException",
		},
		{
			name: "denied",
			setup: func(l *Lambda, c *lambda.Client) *lambda.AddPermissionInput {
				l.Deny("AddPermission", true)
				return cognitoPermission("new")
			},
			wantCode: "AccessDeniedException",
		},
		{
			name: "unknown function",
			setup: func(l *Lambda, c *lambda.Client) *lambda.AddPermissionInput {
				in := cognitoPermission("new")
				in.FunctionName = aws.String("arn:aws:lambda:eu-west-1:111122223333:function:missing")
				return in
			},
			wantCode: "ResourceNotFoundException",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := NewLambda(t)
			fake.AddFunction(testFunctionARN)
			client := lambdaClient(fake)
			_, err := client.AddPermission(context.Background(), tt.setup(fake, client))
			if got := apiErrorCode(err); got != tt.wantCode {
				t.Fatalf("AddPermission() error = %v, want %s", err, tt.wantCode)
			}
		})
	}
}

func TestLambdaQualifiedPolicyIsSeparate(t *testing.T) {
	fake := NewLambda(t)
	fake.AddFunction(testFunctionARN)
	client := lambdaClient(fake)
	ctx := context.Background()
	in := cognitoPermission("on-alias")
	in.FunctionName = aws.String(testFunctionARN + ":live")
	if _, err := client.AddPermission(ctx, in); err != nil {
		t.Fatalf("AddPermission(alias) error = %v", err)
	}
	if _, err := client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(testFunctionARN)}); apiErrorCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetPolicy(unqualified) error = %v, want ResourceNotFoundException", err)
	}
	if _, err := client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(testFunctionARN), Qualifier: aws.String("live")}); err != nil {
		t.Errorf("GetPolicy(Qualifier live) error = %v", err)
	}
	if got := len(fake.Statements(testFunctionARN + ":live")); got != 1 {
		t.Errorf("alias statements = %d, want 1", got)
	}
}

func TestLambdaAcceptNonAWSARNs(t *testing.T) {
	fake := NewLambda(t)
	fake.AddFunction(testFunctionARN)
	fake.AcceptNonAWSARNs()
	in := cognitoPermission("local")
	in.SourceArn = aws.String("arn:aws:cognito-idp:local:local:userpool/local_AbC")
	in.SourceAccount = aws.String("local")
	if _, err := lambdaClient(fake).AddPermission(context.Background(), in); err != nil {
		t.Fatalf("AddPermission(cognito-local ARN) error = %v", err)
	}
}

func TestLambdaRequiresSignature(t *testing.T) {
	fake := NewLambda(t)
	fake.AddFunction(testFunctionARN)
	resp, err := http.Get(fake.URL + "/2015-03-31/functions/cognito-migrate/policy")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned GetPolicy = %d %s, want 403 MissingAuthenticationTokenException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

func TestLambdaGetFunctionConfiguration(t *testing.T) {
	l := NewLambda(t)
	l.AddFunction(testFunctionARN)
	client := lambdaClient(l)
	ctx := context.Background()

	out, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(testFunctionARN)})
	if err != nil {
		t.Fatalf("GetFunctionConfiguration() error = %v", err)
	}
	if out.Environment != nil || aws.ToString(out.FunctionArn) != testFunctionARN || aws.ToString(out.FunctionName) != "cognito-migrate" {
		t.Errorf("GetFunctionConfiguration() = %s, %s, %+v; want the function, no environment", aws.ToString(out.FunctionName), aws.ToString(out.FunctionArn), out.Environment)
	}

	env := map[string]string{"OLD_USER_POOL_ID": "eu-west-1_Old", "OLD_CLIENT_ID": "abc"}
	l.SetEnvironment(testFunctionARN, env)
	out, err = client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(testFunctionARN + ":live")})
	if err != nil {
		t.Fatalf("GetFunctionConfiguration(alias) error = %v", err)
	}
	if diff := cmp.Diff(env, out.Environment.Variables); diff != "" {
		t.Errorf("Environment.Variables (-want +got):\n%s", diff)
	}
	if got := aws.ToString(out.FunctionArn); got != testFunctionARN+":live" {
		t.Errorf("FunctionArn = %s, want the alias's", got)
	}

	_, err = client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:111122223333:function:other")})
	if apiErrorCode(err) != "ResourceNotFoundException" {
		t.Errorf("unknown function: error = %v, want ResourceNotFoundException", err)
	}
	l.Deny("GetFunctionConfiguration", true)
	_, err = client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(testFunctionARN)})
	if apiErrorCode(err) != "AccessDeniedException" {
		t.Errorf("denied: error = %v, want AccessDeniedException", err)
	}
	if got := l.CallCount("GetFunctionConfiguration"); got != 4 {
		t.Errorf("CallCount(GetFunctionConfiguration) = %d, want 4", got)
	}
}

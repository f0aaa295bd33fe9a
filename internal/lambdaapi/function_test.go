package lambdaapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
)

const envFunctionARN = "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate"

func TestEnvironment(t *testing.T) {
	l := awstest.NewLambda(t)
	l.AddFunction(envFunctionARN)
	client := lambdaClient(l)
	ctx := context.Background()

	got, err := Environment(ctx, client, envFunctionARN)
	if err != nil || len(got) != 0 {
		t.Errorf("Environment() without variables = %v, %v; want an empty map", got, err)
	}
	want := map[string]string{"OLD_USER_POOL_ID": "eu-west-1_Old", "OLD_CLIENT_ID": "abc"}
	l.SetEnvironment(envFunctionARN, want)
	got, err = Environment(ctx, client, envFunctionARN+":live")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Environment() (-want +got):\n%s", diff)
	}
	l.Deny("GetFunctionConfiguration", true)
	_, err = Environment(ctx, client, envFunctionARN)
	var ce *awserr.CallError
	if !errors.Is(err, awserr.ErrAccessDenied) || !errors.As(err, &ce) || ce.Action != "lambda:GetFunctionConfiguration" {
		t.Errorf("denied: error = %v, want access denied to lambda:GetFunctionConfiguration", err)
	}
}

type undecryptable struct{}

func (undecryptable) GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	return &lambda.GetFunctionConfigurationOutput{Environment: &types.EnvironmentResponse{
		Error: &types.EnvironmentError{ErrorCode: aws.String("AccessDeniedException"), Message: aws.String("Lambda was unable to decrypt the environment variables")},
	}}, nil
}

func TestEnvironmentThatLambdaCannotDecrypt(t *testing.T) {
	_, err := Environment(context.Background(), undecryptable{}, envFunctionARN)
	if err == nil || !strings.Contains(err.Error(), "cannot be read: AccessDeniedException: Lambda was unable to decrypt") {
		t.Errorf("error = %v, want what Lambda said", err)
	}
}

package lambdaapi

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
)

// PolicyAPI is the part of the Lambda client Policy uses.
type PolicyAPI interface {
	GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, optFns ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
}

// Policy returns the function's resource-based policy document (GetPolicy),
// or "" when it has none: Lambda answers ResourceNotFoundException for a
// function without a policy, and "Function not found: ..." for no function,
// which is an error here.
func Policy(ctx context.Context, api PolicyAPI, functionARN string) (string, error) {
	out, err := api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(functionARN)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ResourceNotFoundException" && !strings.HasPrefix(apiErr.ErrorMessage(), "Function not found") {
			return "", nil
		}
		return "", callError("GetPolicy", functionARN, err)
	}
	return aws.ToString(out.Policy), nil
}

package lambdaapi

import (
	"context"
	"errors"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// ConfigurationAPI is the part of the Lambda client Environment uses.
type ConfigurationAPI interface {
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
}

// Environment returns the environment variables of the function (an ARN,
// optionally with a version or alias), as GetFunctionConfiguration returns
// them: empty when it has none. The values may hold secrets
// (OLD_CLIENT_SECRET): callers never print them.
func Environment(ctx context.Context, api ConfigurationAPI, functionARN string) (map[string]string, error) {
	out, err := api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(functionARN)})
	if err != nil {
		return nil, callError("GetFunctionConfiguration", functionARN, err)
	}
	env := out.Environment
	if env == nil {
		return map[string]string{}, nil
	}
	if env.Error != nil {
		// Lambda could not decrypt the variables (a KMS key it may not use).
		return nil, callError("GetFunctionConfiguration", functionARN,
			errors.New("the function's environment variables cannot be read: "+aws.ToString(env.Error.ErrorCode)+": "+aws.ToString(env.Error.Message)))
	}
	return maps.Clone(env.Variables), nil
}

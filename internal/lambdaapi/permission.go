// Package lambdaapi is the only package that calls the Lambda API: it makes
// sure Cognito may invoke the migration function, by reading the function's
// resource-based policy (GetPolicy) and adding the statement Cognito needs
// (AddPermission) when none allows it.
package lambdaapi

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
)

// API is the part of the Lambda client this package uses.
type API interface {
	GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, optFns ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	AddPermission(ctx context.Context, in *lambda.AddPermissionInput, optFns ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
}

const (
	// CognitoPrincipal is the service principal Cognito invokes triggers as.
	CognitoPrincipal = "cognito-idp.amazonaws.com"
	// InvokeAction is the action Cognito needs.
	InvokeAction = "lambda:InvokeFunction"
)

// Grant is the permission a user pool needs to invoke its trigger: principal
// CognitoPrincipal may call InvokeAction on the function, when the call
// comes from the pool (AWS:SourceArn) in the pool's account
// (AWS:SourceAccount), as the Cognito developer guide's example policy has it
// (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html).
type Grant struct {
	// FunctionARN is the function, as attached to the pool; with a version
	// or alias qualifier the policy is that version's or alias's.
	FunctionARN string
	// SourceARN is the user pool's ARN and SourceAccount its account.
	SourceARN, SourceAccount string
	// StatementID names the statement Add adds.
	StatementID string
}

// Status says whether the function's policy lets the pool invoke it.
type Status struct {
	// Allowed: a statement lets CognitoPrincipal invoke the function for
	// this pool.
	Allowed bool
	// StatementID is the Sid of that statement.
	StatementID string
	// Unscoped: that statement has no AWS:SourceArn condition, so any user
	// pool, in any account, may invoke the function through it.
	Unscoped bool
	// RevisionID is the policy's revision, for Add; "" when the function
	// has no policy yet.
	RevisionID string
}

// Check reads the function's policy (GetPolicy) and reports whether it
// allows the grant. A function without a policy (ResourceNotFoundException
// with a function that exists) allows nothing.
func (g Grant) Check(ctx context.Context, api API) (Status, error) {
	out, err := api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(g.FunctionARN)})
	if err != nil {
		var apiErr smithy.APIError
		// Lambda answers ResourceNotFoundException both for a function with
		// no policy and for no function: only the message tells them apart,
		// and only AddPermission can say for sure. Treat both as "no
		// policy"; Add then reports a missing function.
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ResourceNotFoundException" && !strings.HasPrefix(apiErr.ErrorMessage(), "Function not found") {
			return Status{}, nil
		}
		return Status{}, callError("GetPolicy", g.FunctionARN, err)
	}
	st, err := Evaluate(aws.ToString(out.Policy), g)
	if err != nil {
		return Status{}, fmt.Errorf("lambda:GetPolicy on %s: %w", g.FunctionARN, err)
	}
	st.RevisionID = aws.ToString(out.RevisionId)
	return st, nil
}

// Add adds the statement (AddPermission). revisionID is Check's: when the
// policy changed in between, Lambda refuses and Add returns an error that
// is awserr.ErrPreconditionFailed.
func (g Grant) Add(ctx context.Context, api API, revisionID string) error {
	in := &lambda.AddPermissionInput{
		FunctionName:  aws.String(g.FunctionARN),
		StatementId:   aws.String(g.StatementID),
		Action:        aws.String(InvokeAction),
		Principal:     aws.String(CognitoPrincipal),
		SourceArn:     aws.String(g.SourceARN),
		SourceAccount: aws.String(g.SourceAccount),
	}
	if revisionID != "" {
		in.RevisionId = aws.String(revisionID)
	}
	if _, err := api.AddPermission(ctx, in); err != nil {
		return callError("AddPermission", g.FunctionARN, err)
	}
	return nil
}

// CLICommand is the AWS CLI command that adds the grant, for people who must
// run it themselves (for example with credentials of another account).
func (g Grant) CLICommand() string {
	return fmt.Sprintf("aws lambda add-permission --function-name %s --statement-id %s --action %s --principal %s --source-arn %s --source-account %s",
		g.FunctionARN, g.StatementID, InvokeAction, CognitoPrincipal, g.SourceARN, g.SourceAccount)
}

// callError wraps a failed Lambda call op on function.
func callError(op, function string, err error) error {
	return awserr.Wrap("lambda:"+op, function, err)
}

// functionName is a Lambda function name, and qualifier a version or an
// alias (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html).
var (
	functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	qualifier    = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9_-]{1,128})$`)
	accountID    = regexp.MustCompile(`^\d{12}$`)
)

// FunctionARN is a parsed function ARN.
type FunctionARN struct {
	Partition, Region, Account, Name, Qualifier string
}

// ParseFunctionARN parses a function ARN such as
// "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate" or, with
// an alias, "...:function:cognito-migrate:live".
func ParseFunctionARN(s string) (FunctionARN, error) {
	a, err := arn.Parse(s)
	rest, isFunction := strings.CutPrefix(a.Resource, "function:")
	name, qual, qualified := strings.Cut(rest, ":")
	if err != nil || a.Service != "lambda" || a.Region == "" || !accountID.MatchString(a.AccountID) || !isFunction ||
		!functionName.MatchString(name) || (qualified && !qualifier.MatchString(qual)) {
		return FunctionARN{}, fmt.Errorf("%q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:ALIAS])", s)
	}
	return FunctionARN{Partition: a.Partition, Region: a.Region, Account: a.AccountID, Name: name, Qualifier: qual}, nil
}

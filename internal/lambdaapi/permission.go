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
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
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
// (docs/cognito-behaviour.md §4.3).
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
// policy changed in between, Lambda refuses and Add returns ErrPolicyChanged.
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

// Kinds of failed Lambda calls, for errors.Is.
var (
	// ErrAccessDenied: IAM does not allow the caller the action.
	ErrAccessDenied = errors.New("access denied")
	// ErrFunctionNotFound: no such function (or version, or alias).
	ErrFunctionNotFound = errors.New("function not found")
	// ErrStatementIDTaken: the policy has a statement with the same Sid
	// that does not allow the grant.
	ErrStatementIDTaken = errors.New("statement id already in use")
	// ErrPolicyChanged: the policy changed between GetPolicy and
	// AddPermission.
	ErrPolicyChanged = errors.New("policy changed meanwhile")
	// ErrCredentials: the request's credentials are invalid or expired.
	ErrCredentials = errors.New("invalid or expired credentials")
)

var errorKinds = map[string]error{
	"AccessDeniedException":       ErrAccessDenied,
	"ResourceNotFoundException":   ErrFunctionNotFound,
	"ResourceConflictException":   ErrStatementIDTaken,
	"PreconditionFailedException": ErrPolicyChanged,
	"UnrecognizedClientException": ErrCredentials,
	"InvalidSignatureException":   ErrCredentials,
	"ExpiredTokenException":       ErrCredentials,
}

// CallError is a failed Lambda call.
type CallError struct {
	// Action is the IAM action of the call, e.g. "lambda:AddPermission".
	Action string
	// Resource is the function's ARN.
	Resource string
	// Code and Message are AWS's error code and message, when AWS answered.
	Code, Message string

	kind error
	err  error
}

func (e *CallError) Error() string { return e.Action + ": " + e.err.Error() }

// Unwrap returns the kind (ErrAccessDenied, ...) and the SDK's error.
func (e *CallError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

func callError(op, function string, err error) error {
	e := &CallError{Action: "lambda:" + op, Resource: function, err: err}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code, e.Message = apiErr.ErrorCode(), apiErr.ErrorMessage()
		e.kind = errorKinds[e.Code]
	}
	return e
}

// functionARN matches a Lambda function ARN, with an optional version or
// alias qualifier.
var functionARN = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]{1,64})(?::(\$LATEST|[a-zA-Z0-9-_]+))?$`)

// FunctionARN is a parsed function ARN.
type FunctionARN struct {
	Partition, Region, Account, Name, Qualifier string
}

// ParseFunctionARN parses a function ARN such as
// "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate" or, with
// an alias, "...:function:cognito-migrate:live".
func ParseFunctionARN(s string) (FunctionARN, error) {
	m := functionARN.FindStringSubmatch(s)
	if m == nil {
		return FunctionARN{}, fmt.Errorf("%q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:ALIAS])", s)
	}
	return FunctionARN{Partition: m[1], Region: m[2], Account: m[3], Name: m[4], Qualifier: m[5]}, nil
}

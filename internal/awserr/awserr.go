// Package awserr gives every failed AWS call one shape, whichever service it
// went to: the IAM action, the resource, AWS's code and message, and a kind
// from one table of error codes. The adapters (cognito, lambdaapi) wrap their
// errors with it; the CLI explains them and the trigger classifies them from
// it, without knowing which adapter made the call.
package awserr

import (
	"context"
	"errors"
	"regexp"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Kinds of failure, matched with errors.Is on a *CallError (or any error
// wrapping one).
var (
	// ErrAccessDenied: IAM denied the call.
	ErrAccessDenied = errors.New("access denied")
	// ErrNotFound: the pool, client, function or policy does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidParameter: AWS refused the request's content.
	ErrInvalidParameter = errors.New("invalid parameter")
	// ErrImportInProgress: a user import job runs; the pool cannot change.
	ErrImportInProgress = errors.New("user import in progress")
	// ErrCredentials: the request's credentials are invalid or expired.
	ErrCredentials = errors.New("invalid or expired credentials")
	// ErrThrottled: too many requests, even after the SDK's retries.
	ErrThrottled = errors.New("throttled")
	// ErrUnavailable: AWS failed (5xx).
	ErrUnavailable = errors.New("service unavailable")
	// ErrConflict: the resource already exists (a Lambda statement id taken,
	// a group that exists).
	ErrConflict = errors.New("conflict")
	// ErrPreconditionFailed: the resource changed since it was read (a
	// Lambda policy's revision id).
	ErrPreconditionFailed = errors.New("changed since it was read")
	// ErrMisconfigured: the pool or client is set up so the call cannot
	// work (InvalidUserPoolConfigurationException).
	ErrMisconfigured = errors.New("misconfigured")
)

// kinds is the one table from AWS error codes to kinds.
var kinds = map[string]error{
	"AccessDeniedException":                 ErrAccessDenied,
	"AccessDenied":                          ErrAccessDenied, // STS and IAM spell it without "Exception"
	"ResourceNotFoundException":             ErrNotFound,
	"InvalidParameterException":             ErrInvalidParameter,
	"InvalidParameterValueException":        ErrInvalidParameter,
	"UserImportInProgressException":         ErrImportInProgress,
	"UnrecognizedClientException":           ErrCredentials,
	"InvalidSignatureException":             ErrCredentials,
	"ExpiredTokenException":                 ErrCredentials,
	"InvalidClientTokenId":                  ErrCredentials,
	"TooManyRequestsException":              ErrThrottled,
	"ThrottlingException":                   ErrThrottled,
	"LimitExceededException":                ErrThrottled,
	"InternalErrorException":                ErrUnavailable,
	"InternalFailure":                       ErrUnavailable,
	"ServiceUnavailable":                    ErrUnavailable,
	"ServiceException":                      ErrUnavailable,
	"ResourceConflictException":             ErrConflict,
	"GroupExistsException":                  ErrConflict,
	"PreconditionFailedException":           ErrPreconditionFailed,
	"InvalidUserPoolConfigurationException": ErrMisconfigured,
	"NotAuthorizedException":                ErrMisconfigured,
}

// CallError is a failed AWS call.
type CallError struct {
	// Action is the IAM action of the call, e.g. "cognito-idp:UpdateUserPool".
	Action string
	// Resource is what the call was on: an ARN when AWS's message names it
	// or the caller knew it, otherwise an id or name.
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

// resourceInMessage finds the resource of an IAM denial: "User: ... is not
// authorized to perform: cognito-idp:X on resource: arn:... because ...".
var resourceInMessage = regexp.MustCompile(`on resource: (arn:[^\s]+)`)

// Wrap returns err as a *CallError of action ("cognito-idp:DescribeUserPool")
// on resource. A nil err stays nil.
func Wrap(action, resource string, err error) error {
	if err == nil {
		return nil
	}
	e := &CallError{Action: action, Resource: resource, err: err}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code, e.Message = apiErr.ErrorCode(), apiErr.ErrorMessage()
		e.kind = kinds[e.Code]
		if m := resourceInMessage.FindStringSubmatch(e.Message); m != nil {
			e.Resource = m[1]
		}
	}
	if e.kind == nil {
		// A 5xx without an AWS error code (a load balancer, a proxy in
		// front of a VPC endpoint) reaches us as "UnknownError".
		var resp *awshttp.ResponseError
		if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
			e.kind = ErrUnavailable
		}
	}
	return e
}

// Fault classifies err for the trigger's logs and metrics and returns it as
// a *migrate.Fault; nil stays nil.
func Fault(err error) error {
	if err == nil {
		return nil
	}
	return &migrate.Fault{Kind: FaultKind(err), Err: err}
}

// FaultKind says what kind of fault err is: a deadline is a timeout,
// throttling is throttled, anything about our setup (access, a missing
// pool, credentials, parameters) is configuration, a 5xx is unavailable,
// an AWS code nobody classified is unknown, and a network failure is a
// timeout or unavailable.
func FaultKind(err error) migrate.FaultKind {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return migrate.FaultTimeout
	}
	var ce *CallError
	if !errors.As(err, &ce) {
		ce = Wrap("", "", err).(*CallError)
	}
	switch {
	case errors.Is(ce, ErrThrottled):
		return migrate.FaultThrottled
	case errors.Is(ce, ErrAccessDenied), errors.Is(ce, ErrNotFound), errors.Is(ce, ErrInvalidParameter),
		errors.Is(ce, ErrCredentials), errors.Is(ce, ErrMisconfigured):
		return migrate.FaultConfiguration
	case errors.Is(ce, ErrUnavailable):
		return migrate.FaultUnavailable
	case ce.Code != "":
		return migrate.FaultUnknown
	}
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		return migrate.FaultTimeout
	}
	return migrate.FaultUnavailable
}

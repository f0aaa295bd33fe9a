package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

func TestCallErrorKinds(t *testing.T) {
	const denial = "User: arn:aws:iam::111122223333:user/ops is not authorized to perform: cognito-idp:UpdateUserPool on resource: arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_X because no identity-based policy allows the cognito-idp:UpdateUserPool action"
	tests := []struct {
		name         string
		err          error
		wantKind     error
		wantResource string
	}{
		{"denied: resource from the message", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: denial}, awserr.ErrAccessDenied,
			"arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_X"},
		{"not found", &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "User pool eu-west-1_X does not exist."}, awserr.ErrNotFound, "eu-west-1_X"},
		{"import running", &smithy.GenericAPIError{Code: "UserImportInProgressException"}, awserr.ErrImportInProgress, "eu-west-1_X"},
		{"expired credentials", &smithy.GenericAPIError{Code: "ExpiredTokenException"}, awserr.ErrCredentials, "eu-west-1_X"},
		{"unknown code", &smithy.GenericAPIError{Code: "SomethingNewException"}, nil, "eu-west-1_X"},
		{"no answer", errors.New("dial tcp: connection refused"), nil, "eu-west-1_X"},
	}
	kinds := []error{awserr.ErrUnavailable, awserr.ErrConflict, awserr.ErrPreconditionFailed, awserr.ErrMisconfigured, awserr.ErrAccessDenied, awserr.ErrNotFound, awserr.ErrInvalidParameter, awserr.ErrImportInProgress, awserr.ErrCredentials, awserr.ErrThrottled}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := awserr.Wrap("cognito-idp:UpdateUserPool", "eu-west-1_X", tt.err)
			for _, k := range kinds {
				if got := errors.Is(err, k); got != (k == tt.wantKind) {
					t.Errorf("errors.Is(%v, %v) = %v", err, k, got)
				}
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v does not wrap the SDK's", err)
			}
			var ce *awserr.CallError
			if !errors.As(err, &ce) || ce.Action != "cognito-idp:UpdateUserPool" || ce.Resource != tt.wantResource {
				t.Errorf("CallError = %+v, want action cognito-idp:UpdateUserPool on %s", ce, tt.wantResource)
			}
		})
	}
}

func TestFaultKind(t *testing.T) {
	status := func(code int) error {
		return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
			Err:      &smithy.GenericAPIError{Code: "UnknownError"},
		}}
	}
	tests := []struct {
		name string
		err  error
		want migrate.FaultKind
	}{
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), migrate.FaultTimeout},
		{"throttled", &smithy.GenericAPIError{Code: "TooManyRequestsException"}, migrate.FaultThrottled},
		{"denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, migrate.FaultConfiguration},
		{"pool gone", &smithy.GenericAPIError{Code: "ResourceNotFoundException"}, migrate.FaultConfiguration},
		{"expired credentials", &smithy.GenericAPIError{Code: "ExpiredTokenException"}, migrate.FaultConfiguration},
		{"not authorized", &smithy.GenericAPIError{Code: "NotAuthorizedException"}, migrate.FaultConfiguration},
		{"internal error", &smithy.GenericAPIError{Code: "InternalErrorException"}, migrate.FaultUnavailable},
		{"bare 503", status(503), migrate.FaultUnavailable},
		{"code nobody knows", &smithy.GenericAPIError{Code: "BrandNewException"}, migrate.FaultUnknown},
		{"network", errors.New("connection reset by peer"), migrate.FaultUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := awserr.FaultKind(tt.err); got != tt.want {
				t.Errorf("FaultKind(%v) = %q, want %q", tt.err, got, tt.want)
			}
			wrapped := fmt.Errorf("outer: %w", awserr.Fault(awserr.Wrap("cognito-idp:AdminGetUser", "", tt.err)))
			if got := migrate.KindOf(wrapped); got != tt.want {
				t.Errorf("KindOf(Fault(%v)) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

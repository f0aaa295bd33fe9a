package cognito

import (
	"context"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// NewPoolAPI is the part of the cognito-idp client the function uses on the
// NEW pool (the one whose trigger it is), in its own account: it only reads
// the pool's configuration.
type NewPoolAPI interface {
	DescribeUserPool(ctx context.Context, in *cip.DescribeUserPoolInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error)
}

package awstest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

// TestParseAuthorizationOfSDKSigner parses headers made by the SDK's own
// SigV4 signer.
func TestParseAuthorizationOfSDKSigner(t *testing.T) {
	tests := []struct {
		name  string
		creds aws.Credentials
		want  Signature
	}{
		{
			name:  "long-term keys",
			creds: aws.Credentials{AccessKeyID: "AKIDBASE", SecretAccessKey: "secret"},
			want: Signature{
				AccessKeyID: "AKIDBASE", Date: "20261121", Region: "eu-west-1", Service: "cognito-idp",
				SignedHeaders: []string{"content-length", "content-type", "host", "x-amz-date", "x-amz-target"},
			},
		},
		{
			name:  "assumed-role keys sign the session token too",
			creds: aws.Credentials{AccessKeyID: "ASIAFAKE0001", SecretAccessKey: "secret", SessionToken: "token"},
			want: Signature{
				AccessKeyID: "ASIAFAKE0001", Date: "20261121", Region: "eu-west-1", Service: "cognito-idp",
				SignedHeaders: []string{"content-length", "content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"UserPoolId":"eu-west-1_OldPool1"}`
			req, err := http.NewRequest(http.MethodPost, "https://cognito-idp.eu-west-1.amazonaws.com/", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.AdminGetUser")
			sum := sha256.Sum256([]byte(body))
			signedAt := time.Date(2026, 11, 21, 23, 59, 0, 0, time.UTC)
			if err := v4.NewSigner().SignHTTP(context.Background(), tt.creds, req, hex.EncodeToString(sum[:]),
				"cognito-idp", "eu-west-1", signedAt); err != nil {
				t.Fatalf("SignHTTP() error = %v", err)
			}
			header := req.Header.Get("Authorization")

			got, err := ParseAuthorization(header)
			if err != nil {
				t.Fatalf("ParseAuthorization(%q) error = %v", header, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAuthorization(%q) mismatch (-want +got):\n%s", header, diff)
			}
		})
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	const sig = "Signature=0123456789abcdef"
	tests := []struct {
		name   string
		header string
	}{
		{name: "empty", header: ""},
		{name: "other scheme", header: "Basic QUtJRDpzZWNyZXQ="},
		{name: "SigV4a", header: "AWS4-ECDSA-P256-SHA256 Credential=AKID/20261121/sts/aws4_request, SignedHeaders=host, " + sig},
		{name: "no signature", header: "AWS4-HMAC-SHA256 Credential=AKID/20261121/eu-west-1/sts/aws4_request, SignedHeaders=host"},
		{name: "no signed headers", header: "AWS4-HMAC-SHA256 Credential=AKID/20261121/eu-west-1/sts/aws4_request, " + sig},
		{name: "short scope", header: "AWS4-HMAC-SHA256 Credential=AKID/20261121/sts/aws4_request, SignedHeaders=host, " + sig},
		{name: "scope not aws4_request", header: "AWS4-HMAC-SHA256 Credential=AKID/20261121/eu-west-1/sts/aws4, SignedHeaders=host, " + sig},
		{name: "empty region", header: "AWS4-HMAC-SHA256 Credential=AKID/20261121//sts/aws4_request, SignedHeaders=host, " + sig},
		{name: "bad date", header: "AWS4-HMAC-SHA256 Credential=AKID/2026-11-21/eu-west-1/sts/aws4_request, SignedHeaders=host, " + sig},
		{name: "component without =", header: "AWS4-HMAC-SHA256 Credential=AKID/20261121/eu-west-1/sts/aws4_request, SignedHeaders, " + sig},
		{name: "repeated component", header: "AWS4-HMAC-SHA256 Credential=A/20261121/eu-west-1/sts/aws4_request, Credential=B/20261121/eu-west-1/sts/aws4_request, SignedHeaders=host, " + sig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := ParseAuthorization(tt.header); err == nil {
				t.Errorf("ParseAuthorization(%q) = %+v, want an error", tt.header, got)
			}
		})
	}
}

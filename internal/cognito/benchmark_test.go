package cognito_test

// Benchmarks of the adapter's CPU: the real SDK client (serialisation,
// SigV4 signing, retry middleware, deserialisation) with canned answers
// from memory instead of a network, so only our side of a round trip is
// timed. `make bench` runs them.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// cannedCognito answers each operation with a fixed body, in memory. Real
// tokens are about this long; the adapter drops them, but the SDK still
// decodes them.
type cannedCognito map[string][]byte

func (c cannedCognito) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
	body, ok := c[op]
	if !ok {
		body = []byte(`{"__type":"UnknownOperationException","message":"` + op + `"}`)
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusBadRequest
	}
	return &http.Response{
		StatusCode:    status,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {"bench"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}

func benchToken(n int) string { return "eyJ" + strings.Repeat("x", n) }

var benchAnswers = cannedCognito{
	"AdminInitiateAuth": []byte(`{"AuthenticationResult":{"AccessToken":"` + benchToken(1000) + `","IdToken":"` + benchToken(1100) +
		`","RefreshToken":"` + benchToken(1700) + `","ExpiresIn":3600,"TokenType":"Bearer"},"ChallengeParameters":{}}`),
	"AdminGetUser": []byte(`{"Username":"alice","Enabled":true,"UserStatus":"CONFIRMED",` +
		`"UserCreateDate":1.7e9,"UserLastModifiedDate":1.7e9,"UserAttributes":[` +
		`{"Name":"sub","Value":"0b6f4c9e-0000-4000-8000-000000000001"},{"Name":"email","Value":"alice@example.com"},` +
		`{"Name":"email_verified","Value":"true"},{"Name":"phone_number","Value":"+447700900123"},` +
		`{"Name":"phone_number_verified","Value":"false"},{"Name":"given_name","Value":"Alice"},` +
		`{"Name":"family_name","Value":"Liddell"},{"Name":"custom:tenant","Value":"acme"}]}`),
	"DescribeUserPool": []byte(`{"UserPool":{"Id":"eu-central-1_BenchNew1","MfaConfiguration":"OFF",` +
		`"UsernameConfiguration":{"CaseSensitive":false},"SchemaAttributes":[` +
		`{"Name":"sub","Required":true},{"Name":"email"},{"Name":"email_verified"},{"Name":"phone_number"},` +
		`{"Name":"phone_number_verified"},{"Name":"given_name"},{"Name":"family_name"},{"Name":"custom:tenant"}]}}`),
}

// benchClient is a cognito-idp client as main builds it (retryer included),
// over the canned answers.
func benchClient() *cip.Client {
	return cip.New(cip.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String("https://cognito-idp.eu-west-1.amazonaws.com"),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench-secret", ""),
		HTTPClient:   benchAnswers,
		Retryer:      awsconfig.NewRetryer(),
	})
}

func benchOldPool(clientSecret string) *cognito.OldPool {
	return cognito.NewOldPool(benchClient(), "eu-west-1_BenchOld1", "benchclient0123456789", clientSecret)
}

func BenchmarkSignIn(b *testing.B) {
	for _, bc := range []struct{ name, secret string }{
		{"no-secret", ""},
		{"secret-hash", "1ab2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := benchOldPool(bc.secret)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if s, err := p.SignIn(ctx, "alice", "Tr0ub4dor&3"); err != nil || s.Challenge != "" {
					b.Fatalf("SignIn = %+v, %v", s, err)
				}
			}
		})
	}
}

func BenchmarkGetUser(b *testing.B) {
	p := benchOldPool("")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if u, err := p.GetUser(ctx, "alice"); err != nil || !u.Enabled {
			b.Fatalf("GetUser = %+v, %v", u, err)
		}
	}
}

// BenchmarkAuthenticateOverSDK is a sign-in migration's CPU below the
// event: the decision and both SDK calls.
func BenchmarkAuthenticateOverSDK(b *testing.B) {
	m := migrate.New(benchOldPool(""), staticNewPool{}, migrate.Rules{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d, err := m.Authenticate(ctx, migrate.Request{NewPoolID: "p", Username: "alice", Password: "Tr0ub4dor&3"}); err != nil || !d.Migrate {
			b.Fatalf("Authenticate = %+v, %v", d, err)
		}
	}
}

// staticNewPool describes a username pool that accepts every attribute the
// benchmark user has.
type staticNewPool struct{}

func (staticNewPool) Config(context.Context, string) (migrate.PoolConfig, error) {
	return migrate.PoolConfig{Attributes: map[string]migrate.AttributeSpec{
		"sub": {Required: true}, "email": {}, "email_verified": {}, "given_name": {}, "family_name": {},
		"phone_number": {}, "phone_number_verified": {}, "custom:tenant": {},
	}, CaseSensitive: true, MFA: "OFF"}, nil
}

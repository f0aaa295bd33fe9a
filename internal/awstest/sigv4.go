// Package awstest provides test doubles for the AWS services around the
// migration trigger: STS (AssumeRole into the old pool's account) and Secrets
// Manager (the old app client's secret).
//
// The fakes speak the services' real wire protocols over httptest (AWS query
// protocol with XML responses for STS, AWS JSON 1.1 for Secrets Manager), so
// the real aws-sdk-go-v2 clients are used end to end: serialization, SigV4
// signing, response and error decoding, and credential caching.
package awstest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// sigV4Algorithm is the only signing algorithm ParseAuthorization accepts.
const sigV4Algorithm = "AWS4-HMAC-SHA256"

// Signature is what the Authorization header of a SigV4-signed request says.
// Tests use it to prove which credentials and region signed a request.
type Signature struct {
	// AccessKeyID is the access key id of the credentials that signed the
	// request, for example "AKIDBASE" or "ASIAFAKE0001".
	AccessKeyID string
	// Date is the date of the credential scope, "YYYYMMDD".
	Date string
	// Region is the region of the credential scope, for example "eu-west-1".
	Region string
	// Service is the signing name of the credential scope, for example "sts",
	// "secretsmanager" or "cognito-idp".
	Service string
	// SignedHeaders lists the lower-case names of the signed headers, in
	// header order.
	SignedHeaders []string
}

// ParseAuthorization parses the Authorization header of a SigV4-signed
// request, such as
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261121/eu-west-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcd...
//
// It checks the header's shape only, not the signature itself.
func ParseAuthorization(header string) (Signature, error) {
	rest, ok := strings.CutPrefix(header, sigV4Algorithm+" ")
	if !ok {
		return Signature{}, fmt.Errorf("authorization %q: not %s", header, sigV4Algorithm)
	}
	fields := make(map[string]string, 3)
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Signature{}, fmt.Errorf("authorization %q: malformed component %q", header, part)
		}
		if _, dup := fields[k]; dup {
			return Signature{}, fmt.Errorf("authorization %q: repeated component %q", header, k)
		}
		fields[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return Signature{}, fmt.Errorf("authorization %q: missing %s", header, k)
		}
	}

	// The credential scope is AKID/date/region/service/aws4_request.
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return Signature{}, fmt.Errorf("authorization %q: malformed credential scope %q", header, fields["Credential"])
	}
	for i, name := range []string{"access key id", "date", "region", "service"} {
		if scope[i] == "" {
			return Signature{}, fmt.Errorf("authorization %q: empty %s in credential scope", header, name)
		}
	}
	if !isDate(scope[1]) {
		return Signature{}, fmt.Errorf("authorization %q: credential scope date %q is not YYYYMMDD", header, scope[1])
	}
	return Signature{
		AccessKeyID:   scope[0],
		Date:          scope[1],
		Region:        scope[2],
		Service:       scope[3],
		SignedHeaders: strings.Split(fields["SignedHeaders"], ";"),
	}, nil
}

func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// errNoAuthorization is returned by signatureOf for unsigned requests.
var errNoAuthorization = errors.New("no Authorization header")

// signatureOf parses the Authorization header of a request to a fake.
func signatureOf(header string) (Signature, error) {
	if header == "" {
		return Signature{}, errNoAuthorization
	}
	return ParseAuthorization(header)
}

// apiError is an error response of a fake. Signature problems are coded as
// in the AWS query protocol; the JSON fake adds the "Exception" suffix.
type apiError struct {
	status  int
	code    string
	message string
}

// checkSignature returns the signature of a request to the service with the
// given signing name, or the error AWS would answer with. It checks the
// Authorization header's shape and credential scope, not the signature.
func checkSignature(header, service string) (Signature, *apiError) {
	sig, err := signatureOf(header)
	switch {
	case errors.Is(err, errNoAuthorization):
		return Signature{}, &apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	case err != nil:
		return Signature{}, &apiError{http.StatusBadRequest, "IncompleteSignature", err.Error()}
	case sig.Service != service:
		return Signature{}, &apiError{http.StatusForbidden, "SignatureDoesNotMatch",
			fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service)}
	}
	return sig, nil
}

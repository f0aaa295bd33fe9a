package awstest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stsNamespace is the XML namespace of STS responses (API version 2011-06-15).
const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// stsExpirationFormat is how STS writes Credentials.Expiration: ISO 8601 in
// UTC, whole seconds.
const stsExpirationFormat = "2006-01-02T15:04:05Z"

// roleSessionName is the RoleSessionName constraint from the STS API reference.
var roleSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// STS is a fake AWS Security Token Service that answers AssumeRole over the
// AWS query protocol, the way the real service does, so the real
// sts.Client and stscreds.AssumeRoleProvider can be pointed at it. It is safe
// for concurrent use.
//
// Only roles allowed with AllowRole can be assumed. Each successful AssumeRole
// issues fresh credentials with access key ids "ASIAFAKE0001",
// "ASIAFAKE0002", ..., valid for the fake's lifetime (SetLifetime) from the
// fake's clock (SetNow). DurationSeconds is checked against the API's range
// (900 to 43200) and recorded, but does not set the lifetime. Requests must
// carry a SigV4 Authorization header scoped to service "sts" (unsigned ones
// get MissingAuthenticationToken); the signature itself is not verified.
type STS struct {
	// URL is the base URL of the fake's HTTP server, for sts.Options.BaseEndpoint
	// or AWS_ENDPOINT_URL_STS.
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	lifetime time.Duration
	now      func() time.Time
	roles    map[string]string // role ARN -> required external id, "" for none
	calls    []AssumeRoleCall
	issued   map[string]issuedCredentials
	seq      int
	failure  *apiError // FailWith: answer every AssumeRole with this
}

// issuedCredentials are credentials issued by the fake and whom they are for.
type issuedCredentials struct {
	Credentials
	assumedRoleARN string
}

// AssumeRoleCall records one AssumeRole request received by the fake STS,
// including rejected ones.
type AssumeRoleCall struct {
	// RoleARN, RoleSessionName and ExternalID are the request parameters; an
	// absent ExternalId is "".
	RoleARN, RoleSessionName, ExternalID string
	// DurationSeconds is the requested duration, 0 when absent.
	DurationSeconds int
	// CallerAccessKeyID is the access key id that signed the request, from the
	// SigV4 Authorization header.
	CallerAccessKeyID string
	// CallerSessionToken is the X-Amz-Security-Token header of the request,
	// "" for long-term (for example static) caller credentials.
	CallerSessionToken string
	// SigningRegion is the region of the request's SigV4 credential scope.
	SigningRegion string
	// Issued are the credentials returned; the zero value when the call was
	// rejected.
	Issued Credentials
}

// Credentials are temporary credentials issued by the fake STS.
type Credentials struct {
	// AccessKeyID, SecretAccessKey and SessionToken are the issued keys.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Expiration is when the credentials expire, in UTC and whole seconds as
	// sent on the wire.
	Expiration time.Time
}

// NewSTS starts a fake STS on a local httptest server and closes it in
// tb.Cleanup. Its credentials are valid for one hour from time.Now until
// changed with SetLifetime and SetNow.
func NewSTS(tb testing.TB) *STS {
	tb.Helper()
	s, err := StartSTS()
	if err != nil {
		tb.Fatalf("awstest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// StartSTS starts a fake STS on a local port for a program, as NewSTS does
// for a test; the caller stops it with Close.
func StartSTS() (*STS, error) {
	s := &STS{
		lifetime: time.Hour,
		now:      time.Now,
		roles:    make(map[string]string),
		issued:   make(map[string]issuedCredentials),
	}
	srv, err := startServer("STS", http.HandlerFunc(s.serveHTTP))
	if err != nil {
		return nil, err
	}
	s.srv, s.URL = srv, srv.URL
	return s, nil
}

// Close shuts the fake down. It may be called more than once.
func (s *STS) Close() { s.srv.Close() }

// SetLifetime sets how long credentials issued from now on are valid.
func (s *STS) SetLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// SetNow sets the clock from which the expiration of credentials issued from
// now on is computed. The fake calls now without holding its lock, so now may
// block or call the fake.
func (s *STS) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// FailWith answers every AssumeRole from now on with the error code and
// message, with HTTP status (e.g. 503 "ServiceUnavailable", 400
// "RegionDisabledException"); the calls are still recorded. A status of 0
// ends the failures.
func (s *STS) FailWith(status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = nil
	if status != 0 {
		s.failure = &apiError{status, code, message}
	}
}

// AllowRole lets any caller assume roleARN. A non-empty externalID is
// required, as by a trust policy condition on sts:ExternalId: a call with a
// different or missing ExternalId is denied. With an empty externalID any
// ExternalId, or none, is accepted. Assuming a role that was never allowed is
// denied with AccessDenied, HTTP 403, as STS does; the message names the
// caller as the assumed role when it signed with credentials the fake issued,
// otherwise as "arn:aws:iam::000000000000:user/<access key id>".
func (s *STS) AllowRole(roleARN, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[roleARN] = externalID
}

// Calls returns a copy of the AssumeRole calls received so far, in arrival
// order, including rejected ones.
func (s *STS) Calls() []AssumeRoleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumeRoleCall(nil), s.calls...)
}

// Issued returns the credentials the fake issued with accessKeyID, and whether
// it issued any.
func (s *STS) Issued(accessKeyID string) (Credentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.issued[accessKeyID]
	return c.Credentials, ok
}

func (s *STS) serveHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	sig, problem := checkSignature(r.Header.Get("Authorization"), "sts")
	if problem != nil {
		writeSTSError(w, requestID, problem)
		return
	}
	// The SDK POSTs a form body; ParseForm also takes the query string, as
	// STS accepts GET requests too.
	if err := r.ParseForm(); err != nil {
		writeSTSError(w, requestID, &apiError{http.StatusBadRequest, "MalformedInput", err.Error()})
		return
	}
	if action := r.Form.Get("Action"); action != "AssumeRole" {
		writeSTSError(w, requestID, &apiError{http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("Could not find operation %s for version %s", action, r.Form.Get("Version"))})
		return
	}
	if v := r.Form.Get("Version"); v != "2011-06-15" {
		writeSTSError(w, requestID, &apiError{http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("Could not find operation AssumeRole for version %s", v)})
		return
	}

	call := AssumeRoleCall{
		RoleARN:            r.Form.Get("RoleArn"),
		RoleSessionName:    r.Form.Get("RoleSessionName"),
		ExternalID:         r.Form.Get("ExternalId"),
		CallerAccessKeyID:  sig.AccessKeyID,
		CallerSessionToken: r.Header.Get("X-Amz-Security-Token"),
		SigningRegion:      sig.Region,
	}
	creds, userARN, err := s.assumeRole(&call, r.Form.Get("DurationSeconds"))
	if err != nil {
		writeSTSError(w, requestID, err)
		return
	}

	var resp assumeRoleResponse
	resp.Result.Credentials = xmlCredentials{
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
		Expiration:      creds.Expiration.Format(stsExpirationFormat),
	}
	resp.Result.AssumedRoleUser.ARN = userARN
	resp.Result.AssumedRoleUser.AssumedRoleID = roleID(call.RoleARN) + ":" + call.RoleSessionName
	resp.RequestID = requestID
	writeXML(w, http.StatusOK, requestID, resp)
}

// assumeRole validates and authorizes the call, records it, and issues
// credentials for it.
func (s *STS) assumeRole(call *AssumeRoleCall, durationSeconds string) (Credentials, string, *apiError) {
	verr := validateAssumeRole(call, durationSeconds)

	s.mu.Lock()
	now, lifetime := s.now, s.lifetime
	required, allowed := s.roles[call.RoleARN]
	caller := "arn:aws:iam::000000000000:user/" + call.CallerAccessKeyID
	if c, ok := s.issued[call.CallerAccessKeyID]; ok {
		caller = c.assumedRoleARN
	}
	if verr != nil || !allowed || (required != "" && call.ExternalID != required) || s.failure != nil {
		s.calls = append(s.calls, *call)
		failure := s.failure
		s.mu.Unlock()
		if verr != nil {
			return Credentials{}, "", verr
		}
		if failure != nil {
			return Credentials{}, "", failure
		}
		return Credentials{}, "", &apiError{http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller, call.RoleARN)}
	}
	s.mu.Unlock()

	// The clock is called unlocked: it belongs to the test and may block.
	expiration := now().Add(lifetime).UTC().Truncate(time.Second)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	creds := Credentials{
		AccessKeyID:     fmt.Sprintf("ASIAFAKE%04d", s.seq),
		SecretAccessKey: fmt.Sprintf("fake/secret/access/key/%04d", s.seq),
		SessionToken:    fmt.Sprintf("FwoGZXIvYXdzEFAKESESSIONTOKEN%04d", s.seq),
		Expiration:      expiration,
	}
	userARN := assumedRoleARN(call.RoleARN, call.RoleSessionName)
	s.issued[creds.AccessKeyID] = issuedCredentials{Credentials: creds, assumedRoleARN: userARN}
	call.Issued = creds
	s.calls = append(s.calls, *call)
	return creds, userARN, nil
}

// validateAssumeRole checks the call's parameters as STS does, and sets
// call.DurationSeconds.
func validateAssumeRole(call *AssumeRoleCall, durationSeconds string) *apiError {
	invalid := func(format string, args ...any) *apiError {
		return &apiError{http.StatusBadRequest, "ValidationError", "1 validation error detected: " + fmt.Sprintf(format, args...)}
	}
	if durationSeconds != "" {
		d, err := strconv.Atoi(durationSeconds)
		if err != nil {
			return &apiError{http.StatusBadRequest, "MalformedInput", fmt.Sprintf("Invalid value for DurationSeconds: %q", durationSeconds)}
		}
		call.DurationSeconds = d
		if d < 900 {
			return invalid("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", d)
		}
		if d > 43200 {
			return invalid("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", d)
		}
	}
	switch {
	case call.RoleARN == "":
		return invalid("Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case roleName(call.RoleARN) == "":
		return &apiError{http.StatusBadRequest, "ValidationError", call.RoleARN + " is invalid"}
	case call.RoleSessionName == "":
		return invalid("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case !roleSessionName.MatchString(call.RoleSessionName):
		return invalid("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", call.RoleSessionName)
	}
	return nil
}

// roleName returns the name of an IAM role ARN such as
// "arn:aws:iam::111122223333:role/path/name", or "" if arn is not one.
func roleName(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] == "" {
		return ""
	}
	resource, ok := strings.CutPrefix(parts[5], "role/")
	if !ok {
		return ""
	}
	return resource[strings.LastIndex(resource, "/")+1:]
}

// assumedRoleARN is the ARN of the session, as in
// "arn:aws:sts::111122223333:assumed-role/name/session".
func assumedRoleARN(roleARN, session string) string {
	parts := strings.SplitN(roleARN, ":", 6)
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", parts[1], parts[4], roleName(roleARN), session)
}

// roleID is a stable role id ("AROA" and 17 characters) for a role ARN.
func roleID(roleARN string) string {
	sum := sha256.Sum256([]byte(roleARN))
	return "AROA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:17]
}

// newRequestID returns a random UUID, like AWS request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Result  struct {
		Credentials     xmlCredentials `xml:"Credentials"`
		AssumedRoleUser struct {
			ARN           string `xml:"Arn"`
			AssumedRoleID string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type xmlCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type xmlErrorResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// writeSTSError writes an AWS query protocol error response. The SDK reads
// Error>Code, Error>Message and RequestId; Type is "Sender" for client errors
// and "Receiver" for server errors.
func writeSTSError(w http.ResponseWriter, requestID string, e *apiError) {
	var resp xmlErrorResponse
	resp.Error.Type = "Sender"
	if e.status >= 500 {
		resp.Error.Type = "Receiver"
	}
	resp.Error.Code = e.code
	resp.Error.Message = e.message
	resp.RequestID = requestID
	writeXML(w, e.status, requestID, resp)
}

func writeXML(w http.ResponseWriter, status int, requestID string, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

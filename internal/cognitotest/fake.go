// Package cognitotest provides test doubles for Amazon Cognito user pools.
//
// Fake is an in-memory user pool service that speaks Cognito's wire protocol
// (AWS JSON 1.1) over httptest, so the real aws-sdk-go-v2 client is used end to
// end: request serialization, SigV4 signing, error decoding and retries.
package cognitotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// targetPrefix is the X-Amz-Target prefix of every Cognito user pool operation.
const targetPrefix = "AWSCognitoIdentityProviderService."

// Region is the region of clients returned by Fake.Client.
const Region = "eu-west-1"

// Fake is an in-memory Cognito user-pool service over HTTP. It is safe for
// concurrent use.
type Fake struct {
	// URL is the base URL of the fake's HTTP server, for BaseEndpoint or
	// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
	URL string

	tb   testing.TB // the test of a Fake made by New; nil for Start
	srv  *httptest.Server
	done chan struct{} // closed by Close, so hanging handlers let srv.Close return
	stop sync.Once

	mu      sync.Mutex
	pools   map[string]*poolState
	admin   adminState           // pool and client descriptions (admin_ops.go)
	list    listState            // rate limits, short pages, MFA configurations (list_ops.go)
	clients map[string]AppClient // client IDs are unique across pools, as in Cognito
	calls   []Call
	faults  map[string]*Fault
	latency time.Duration
	imports importJobs // import jobs and groups (importjobs.go)

	tokens     tokenTriggers // pre token generation triggers (groups.go)
	tokensOnce sync.Once

	// received, when set before the first request, is called with the name of
	// each operation once it is recorded; tests use it to synchronise.
	received func(op string)
}

type poolState struct {
	Pool
	users []*User
}

// Pool configures a user pool of the fake.
type Pool struct {
	// ID is the user pool ID, for example "eu-west-1_OldPool1".
	ID string
	// AliasAttributes lists the attributes users may sign in with besides their
	// username: "email", "phone_number", "preferred_username". As in Cognito, an
	// email or phone_number alias only resolves when the matching
	// email_verified / phone_number_verified attribute is "true".
	AliasAttributes []string
	// UsernameAttributes lists the attributes ("email", "phone_number") used as
	// the sign-in name instead of a username; they need not be verified. It
	// cannot be combined with AliasAttributes.
	UsernameAttributes []string
	// PreventUserExistenceErrors makes authentication report unknown users and
	// RESET_REQUIRED users as a wrong password (NotAuthorizedException). In
	// Cognito this is a per-app-client setting; here it applies to all of the
	// pool's clients.
	PreventUserExistenceErrors bool
	// CaseInsensitive makes usernames and the email and preferred_username
	// aliases match regardless of case (UsernameConfiguration CaseSensitive=false).
	// The zero value is case sensitive, Cognito's API default.
	CaseInsensitive bool
}

// AppClient configures an app client of a user pool.
type AppClient struct {
	// PoolID is the ID of a pool added with AddPool.
	PoolID string
	// ID is the app client ID.
	ID string
	// Secret is the client secret; when set, requests must carry SECRET_HASH.
	Secret string
	// Flows are the client's ExplicitAuthFlows, for example
	// "ALLOW_ADMIN_USER_PASSWORD_AUTH" (or the legacy "ADMIN_NO_SRP_AUTH").
	Flows []string
}

// User is a user of a pool.
type User struct {
	// Username is the real (internal) username. When empty, the sub is used,
	// as Cognito does in pools with UsernameAttributes.
	Username string
	// Password is the user's password (or temporary password).
	Password string
	// Attributes holds the user's attributes. AddUser generates "sub" if it is
	// absent.
	Attributes map[string]string
	// Enabled must be true for the user to sign in. The zero value is a
	// disabled user.
	Enabled bool
	// Status is the UserStatus: "CONFIRMED" (the default when empty),
	// "UNCONFIRMED", "RESET_REQUIRED", "FORCE_CHANGE_PASSWORD", ...
	Status string
	// Challenge, when set and the password is right, is returned by
	// AdminInitiateAuth instead of tokens: "SMS_MFA", "SOFTWARE_TOKEN_MFA",
	// "SELECT_MFA_TYPE", "MFA_SETUP", "EMAIL_OTP", ...
	Challenge string
	// MFASettings is the UserMFASettingList, for example ["SOFTWARE_TOKEN_MFA"].
	MFASettings []string
	// PreferredMFA is the PreferredMfaSetting.
	PreferredMFA string
	// Created and LastModified are UserCreateDate and UserLastModifiedDate;
	// zero means the time of AddUser.
	Created, LastModified time.Time
}

// Call records one request.
type Call struct {
	// Operation is the operation name taken from X-Amz-Target, for example
	// "AdminInitiateAuth".
	Operation string
	// Input is the decoded JSON request body, or nil if it was not a JSON object.
	// It holds secrets such as passwords; this package is for tests only.
	Input map[string]any
	// Header is the request header.
	Header http.Header
	// Status is the HTTP status sent, or 0 when no response was sent (Hang,
	// ResetConn, or the client went away).
	Status int
	// Start and End bound the handling of the request; End is zero while it is
	// still being handled.
	Start, End time.Time
}

// Fault makes calls of an operation misbehave. Its effects apply in this
// order, before the normal handling: Delay, then Hang, ResetConn, RawBody,
// ErrorType, Status (the first of these that is set decides the response).
type Fault struct {
	// Delay is waited before answering.
	Delay time.Duration
	// Hang blocks until the request context ends (the client gives up) or the
	// fake is cleaned up, then drops the connection without a response.
	Hang bool
	// Status is the HTTP status of the response. With ErrorType it defaults to
	// 400 (500 for InternalErrorException), with RawBody to 200; on its own it
	// sends that status with an empty body, like a load balancer would.
	Status int
	// ErrorType and Message make a modeled error response, for example
	// "TooManyRequestsException" and "Rate exceeded".
	ErrorType, Message string
	// RawBody is sent verbatim as the response body (malformed JSON etc).
	RawBody string
	// ResetConn hijacks the connection and closes it with a TCP reset, without
	// a response.
	ResetConn bool
	// Times is how many of the next calls misbehave; 0 means every call until
	// the fault is replaced or cleared.
	Times int
}

// New starts a fake Cognito service on a local httptest server for the test
// tb and closes it in tb.Cleanup. Misuse (a duplicate pool, a user of an
// unknown pool, ...) fails the test.
func New(tb testing.TB) *Fake {
	tb.Helper()
	f, err := Start(ServerOptions{})
	if err != nil {
		tb.Fatalf("cognitotest: %v", err)
	}
	f.tb = tb
	tb.Cleanup(f.Close)
	return f
}

// Close shuts the fake down, releasing hanging handlers first (the server
// waits for them). It may be called more than once.
func (f *Fake) Close() {
	f.stop.Do(func() {
		close(f.done)
		f.srv.Close()
	})
}

// misuse reports a wrong use of the Fake's API: it fails the test of a Fake
// made by New, and panics in a Fake made by Start or NewServer, where misuse
// is a bug in the program (as a bad pattern is for regexp.MustCompile).
func (f *Fake) misuse(format string, args ...any) {
	if f.tb != nil {
		f.tb.Helper()
		f.tb.Fatalf(format, args...)
		return
	}
	panic(fmt.Sprintf(format, args...))
}

// Client returns a real SDK client for the fake, with dummy static credentials
// and region eu-west-1. Options such as Retryer can be changed with opts.
func (f *Fake) Client(opts ...func(*cognitoidentityprovider.Options)) *cognitoidentityprovider.Client {
	return cognitoidentityprovider.New(cognitoidentityprovider.Options{
		Region:       Region,
		BaseEndpoint: aws.String(f.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDCOGNITOTEST", "cognitotest-secret", ""),
		HTTPClient:   f.srv.Client(),
	}, opts...)
}

// AddPool adds a user pool. It fails the test on an invalid or duplicate pool.
func (f *Fake) AddPool(p Pool) {
	if f.tb != nil {
		f.tb.Helper()
	}
	if p.ID == "" {
		f.misuse("cognitotest: AddPool: empty pool ID")
	}
	if len(p.AliasAttributes) > 0 && len(p.UsernameAttributes) > 0 {
		f.misuse("cognitotest: AddPool(%q): AliasAttributes and UsernameAttributes are mutually exclusive in Cognito", p.ID)
	}
	for _, a := range p.AliasAttributes {
		if !slices.Contains([]string{"email", "phone_number", "preferred_username"}, a) {
			f.misuse("cognitotest: AddPool(%q): invalid alias attribute %q", p.ID, a)
		}
	}
	for _, a := range p.UsernameAttributes {
		if !slices.Contains([]string{"email", "phone_number"}, a) {
			f.misuse("cognitotest: AddPool(%q): invalid username attribute %q", p.ID, a)
		}
	}
	p.AliasAttributes = slices.Clone(p.AliasAttributes)
	p.UsernameAttributes = slices.Clone(p.UsernameAttributes)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[p.ID]; ok {
		f.misuse("cognitotest: AddPool(%q): pool already exists", p.ID)
	}
	f.pools[p.ID] = &poolState{Pool: p}
}

// AddClient adds an app client to a pool added earlier.
func (f *Fake) AddClient(c AppClient) {
	if f.tb != nil {
		f.tb.Helper()
	}
	c.Flows = slices.Clone(c.Flows)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[c.PoolID]; !ok {
		f.misuse("cognitotest: AddClient(%q): unknown pool %q", c.ID, c.PoolID)
	}
	if c.ID == "" {
		f.misuse("cognitotest: AddClient: empty client ID")
	}
	if _, ok := f.clients[c.ID]; ok {
		f.misuse("cognitotest: AddClient(%q): client already exists", c.ID)
	}
	f.clients[c.ID] = c
}

// AddUser adds a user to a pool added earlier, generating its sub when the
// "sub" attribute is absent. It fails the test if the username or sub is taken.
func (f *Fake) AddUser(poolID string, u User) {
	if f.tb != nil {
		f.tb.Helper()
	}
	attrs := make(map[string]string, len(u.Attributes)+1)
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	if attrs["sub"] == "" {
		attrs["sub"] = newUUID()
	}
	u.Attributes = attrs
	if u.Username == "" {
		u.Username = attrs["sub"]
	}
	if u.Status == "" {
		u.Status = "CONFIRMED"
	}
	u.MFASettings = slices.Clone(u.MFASettings)
	now := time.Now()
	if u.Created.IsZero() {
		u.Created = now
	}
	if u.LastModified.IsZero() {
		u.LastModified = u.Created
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pools[poolID]
	if !ok {
		f.misuse("cognitotest: AddUser(%q): unknown pool %q", u.Username, poolID)
	}
	for _, o := range p.users {
		if p.sameName(o.Username, u.Username) {
			f.misuse("cognitotest: AddUser(%q): username already exists in pool %q", u.Username, poolID)
		}
		if o.Attributes["sub"] == attrs["sub"] {
			f.misuse("cognitotest: AddUser(%q): sub %q already used by %q", u.Username, attrs["sub"], o.Username)
		}
	}
	p.users = append(p.users, &u)
}

// Calls returns a copy of the calls recorded so far, in arrival order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Call, len(f.calls))
	for i, c := range f.calls {
		c.Header = c.Header.Clone()
		out[i] = c
	}
	return out
}

// CallCount returns how many calls of the operation op were received,
// including faulted ones.
func (f *Fake) CallCount(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Operation == op {
			n++
		}
	}
	return n
}

// SetFault makes the next fl.Times calls (every call when 0) of the operation
// op misbehave, replacing any fault set earlier for op.
func (f *Fake) SetFault(op string, fl Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = &fl
}

// ClearFault removes the fault of the operation op.
func (f *Fake) ClearFault(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.faults, op)
}

// SetLatency adds d to the handling of every request, to simulate the round
// trip to a remote region.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// apiError is a modeled Cognito error response.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(code, format string, args ...any) *apiError {
	status := http.StatusBadRequest
	if code == "InternalErrorException" {
		status = http.StatusInternalServerError
	}
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// operation handles one decoded request body and returns the output to send
// as JSON, or a modeled error.
type operation func(f *Fake, body []byte) (any, *apiError)

// operations dispatches on the X-Amz-Target operation name. It is a literal
// table, never changed at run time: add one line to support another operation.
var operations = map[string]operation{
	"AdminInitiateAuth": (*Fake).signIn, // tokens through the pre token generation trigger (groups.go)
	"AdminGetUser":      (*Fake).adminGetUser,

	// Pool and app-client configuration (admin_ops.go).
	"DescribeUserPool":       (*Fake).describeUserPool,
	"UpdateUserPool":         (*Fake).updateUserPool,
	"DescribeUserPoolClient": (*Fake).describeUserPoolClient,
	"UpdateUserPoolClient":   (*Fake).updateUserPoolClient,

	"GetCSVHeader":          (*Fake).getCSVHeader,
	"CreateUserImportJob":   (*Fake).createUserImportJob,
	"StartUserImportJob":    (*Fake).startUserImportJob,
	"DescribeUserImportJob": (*Fake).describeUserImportJob,
	"ListUserImportJobs":    (*Fake).listUserImportJobs,
	"StopUserImportJob":     (*Fake).stopUserImportJob,
	"AdminDisableUser":      (*Fake).adminDisableUser,
	"AdminAddUserToGroup":   (*Fake).adminAddUserToGroup,
	"GetGroup":              (*Fake).getGroup,
	"CreateGroup":           (*Fake).createGroup,

	// Groups of a user and the pre token generation trigger (groups.go).
	"AdminListGroupsForUser":    (*Fake).adminListGroupsForUser,
	"AdminDeleteUserAttributes": (*Fake).adminDeleteUserAttributes,

	"ListUsers":            limited("ListUsers", (*Fake).listUsers),
	"ListUserPoolClients":  limited("ListUserPoolClients", (*Fake).listUserPoolClients),
	"GetUserPoolMfaConfig": limited("GetUserPoolMfaConfig", (*Fake).getUserPoolMfaConfig),
}

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, uploadPath) {
		f.serveUpload(w, r) // a pre-signed import URL (importjobs.go)
		return
	}
	body, _ := io.ReadAll(r.Body)
	op, known := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)

	var input map[string]any
	_ = json.Unmarshal(body, &input)

	f.mu.Lock()
	idx := len(f.calls)
	f.calls = append(f.calls, Call{
		Operation: op,
		Input:     input,
		Header:    r.Header.Clone(),
		Start:     time.Now(),
	})
	var fl Fault
	if p := f.faults[op]; p != nil {
		fl = *p
		if p.Times > 0 {
			if p.Times--; p.Times == 0 {
				delete(f.faults, op)
			}
		}
	}
	latency := f.latency
	received := f.received
	f.mu.Unlock()
	if received != nil {
		received(op)
	}

	status := 0
	defer func() {
		f.mu.Lock()
		f.calls[idx].Status = status
		f.calls[idx].End = time.Now()
		f.mu.Unlock()
	}()
	write := func(code int, header map[string]string, b []byte) {
		status = code
		h := w.Header()
		h.Set("Content-Type", "application/x-amz-json-1.1")
		h.Set("X-Amzn-Requestid", newUUID())
		for k, v := range header {
			h.Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = w.Write(b)
	}
	writeError := func(e *apiError) {
		b, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.message})
		write(e.status, map[string]string{"X-Amzn-Errortype": e.code}, b)
	}

	if !f.wait(r.Context(), latency+fl.Delay) {
		panic(http.ErrAbortHandler)
	}
	switch {
	case fl.Hang:
		f.wait(r.Context(), -1)
		// Drop the connection: returning normally would send an empty 200.
		panic(http.ErrAbortHandler)
	case fl.ResetConn:
		resetConn(w)
		return
	case fl.RawBody != "":
		code := fl.Status
		if code == 0 {
			code = http.StatusOK
		}
		write(code, nil, []byte(fl.RawBody))
		return
	case fl.ErrorType != "":
		e := errorf(fl.ErrorType, "%s", fl.Message)
		if fl.Status != 0 {
			e.status = fl.Status
		}
		writeError(e)
		return
	case fl.Status != 0:
		write(fl.Status, nil, nil)
		return
	}

	if r.Method != http.MethodPost {
		writeError(errorf("UnknownOperationException", "%s is not supported", r.Method))
		return
	}
	handle := operations[op]
	if !known || handle == nil {
		writeError(errorf("UnknownOperationException", "cognitotest: operation %q is not implemented", r.Header.Get("X-Amz-Target")))
		return
	}
	if input == nil {
		writeError(errorf("SerializationException", "%s", "Start of structure or map found where not expected."))
		return
	}
	out, apiErr := handle(f, body)
	if apiErr != nil {
		writeError(apiErr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(errorf("InternalErrorException", "cognitotest: encode %s output: %v", op, err))
		return
	}
	write(http.StatusOK, nil, b)
}

// wait waits d (forever when d < 0) and reports whether it was not cut short
// by the end of ctx or of the fake.
func (f *Fake) wait(ctx context.Context, d time.Duration) bool {
	if d == 0 {
		return true
	}
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-ctx.Done():
		return false
	case <-f.done:
		return false
	}
}

// resetConn closes the client connection with a TCP RST and no response.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// decode unmarshals a request body like the service would, rejecting values of
// the wrong JSON type.
func decode(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return errorf("SerializationException", "%v", err)
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

package awstest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// lambdaPolicyPath is the REST path of GetPolicy (GET) and AddPermission
// (POST); the function name is the one path segment in between.
const (
	lambdaPolicyPrefix = "/2015-03-31/functions/"
	lambdaPolicySuffix = "/policy"
	// lambdaConfigurationSuffix ends the path of GetFunctionConfiguration
	// (GET).
	lambdaConfigurationSuffix = "/configuration"
)

var (
	// lambdaFunctionARN matches a function ARN, with an optional version or
	// alias qualifier.
	lambdaFunctionARN = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$`)
	// lambdaPartialARN is the "123456789012:function:name" form.
	lambdaPartialARN = regexp.MustCompile(`^(\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$`)
	// The AddPermission constraints from the Lambda API reference.
	lambdaStatementID   = regexp.MustCompile(`^[a-zA-Z0-9-_.]{1,100}$`)
	lambdaSourceAccount = regexp.MustCompile(`^\d{12}$`)
	lambdaSourceARN     = regexp.MustCompile(`^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$`)
	lambdaAction        = regexp.MustCompile(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
)

// Lambda is a fake AWS Lambda that answers GetPolicy, AddPermission and
// GetFunctionConfiguration (with the environment set by SetEnvironment) over
// Lambda's REST-JSON protocol, the way the real service does, so the real
// lambda.Client can be pointed at it. It is safe for concurrent use.
//
// Functions exist once added with AddFunction; each has a resource-based
// policy per qualifier ("" for the unqualified function, or a version or
// alias, which the fake does not check exists). GetPolicy answers
// ResourceNotFoundException (HTTP 404) while a policy has no statement, as
// Lambda does. AddPermission validates its input against the API's
// constraints, refuses a statement id already in use (409
// ResourceConflictException) and a stale RevisionId (412
// PreconditionFailedException), and stores the statement Lambda would write.
// Requests must carry a SigV4 Authorization header scoped to service
// "lambda"; the signature itself is not verified.
type Lambda struct {
	// URL is the base URL of the fake's HTTP server, for
	// lambda.Options.BaseEndpoint or AWS_ENDPOINT_URL_LAMBDA.
	URL string

	tb  testing.TB // nil for StartLambda
	srv *httptest.Server

	mu          sync.Mutex
	functions   map[string]*lambdaFunction // by unqualified function ARN
	calls       []LambdaCall
	denied      map[string]bool // operation -> AccessDeniedException
	lenientARNs bool
	revision    int
}

type lambdaFunction struct {
	arn      string
	policies map[string]*lambdaPolicy // by qualifier
	// environment is the function's Environment.Variables, the same for
	// every qualifier; nil for none.
	environment map[string]string
}

type lambdaPolicy struct {
	revisionID string
	statements []map[string]any
}

// LambdaCall records one request received by the fake Lambda, including
// failed ones.
type LambdaCall struct {
	// Operation is "GetPolicy", "AddPermission" or
	// "GetFunctionConfiguration" (or the method and path
	// of a request the fake does not know).
	Operation string
	// FunctionName is the function as named in the path (decoded), and
	// Qualifier the Qualifier query parameter.
	FunctionName, Qualifier string
	// Input is the decoded JSON body of AddPermission; nil for GetPolicy.
	Input map[string]any
	// Signature is what the request's Authorization header says (zero for
	// unsigned requests).
	Signature Signature
	// Status is the HTTP status of the response.
	Status int
}

// NewLambda starts a fake Lambda on a local httptest server for the test tb
// and closes it in tb.Cleanup. Misuse fails the test.
func NewLambda(tb testing.TB) *Lambda {
	tb.Helper()
	l, err := StartLambda()
	if err != nil {
		tb.Fatalf("awstest: %v", err)
	}
	l.tb = tb
	tb.Cleanup(l.Close)
	return l
}

// StartLambda starts a fake Lambda on a local port for a program; the caller
// stops it with Close. Misuse that would fail a test panics.
func StartLambda() (*Lambda, error) {
	l := &Lambda{
		functions: make(map[string]*lambdaFunction),
		denied:    make(map[string]bool),
	}
	srv, err := startServer("Lambda", http.HandlerFunc(l.serveHTTP))
	if err != nil {
		return nil, err
	}
	l.srv, l.URL = srv, srv.URL
	return l, nil
}

// Close shuts the fake down. It may be called more than once.
func (l *Lambda) Close() { l.srv.Close() }

// AddFunction creates the function arn (an unqualified function ARN such as
// "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate") with no
// policy. It fails the test on a malformed or qualified ARN.
func (l *Lambda) AddFunction(arn string) {
	if l.tb != nil {
		l.tb.Helper()
	}
	m := lambdaFunctionARN.FindStringSubmatch(arn)
	if m == nil || m[5] != "" {
		misuse(l.tb, "awstest: Lambda.AddFunction(%q): not an unqualified function ARN", arn)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.functions[arn]; ok {
		misuse(l.tb, "awstest: Lambda.AddFunction(%q): function already exists", arn)
	}
	l.functions[arn] = &lambdaFunction{arn: arn, policies: make(map[string]*lambdaPolicy)}
}

// PutStatement adds a statement (a JSON object such as Lambda's GetPolicy
// returns) to the policy of functionARN, which may carry a qualifier. It
// fails the test on malformed JSON or an unknown function.
func (l *Lambda) PutStatement(functionARN, statement string) {
	if l.tb != nil {
		l.tb.Helper()
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(statement), &s); err != nil {
		misuse(l.tb, "awstest: Lambda.PutStatement(%q): %v", functionARN, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fn, qualifier, apiErr := l.lookup(functionARN, "")
	if apiErr != nil {
		misuse(l.tb, "awstest: Lambda.PutStatement(%q): %s", functionARN, apiErr.message)
	}
	p := fn.policy(qualifier)
	p.statements = append(p.statements, s)
	p.revisionID = l.nextRevision()
}

// Statements returns a copy of the statements of the policy of functionARN
// (which may carry a qualifier), decoded from JSON.
func (l *Lambda) Statements(functionARN string) []map[string]any {
	if l.tb != nil {
		l.tb.Helper()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fn, qualifier, apiErr := l.lookup(functionARN, "")
	if apiErr != nil {
		misuse(l.tb, "awstest: Lambda.Statements(%q): %s", functionARN, apiErr.message)
	}
	p := fn.policies[qualifier]
	if p == nil {
		return nil
	}
	var out []map[string]any
	b, _ := json.Marshal(p.statements)
	_ = json.Unmarshal(b, &out)
	return out
}

// SetEnvironment sets the Environment.Variables that
// GetFunctionConfiguration returns for functionARN (unqualified; every
// version and alias answers the same). It fails the test on an unknown
// function.
func (l *Lambda) SetEnvironment(functionARN string, variables map[string]string) {
	l.tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	fn, _, apiErr := l.lookup(functionARN, "")
	if apiErr != nil {
		l.tb.Fatalf("awstest: Lambda.SetEnvironment(%q): %s", functionARN, apiErr.message)
	}
	fn.environment = maps.Clone(variables)
}

// Deny makes every following call of operation ("GetPolicy",
// "AddPermission" or "GetFunctionConfiguration") fail with AccessDeniedException while on is true, as when
// the caller lacks lambda:GetPolicy or lambda:AddPermission.
func (l *Lambda) Deny(operation string, on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.denied[operation] = on
}

// AcceptNonAWSARNs makes AddPermission accept a SourceArn and SourceAccount
// that real Lambda refuses, such as cognito-local's pool ARNs
// ("arn:aws:cognito-idp:local:local:userpool/..."): only for tests against
// that emulator.
func (l *Lambda) AcceptNonAWSARNs() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lenientARNs = true
}

// Calls returns a copy of the requests received so far, in arrival order.
func (l *Lambda) Calls() []LambdaCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LambdaCall(nil), l.calls...)
}

// CallCount returns how many calls of operation were received.
func (l *Lambda) CallCount(operation string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.calls {
		if c.Operation == operation {
			n++
		}
	}
	return n
}

func (l *Lambda) serveHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	body, _ := io.ReadAll(r.Body)
	call := LambdaCall{Qualifier: r.URL.Query().Get("Qualifier")}
	name, ok := strings.CutPrefix(r.URL.Path, lambdaPolicyPrefix)
	configuration := false
	if ok {
		var isPolicy bool
		name, isPolicy = strings.CutSuffix(name, lambdaPolicySuffix)
		if !isPolicy {
			name, configuration = strings.CutSuffix(name, lambdaConfigurationSuffix)
		}
		ok = isPolicy || configuration
	}
	switch {
	case configuration && !strings.Contains(name, "/") && r.Method == http.MethodGet:
		call.Operation = "GetFunctionConfiguration"
	case ok && !strings.Contains(name, "/") && r.Method == http.MethodGet:
		call.Operation = "GetPolicy"
	case ok && !strings.Contains(name, "/") && r.Method == http.MethodPost:
		call.Operation = "AddPermission"
	default:
		call.Operation = r.Method + " " + r.URL.Path
	}
	call.FunctionName = name
	if call.Operation == "AddPermission" {
		_ = json.Unmarshal(body, &call.Input)
	}

	status, out, apiErr := l.handle(&call, r.Header.Get("Authorization"), body)

	l.mu.Lock()
	if apiErr != nil {
		call.Status = apiErr.status
	} else {
		call.Status = status
	}
	l.calls = append(l.calls, call)
	l.mu.Unlock()

	if apiErr != nil {
		writeLambdaError(w, requestID, apiErr)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// handle answers one request: its HTTP status and body, or an error.
func (l *Lambda) handle(call *LambdaCall, authorization string, body []byte) (int, any, *apiError) {
	sig, problem := checkSignature(authorization, "lambda")
	call.Signature = sig
	if problem != nil {
		code := problem.code + "Exception"
		if problem.code == "SignatureDoesNotMatch" {
			code = "InvalidSignatureException"
		}
		return 0, nil, &apiError{problem.status, code, problem.message}
	}
	if call.Operation != "GetPolicy" && call.Operation != "AddPermission" && call.Operation != "GetFunctionConfiguration" {
		return 0, nil, &apiError{http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("awstest: %s is not faked", call.Operation)}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.denied[call.Operation] {
		return 0, nil, &apiError{http.StatusForbidden, "AccessDeniedException",
			fmt.Sprintf("User: arn:aws:iam::000000000000:user/%s is not authorized to perform: lambda:%s on resource: %s because no identity-based policy allows the lambda:%s action",
				sig.AccessKeyID, call.Operation, l.resourceARN(call.FunctionName), call.Operation)}
	}
	fn, qualifier, apiErr := l.lookup(call.FunctionName, call.Qualifier)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	if call.Operation == "GetFunctionConfiguration" {
		return http.StatusOK, fn.configuration(qualifier), nil
	}
	if call.Operation == "GetPolicy" {
		p := fn.policies[qualifier]
		if p == nil || len(p.statements) == 0 {
			return 0, nil, &apiError{http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist."}
		}
		doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": p.statements})
		return http.StatusOK, map[string]string{"Policy": string(doc), "RevisionId": p.revisionID}, nil
	}
	return l.addPermission(fn, qualifier, body)
}

type addPermissionInput struct {
	StatementID   string `json:"StatementId"`
	Action        string `json:"Action"`
	Principal     string `json:"Principal"`
	SourceARN     string `json:"SourceArn"`
	SourceAccount string `json:"SourceAccount"`
	RevisionID    string `json:"RevisionId"`
}

// addPermission stores the statement Lambda writes for the input; l.mu is
// held.
func (l *Lambda) addPermission(fn *lambdaFunction, qualifier string, body []byte) (int, any, *apiError) {
	var in addPermissionInput
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, nil, &apiError{http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: " + err.Error()}
	}
	invalid := func(value, member, constraint string) *apiError {
		return &apiError{http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)}
	}
	switch {
	case in.StatementID == "":
		return 0, nil, invalid("null", "statementId", "Member must not be null")
	case !lambdaStatementID.MatchString(in.StatementID):
		return 0, nil, invalid(in.StatementID, "statementId", `Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)`)
	case in.Action == "":
		return 0, nil, invalid("null", "action", "Member must not be null")
	case !lambdaAction.MatchString(in.Action):
		return 0, nil, invalid(in.Action, "action", `Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])`)
	case in.Principal == "":
		return 0, nil, invalid("null", "principal", "Member must not be null")
	case !l.lenientARNs && in.SourceAccount != "" && !lambdaSourceAccount.MatchString(in.SourceAccount):
		return 0, nil, invalid(in.SourceAccount, "sourceAccount", `Member must satisfy regular expression pattern: \d{12}`)
	case !l.lenientARNs && in.SourceARN != "" && !lambdaSourceARN.MatchString(in.SourceARN):
		return 0, nil, invalid(in.SourceARN, "sourceArn", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)`)
	}
	p := fn.policy(qualifier)
	if in.RevisionID != "" && in.RevisionID != p.revisionID {
		return 0, nil, &apiError{http.StatusPreconditionFailed, "PreconditionFailedException",
			"The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id"}
	}
	for _, s := range p.statements {
		if s["Sid"] == in.StatementID {
			return 0, nil, &apiError{http.StatusConflict, "ResourceConflictException",
				fmt.Sprintf("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", in.StatementID)}
		}
	}

	resource := fn.arn
	if qualifier != "" {
		resource += ":" + qualifier
	}
	principal := map[string]any{"AWS": in.Principal}
	if strings.HasSuffix(in.Principal, ".amazonaws.com") {
		principal = map[string]any{"Service": in.Principal}
	}
	statement := map[string]any{
		"Sid":       in.StatementID,
		"Effect":    "Allow",
		"Principal": principal,
		"Action":    in.Action,
		"Resource":  resource,
	}
	condition := map[string]any{}
	if in.SourceAccount != "" {
		condition["StringEquals"] = map[string]any{"AWS:SourceAccount": in.SourceAccount}
	}
	if in.SourceARN != "" {
		condition["ArnLike"] = map[string]any{"AWS:SourceArn": in.SourceARN}
	}
	if len(condition) > 0 {
		statement["Condition"] = condition
	}
	p.statements = append(p.statements, statement)
	p.revisionID = l.nextRevision()
	b, _ := json.Marshal(statement)
	return http.StatusCreated, map[string]string{"Statement": string(b)}, nil
}

// lookup finds a function by name, full ARN or partial ARN, and the
// qualifier from the ARN or the Qualifier parameter; l.mu is held.
func (l *Lambda) lookup(name, qualifier string) (*lambdaFunction, string, *apiError) {
	var arn, fromName string
	if m := lambdaFunctionARN.FindStringSubmatch(name); m != nil {
		arn = fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", m[1], m[2], m[3], m[4])
		fromName = m[5]
	} else {
		// A name or partial ARN: the first matching function, in ARN order,
		// so the choice does not depend on map order.
		suffix := ":function:" + name
		if m := lambdaPartialARN.FindStringSubmatch(name); m != nil {
			fromName = m[3]
			suffix = ":" + m[1] + ":function:" + m[2]
		}
		for _, a := range slices.Sorted(maps.Keys(l.functions)) {
			if strings.HasSuffix(a, suffix) {
				arn = a
				break
			}
		}
	}
	if fromName != "" && qualifier != "" && fromName != qualifier {
		return nil, "", &apiError{http.StatusBadRequest, "InvalidParameterValueException",
			"The derived qualifier from the function name does not match the specified qualifier."}
	}
	if qualifier == "" {
		qualifier = fromName
	}
	fn := l.functions[arn]
	if fn == nil {
		return nil, "", &apiError{http.StatusNotFound, "ResourceNotFoundException", "Function not found: " + l.resourceARN(name)}
	}
	return fn, qualifier, nil
}

// resourceARN is how error messages name a function.
func (l *Lambda) resourceARN(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return "arn:aws:lambda:eu-west-1:000000000000:function:" + name
}

// configuration is the GetFunctionConfiguration answer: the members a
// provided.al2023 Go function has, and its environment.
func (fn *lambdaFunction) configuration(qualifier string) map[string]any {
	arn, version := fn.arn, "$LATEST"
	if qualifier != "" {
		arn += ":" + qualifier
		version = qualifier
	}
	out := map[string]any{
		"FunctionName":  fn.arn[strings.LastIndex(fn.arn, ":")+1:],
		"FunctionArn":   arn,
		"Runtime":       "provided.al2023",
		"Handler":       "bootstrap",
		"Architectures": []string{"arm64"},
		"Version":       version,
		"State":         "Active",
	}
	if fn.environment != nil {
		out["Environment"] = map[string]any{"Variables": fn.environment}
	}
	return out
}

func (fn *lambdaFunction) policy(qualifier string) *lambdaPolicy {
	p := fn.policies[qualifier]
	if p == nil {
		p = &lambdaPolicy{}
		fn.policies[qualifier] = p
	}
	return p
}

// nextRevision returns a new RevisionId; l.mu is held.
func (l *Lambda) nextRevision() string {
	l.revision++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", l.revision)
}

// writeLambdaError writes a REST-JSON error as Lambda does: the code in
// X-Amzn-ErrorType and a body with Type and Message.
func writeLambdaError(w http.ResponseWriter, requestID string, e *apiError) {
	typ := "User"
	if e.status >= 500 {
		typ = "Service"
	}
	b, _ := json.Marshal(map[string]string{"Type": typ, "Message": e.message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

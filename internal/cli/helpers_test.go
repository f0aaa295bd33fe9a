package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	richPoolID   = "eu-west-1_RichPool1"
	richPoolARN  = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_RichPool1"
	richClientID = "1example23456789abcdefghij"
	functionARN  = "arn:aws:lambda:eu-west-1:111122223333:function:cognito-migrate"
	statementID  = "cognito-migrate-eu-west-1_RichPool1"
)

// env is a command's world: the fakes behind it and its output.
type env struct {
	cognito *cognitotest.Fake
	lambda  *awstest.Lambda
	clients *testClients
	// vars is the process environment the command sees through getenv.
	vars map[string]string
}

func (e *env) getenv(name string) string { return e.vars[name] }

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{cognito: cognitotest.New(t), lambda: awstest.NewLambda(t)}
	e.clients = &testClients{cognito: e.cognito, lambda: e.lambda, region: "eu-west-1"}
	e.lambda.AddFunction(functionARN)
	return e
}

// richEnv has the rich pool and app client of testdata/.
func richEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.cognito.PutUserPool(readFile(t, "testdata/rich-user-pool.json"))
	e.cognito.PutUserPoolClient(readFile(t, "testdata/rich-user-pool-client.json"))
	return e
}

type runResult struct {
	code           int
	stdout, stderr string
	// cognitoOps and lambdaOps are the operations the run called, in order.
	cognitoOps, lambdaOps []string
}

func (e *env) run(t *testing.T, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c0, l0 := len(e.cognito.Calls()), len(e.lambda.Calls())
	code := Run(context.Background(), args, e.getenv, &stdout, &stderr, e.clients)
	t.Logf("cognito-migrate %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	r := runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	for _, c := range e.cognito.Calls()[c0:] {
		r.cognitoOps = append(r.cognitoOps, c.Operation)
		t.Logf("cognito-idp %s: HTTP %d after %v (%s %s)", c.Operation, c.Status, c.End.Sub(c.Start), c.Header.Get("Amz-Sdk-Request"), c.Header.Get("Amz-Sdk-Invocation-Id"))
	}
	for _, c := range e.lambda.Calls()[l0:] {
		r.lambdaOps = append(r.lambdaOps, c.Operation)
	}
	return r
}

// testClients gives commands an SDK configuration aimed at the fakes, as
// AWS_ENDPOINT_URL_<SERVICE> would.
type testClients struct {
	cognito *cognitotest.Fake
	lambda  *awstest.Lambda
	region  string // the SDK's region; "" for none
	// profiles, when set, gives the access key id of each profile the
	// commands may ask for ("" the default); others are not found.
	profiles map[string]string
	// endpoints are more AWS_ENDPOINT_URL_<SERVICE> values, by SDK service
	// id ("STS").
	endpoints map[string]string
	// credentialsErr, when set, is what retrieving credentials fails with.
	credentialsErr error
	// timeout bounds every call (default: DefaultCallTimeout).
	timeout time.Duration
	// wrap and wrapLambda, when set, wrap the clients.
	wrap       func(cognito.AdminAPI) cognito.AdminAPI
	wrapLambda func(lambdaapi.API) lambdaapi.API
}

func (c *testClients) Config(_ context.Context, profile string) (aws.Config, error) {
	key := "AKIDOPERATOR"
	if c.profiles != nil {
		k, ok := c.profiles[profile]
		if !ok {
			return aws.Config{}, configError(profile, config.SharedConfigProfileNotExistError{Profile: profile})
		}
		key = k
	}
	endpoints := serviceEndpoints{"Cognito Identity Provider": c.cognito.URL}
	if c.lambda != nil {
		endpoints["Lambda"] = c.lambda.URL
	}
	for k, v := range c.endpoints {
		endpoints[k] = v
	}
	var creds aws.CredentialsProvider = credentials.NewStaticCredentialsProvider(key, "operator-secret", "")
	if c.credentialsErr != nil {
		creds = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, c.credentialsErr
		}))
	}
	return aws.Config{
		Region:        c.region,
		Credentials:   creds,
		HTTPClient:    bufferedBody{http.DefaultClient},
		ConfigSources: []any{endpoints},
		Retryer:       func() aws.Retryer { return retry.NewStandard() },
	}, nil
}

func (c *testClients) callTimeout() time.Duration {
	if c.timeout == 0 {
		return DefaultCallTimeout
	}
	return c.timeout
}

func (c *testClients) decorateCognito(api cognito.AdminAPI) cognito.AdminAPI {
	if c.wrap != nil {
		return c.wrap(api)
	}
	return api
}

func (c *testClients) decorateLambda(api lambdaapi.API) lambdaapi.API {
	if c.wrapLambda != nil {
		return c.wrapLambda(api)
	}
	return api
}

// serviceEndpoints are AWS_ENDPOINT_URL_<SERVICE> values as the SDK's
// configuration sources offer them, by SDK service id.
type serviceEndpoints map[string]string

func (e serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, ok := e[sdkID]
	return v, ok, nil
}

// bufferedBody hands the transport its own copy of the request body. The
// SDK closes the body it built as soon as the response headers are in; when
// a local server answers before the transport has checked the body for
// EOF, that check fails, the transport closes the connection, and reading a
// response of more than 4 KB (DescribeUserPool) fails with "use of closed
// network connection" and is retried (aws/aws-sdk-go-v2#1825, #2737). Only a
// server on the same machine is that fast; the retries would make the call
// counts of these tests flaky.
type bufferedBody struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func (b bufferedBody) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return b.next.Do(r)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// requests returns the inputs of the calls of op the fake received,
// re-encoded as indented JSON with sorted keys.
func requests(t *testing.T, f *cognitotest.Fake, op string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, c := range f.Calls() {
		if c.Operation == op {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(c.Input); err != nil {
				t.Fatal(err)
			}
			out = append(out, b.Bytes())
		}
	}
	return out
}

// setPath sets a value in decoded JSON, creating objects on the way.
func setPath(m map[string]any, value any, path ...string) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := path[len(path)-1]
	if value == nil {
		delete(m, last)
		return
	}
	m[last] = value
}

// describePool reads the pool through the SDK, as the CLI sees it. Tests
// compare pools this way rather than as the fake's JSON, because the SDK
// leaves false booleans out of requests (RequireSymbols false arrives as
// nothing, which Cognito reads as false).
func describePool(t *testing.T, e *env, poolID string) *types.UserPoolType {
	t.Helper()
	out, err := e.cognito.Client().DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatalf("DescribeUserPool(%s) error = %v", poolID, err)
	}
	return out.UserPool
}

func describeClient(t *testing.T, e *env, poolID, clientID string) *types.UserPoolClientType {
	t.Helper()
	out, err := e.cognito.Client().DescribeUserPoolClient(context.Background(), &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
	})
	if err != nil {
		t.Fatalf("DescribeUserPoolClient(%s) error = %v", clientID, err)
	}
	return out.UserPoolClient
}

// sdkTypes lets cmp look into the SDK's types (their only unexported field
// is an empty marker), and leaves LastModifiedDate out: the update sets it.
var sdkTypes = cmp.Options{
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmpopts.IgnoreFields(types.UserPoolType{}, "LastModifiedDate"),
	cmpopts.IgnoreFields(types.UserPoolClientType{}, "LastModifiedDate"),
}

// exportedFields lists the exported field names of a struct type.
func exportedFields(v any) []string {
	var names []string
	for f := range reflect.TypeOf(v).Fields() {
		if f.IsExported() {
			names = append(names, f.Name)
		}
	}
	return names
}

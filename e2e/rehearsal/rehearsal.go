// Package rehearsal runs a migration locally, with real parts: an old pool
// (one cognito-local), the migrate-trigger binary serving the Lambda Invoke
// API, and a new pool (a second cognito-local) whose "Migrate user" trigger
// calls it. The end-to-end tests and `make demo` both use it.
//
// cognito-local is not Cognito (docs/cognito-behaviour.md lists where it differs): the rehearsal
// shows our function working against a real SDK and real HTTP, and nothing
// here treats an emulator quirk as Cognito's behaviour.
package rehearsal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
)

// FunctionName is the name the new pool's trigger calls.
const FunctionName = "migrate-trigger"

// Options configure a rehearsal.
type Options struct {
	// Bootstrap is the built migrate-trigger binary (see Build).
	Bootstrap string
	// TriggerEnv is added to the function's environment, e.g.
	// OLD_ROLE_ARN. DECLINE_RESPONSE defaults to "error" here, because
	// cognito-local signs a user in when the trigger returns an empty
	// response, where Cognito would refuse.
	TriggerEnv map[string]string
	// Log receives the emulators' output; nil discards it.
	Log io.Writer
	// NewPoolCustomAttributes are the new pool's custom attributes, without
	// the "custom:" prefix; nil means the old pool's ("tenant").
	NewPoolCustomAttributes []string
	// PreTokenGeneration and PreSignUp attach the function to the new
	// pool's pre token generation and pre sign-up triggers too.
	PreTokenGeneration, PreSignUp bool
	// NewPoolAliasAttributes are the new pool's AliasAttributes, e.g.
	// "email": users may also sign in with them.
	NewPoolAliasAttributes []string
}

// Rehearsal is a running old pool, function and new pool.
type Rehearsal struct {
	Old, New               *cognitolocal.Instance
	OldPoolID, OldClientID string
	NewPoolID, NewClientID string
	TriggerURL             string
	oldClient, newClient   *cip.Client
	trigger                *exec.Cmd
	// triggerLog is the file the function writes its output to. A file,
	// not a pipe: the function's write is done before it answers, so a
	// decision is in the log by the time the sign-in returns. (A pipe is
	// copied by a goroutine that may lag behind.)
	triggerLog  string
	finalOutput string
	triggerDone chan struct{}
	stopOnce    sync.Once
}

// Start builds the old pool, starts the function against it and the new
// pool against the function. Call Stop when done, also after an error.
func Start(ctx context.Context, opts Options) (r *Rehearsal, err error) {
	r = &Rehearsal{}
	defer func() {
		if err != nil {
			r.Stop()
		}
	}()

	if r.Old, err = cognitolocal.Start(ctx, cognitolocal.Options{Log: prefix(opts.Log, "old pool | ")}); err != nil {
		return r, fmt.Errorf("start old pool: %w", err)
	}
	r.oldClient = r.Old.Client()
	if r.OldPoolID, r.OldClientID, err = createPool(ctx, r.oldClient, "old-pool", types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, nil, "tenant"); err != nil {
		return r, fmt.Errorf("old pool: %w", err)
	}

	// The function needs the new pool's address (it reads its schema) and
	// the new pool needs the function's: reserve the function's port first.
	port, err := freePort()
	if err != nil {
		return r, err
	}
	r.TriggerURL = fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/%s/invocations", port, FunctionName)
	newOpts := cognitolocal.Options{
		UserMigrationFunction: FunctionName,
		LambdaEndpoint:        fmt.Sprintf("http://127.0.0.1:%d", port),
		Log:                   prefix(opts.Log, "new pool | "),
	}
	if opts.PreTokenGeneration {
		newOpts.PreTokenGenerationFunction = "PreTokenGeneration"
	}
	if opts.PreSignUp {
		newOpts.PreSignUpFunction = "PreSignUp"
	}
	if r.New, err = cognitolocal.Start(ctx, newOpts); err != nil {
		return r, fmt.Errorf("start new pool: %w", err)
	}
	r.newClient = r.New.Client()
	custom := opts.NewPoolCustomAttributes
	if custom == nil {
		custom = []string{"tenant"}
	}
	if r.NewPoolID, r.NewClientID, err = createPool(ctx, r.newClient, "new-pool", types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, opts.NewPoolAliasAttributes, custom...); err != nil {
		return r, fmt.Errorf("new pool: %w", err)
	}
	if err = r.startTrigger(ctx, opts, port); err != nil {
		return r, err
	}
	return r, nil
}

// createPool makes a username pool with the aliases and custom attributes
// named and one app client allowing flow.
func createPool(ctx context.Context, c *cip.Client, name string, flow types.ExplicitAuthFlowsType, aliases []string, custom ...string) (poolID, clientID string, err error) {
	var schema []types.SchemaAttributeType
	for _, n := range custom {
		schema = append(schema, types.SchemaAttributeType{Name: aws.String(n), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)})
	}
	in := &cip.CreateUserPoolInput{PoolName: aws.String(name), Schema: schema}
	for _, a := range aliases {
		in.AliasAttributes = append(in.AliasAttributes, types.AliasAttributeType(a))
	}
	pool, err := c.CreateUserPool(ctx, in)
	if err != nil {
		return "", "", fmt.Errorf("create user pool: %w", err)
	}
	poolID = aws.ToString(pool.UserPool.Id)
	client, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:        aws.String(poolID),
		ClientName:        aws.String(name + "-client"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{flow, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		return "", "", fmt.Errorf("create app client: %w", err)
	}
	return poolID, aws.ToString(client.UserPoolClient.ClientId), nil
}

// startTrigger runs the binary with -listen on port and waits for its
// "listening" line.
func (r *Rehearsal) startTrigger(ctx context.Context, opts Options, port int) error {
	env := map[string]string{
		"OLD_USER_POOL_ID":       r.OldPoolID,
		"OLD_CLIENT_ID":          r.OldClientID,
		"OLD_USER_POOL_ENDPOINT": r.Old.URL,
		"DECLINE_RESPONSE":       "error",
		// The new pool is in the function's own account: the SDK's usual
		// endpoint variable points at it.
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": r.New.URL,
		// The SDK signs every request, so it needs credentials and a region,
		// and nothing from this machine's own AWS configuration.
		"AWS_ACCESS_KEY_ID":           "AKIDREHEARSAL",
		"AWS_SECRET_ACCESS_KEY":       "rehearsal",
		"AWS_REGION":                  "eu-west-2",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for k, v := range opts.TriggerEnv {
		env[k] = v
	}
	cmd := exec.Command(opts.Bootstrap, "-listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Env = cleanEnv(env)
	out, err := os.CreateTemp("", "migrate-trigger-*.log")
	if err != nil {
		return fmt.Errorf("function log: %w", err)
	}
	defer out.Close() // the child has its own descriptor
	r.triggerLog = out.Name()
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", opts.Bootstrap, err)
	}
	r.trigger = cmd
	r.triggerDone = make(chan struct{})
	go func() { _ = cmd.Wait(); close(r.triggerDone) }()

	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if url := listeningURL(r.TriggerOutput()); url != "" {
			if url != r.TriggerURL {
				return fmt.Errorf("migrate-trigger listens at %s, want %s", url, r.TriggerURL)
			}
			return nil
		}
		select {
		case <-r.triggerDone:
			return fmt.Errorf("migrate-trigger exited before listening:\n%s", r.TriggerOutput())
		case <-deadline.C:
			return fmt.Errorf("migrate-trigger not listening after 15s:\n%s", r.TriggerOutput())
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// cleanEnv is this process's environment without AWS, old-pool or
// trigger settings, plus env.
func cleanEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "OLD_") || k == "DECLINE_RESPONSE" || k == "LOG_LEVEL" {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func listeningURL(out string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line struct {
			Message string `json:"message"`
			URL     string `json:"url"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "local invoke server listening" {
			return line.URL
		}
	}
	return ""
}

// Stop stops the function and both pools. It is safe to call more than once.
func (r *Rehearsal) Stop() {
	r.stopOnce.Do(func() {
		if r.New != nil {
			_ = r.New.Stop()
		}
		if r.trigger != nil && r.trigger.Process != nil {
			_ = syscall.Kill(-r.trigger.Process.Pid, syscall.SIGTERM)
			select {
			case <-r.triggerDone:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-r.trigger.Process.Pid, syscall.SIGKILL)
				<-r.triggerDone
			}
		}
		if r.Old != nil {
			_ = r.Old.Stop()
		}
		if r.triggerLog != "" {
			r.finalOutput = r.TriggerOutput()
			_ = os.Remove(r.triggerLog)
			r.triggerLog = ""
		}
	})
}

// TriggerOutput is everything the function wrote (its JSON log lines).
func (r *Rehearsal) TriggerOutput() string {
	if r.triggerLog == "" {
		return r.finalOutput
	}
	b, err := os.ReadFile(r.triggerLog)
	if err != nil {
		return r.finalOutput
	}
	return string(b)
}

// Decisions are the function's per-invocation log lines so far.
func (r *Rehearsal) Decisions() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.TriggerOutput()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["message"] == "user migration" {
			out = append(out, line)
		}
	}
	return out
}

// OldUser is a user to create in the old pool.
type OldUser struct {
	Username, Password string
	Attributes         map[string]string
	Disabled           bool
	// Unconfirmed users sign up and never confirm.
	Unconfirmed bool
}

// AddOldUser creates u in the old pool.
func (r *Rehearsal) AddOldUser(ctx context.Context, u OldUser) error {
	var attrs []types.AttributeType
	for k, v := range u.Attributes {
		attrs = append(attrs, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	if u.Unconfirmed {
		_, err := r.oldClient.SignUp(ctx, &cip.SignUpInput{
			ClientId: aws.String(r.OldClientID), Username: aws.String(u.Username),
			Password: aws.String(u.Password), UserAttributes: attrs,
		})
		if err != nil {
			return fmt.Errorf("sign up %s: %w", u.Username, err)
		}
		return nil
	}
	if _, err := r.oldClient.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(r.OldPoolID), Username: aws.String(u.Username),
		UserAttributes: attrs, MessageAction: types.MessageActionTypeSuppress,
	}); err != nil {
		return fmt.Errorf("create %s: %w", u.Username, err)
	}
	if _, err := r.oldClient.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(r.OldPoolID), Username: aws.String(u.Username),
		Password: aws.String(u.Password), Permanent: true,
	}); err != nil {
		return fmt.Errorf("set password of %s: %w", u.Username, err)
	}
	if u.Disabled {
		if _, err := r.oldClient.AdminDisableUser(ctx, &cip.AdminDisableUserInput{
			UserPoolId: aws.String(r.OldPoolID), Username: aws.String(u.Username),
		}); err != nil {
			return fmt.Errorf("disable %s: %w", u.Username, err)
		}
	}
	return nil
}

// OldUserAttributes returns a user's attributes in the old pool.
func (r *Rehearsal) OldUserAttributes(ctx context.Context, username string) (map[string]string, error) {
	out, err := r.oldClient.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(r.OldPoolID), Username: aws.String(username)})
	if err != nil {
		return nil, err
	}
	return attributes(out.UserAttributes), nil
}

// SignIn signs in to the new pool with USER_PASSWORD_AUTH, the flow that
// fires the migration trigger. It returns nil when tokens were issued.
func (r *Rehearsal) SignIn(ctx context.Context, username, password string) error {
	out, err := r.newClient.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(r.NewClientID),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{
			"USERNAME": username,
			"PASSWORD": password,
		},
	})
	if err != nil {
		return err
	}
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		return fmt.Errorf("no tokens (challenge %q)", out.ChallengeName)
	}
	return nil
}

// ErrNotInNewPool is returned by NewUser for a user the new pool lacks.
var ErrNotInNewPool = errors.New("not in the new pool")

// NewUser returns a user's attributes in the new pool.
func (r *Rehearsal) NewUser(ctx context.Context, username string) (map[string]string, error) {
	out, err := r.newClient.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(r.NewPoolID), Username: aws.String(username)})
	var nf *types.UserNotFoundException
	if errors.As(err, &nf) {
		return nil, ErrNotInNewPool
	}
	if err != nil {
		return nil, err
	}
	return attributes(out.UserAttributes), nil
}

func attributes(as []types.AttributeType) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return m
}

// Build compiles cmd/migrate-trigger into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	root, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/migrate-trigger")
	cmd.Dir = strings.TrimSpace(string(root))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/migrate-trigger: %w\n%s", err, out)
	}
	return bin, nil
}

// prefix writes each line to w behind p; nil w discards.
func prefix(w io.Writer, p string) io.Writer {
	if w == nil {
		return nil
	}
	return &prefixWriter{w: w, p: p}
}

type prefixWriter struct {
	w io.Writer
	p string
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(pw.w, pw.p+line); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// freePort returns a loopback port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

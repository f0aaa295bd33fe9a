//go:build unix

// Package cognitolocal starts and stops cognito-local (npm cognito-local
// 5.3.0, pinned in e2e/cognito-local), a Cognito user-pool emulator, for the
// end-to-end tests and the demo program.
//
// Each Instance is its own process, on its own loopback port, with its own
// working directory, because cognito-local's triggers are global to all the
// pools of a process: the "old" pool needs an instance with no trigger and the
// "new" pool an instance whose UserMigration trigger calls our Lambda.
//
// # Username-only pools
//
// cognito-local's built-in UserPoolDefaults has UsernameAttributes ["email"],
// so a pool created without UsernameAttributes is an email-as-username pool:
// AdminCreateUser rejects a non-email Username ("Username should be an
// email.") and stores the user under a generated sub. Sending an explicit
// empty UsernameAttributes in CreateUserPool does not help: cognito-local
// deep-merges the request over the defaults with lodash merge, and merging []
// into ["email"] leaves ["email"]. Only the config.json entry
// UserPoolDefaults.UsernameAttributes = [] changes the default, because the
// config loader replaces arrays instead of merging them.
//
// Start therefore writes that entry, so that pools behave like real Cognito's:
// username-only unless CreateUserPool names UsernameAttributes (["email"] or
// ["phone_number"], which still work). Lookups by email then work only in
// pools that ask for it, as in AWS.
//
// # Custom attributes
//
// cognito-local checks no attribute against the schema: AdminCreateUser and a
// migrated user's attributes may carry a custom:xxx attribute that the pool
// never declared. Declare them anyway (CreateUserPool's Schema, Name without
// the "custom:" prefix), because real Cognito rejects undeclared ones.
package cognitolocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

const (
	// BinEnv names the environment variable that overrides Bin's search.
	BinEnv = "COGNITO_LOCAL_BIN"

	// InstallCommand installs the pinned cognito-local; run it in the
	// module root.
	InstallCommand = "npm ci --prefix e2e/cognito-local"

	// DefaultLambdaTimeout is how long cognito-local waits for one Lambda
	// invocation when Options.LambdaTimeout is zero: Cognito's fixed limit
	// for triggers.
	DefaultLambdaTimeout = 5 * time.Second

	// binPath is where `npm ci --prefix e2e/cognito-local` puts the
	// executable, relative to the module root.
	binPath = "e2e/cognito-local/node_modules/.bin/cognito-local"

	host            = "127.0.0.1"
	startTimeout    = 30 * time.Second
	pollInterval    = 50 * time.Millisecond
	stopGrace       = 5 * time.Second
	maxPortAttempts = 5
	tailLines       = 40

	// Credentials and region of the SDK clients on both sides. Neither
	// cognito-local nor our Lambda endpoint checks signatures, but the
	// SDKs refuse to send unsigned requests.
	dummyAccessKey = "local"
	dummySecretKey = "local"
	lambdaRegion   = "local"
	clientRegion   = "us-east-1"
)

// ErrNotInstalled is returned (wrapped) by Bin, Start and StartTB when the
// cognito-local executable cannot be found.
var ErrNotInstalled = errors.New("cognito-local is not installed")

// errPortInUse marks a start that failed because another process took the
// port between our probe and cognito-local's bind.
var errPortInUse = errors.New("port already in use")

// Options configure one cognito-local instance.
type Options struct {
	// UserMigrationFunction, when non-empty, is the function name
	// cognito-local's TriggerFunctions.UserMigration calls, at
	// LambdaEndpoint. When empty the instance has no trigger at all.
	UserMigrationFunction string

	// PreTokenGenerationFunction and PreSignUpFunction, when non-empty,
	// are the function names cognito-local's TriggerFunctions
	// PreTokenGeneration and PreSignUp call, at LambdaEndpoint. cognito-local
	// puts the name into a failed trigger's message ("<name> failed with
	// error ..."), so naming them after the trigger gives Cognito's wording.
	PreTokenGenerationFunction, PreSignUpFunction string

	// LambdaEndpoint is the base URL of the Lambda Invoke API that
	// cognito-local calls, e.g. "http://127.0.0.1:34567" (our local invoke
	// server). Required with UserMigrationFunction.
	LambdaEndpoint string

	// LambdaTimeout bounds each Lambda invocation; zero means
	// DefaultLambdaTimeout. A timed-out invocation fails the sign-in with
	// NotAuthorizedException.
	LambdaTimeout time.Duration

	// Log receives the process's stdout and stderr, one line per Write,
	// with terminal colour codes removed. Nil discards it. cognito-local
	// logs no request bodies unless DEBUG is set in the environment; with
	// DEBUG it logs trigger events, passwords included.
	Log io.Writer
}

// Instance is a running cognito-local process.
type Instance struct {
	// URL is the instance's endpoint, http://127.0.0.1:PORT.
	URL string
	// Dir is the instance's working directory: .cognito/config.json and
	// the pools in .cognito/db. Stop removes it.
	Dir string

	cmd     *exec.Cmd
	out     *output
	done    chan struct{} // closed once the process has exited
	waitErr error         // cmd.Wait's result; read only after done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts cognito-local on a free loopback port in a fresh temporary
// working directory, writes .cognito/config.json from opts, waits until it
// answers GET /health, and returns it. It gives up after 30 seconds or when
// ctx ends, with an error that includes the tail of the process's output.
// ctx bounds the start only: the process runs until Stop.
func Start(ctx context.Context, opts Options) (*Instance, error) {
	if (opts.UserMigrationFunction != "" || opts.PreTokenGenerationFunction != "" || opts.PreSignUpFunction != "") && opts.LambdaEndpoint == "" {
		return nil, errors.New("start cognito-local: a trigger function needs a LambdaEndpoint")
	}
	cfg, err := configJSON(opts)
	if err != nil {
		return nil, fmt.Errorf("start cognito-local: %w", err)
	}
	bin, err := Bin()
	if err != nil {
		return nil, fmt.Errorf("start cognito-local: %w", err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, startTimeout,
		fmt.Errorf("cognito-local did not answer within %v", startTimeout))
	defer cancel()

	// The port is chosen before the start, not with PORT=0, because
	// cognito-local builds its token issuer (TokenConfig.IssuerDomain) from
	// HOST and PORT: with PORT=0 every token would claim port 0.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("start cognito-local: %w", err)
		}
		inst, err := start(ctx, bin, port, cfg, opts.Log)
		if err == nil {
			return inst, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == maxPortAttempts {
			return nil, fmt.Errorf("start cognito-local (attempt %d): %w", attempt, err)
		}
	}
}

// start runs one attempt of Start on the given port.
func start(ctx context.Context, bin string, port int, cfg []byte, log io.Writer) (*Instance, error) {
	dir, err := os.MkdirTemp("", "cognito-local-")
	if err != nil {
		return nil, fmt.Errorf("make working directory: %w", err)
	}
	if err := writeConfig(dir, cfg); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}

	out := newOutput(log)
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOST="+host,
		"PORT="+strconv.Itoa(port),
		// aws-sdk v2's end-of-support notice, printed at every start.
		"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1",
	)
	cmd.Stdout = out
	cmd.Stderr = out
	// A process group of its own, so Stop reaches node and anything it
	// spawns, and a Ctrl-C meant for us is not also delivered to it first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Wait must not hang on a pipe held open by a stray grandchild.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}

	inst := &Instance{
		URL:  "http://" + net.JoinHostPort(host, strconv.Itoa(port)),
		Dir:  dir,
		cmd:  cmd,
		out:  out,
		done: make(chan struct{}),
	}
	go func() {
		inst.waitErr = cmd.Wait()
		close(inst.done)
	}()

	if err := inst.waitReady(ctx); err != nil {
		_ = inst.Stop()
		return nil, err
	}
	return inst, nil
}

// waitReady polls GET /health until it answers 200, the process exits, or
// ctx ends.
func (i *Instance) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if i.healthy(ctx, client) {
			// A 200 from a process that is already dying came from
			// someone else's server on that port.
			select {
			case <-i.done:
			default:
				return nil
			}
		}
		select {
		case <-i.done:
			tail := i.out.Tail()
			err := fmt.Errorf("cognito-local exited before it was ready (%v); its output ends:\n%s", i.waitErr, tail)
			if strings.Contains(tail, "EADDRINUSE") {
				return fmt.Errorf("%w: %w", errPortInUse, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("cognito-local at %s not ready: %w; its output ends:\n%s",
				i.URL, context.Cause(ctx), i.out.Tail())
		case <-ticker.C:
		}
	}
}

// healthy reports whether GET /health answers 200 (cognito-local 5.3.0
// serves {"ok":true} there; GET / is a 404 and a bare POST / a 400).
func (i *Instance) healthy(ctx context.Context, client *http.Client) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, i.URL+"/health", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop stops the process and everything in its process group (SIGTERM, then
// SIGKILL after 5 seconds), waits for it to exit, and removes Dir. It is
// idempotent: later calls return the first call's result.
func (i *Instance) Stop() error {
	i.stopOnce.Do(func() { i.stopErr = i.stop() })
	return i.stopErr
}

func (i *Instance) stop() error {
	// The group id is the leader's pid (Setpgid). Signalling a group that
	// has already gone fails with ESRCH, which is what we want anyway.
	pgid := i.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-i.done:
	case <-timer.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-i.done
	}
	i.out.Flush()
	if err := os.RemoveAll(i.Dir); err != nil {
		return fmt.Errorf("stop cognito-local: remove %s: %w", i.Dir, err)
	}
	return nil
}

// Client returns a real aws-sdk-go-v2 cognitoidentityprovider client aimed at
// this instance, with dummy static credentials and a fixed region. It reads
// no environment or shared configuration.
func (i *Instance) Client() *cognitoidentityprovider.Client {
	return cognitoidentityprovider.New(cognitoidentityprovider.Options{
		Region:       clientRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecretKey, ""),
		BaseEndpoint: aws.String(i.URL),
	})
}

// StartTB is Start for tests: it fails tb on error, sends the output to
// tb.Log (as well as to opts.Log), and registers Stop in tb.Cleanup.
//
// When cognito-local is not installed it fails tb with Bin's message, so CI
// never passes without it; only under `go test -short` does it skip instead.
func StartTB(tb testing.TB, opts Options) *Instance {
	tb.Helper()
	if _, err := Bin(); err != nil {
		if errors.Is(err, ErrNotInstalled) && testing.Short() {
			tb.Skipf("skipping in -short mode: %v", err)
		}
		tb.Fatal(err)
	}
	var log io.Writer = tbWriter{tb}
	if opts.Log != nil {
		log = io.MultiWriter(opts.Log, log)
	}
	opts.Log = log
	inst, err := Start(tb.Context(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := inst.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return inst
}

// tbWriter logs each Write (one line, from output) with tb.Log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log("cognito-local: " + strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Bin returns the path of the installed cognito-local executable: the value
// of COGNITO_LOCAL_BIN if set, otherwise
// e2e/cognito-local/node_modules/.bin/cognito-local under the module root,
// found by walking up from the working directory to go.mod. The error, which
// wraps ErrNotInstalled, says how to install it.
func Bin() (string, error) {
	if p := os.Getenv(BinEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %w; unset it to use the copy that `%s` installs",
				ErrNotInstalled, BinEnv, p, err, InstallCommand)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w: %w; run `%s` (or `make test`) in the module root, or set %s",
			ErrNotInstalled, err, InstallCommand, BinEnv)
	}
	p := filepath.Join(root, filepath.FromSlash(binPath))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: no %s; run `%s` (or `make test`) in %s, or set %s",
			ErrNotInstalled, p, InstallCommand, root, BinEnv)
	}
	return p, nil
}

// moduleRoot walks up from the working directory to the first directory
// holding a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// freePort asks the kernel for a free loopback port. Another process can
// take it before cognito-local binds it; Start then retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}

// config is the part of cognito-local's .cognito/config.json that we set.
// cognito-local merges it over its DefaultConfig (lib/server/config.js), so
// KMSConfig, TokenConfig (issuer http://HOST:PORT) and ServerConfig (from
// the HOST and PORT variables) keep their defaults.
type config struct {
	// LambdaClient is passed as is to aws-sdk v2's `new AWS.Lambda(...)`.
	LambdaClient     lambdaClient      `json:"LambdaClient"`
	TriggerFunctions map[string]string `json:"TriggerFunctions,omitempty"`
	UserPoolDefaults userPoolDefaults  `json:"UserPoolDefaults"`
}

type lambdaClient struct {
	Endpoint    string         `json:"endpoint,omitempty"`
	Region      string         `json:"region"`
	Credentials awsCredentials `json:"credentials"`
	// MaxRetries 0: real Cognito does not retry a trigger whose Invoke
	// failed with a 5xx, whereas aws-sdk v2 would call the function up to
	// four times.
	MaxRetries  int         `json:"maxRetries"`
	HTTPOptions httpOptions `json:"httpOptions"`
}

type awsCredentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

type httpOptions struct {
	// Timeout is aws-sdk v2's socket inactivity timeout, in milliseconds.
	Timeout int64 `json:"timeout"`
}

type userPoolDefaults struct {
	// UsernameAttributes must marshal as [], not null: see the package
	// documentation.
	UsernameAttributes []string `json:"UsernameAttributes"`
}

// configJSON renders the .cognito/config.json for opts.
func configJSON(opts Options) ([]byte, error) {
	timeout := opts.LambdaTimeout
	if timeout <= 0 {
		timeout = DefaultLambdaTimeout
	}
	c := config{
		LambdaClient: lambdaClient{
			Endpoint:    opts.LambdaEndpoint,
			Region:      lambdaRegion,
			Credentials: awsCredentials{AccessKeyID: dummyAccessKey, SecretAccessKey: dummySecretKey},
			MaxRetries:  0,
			HTTPOptions: httpOptions{Timeout: timeout.Milliseconds()},
		},
		UserPoolDefaults: userPoolDefaults{UsernameAttributes: []string{}},
	}
	for trigger, fn := range map[string]string{
		"UserMigration":      opts.UserMigrationFunction,
		"PreTokenGeneration": opts.PreTokenGenerationFunction,
		"PreSignUp":          opts.PreSignUpFunction,
	} {
		if fn == "" {
			continue
		}
		if c.TriggerFunctions == nil {
			c.TriggerFunctions = map[string]string{}
		}
		c.TriggerFunctions[trigger] = fn
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode config.json: %w", err)
	}
	return append(b, '\n'), nil
}

func writeConfig(dir string, cfg []byte) error {
	cd := filepath.Join(dir, ".cognito")
	if err := os.MkdirAll(cd, 0o755); err != nil {
		return fmt.Errorf("write config.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cd, "config.json"), cfg, 0o644); err != nil {
		return fmt.Errorf("write config.json: %w", err)
	}
	return nil
}

// ansi matches the colour escapes that cognito-local's pino-pretty logger
// always emits.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// output collects the process's stdout and stderr: it splits them into
// lines, strips colour codes, forwards each line to a sink and keeps the
// last few for error messages. It is safe for concurrent use.
type output struct {
	mu      sync.Mutex
	sink    io.Writer // may be nil
	partial []byte
	tail    []string
}

func newOutput(sink io.Writer) *output { return &output{sink: sink} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.partial = append(o.partial, p...)
	for {
		n := bytes.IndexByte(o.partial, '\n')
		if n < 0 {
			break
		}
		o.line(string(o.partial[:n]))
		o.partial = o.partial[n+1:]
	}
	// Keep memory bounded if something writes forever without a newline.
	if len(o.partial) > 64<<10 {
		o.line(string(o.partial))
		o.partial = nil
	}
	return len(p), nil
}

// Flush emits a last line that had no newline.
func (o *output) Flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.line(string(o.partial))
		o.partial = nil
	}
}

// line handles one complete line; o.mu is held.
func (o *output) line(s string) {
	s = strings.TrimRight(ansi.ReplaceAllString(s, ""), "\r")
	o.tail = append(o.tail, s)
	if len(o.tail) > tailLines {
		o.tail = o.tail[len(o.tail)-tailLines:]
	}
	if o.sink != nil {
		// A failing log must not stop the process's output being drained.
		_, _ = io.WriteString(o.sink, s+"\n")
	}
}

// Tail returns the last lines of output, the partial last line included.
func (o *output) Tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	lines := append([]string(nil), o.tail...)
	if len(o.partial) > 0 {
		lines = append(lines, ansi.ReplaceAllString(string(o.partial), ""))
	}
	if len(lines) == 0 {
		return "(no output)"
	}
	return strings.Join(lines, "\n")
}

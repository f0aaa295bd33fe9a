// Command migrate-trigger is the new user pool's "Migrate user" Lambda
// trigger. Built as "bootstrap" it runs on the provided.al2023 runtime;
// with -listen it serves the Lambda Invoke API on a local address instead,
// with the very same handler, for local emulators and curl.
//
// Configuration comes from the environment (see the README), read once at
// start-up. With -listen a bad setting stops it with a message that names
// the setting; under the Lambda runtime the function starts anyway and
// answers every event with the fixed "unavailable" message, logging the
// setting and writing the metric with reason "configuration" (runtime.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/invoke"
	"github.com/cognito-migrate/cognito-migrate/internal/logging"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
	"github.com/cognito-migrate/cognito-migrate/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("migrate-trigger", flag.ContinueOnError)
	flags.SetOutput(stderr)
	listen := flags.String("listen", "", "serve the Lambda Invoke API on this address (e.g. 127.0.0.1:9000) instead of running under the Lambda runtime; loopback addresses only, unless -listen-any")
	listenAny := flags.Bool("listen-any", false, "let -listen use an address that is not loopback; the server has no authentication, so anyone who can reach it can test passwords")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *listenAny && *listen == "" {
		fmt.Fprintln(stderr, "migrate-trigger: -listen-any needs -listen")
		return 2
	}
	if *listen != "" && !*listenAny && !invoke.IsLoopbackAddress(*listen) {
		fmt.Fprintf(stderr, "migrate-trigger: -listen %s: not a loopback address; the local invoke server has no authentication, "+
			"so it listens on this machine only (127.0.0.1:PORT, [::1]:PORT or localhost:PORT); add -listen-any to listen there anyway\n", *listen)
		return 2
	}

	h, log, err := newHandler(ctx, getenv, stdout)
	if err != nil {
		// With -listen, or run by hand, a person reads the message.
		if *listen != "" || getenv(envRuntimeAPI) == "" {
			fmt.Fprintf(stderr, "migrate-trigger: %v\n", err)
			return 1
		}
		// Under the Lambda runtime an exit at init would have Lambda answer
		// Cognito with its own error text: start, and answer every event
		// with the fixed message instead (runtime.go).
		log = logging.New(stdout, slog.LevelInfo)
		log.Error("migrate-trigger cannot start; every event is answered with the unavailable message until this is fixed",
			slog.String("errorKind", string(migrate.FaultConfiguration)), slog.String("error", err.Error()))
		failed := &configurationFailure{log: log, metrics: metrics.NewEMF(stdout), problem: err.Error(), now: time.Now}
		if _, serr := settings.Load(getenv); serr == nil {
			// The settings are valid: a call failed (STS, Secrets Manager),
			// and may succeed later.
			failed.retry = func(ctx context.Context) (lambda.Handler, error) {
				h, _, err := newHandler(ctx, getenv, stdout)
				if err != nil {
					return nil, err
				}
				return h, nil
			}
		}
		startRuntime(ctx, failed, log)
		return 0 // not reached under Lambda: the runtime loop exits the process
	}
	if *listen == "" {
		startRuntime(ctx, h, log)
		return 0 // not reached under Lambda: the runtime loop exits the process
	}
	if err := serve(ctx, *listen, *listenAny, h, log); err != nil {
		fmt.Fprintf(stderr, "migrate-trigger: %v\n", err)
		return 1
	}
	return 0
}

// envRuntimeAPI is set by Lambda (and its emulator) for the runtime to
// reach the Runtime API: it tells the Lambda runtime from a terminal.
const envRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"

// newHandler builds everything once, before the first event.
func newHandler(ctx context.Context, getenv func(string) string, logOut io.Writer) (lambda.Handler, *slog.Logger, error) {
	s, err := settings.Load(getenv)
	if err != nil {
		return nil, nil, err
	}
	log := logging.New(logOut, s.LogLevel)

	base, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, nil, err
	}
	newAPI := awsconfig.NewPoolClient(base)
	newPool := cognito.NewNewPool(newAPI, cognito.WithLogger(log))
	if s.NewUserPoolID != "" {
		// The new pool's description, which every decision needs, is read
		// now in the background: the first event joins the call in flight
		// (or finds it cached) instead of making its own. A failure only
		// means the first event asks again.
		go func() { _, _ = newPool.Config(context.WithoutCancel(ctx), s.NewUserPoolID) }()
	}
	// Each old pool's client secret and first assumed-role credentials are
	// fetched now, once and all together, so a broken setting stops start-up
	// with its name and the first sign-in does not wait. Cognito's 5 seconds
	// include this: startupTimeout bounds it, and the first event's budget is
	// cut by whatever start-up took (trigger.WithColdStart).
	warm, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	pools := s.OldPools()
	type reached struct {
		old                awsconfig.OldPool
		creds              aws.CredentialsProvider
		secret             string
		secretErr, roleErr error
	}
	reach := make([]reached, len(pools))
	var wg sync.WaitGroup
	for i, p := range pools {
		r := &reach[i]
		r.old = awsconfig.OldPool{
			Region: p.Region, Endpoint: p.Endpoint, RoleARN: p.RoleARN, ExternalID: p.ExternalID,
			ClientSecretARN: p.ClientSecretARN, ClientSecret: p.ClientSecret.Reveal(),
		}
		r.creds = awsconfig.OldPoolCredentials(base, r.old)
		wg.Go(func() { r.secret, r.secretErr = awsconfig.ClientSecret(warm, base, r.old) })
		if p.RoleARN != "" {
			wg.Go(func() { _, r.roleErr = r.creds.Retrieve(warm) })
		}
	}
	wg.Wait()
	olds := make([]*cognito.OldPool, len(pools))
	oldAPIs := make([]*cip.Client, len(pools))
	withSecret := false
	for i, p := range pools {
		n, r := i+1, reach[i]
		if r.secretErr != nil {
			return nil, nil, fmt.Errorf("%s: %w", settings.PoolName(n, "CLIENT_SECRET_ARN"), r.secretErr)
		}
		if r.roleErr != nil {
			return nil, nil, fmt.Errorf("%s: cannot assume the role (its trust policy must allow this function's execution role%s): %w",
				settings.PoolName(n, "ROLE_ARN"), externalIDHint(n, p.ExternalID), r.roleErr)
		}
		withSecret = withSecret || r.secret != ""
		oldAPIs[i] = awsconfig.OldPoolClient(base, r.old, r.creds)
		olds[i] = cognito.NewOldPool(oldAPIs[i], p.UserPoolID, p.ClientID, r.secret)
		if s.Rules.Scope.NeedsGroups() || s.Companions.GroupsAttribute != "" {
			// One listing per migration, with the lookup, serves both.
			olds[i].WithGroups()
		}
	}
	// The companion triggers work with one old pool (settings refuse them
	// with several): they read the first.
	h := handler(s, oldAPIs[0], olds[0], newPool, newAPI, log, metrics.NewEMF(logOut),
		decider(pools, olds, newPool, s.Rules, migrate.WithLookup(s.Lookup)),
		trigger.WithDeclineMode(s.Decline), trigger.WithColdStart(time.Since(processStart)))
	log.Info("migrate-trigger ready",
		slog.String("version", version.String()),
		slog.String("oldUserPoolId", s.OldUserPoolID),
		slog.String("oldRegion", s.OldRegion),
		slog.Bool("oldEndpointOverridden", s.OldEndpoint != ""),
		slog.String("oldRoleArn", s.OldRoleARN),
		slog.Bool("withClientHash", withSecret),
		slog.Int("oldPools", len(pools)),
		slog.String("declineResponse", string(s.Decline)),
		slog.String("oldPoolLookup", string(s.Lookup)),
		slog.String("newUserPoolId", s.NewUserPoolID),
		slog.Float64("startupMs", float64(time.Since(processStart).Microseconds())/1000),
		slog.String("mfaPolicy", string(s.Rules.MFA)),
		slog.String("legacySubAttribute", s.Rules.LegacySub),
		slog.Any("attributeMap", s.Rules.Rename),
		slog.Any("excludeAttributes", s.Rules.Exclude),
		slog.Bool("enforcePasswordPolicy", s.Rules.EnforcePasswordPolicy),
		slog.Bool("trustEmail", s.Rules.TrustEmail),
		slog.String("migrateOnly", s.Rules.Scope.String()),
		slog.String("legacyGroupsAttribute", s.Companions.GroupsAttribute),
		slog.Bool("createMissingGroups", s.Companions.CreateMissingGroups),
		slog.Bool("signUpGuard", s.Companions.SignUpGuard),
	)
	return h, log, nil
}

// oldPool is how the settings say to reach the first old pool.
func oldPool(s settings.Settings) awsconfig.OldPool {
	return awsconfig.OldPool{
		Region: s.OldRegion, Endpoint: s.OldEndpoint,
		RoleARN: s.OldRoleARN, ExternalID: s.OldExternalID,
		ClientSecretARN: s.OldClientSecretARN, ClientSecret: s.OldClientSecret.Reveal(),
	}
}

// decider is one old pool's Migrator, untouched, or a Merge of several.
func decider(pools []settings.OldPool, olds []*cognito.OldPool, newPool migrate.NewPool, rules migrate.Rules, opts ...migrate.Option) trigger.Decider {
	if len(olds) == 1 {
		return migrate.New(olds[0], newPool, rules, opts...)
	}
	sources := make([]migrate.Source, len(olds))
	for i, o := range olds {
		shared := migrate.SharedLookups(o)
		sources[i] = migrate.Source{Name: pools[i].Name, Pool: shared, Migrator: migrate.New(shared, newPool, rules, opts...), Route: pools[i].Route}
	}
	return migrate.NewMerge(sources...)
}

// startupTimeout bounds what start-up fetches (client secret, first
// assumed-role credentials, together). With the first event's budget cut to
// what is left of trigger.ColdStartLimit, a cold start answers in time even
// when both are slow.
const startupTimeout = 1500 * time.Millisecond

// processStart is about when the process started (package variables are set
// before main runs): the cold start's clock.
var processStart = time.Now()

func externalIDHint(n int, externalID string) string {
	if externalID != "" {
		return " with the sts:ExternalId condition equal to " + settings.PoolName(n, "EXTERNAL_ID")
	}
	return ""
}

// serve runs the local invoke server until ctx ends. Unless anyHost, it
// listens on a loopback address and serves requests addressed to this
// machine only (invoke.Handler).
func serve(ctx context.Context, addr string, anyHost bool, h lambda.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-listen %s: %w", addr, err)
	}
	// "localhost" could resolve elsewhere: check where it really listens.
	if !anyHost && !invoke.IsLoopbackAddress(ln.Addr().String()) {
		_ = ln.Close()
		return fmt.Errorf("-listen %s: listens on %s, not a loopback address; add -listen-any to allow it", addr, ln.Addr())
	}
	var opts []invoke.Option
	if anyHost {
		opts = append(opts, invoke.AllowAnyHost())
	}
	srv := &http.Server{
		Handler:           invoke.Handler(h, log, opts...),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      invoke.Timeout + 5*time.Second,
	}
	// Tests and scripts read the address from this line (the port may have
	// been chosen by the system: -listen 127.0.0.1:0).
	log.Info("local invoke server listening", slog.String("addr", ln.Addr().String()),
		slog.String("url", "http://"+ln.Addr().String()+"/2015-03-31/functions/migrate-trigger/invocations"))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

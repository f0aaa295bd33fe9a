package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// startLambda runs h under the Lambda runtime; the runtime loop never
// returns. Tests replace it.
var startLambda = func(ctx context.Context, h lambda.Handler) {
	lambda.StartWithOptions(h, lambda.WithContext(ctx))
}

// startRuntime runs h under the Lambda runtime, with the standard log
// package writing JSON through log. aws-lambda-go reports each function
// error with log.Printf (lambda/invoke_loop.go, reportFailure), as plain
// text that CloudWatch's JSON log format and Logs Insights cannot read.
func startRuntime(ctx context.Context, h lambda.Handler, logger *slog.Logger) {
	log.SetFlags(0)
	log.SetPrefix("")
	log.SetOutput(stdLogWriter{logger})
	startLambda(ctx, h)
}

// stdLogWriter turns each line the standard log package writes into one
// JSON log line. A function error payload ({"errorMessage","errorType"})
// becomes an ERROR "function error" line with those two fields only: the
// runtime's optional stack trace is dropped. Any other line becomes a WARN
// line with that text as its message. Neither ever holds the event: the
// runtime does not log it, and the handler's error messages are the fixed
// end-user messages.
type stdLogWriter struct{ log *slog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		var e messages.InvokeResponse_Error
		if json.Unmarshal(line, &e) == nil && e.Type != "" {
			w.log.Error("function error", slog.String("errorType", e.Type), slog.String("errorMessage", e.Message))
			continue
		}
		w.log.Warn(string(line))
	}
	return len(p), nil
}

// configurationFailure is the handler of a function whose start-up failed.
// Under the Lambda runtime the process no longer exits at init: Lambda
// would then answer every event with its own error text, which Cognito
// shows users, and no metric would feed the configuration alarm. Instead
// every event is answered with the fixed end-user message, logged with the
// problem (which names the setting), and counted with reason
// "configuration".
//
// A problem in the settings themselves lasts as long as the container
// (changing the environment starts new ones). A start-up that failed on a
// call (STS, Secrets Manager) may succeed later: with retry set, an event
// tries start-up again at most once every startupRetryInterval, within
// startupRetryBudget, and once it succeeds every event goes to the real handler.
type configurationFailure struct {
	log     *slog.Logger
	metrics *metrics.EMF
	retry   func(ctx context.Context) (lambda.Handler, error)
	now     func() time.Time

	mu      sync.Mutex
	problem string
	healed  lambda.Handler
	lastTry time.Time
}

const (
	// startupRetryInterval is how often an event may retry a failed start-up.
	startupRetryInterval = 10 * time.Second
	// startupRetryBudget is the most a retried start-up may add to an event;
	// the event keeps the handler's own budget after it.
	startupRetryBudget = 1500 * time.Millisecond
)

func (u *configurationFailure) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	h, problem := u.handler(ctx)
	if h != nil {
		return h.Invoke(ctx, payload)
	}
	attrs := make([]slog.Attr, 0, 6)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("requestId", lc.AwsRequestID))
	}
	// Only the trigger source is read from the event, for the metric: the
	// user name may be a password typed into the wrong box.
	var source string
	if ev, err := trigger.DecodeEvent(payload); err == nil {
		source = ev.TriggerSource
		attrs = append(attrs, slog.String("triggerSource", source))
	}
	took := time.Since(start)
	attrs = append(attrs,
		slog.String("outcome", string(migrate.OutcomeError)),
		slog.String("errorKind", string(migrate.FaultConfiguration)),
		slog.String("error", problem),
		slog.Float64("durationMs", float64(took.Microseconds())/1000),
	)
	u.log.LogAttrs(ctx, slog.LevelError, "user migration", attrs...)
	u.metrics.Record(ctx, metrics.Invocation{TriggerSource: source, Outcome: migrate.OutcomeError, Reason: string(migrate.FaultConfiguration), Latency: took})
	return nil, messages.InvokeResponse_Error{Type: trigger.ErrorTypeUnavailable, Message: trigger.UnavailableMessage}
}

// handler returns the real handler once a retried start-up has built it,
// else nil and the latest problem. Lambda sends a container one event at
// a time, so holding the lock through a retry delays no one.
func (u *configurationFailure) handler(ctx context.Context) (lambda.Handler, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.healed != nil || u.retry == nil {
		return u.healed, u.problem
	}
	now := u.now()
	if !u.lastTry.IsZero() && now.Sub(u.lastTry) < startupRetryInterval {
		return nil, u.problem
	}
	budget := startupRetryBudget
	if dl, ok := ctx.Deadline(); ok {
		// Leave the event the handler's whole budget after the retry.
		budget = min(budget, time.Until(dl)-trigger.DefaultBudget)
	}
	if budget < 100*time.Millisecond {
		return nil, u.problem
	}
	u.lastTry = now
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	h, err := u.retry(rctx)
	if err != nil {
		u.problem = err.Error()
		u.log.Warn("migrate-trigger start-up retried and failed again", slog.String("errorKind", string(migrate.FaultConfiguration)), slog.String("error", u.problem))
		return nil, u.problem
	}
	u.healed = h
	return h, ""
}

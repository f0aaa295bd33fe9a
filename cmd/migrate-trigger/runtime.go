package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
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

// configurationFailure is the handler of a function whose configuration is
// invalid. Under the Lambda runtime the process no longer exits at init:
// Lambda would then answer every event with its own error text, which
// Cognito shows users, and no metric would feed the configuration alarm.
// Instead every event is answered with the fixed end-user message, logged
// with the problem (naming the setting), and counted with reason
// "configuration".
type configurationFailure struct {
	log     *slog.Logger
	metrics *metrics.EMF
	problem string
}

// ReasonConfiguration is the error kind, and the metric reason, of an event
// answered by a function whose configuration is invalid.
const ReasonConfiguration = "configuration"

func (u configurationFailure) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
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
		slog.String("outcome", "error"),
		slog.String("errorKind", ReasonConfiguration),
		slog.String("error", u.problem),
		slog.Float64("durationMs", float64(took.Microseconds())/1000),
	)
	u.log.LogAttrs(ctx, slog.LevelError, "user migration", attrs...)
	u.metrics.Record(ctx, metrics.Invocation{TriggerSource: source, Outcome: "error", Reason: ReasonConfiguration, Latency: took})
	return nil, messages.InvokeResponse_Error{Type: trigger.ErrorTypeUnavailable, Message: trigger.UnavailableMessage}
}

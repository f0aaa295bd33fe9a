package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// What the companion triggers (pre token generation, pre sign-up) share:
// the event's header, re-encoding the event with a new response, the time
// budget, and one log line and metric record per invocation.

// header is the part of every Cognito user pool event the companions read.
// https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html
type header struct {
	Version       string `json:"version"`
	TriggerSource string `json:"triggerSource"`
	UserPoolID    string `json:"userPoolId"`
	UserName      string `json:"userName"`
	CallerContext struct {
		ClientID string `json:"clientId"`
	} `json:"callerContext"`
}

// rawEvent is an event kept as it came, so it can be sent back with only
// its response replaced.
type rawEvent map[string]json.RawMessage

// decodeCompanion reads payload into raw and h, and the request object into
// req. Its errors quote nothing of the event.
func decodeCompanion(payload []byte, h *header, req any) (rawEvent, error) {
	var raw rawEvent
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, describe(err, "event")
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: event must be a JSON object", errInvalidEvent)
	}
	if err := json.Unmarshal(payload, h); err != nil {
		return nil, describe(err, "event")
	}
	if r, ok := raw["request"]; ok && req != nil && !bytes.Equal(r, []byte("null")) {
		if err := json.Unmarshal(r, req); err != nil {
			return nil, describe(err, "request")
		}
	}
	return raw, nil
}

// withResponse returns the event with its response replaced by resp, or as
// it came when resp is nil.
func (e rawEvent) withResponse(resp any) ([]byte, error) {
	if resp == nil {
		return e.encode(nil)
	}
	r, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return e.encode(r)
}

// encode writes the event with its response replaced by r (as it came when
// r is nil), without escaping HTML characters: every trigger answers so.
func (e rawEvent) encode(r json.RawMessage) ([]byte, error) {
	out := make(map[string]json.RawMessage, len(e)+1)
	for k, v := range e {
		out[k] = v
	}
	if r != nil {
		out["response"] = r
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return buf.Bytes(), nil
}

// within is the time calls may take: budget, cut short if the Lambda
// deadline comes first, leaving time to answer.
func within(ctx context.Context, budget time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) - 100*time.Millisecond; left < budget {
			return max(left, 0)
		}
	}
	return budget
}

// companionRecord is what one companion invocation logs.
type companionRecord struct {
	h       *header
	outcome migrate.Outcome
	reason  migrate.Reason
	errKind migrate.FaultKind
	err     error
	// attrs are the trigger's own fields: names and counts, never values
	// a person typed.
	attrs []slog.Attr
}

func (r *companionRecord) fail(kind migrate.FaultKind, err error) {
	r.outcome, r.errKind, r.err = migrate.OutcomeError, kind, err
}

// invoke runs handle inside what every companion trigger shares: the event's
// header and request decoded into req (bad input gets the invalid-event
// message), a panic answered with the fixed unavailable message, and one log
// line (message msg) and metric record whatever happens.
func (l companionLog) invoke(ctx context.Context, msg string, payload []byte, req any,
	handle func(rec *companionRecord, h header, raw rawEvent) ([]byte, error)) (out []byte, err error) {
	start := time.Now()
	rec := companionRecord{}
	defer func() {
		if v := recover(); v != nil {
			// The raw event may be unknown here: the fixed message.
			out, err = nil, failure(ErrorTypeUnavailable, UnavailableMessage)
			rec.fail(migrate.FaultPanic, migrate.Recovered(v))
		}
		l.write(ctx, msg, rec, time.Since(start))
	}()
	var h header
	raw, err := decodeCompanion(payload, &h, req)
	if err != nil {
		rec.fail(migrate.FaultInvalidEvent, err)
		return nil, failure(ErrorTypeInvalid, InvalidMessage)
	}
	rec.h = &h
	return handle(&rec, h, raw)
}

// companionLog writes the invocation's log line (message msg) and metric.
type companionLog struct {
	log     *slog.Logger
	metrics *metrics.EMF
}

func (l companionLog) write(ctx context.Context, msg string, r companionRecord, took time.Duration) {
	attrs := make([]slog.Attr, 0, 10+len(r.attrs))
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("requestId", lc.AwsRequestID))
	}
	source := ""
	if r.h != nil {
		source = r.h.TriggerSource
		attrs = append(attrs,
			slog.String("triggerSource", r.h.TriggerSource),
			slog.String("userPoolId", r.h.UserPoolID),
			slog.String("clientId", r.h.CallerContext.ClientID),
		)
	}
	attrs = append(attrs, slog.String("outcome", string(r.outcome)))
	if r.reason != "" {
		attrs = append(attrs, slog.String("reason", string(r.reason)))
	}
	attrs = append(attrs, r.attrs...)
	level := slog.LevelInfo
	if r.err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("errorKind", string(r.errKind)), slog.String("error", r.err.Error()))
		if errors.Is(r.err, context.DeadlineExceeded) {
			attrs = append(attrs, slog.String("why", "a call did not answer within the time budget"))
		}
	}
	attrs = append(attrs, slog.Float64("durationMs", float64(took.Microseconds())/1000))
	l.log.LogAttrs(ctx, level, msg, attrs...)

	inv := metrics.Invocation{TriggerSource: source, Outcome: r.outcome, Reason: string(r.reason), Latency: took}
	if r.outcome == migrate.OutcomeError {
		inv.Reason = string(r.errKind)
	}
	l.metrics.Record(ctx, inv)
}

package trigger

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Messages end users may read. Cognito shows a function error's message to
// the person signing in, so no other text ever leaves the function.
const (
	DeclineMessage     = "Incorrect username or password."
	UnavailableMessage = "Sign-in is temporarily unavailable. Please try again."
	InvalidMessage     = "This sign-in request cannot be handled."
)

// Error types in the function error body ("errorType").
const (
	ErrorTypeDeclined    = "UserMigrationDeclined"
	ErrorTypeUnavailable = "UserMigrationUnavailable"
	ErrorTypeInvalid     = "InvalidEvent"
)

// DefaultBudget is how long one invocation may spend on the old pool,
// retries included. Cognito waits 5 seconds for the whole invocation, cold
// start and network to Lambda included.
const DefaultBudget = 3 * time.Second

// Decider makes the migration decisions (migrate.Migrator).
type Decider interface {
	Authenticate(ctx context.Context, req migrate.Request) (migrate.Decision, error)
	ForgotPassword(ctx context.Context, req migrate.Request) (migrate.Decision, error)
}

// Handler is the Lambda handler of the "Migrate user" trigger. It satisfies
// aws-lambda-go's lambda.Handler, so the Lambda runtime and the local invoke
// server run exactly the same code.
type Handler struct {
	decider Decider
	log     *slog.Logger
	decline migrate.DeclineMode
	// coldLeft, when set, caps the first invocation's budget; started
	// records that the first invocation began.
	coldLeft time.Duration
	started  atomic.Bool
	budget   time.Duration
	// metrics, when set, reports each invocation (WithMetrics).
	metrics func(context.Context, record, time.Duration)
	// nameKey keys the hash logged for typed names the old pool does not
	// know (random per container, never logged).
	nameKey []byte
}

// Option configures a Handler.
type Option func(*Handler)

// WithDeclineMode sets how users are declined (default migrate.DeclineEmpty).
func WithDeclineMode(m migrate.DeclineMode) Option { return func(h *Handler) { h.decline = m } }

// WithBudget sets the time allowed for old-pool calls (default DefaultBudget).
func WithBudget(d time.Duration) Option { return func(h *Handler) { h.budget = d } }

// ColdStartLimit is how long a cold start may take in all, from the
// process's start to the first answer: Cognito waits 5 seconds for the
// whole invocation, and Lambda needs some of them to start the process and
// deliver the event.
const ColdStartLimit = 4500 * time.Millisecond

// WithColdStart says start-up took spent: the first invocation's budget is
// cut to what is left of ColdStartLimit, so a slow start-up and a slow old
// pool together still answer Cognito in time. A start-up that took longer
// than the limit (a retried one, long after the process started) cuts
// nothing: its first event is not the one Cognito sent at the cold start.
func WithColdStart(spent time.Duration) Option {
	return func(h *Handler) {
		if spent > 0 && spent < ColdStartLimit {
			h.coldLeft = ColdStartLimit - spent
		}
	}
}

// WithMetrics writes one CloudWatch EMF record per invocation to m: its
// outcome, the decline reason or error kind, the trigger source and the
// latency; never the username.
func WithMetrics(m *metrics.EMF) Option {
	return func(h *Handler) {
		h.metrics = func(ctx context.Context, r record, took time.Duration) {
			inv := metrics.Invocation{Outcome: r.outcome, Reason: string(r.decision.Reason), Latency: took}
			if r.outcome == migrate.OutcomeError {
				inv.Reason = string(r.errKind)
			}
			if r.event != nil {
				inv.TriggerSource = r.event.TriggerSource
			}
			m.Record(ctx, inv)
		}
	}
}

// NewHandler returns a Handler that decides with d and logs one line per
// invocation to log.
func NewHandler(d Decider, log *slog.Logger, opts ...Option) *Handler {
	h := &Handler{decider: d, log: log, decline: migrate.DeclineEmpty, budget: DefaultBudget, nameKey: make([]byte, 32)}
	_, _ = rand.Read(h.nameKey) // never fails (crypto/rand panics rather than return an error)
	for _, o := range opts {
		o(h)
	}
	return h
}

// Invoke handles one event. It never panics and never returns an error whose
// message is not one of the end-user messages above.
func (h *Handler) Invoke(ctx context.Context, payload []byte) (out []byte, err error) {
	start := time.Now()
	rec := record{}
	defer func() {
		if p := recover(); p != nil {
			// The panic value may hold anything, the event included: it is
			// reported by type only.
			out, err = nil, failure(ErrorTypeUnavailable, UnavailableMessage)
			rec.fail(migrate.FaultPanic, migrate.Recovered(p))
		}
		h.logDecision(ctx, rec, time.Since(start))
		if h.metrics != nil {
			h.metrics(ctx, rec, time.Since(start))
		}
	}()

	ev, err := DecodeEvent(payload)
	if err != nil {
		rec.fail(migrate.FaultInvalidEvent, err)
		return nil, failure(ErrorTypeInvalid, InvalidMessage)
	}
	rec.event = ev

	ctx, cancel := context.WithTimeout(ctx, h.budgetFor(ctx))
	defer cancel()

	var d migrate.Decision
	req := migrate.Request{NewPoolID: ev.UserPoolID, Username: ev.UserName, Password: ev.Request.Password}
	switch ev.TriggerSource {
	case migrate.SourceAuthentication:
		d, err = h.decider.Authenticate(ctx, req)
	case migrate.SourceForgotPassword:
		req.Password = "" // forgot-password events carry none; never trust one that does
		d, err = h.decider.ForgotPassword(ctx, req)
	default:
		rec.fail(migrate.FaultInvalidEvent, fmt.Errorf("unsupported trigger source %q", ev.TriggerSource))
		return nil, failure(ErrorTypeInvalid, InvalidMessage)
	}
	rec.decision = d
	if err != nil {
		rec.fail(migrate.KindOf(err), err)
		return nil, failure(ErrorTypeUnavailable, UnavailableMessage)
	}
	if !d.Migrate {
		rec.outcome = migrate.OutcomeDeclined
		if h.decline == migrate.DeclineError {
			return nil, failure(ErrorTypeDeclined, DeclineMessage)
		}
		// The event with an empty response, as Cognito sent it: Cognito
		// reads that as "no such user". It is rebuilt rather than echoed, so
		// no attributes leave the function unless a decision proved them.
		out, err = ev.EncodeDecline()
		if err != nil {
			rec.fail(migrate.FaultEncode, err)
			return nil, failure(ErrorTypeUnavailable, UnavailableMessage)
		}
		return out, nil
	}
	rec.outcome = migrate.OutcomeMigrated
	out, err = ev.Encode(response(d))
	if err != nil {
		rec.fail(migrate.FaultEncode, err)
		return nil, failure(ErrorTypeUnavailable, UnavailableMessage)
	}
	return out, nil
}

// response is what Cognito needs to create the user the decision describes.
func response(d migrate.Decision) Response {
	attrs := d.Attributes
	if d.ResponseUsername != "" {
		// Cognito wants "username" left out or equal to what was typed,
		// except for alias sign-ins, where it is the real username and the
		// typed value goes into the alias attribute (the decision did that).
		attrs = make(map[string]string, len(d.Attributes)+1)
		for k, v := range d.Attributes {
			attrs[k] = v
		}
		attrs["username"] = d.ResponseUsername
	}
	return Response{
		UserAttributes:  attrs,
		FinalUserStatus: string(d.FinalStatus),
		// A silent move: the user already knows their account.
		MessageAction: "SUPPRESS",
		EnableSMSMFA:  d.EnableSMSMFA,
	}
}

// budgetFor is the time old-pool calls may take: the handler's budget, cut
// short if the Lambda deadline comes first.
func (h *Handler) budgetFor(ctx context.Context) time.Duration {
	b := h.budget
	if h.coldLeft > 0 && !h.started.Swap(true) {
		b = min(b, h.coldLeft)
	}
	if dl, ok := ctx.Deadline(); ok {
		// Leave time to answer after the calls give up.
		if left := time.Until(dl) - 100*time.Millisecond; left < b {
			b = max(left, 0)
		}
	}
	return b
}

// failure is a function error: the runtime sends Type as errorType and
// Message as errorMessage, and Cognito may show Message to the user.
func failure(typ, msg string) error {
	return messages.InvokeResponse_Error{Type: typ, Message: msg}
}

// record is what one invocation logs.
type record struct {
	event    *Event
	decision migrate.Decision
	outcome  migrate.Outcome
	errKind  migrate.FaultKind
	err      error
}

// fail records a fault of kind.
func (r *record) fail(kind migrate.FaultKind, err error) {
	r.outcome, r.errKind, r.err = migrate.OutcomeError, kind, err
}

// logDecision writes the invocation's one log line. It names the user but
// never holds the password, the event, a token or a secret.
func (h *Handler) logDecision(ctx context.Context, r record, took time.Duration) {
	attrs := make([]slog.Attr, 0, 12)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("requestId", lc.AwsRequestID))
	}
	if ev := r.event; ev != nil {
		attrs = append(attrs,
			slog.String("triggerSource", ev.TriggerSource),
			slog.String("userPoolId", ev.UserPoolID),
			slog.String("clientId", ev.CallerContext.ClientID),
		)
		// People type their password into the username box: what was
		// typed is shown only when the old pool knows it as the user's
		// username or alias; otherwise a keyed hash still lets attempts
		// with the same name be counted together.
		if r.decision.NameKnown {
			attrs = append(attrs, slog.String("userName", ev.UserName))
		} else if ev.UserName != "" {
			attrs = append(attrs, slog.String("userNameHash", h.nameHash(ev.UserName)))
		}
	}
	attrs = append(attrs, slog.String("outcome", string(r.outcome)))
	if r.decision.Reason != "" {
		attrs = append(attrs, slog.String("reason", string(r.decision.Reason)))
	}
	if r.decision.Detail != "" {
		attrs = append(attrs, slog.String("detail", r.decision.Detail))
	}
	if r.decision.OldPool != "" {
		attrs = append(attrs, slog.String("oldPool", r.decision.OldPool))
	}
	if r.decision.Migrate {
		attrs = append(attrs,
			slog.String("oldUsername", r.decision.Username),
			slog.String("finalUserStatus", string(r.decision.FinalStatus)),
			slog.Int("attributes", len(r.decision.Attributes)),
		)
		if r.decision.EnableSMSMFA {
			attrs = append(attrs, slog.Bool("enableSMSMFA", true))
		}
	}
	// Names only, never values: what the new pool's schema could not take
	// (no such attribute, or a value it refuses), what a renamed value
	// replaced, and which of its required attributes the user lacks.
	if len(r.decision.Dropped) > 0 {
		attrs = append(attrs, slog.Any("droppedAttributes", r.decision.Dropped))
	}
	if len(r.decision.Invalid) > 0 {
		attrs = append(attrs, slog.Any("invalidAttributes", r.decision.Invalid))
	}
	if len(r.decision.Overwritten) > 0 {
		attrs = append(attrs, slog.Any("overwrittenAttributes", r.decision.Overwritten))
	}
	if len(r.decision.Missing) > 0 {
		attrs = append(attrs, slog.Any("missingRequiredAttributes", r.decision.Missing))
	}
	level := slog.LevelInfo
	if r.err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("errorKind", string(r.errKind)), slog.String("error", h.scrub(r)))
		// A fault that is not the old pool's says whose it is: the STS
		// renewal of the old pool's credentials ("sts").
		var svc interface{ FaultService() string }
		fromService := errors.As(r.err, &svc)
		if fromService {
			attrs = append(attrs, slog.String("faultService", svc.FaultService()))
		}
		switch {
		case fromService && errors.Is(r.err, context.DeadlineExceeded):
			attrs = append(attrs, slog.String("why", svc.FaultService()+" did not answer within the time budget (credentials for the old pool)"))
		case errors.Is(r.err, context.DeadlineExceeded):
			attrs = append(attrs, slog.String("why", "old pool did not answer within the time budget"))
		}
	}
	attrs = append(attrs, slog.Float64("durationMs", float64(took.Microseconds())/1000))
	h.log.LogAttrs(ctx, level, "user migration", attrs...)
}

// nameHash is the first 12 hex digits of HMAC-SHA256(nameKey, name).
func (h *Handler) nameHash(name string) string {
	m := hmac.New(sha256.New, h.nameKey)
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil))[:12]
}

// scrub is the fault's text without what the user typed: AWS's validation
// messages quote the values they refuse ("Value '...' at 'username' failed
// to satisfy constraint"), and a typed name the old pool does not know may
// be a password.
func (h *Handler) scrub(r record) string {
	text := r.err.Error()
	if ev := r.event; ev != nil {
		if ev.Request.Password != "" {
			text = strings.ReplaceAll(text, ev.Request.Password, "[password]")
		}
		if ev.UserName != "" && !r.decision.NameKnown {
			text = strings.ReplaceAll(text, ev.UserName, "[userNameHash "+h.nameHash(ev.UserName)+"]")
		}
	}
	return text
}

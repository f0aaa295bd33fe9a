package trigger

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Router is the function's one Lambda handler: it sends each event to the
// handler of its trigger, by the event's triggerSource. "UserMigration_*"
// (and anything unreadable or unknown, which that handler refuses with its
// own log line) go to the migrate-user Handler, "TokenGeneration_*" to the
// pre token generation handler, "PreSignUp_*" to the pre sign-up handler.
//
// A companion trigger is enabled by its settings (LEGACY_GROUPS_ATTRIBUTE,
// SIGNUP_GUARD). An event for one that is not enabled gets a function error
// with the unavailable message, a log line naming the setting and the
// metric's "configuration" reason, so the alarm fires: the pool was wired
// to a trigger the function was not told to serve. For pre token
// generation that fails every sign-in of the new pool until it is fixed;
// docs/triggers.md says so.
type Router struct {
	migrateUser lambda.Handler
	preToken    *PreToken
	preSignUp   *PreSignUp
	log         *slog.Logger
	metrics     *metrics.EMF
}

// RouterOption configures a Router.
type RouterOption func(*Router)

// RouteTokens sends "TokenGeneration_*" events to h.
func RouteTokens(h *PreToken) RouterOption { return func(r *Router) { r.preToken = h } }

// RouteSignUps sends "PreSignUp_*" events to h.
func RouteSignUps(h *PreSignUp) RouterOption { return func(r *Router) { r.preSignUp = h } }

// RouteMetrics writes the metric record of events refused for want of
// configuration to m.
func RouteMetrics(m *metrics.EMF) RouterOption { return func(r *Router) { r.metrics = m } }

// NewRouter returns a Router that sends migrate-user events (and anything
// it cannot place) to migrateUser.
func NewRouter(migrateUser lambda.Handler, log *slog.Logger, opts ...RouterOption) *Router {
	r := &Router{migrateUser: migrateUser, log: log}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Invoke dispatches one event.
func (r *Router) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	switch source := peekSource(payload); {
	case strings.HasPrefix(source, migrate.SourceTokenPrefix):
		if r.preToken == nil {
			return r.notConfigured(ctx, source, "pre token generation", migrate.SettingGroupsAttribute)
		}
		return r.preToken.Invoke(ctx, payload)
	case strings.HasPrefix(source, migrate.SourceSignUpPrefix):
		if r.preSignUp == nil {
			return r.notConfigured(ctx, source, "pre sign-up", migrate.SettingSignUpGuard)
		}
		return r.preSignUp.Invoke(ctx, payload)
	}
	return r.migrateUser.Invoke(ctx, payload)
}

// peekSource reads the event's triggerSource, or "" when it cannot.
func peekSource(payload []byte) string {
	var ev struct {
		TriggerSource string `json:"triggerSource"`
	}
	if json.Unmarshal(payload, &ev) != nil {
		return ""
	}
	return ev.TriggerSource
}

func (r *Router) notConfigured(ctx context.Context, source, trigger, setting string) ([]byte, error) {
	err := fmt.Errorf("the pool sends %s events (%s), but %s is not set: set it to serve this trigger, or detach the trigger from the pool", trigger, source, setting)
	attrs := []slog.Attr{slog.String("triggerSource", source), slog.String("outcome", string(migrate.OutcomeError)),
		slog.String("errorKind", string(migrate.FaultConfiguration)), slog.String("error", err.Error())}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append([]slog.Attr{slog.String("requestId", lc.AwsRequestID)}, attrs...)
	}
	r.log.LogAttrs(ctx, slog.LevelError, "trigger not configured", attrs...)
	r.metrics.Record(ctx, metrics.Invocation{TriggerSource: source, Outcome: migrate.OutcomeError,
		Reason: string(migrate.FaultConfiguration), Latency: time.Duration(0)})
	return nil, failure(ErrorTypeUnavailable, UnavailableMessage)
}

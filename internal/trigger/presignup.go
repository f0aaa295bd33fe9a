package trigger

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// ErrorTypeSignUpRefused is the function error type of a refused sign-up.
const ErrorTypeSignUpRefused = "SignUpRefused"

// DefaultSignUpGuardMessage is SIGNUP_GUARD_MESSAGE's default. Cognito
// shows it to the person signing up as
// "PreSignUp failed with error <message>."
const DefaultSignUpGuardMessage = "An account with these details already exists. Sign in with your existing password, or reset your password."

// PreSignUp is the handler of the pre sign-up trigger ("PreSignUp_*"). It
// refuses a self-service sign-up (PreSignUp_SignUp) whose username, email
// or phone number still belongs to an old-pool user who has not migrated;
// every other source passes untouched, because Cognito may run this trigger
// while a migration creates the user, with a source nobody has documented,
// and a guard that blocks migration is worse than none. When the old pool
// cannot answer, the sign-up is let through and the fault logged: the guard
// never makes sign-up depend on the old pool being up.
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-sign-up.html
type PreSignUp struct {
	guard   *migrate.SignUpGuard
	message string
	log     companionLog
	budget  time.Duration
}

// NewPreSignUp returns the pre sign-up handler; message is what a refused
// person reads.
func NewPreSignUp(guard *migrate.SignUpGuard, message string, log *slog.Logger, m *metrics.EMF) *PreSignUp {
	if message == "" {
		message = DefaultSignUpGuardMessage
	}
	return &PreSignUp{guard: guard, message: message, log: companionLog{log: log, metrics: m}, budget: DefaultBudget}
}

type signUpRequest struct {
	UserAttributes map[string]json.RawMessage `json:"userAttributes"`
}

// Invoke handles one pre sign-up event.
func (p *PreSignUp) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req signUpRequest
	return p.log.invoke(ctx, "pre sign-up", payload, &req, func(rec *companionRecord, h header, raw rawEvent) ([]byte, error) {
		return p.handle(ctx, rec, h, &req, raw)
	})
}

// handle decides one decoded event; Invoke logs rec.
func (p *PreSignUp) handle(ctx context.Context, rec *companionRecord, h header, req *signUpRequest, raw rawEvent) ([]byte, error) {
	if h.TriggerSource != migrate.SourceSignUp {
		rec.outcome, rec.reason = migrate.OutcomeAllowed, migrate.NotGuarded
		return raw.withResponse(nil)
	}

	attrs := make(map[string]string, len(req.UserAttributes))
	for name := range req.UserAttributes {
		if v, ok := stringAttribute(req.UserAttributes, name); ok {
			attrs[name] = v
		}
	}
	ctx, cancel := context.WithTimeout(ctx, within(ctx, p.budget))
	defer cancel()
	d, err := p.guard.Check(ctx, migrate.SignUp{NewPoolID: h.UserPoolID, Username: h.UserName, Attributes: attrs})
	if err != nil {
		rec.fail(migrate.KindOf(err), err)
		rec.attrs = append(rec.attrs, slog.String("signUp", "let through: the old pool could not be asked"))
		return raw.withResponse(nil)
	}
	rec.reason = d.Reason
	if d.Matched != "" {
		rec.attrs = append(rec.attrs, slog.String("matched", d.Matched))
	}
	if d.Refuse {
		rec.outcome = migrate.OutcomeRefused
		return nil, failure(ErrorTypeSignUpRefused, p.message)
	}
	rec.outcome = migrate.OutcomeAllowed
	return raw.withResponse(nil)
}

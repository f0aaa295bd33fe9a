package migrate

import (
	"context"
	"errors"
	"fmt"
)

// The words logs and metrics use for what happened, defined once here: the
// trigger writes them, the metrics keep only these as dimension values, and
// the dashboard and alarms are tested against them.

// Outcome is how an invocation ended.
type Outcome string

// Outcomes.
const (
	OutcomeMigrated Outcome = "migrated"
	OutcomeDeclined Outcome = "declined"
	OutcomeError    Outcome = "error"
	// OutcomeAllowed: the companion triggers let the event through as it
	// came (a sign-up nobody else owns, tokens with nothing to add).
	OutcomeAllowed Outcome = "allowed"
	// OutcomeRefused: a sign-up refused by the guard.
	OutcomeRefused Outcome = "refused"
	// OutcomeGroupsApplied: the pre token generation trigger applied the
	// groups a migration carried.
	OutcomeGroupsApplied Outcome = "groups_applied"
)

// Outcomes lists every Outcome.
func Outcomes() []Outcome {
	return []Outcome{OutcomeMigrated, OutcomeDeclined, OutcomeError, OutcomeAllowed, OutcomeRefused, OutcomeGroupsApplied}
}

// Trigger sources of the "Migrate user" trigger's events (the event's
// triggerSource).
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-migrate-user.html
const (
	SourceAuthentication = "UserMigration_Authentication"
	SourceForgotPassword = "UserMigration_ForgotPassword"
)

// Trigger sources of the pre token generation trigger.
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
const (
	SourceTokenPrefix               = "TokenGeneration_"
	SourceTokenAuthentication       = "TokenGeneration_Authentication"
	SourceTokenHostedAuth           = "TokenGeneration_HostedAuth"
	SourceTokenNewPasswordChallenge = "TokenGeneration_NewPasswordChallenge"
	SourceTokenAuthenticateDevice   = "TokenGeneration_AuthenticateDevice"
	SourceTokenRefreshTokens        = "TokenGeneration_RefreshTokens"
	SourceTokenClientCredentials    = "TokenGeneration_ClientCredentials"
)

// Trigger sources of the pre sign-up trigger.
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-sign-up.html
const (
	SourceSignUpPrefix           = "PreSignUp_"
	SourceSignUp                 = "PreSignUp_SignUp"
	SourceSignUpAdminCreateUser  = "PreSignUp_AdminCreateUser"
	SourceSignUpExternalProvider = "PreSignUp_ExternalProvider"
)

// SourceMigrationPrefix starts every "Migrate user" trigger source.
const SourceMigrationPrefix = "UserMigration_"

// Sources lists every trigger source the function handles: the metrics'
// TriggerSource values (any other is "unknown").
func Sources() []string {
	return []string{
		SourceAuthentication, SourceForgotPassword,
		SourceTokenAuthentication, SourceTokenHostedAuth, SourceTokenNewPasswordChallenge,
		SourceTokenAuthenticateDevice, SourceTokenRefreshTokens, SourceTokenClientCredentials,
		SourceSignUp, SourceSignUpAdminCreateUser, SourceSignUpExternalProvider,
	}
}

// Reasons lists every decline reason a decision can give, and Migrated.
func Reasons() []Reason {
	return []Reason{
		Migrated, BadCredentials, UserNotFound, UserDisabled, UserNotConfirmed, PasswordResetNeeded,
		UnsupportedStatus, ChallengeRequired, NoVerifiedContact, EmptyInput, SignInNameNotUsable,
		UsernameCaseMismatch, AliasCaseMismatch, UsernameIsEmail, MFARequired, OutOfScope, AmbiguousUser,
	}
}

// FaultKind classifies an error that is not a decision: something kept the
// function from deciding. It is logged and is the metrics' Reason for the
// "error" outcome.
type FaultKind string

// Fault kinds.
const (
	// FaultTimeout: a call did not answer within the time budget.
	FaultTimeout FaultKind = "timeout"
	// FaultThrottled: AWS throttled the calls even after retries.
	FaultThrottled FaultKind = "throttled"
	// FaultConfiguration: our configuration or permissions are wrong; every
	// event fails until an operator fixes it.
	FaultConfiguration FaultKind = "configuration"
	// FaultUnavailable: the service or the network failed.
	FaultUnavailable FaultKind = "unavailable"
	// FaultUnknown: AWS answered with an error code nobody classified.
	FaultUnknown FaultKind = "unknown"
	// FaultInvalidEvent: the event could not be read.
	FaultInvalidEvent FaultKind = "invalid_event"
	// FaultEncode: the answer could not be written.
	FaultEncode FaultKind = "encode"
	// FaultPanic: a recovered panic.
	FaultPanic FaultKind = "panic"
)

// FaultKinds lists every FaultKind.
func FaultKinds() []FaultKind {
	return []FaultKind{FaultTimeout, FaultThrottled, FaultConfiguration, FaultUnavailable, FaultUnknown,
		FaultInvalidEvent, FaultEncode, FaultPanic}
}

// Fault is an error an adapter has classified.
type Fault struct {
	Kind FaultKind
	Err  error
}

func (f *Fault) Error() string { return f.Err.Error() }

// Recovered is the fault of a recovered panic whose value was v. It names
// v's type only: the value may hold anything, a password included.
func Recovered(v any) *Fault {
	return &Fault{Kind: FaultPanic, Err: fmt.Errorf("recovered panic of type %T", v)}
}
func (f *Fault) Unwrap() error { return f.Err }

// KindOf classifies err: the kind of the Fault it holds, configuration for
// a *ConfigError, timeout when a deadline ran out, and unavailable for
// anything else.
func KindOf(err error) FaultKind {
	var cfg *ConfigError
	var f *Fault
	switch {
	case errors.As(err, &cfg):
		return FaultConfiguration
	case errors.As(err, &f):
		return f.Kind
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return FaultTimeout
	}
	return FaultUnavailable
}

// DeclineMode is how the function tells Cognito "do not migrate this user"
// (DECLINE_RESPONSE).
type DeclineMode string

const (
	// DeclineEmpty returns the event with its response untouched. Real
	// Cognito treats that as "no such user": with PreventUserExistenceErrors
	// enabled on the app client the user sees the ordinary
	// "Incorrect username or password.", exactly as for a wrong password in
	// the new pool, and the function records no error.
	DeclineEmpty DeclineMode = "empty"
	// DeclineError returns a function error whose message is safe for end
	// users (Cognito shows it: "UserMigration failed with error ...").
	// cognito-local needs this: it turns an empty response into a signed-in,
	// attribute-less user.
	DeclineError DeclineMode = "error"
)

// Names of the settings the decisions and the trigger name in their errors
// and logs (the settings package defines its names from these).
const (
	SettingLegacySub       = "LEGACY_SUB_ATTRIBUTE"
	SettingGroupsAttribute = "LEGACY_GROUPS_ATTRIBUTE"
	SettingSignUpGuard     = "SIGNUP_GUARD"
)

// Package migrate decides, from what the old user pool says, whether a user
// who is unknown to the new pool may be created there, and with what.
//
// It knows nothing of AWS, JSON or Lambda: the old pool is reached through
// the OldPool interface, and the result is a Decision that the trigger package
// turns into Cognito's response. It imports only the standard library.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Status values of a user in a Cognito user pool (UserStatusType).
const (
	StatusConfirmed           = "CONFIRMED"
	StatusUnconfirmed         = "UNCONFIRMED"
	StatusResetRequired       = "RESET_REQUIRED"
	StatusForceChangePassword = "FORCE_CHANGE_PASSWORD"
)

// Outcomes of the old pool that mean "this person did not prove who they
// are". The cognito adapter maps the service's error codes onto them; the
// decision treats every one of them the same way from the outside.
var (
	// ErrBadCredentials: wrong password, unknown user under
	// PreventUserExistenceErrors, disabled user, lockout.
	ErrBadCredentials = errors.New("old pool refused the credentials")
	// ErrUserNotFound: the old pool has no such user.
	ErrUserNotFound = errors.New("old pool has no such user")
	// ErrPasswordResetRequired: the user must reset their password in the old pool.
	ErrPasswordResetRequired = errors.New("old pool requires a password reset")
	// ErrUserNotConfirmed: the user never confirmed their sign-up.
	ErrUserNotConfirmed = errors.New("old pool user is not confirmed")
)

// SignIn is what the old pool answered to a correct password: either tokens
// (Challenge is empty) or a challenge that must be met before tokens are
// issued. The tokens themselves are never carried out of the adapter.
type SignIn struct {
	// Challenge is the ChallengeName, e.g. "SOFTWARE_TOKEN_MFA" or
	// "NEW_PASSWORD_REQUIRED"; empty when the old pool issued tokens.
	Challenge string
}

// User is a user as the old pool describes it (AdminGetUser).
type User struct {
	// Username is the user's real username in the old pool, which can differ
	// from what they typed (an alias such as their email address).
	Username   string
	Enabled    bool
	Status     string
	Attributes map[string]string
}

// OldPool is the old user pool, as the decision needs it.
type OldPool interface {
	// SignIn checks a username and password (ADMIN_USER_PASSWORD_AUTH). A
	// refusal is returned as one of the Err* outcomes above, wrapped; any
	// other error is a fault (throttling, network, configuration).
	SignIn(ctx context.Context, username, password string) (SignIn, error)
	// GetUser reads a user (AdminGetUser). ErrUserNotFound, wrapped, when the
	// old pool has no such user.
	GetUser(ctx context.Context, username string) (User, error)
}

// Reason says why a user was or was not migrated. It is written to logs and
// metrics, never to the end user.
type Reason string

// Reasons. Every decline reason looks the same to the caller; they differ
// only in logs and metrics.
const (
	Migrated            Reason = "migrated"
	BadCredentials      Reason = "bad_credentials"
	UserNotFound        Reason = "user_not_found"
	UserDisabled        Reason = "user_disabled"
	UserNotConfirmed    Reason = "user_not_confirmed"
	PasswordResetNeeded Reason = "password_reset_required"
	UnsupportedStatus   Reason = "unsupported_status"
	ChallengeRequired   Reason = "challenge_required"
	NoVerifiedContact   Reason = "no_verified_contact"
	EmptyInput          Reason = "empty_input"
)

// FinalStatus is the status the new pool gives a migrated user.
type FinalStatus string

// Final statuses Cognito accepts in the trigger's response.
const (
	// FinalConfirmed keeps the password the user just typed.
	FinalConfirmed FinalStatus = "CONFIRMED"
	// FinalResetRequired makes the user choose a new password. It is also
	// what Cognito does when no finalUserStatus is returned.
	FinalResetRequired FinalStatus = "RESET_REQUIRED"
)

// Decision is the answer to one trigger invocation.
type Decision struct {
	// Migrate is true when the user may be created in the new pool.
	Migrate bool
	Reason  Reason
	// Detail is a short, secret-free note for the log (e.g. the challenge
	// name or the old status).
	Detail string
	// Username is the old user's real username.
	Username string
	// Attributes to create the user with (only when Migrate).
	Attributes map[string]string
	// FinalStatus is empty for forgot-password migrations: Cognito then
	// leaves the user to finish the reset it is about to send a code for.
	FinalStatus FinalStatus
}

func decline(r Reason, detail string) Decision {
	return Decision{Reason: r, Detail: detail}
}

// Migrator makes the decisions for one old pool.
type Migrator struct {
	pool OldPool
}

// New returns a Migrator that consults pool.
func New(pool OldPool) *Migrator {
	return &Migrator{pool: pool}
}

// Authenticate decides a UserMigration_Authentication event: the user typed
// username and password at the new pool.
//
// The sign-in and the user lookup are sent to the old pool at the same time,
// so a migration costs one round trip on its critical path, not two. The
// lookup's answer is used only when the sign-in proved the password.
func (m *Migrator) Authenticate(ctx context.Context, username, password string) (Decision, error) {
	if username == "" || password == "" {
		return decline(EmptyInput, ""), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type lookup struct {
		user User
		err  error
	}
	looked := make(chan lookup, 1)
	go func() {
		u, err := m.pool.GetUser(ctx, username)
		looked <- lookup{u, err}
	}()

	signIn, err := m.pool.SignIn(ctx, username, password)
	if err != nil {
		cancel() // the lookup's answer no longer matters
		return refused(err)
	}
	if signIn.Challenge != "" {
		// The password was accepted, but the old pool wants more (a second
		// factor, or a new password in place of a temporary one). Turning
		// that into CONFIRMED would skip the factor or keep a temporary
		// password, so the user is declined.
		return decline(ChallengeRequired, signIn.Challenge), nil
	}

	var got lookup
	select {
	case got = <-looked:
	case <-ctx.Done():
		return Decision{}, fmt.Errorf("get user: %w", ctx.Err())
	}
	if got.err != nil {
		if errors.Is(got.err, ErrUserNotFound) {
			// Tokens for a user the lookup cannot find: the two calls saw
			// different users (deleted in between). Nothing is proven.
			return decline(UserNotFound, "after sign-in"), nil
		}
		return Decision{}, fmt.Errorf("get user: %w", got.err)
	}
	u := got.user
	if d, ok := refuseStatus(u); !ok {
		return d, nil
	}
	return Decision{
		Migrate:     true,
		Reason:      Migrated,
		Username:    u.Username,
		Attributes:  Transferable(u.Attributes),
		FinalStatus: FinalConfirmed,
	}, nil
}

// ForgotPassword decides a UserMigration_ForgotPassword event: the user asked
// the new pool to reset their password, so there is no password to check.
// Only an enabled, confirmed user with somewhere to send the code moves, and
// never as CONFIRMED: Cognito sends the reset code and the user sets a new
// password.
func (m *Migrator) ForgotPassword(ctx context.Context, username string) (Decision, error) {
	if username == "" {
		return decline(EmptyInput, ""), nil
	}
	u, err := m.pool.GetUser(ctx, username)
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			return decline(UserNotFound, ""), nil
		}
		return Decision{}, fmt.Errorf("get user: %w", err)
	}
	if d, ok := refuseStatus(u); !ok {
		return d, nil
	}
	attrs := Transferable(u.Attributes)
	if !hasVerifiedContact(attrs) {
		return decline(NoVerifiedContact, ""), nil
	}
	return Decision{
		Migrate:    true,
		Reason:     Migrated,
		Username:   u.Username,
		Attributes: attrs,
	}, nil
}

// refused turns a sign-in refusal into a decline, and anything else into a
// fault.
func refused(err error) (Decision, error) {
	switch {
	case errors.Is(err, ErrBadCredentials):
		return decline(BadCredentials, ""), nil
	case errors.Is(err, ErrUserNotFound):
		return decline(UserNotFound, ""), nil
	case errors.Is(err, ErrPasswordResetRequired):
		return decline(PasswordResetNeeded, ""), nil
	case errors.Is(err, ErrUserNotConfirmed):
		return decline(UserNotConfirmed, ""), nil
	}
	return Decision{}, fmt.Errorf("sign in: %w", err)
}

// refuseStatus declines users who are not enabled and CONFIRMED. It does not
// rely on the old pool's sign-in having refused them already.
func refuseStatus(u User) (Decision, bool) {
	switch {
	case !u.Enabled:
		return decline(UserDisabled, ""), false
	case u.Status == StatusConfirmed:
		return Decision{}, true
	case u.Status == StatusUnconfirmed:
		return decline(UserNotConfirmed, ""), false
	case u.Status == StatusResetRequired:
		return decline(PasswordResetNeeded, ""), false
	}
	return decline(UnsupportedStatus, u.Status), false
}

func hasVerifiedContact(attrs map[string]string) bool {
	return (attrs["email"] != "" && strings.EqualFold(attrs["email_verified"], "true")) ||
		(attrs["phone_number"] != "" && strings.EqualFold(attrs["phone_number_verified"], "true"))
}

// Transferable returns the attributes Cognito accepts in a migration
// response: everything but sub (the new pool always makes its own),
// identities (federation links, not settable) and cognito:* system names.
// Values, verified flags included, are copied as they are.
func Transferable(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	for name, value := range attrs {
		if !settable(name) {
			continue
		}
		out[name] = value
	}
	return out
}

func settable(name string) bool {
	switch {
	case name == "sub", name == "identities", name == "username":
		return false
	case strings.HasPrefix(name, "cognito:"):
		return false
	}
	return true
}

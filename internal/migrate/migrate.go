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
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
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
	// Username is the real username of the user whose password was
	// checked, when the old pool says (the tokens' cognito:username, or the
	// challenge's USER_ID_FOR_SRP); empty when it does not.
	Username string
}

// User is a user as the old pool describes it (AdminGetUser).
type User struct {
	// Username is the user's real username in the old pool, which can differ
	// from what they typed (an alias such as their email address).
	Username   string
	Enabled    bool
	Status     string
	Attributes map[string]string
	// MFA lists the second factors the user has set up ("SMS_MFA",
	// "SOFTWARE_TOKEN_MFA", "EMAIL_OTP").
	MFA []string
	// Groups are the user's old-pool group names, read with the user only
	// when something needs them (a group condition in MIGRATE_ONLY, or
	// LEGACY_GROUPS_ATTRIBUTE); nil otherwise.
	Groups []string
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
	// MFARequired: forgot password for a user with a second factor under
	// MFA_POLICY=deny. Without a password nothing is proven, and the factor
	// cannot move.
	MFARequired Reason = "mfa_required"
)

// DetailPasswordPolicyUnmet is the Detail of a user migrated CONFIRMED
// although ENFORCE_PASSWORD_POLICY is on and their password fails the new
// pool's policy: without a verified email or phone a reset would lock them
// out for good.
const DetailPasswordPolicyUnmet = "password_policy_unmet"

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
	// OldPool names the old pool that decided, in a merge ("1", "2", ...);
	// empty with a single old pool.
	OldPool string
	// ResponseUsername is the "username" to send Cognito; empty leaves it
	// out, so the name the user typed becomes their username.
	ResponseUsername string
	// Attributes to create the user with (only when Migrate).
	Attributes map[string]string
	// FinalStatus is empty for forgot-password migrations: Cognito then
	// leaves the user to finish the reset it is about to send a code for.
	FinalStatus FinalStatus
	// EnableSMSMFA asks the new pool to turn on SMS MFA for the user.
	EnableSMSMFA bool
	// Dropped names old attributes the new pool's schema does not have (and
	// *_verified flags without their own address); Invalid names attributes
	// whose values the schema refuses; Overwritten names attributes whose own
	// value gave way to a renamed one; Missing names the new pool's required
	// attributes the user lacks. All are names only, for the log.
	Dropped, Invalid, Overwritten, Missing []string
	// Groups are the migrated user's old-pool group names when the lookup
	// read them (User.Groups); nil when it did not.
	Groups []string
	// NameKnown is true when the old pool knows the typed name as one of
	// the user's identifiers (see KnownAs). Only then may the log show it:
	// people type their password into the username box.
	NameKnown bool
}

// Request is one trigger invocation's question.
type Request struct {
	// NewPoolID is the pool whose trigger this is (the event's userPoolId).
	NewPoolID string
	// Username is what the user typed: a username or an alias.
	Username string
	// Password is what they typed; empty for forgot-password.
	Password string
}

func decline(r Reason, detail string) Decision {
	return Decision{Reason: r, Detail: detail}
}

// DetailNotAUsername is the Detail of a user_not_found decline for a typed
// name no Cognito user can have: the old pool is not asked.
const DetailNotAUsername = "not a Cognito username"

// maxUsernameLength is the longest Username AdminGetUser accepts.
const maxUsernameLength = 128

// AcceptableUsername reports whether name is a Username AdminGetUser can
// accept: 1 to 128 characters, each a letter, mark, symbol, number or
// punctuation ([\p{L}\p{M}\p{S}\p{N}\p{P}]+). The old pool answers any
// other name with InvalidParameterException, which is the user's typing,
// not a configuration error.
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminGetUser.html
func AcceptableUsername(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxUsernameLength {
		return false
	}
	for _, r := range name {
		if !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P) {
			return false
		}
	}
	return true
}

// unanswerable declines, before any old-pool call, a request the old pool
// cannot be asked about: an empty name (or password, when the flow has
// one) is EmptyInput; a name no Cognito user can have is UserNotFound, as
// an unknown user is.
func unanswerable(req Request, withPassword bool) (Decision, bool) {
	switch {
	case req.Username == "" || (withPassword && req.Password == ""):
		return decline(EmptyInput, ""), true
	case !AcceptableUsername(req.Username):
		return decline(UserNotFound, DetailNotAUsername), true
	}
	return Decision{}, false
}

// Migrator makes the decisions for one old pool.
type Migrator struct {
	pool    OldPool
	newPool NewPool
	rules   Rules
	lookup  LookupMode
}

// LookupMode is when a sign-in reads the user from the old pool
// (OLD_POOL_LOOKUP).
type LookupMode string

const (
	// LookupParallel sends the lookup together with the sign-in: one round
	// trip, but every attempt, wrong passwords included, also costs an
	// AdminGetUser (the old account's read quota, and a billed monthly
	// active user for the targeted account).
	LookupParallel LookupMode = "parallel"
	// LookupAfterSignIn sends the lookup only once the sign-in proved the
	// password: a wrong password costs one old-pool call, a migration two
	// round trips.
	LookupAfterSignIn LookupMode = "after-sign-in"
)

// LookupModes lists every LookupMode, the default first.
func LookupModes() []LookupMode { return []LookupMode{LookupParallel, LookupAfterSignIn} }

// Option configures a Migrator.
type Option func(*Migrator)

// WithLookup sets when sign-ins read the user (default LookupParallel).
// Forgot-password events only read the user, so it does not change them.
func WithLookup(l LookupMode) Option {
	return func(m *Migrator) {
		if l != "" {
			m.lookup = l
		}
	}
}

// New returns a Migrator that consults the old pool, shapes users for the
// new pool newPool describes, and applies rules.
func New(pool OldPool, newPool NewPool, rules Rules, opts ...Option) *Migrator {
	if rules.MFA == "" {
		rules.MFA = MFADeny
	}
	m := &Migrator{pool: pool, newPool: newPool, rules: rules, lookup: LookupParallel}
	for _, o := range opts {
		o(m)
	}
	return m
}

// startLookup starts reading the user as the lookup mode says, and returns
// the function that gives its answer: at once in parallel with the sign-in,
// or only when called (after the sign-in proved the password).
func (m *Migrator) startLookup(ctx context.Context, username string) func() (User, error) {
	if m.lookup == LookupAfterSignIn {
		return func() (User, error) { return m.pool.GetUser(ctx, username) }
	}
	looked := async(func() (User, error) { return m.pool.GetUser(ctx, username) })
	return func() (User, error) { return await(ctx, looked) }
}

// result is an answer that arrives in the background.
type result[T any] struct {
	v   T
	err error
}

// async runs f in its own goroutine. A panic there would end the process
// (the handler's recover only covers its own goroutine), so it is recovered
// and answered as a fault of kind panic, reported by type only: the value
// may hold anything, the password included.
func async[T any](f func() (T, error)) <-chan result[T] {
	c := make(chan result[T], 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				c <- result[T]{err: Recovered(p)}
			}
		}()
		v, err := f()
		c <- result[T]{v, err}
	}()
	return c
}

func await[T any](ctx context.Context, c <-chan result[T]) (T, error) {
	select {
	case r := <-c:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Authenticate decides a UserMigration_Authentication event: the user typed
// a name and a password at the new pool.
//
// The sign-in, the user lookup (and the new pool's configuration, when it is
// not cached) are requested at the same time, so a migration costs one round
// trip on its critical path; with LookupAfterSignIn the lookup waits for a
// proven password instead. The lookup's answer is used only when the
// sign-in proved the password.
func (m *Migrator) Authenticate(ctx context.Context, req Request) (dec Decision, _ error) {
	if d, ok := unanswerable(req, true); ok {
		return d, nil
	}
	var known bool
	defer func() { dec.NameKnown = known }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lookup := m.startLookup(ctx, req.Username)
	config := async(func() (PoolConfig, error) { return m.newPool.Config(ctx, req.NewPoolID) })

	signIn, err := m.pool.SignIn(ctx, req.Username, req.Password)
	if err != nil {
		cancel() // the other answers no longer matter
		return refused(err)
	}
	final := FinalConfirmed
	switch c := signIn.Challenge; {
	case c == "":
	case c == "NEW_PASSWORD_REQUIRED":
		// A temporary password: proven, but never to be kept. The user
		// chooses a new one in the new pool.
		final = FinalResetRequired
	case mfaChallenge(c) && m.rules.MFA == MFAMigrate:
		// The password was proven; the skipped second factor is the
		// operator's documented choice (MFA_POLICY=migrate).
	default:
		// A second factor or anything else still owed: turning it into
		// CONFIRMED would skip it.
		return decline(ChallengeRequired, c), nil
	}

	u, err := lookup()
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			// Proven for a user the lookup cannot find: the two calls saw
			// different users (deleted in between). Nothing is proven.
			return decline(UserNotFound, "after sign-in"), nil
		}
		return Decision{}, fmt.Errorf("get user: %w", err)
	}
	if signIn.Username != "" && signIn.Username != u.Username {
		// The password proven is another user's than the one the lookup
		// of the same name found: nothing is proven about u.
		return decline(UserNotFound, "signed in as another user"), nil
	}
	known = KnownAs(u, req.Username)
	allowed := StatusConfirmed
	if final == FinalResetRequired {
		allowed = StatusForceChangePassword
	}
	if d, ok := refuseStatus(u, allowed); !ok {
		return d, nil
	}
	cfg, err := await(ctx, config)
	if err != nil {
		return Decision{}, fmt.Errorf("describe new pool: %w", err)
	}
	s, reason, err := m.rules.Shape(cfg, u, req.Username)
	if reason != "" || err != nil {
		return decline(reason, ""), err
	}
	// RESET_REQUIRED sends the user to "forgot password", which needs a
	// verified email or phone the new pool recovers accounts with; without
	// one they could never sign in again, and the trigger never runs for a
	// user the new pool already has.
	reachable := cfg.Reachable(s.Attributes)
	if final == FinalResetRequired && !reachable {
		// A temporary password must not be kept: leave them in the old
		// pool, where an administrator can still help.
		return decline(NoVerifiedContact, signIn.Challenge), nil
	}

	d := Decision{
		Migrate: true, Reason: Migrated, Username: u.Username,
		ResponseUsername: s.Username, Attributes: s.Attributes, FinalStatus: final,
		Dropped: s.Dropped, Invalid: s.Invalid, Overwritten: s.Overwritten, Missing: s.Missing,
		Detail: signIn.Challenge, Groups: u.Groups,
	}
	if final == FinalConfirmed && m.rules.EnforcePasswordPolicy {
		if unmet := cfg.Password.Unmet(req.Password); len(unmet) > 0 {
			if reachable {
				d.FinalStatus = FinalResetRequired
				d.Detail = "password policy: " + strings.Join(unmet, ",")
			} else {
				d.Detail = DetailPasswordPolicyUnmet
			}
		}
	}
	d.EnableSMSMFA = signIn.Challenge != "" && m.smsMFA(u, cfg, d.Attributes)
	return d, nil
}

// smsMFA reports whether a migrated user keeps SMS MFA (enableSMSMFA): they
// had it in the old pool and MFA_POLICY=migrate. Cognito fails the migration
// if it is asked for without pool MFA or a phone number.
func (m *Migrator) smsMFA(u User, cfg PoolConfig, attrs map[string]string) bool {
	return m.rules.MFA == MFAMigrate && slices.Contains(u.MFA, "SMS_MFA") &&
		cfg.MFA != "" && cfg.MFA != "OFF" && attrs["phone_number"] != ""
}

// mfaChallenge reports whether a challenge asks for a second factor (as
// opposed to a new password, a custom challenge or device checks).
func mfaChallenge(c string) bool {
	switch c {
	case "SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP", "SELECT_MFA_TYPE", "MFA_SETUP":
		return true
	}
	return false
}

// ForgotPassword decides a UserMigration_ForgotPassword event: the user asked
// the new pool to reset their password, so there is no password to check.
// Only an enabled, confirmed user with somewhere to send the code moves, and
// never as CONFIRMED: Cognito sends the reset code and the user sets a new
// password.
func (m *Migrator) ForgotPassword(ctx context.Context, req Request) (dec Decision, _ error) {
	if d, ok := unanswerable(req, false); ok {
		return d, nil
	}
	var known bool
	defer func() { dec.NameKnown = known }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	config := async(func() (PoolConfig, error) { return m.newPool.Config(ctx, req.NewPoolID) })

	u, err := m.pool.GetUser(ctx, req.Username)
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			return decline(UserNotFound, ""), nil
		}
		return Decision{}, fmt.Errorf("get user: %w", err)
	}
	known = KnownAs(u, req.Username)
	if d, ok := refuseStatus(u, StatusConfirmed); !ok {
		return d, nil
	}
	if len(u.MFA) > 0 && m.rules.MFA != MFAMigrate {
		// No password is proven here, and no second factor can be: moving
		// them would hand the account to whoever reads the reset code.
		return decline(MFARequired, strings.Join(u.MFA, ",")), nil
	}
	cfg, err := await(ctx, config)
	if err != nil {
		return Decision{}, fmt.Errorf("describe new pool: %w", err)
	}
	s, reason, err := m.rules.Shape(cfg, u, req.Username)
	if reason != "" || err != nil {
		return decline(reason, ""), err
	}
	if !cfg.Reachable(s.Attributes) {
		return decline(NoVerifiedContact, ""), nil
	}
	return Decision{
		Migrate: true, Reason: Migrated, Username: u.Username,
		ResponseUsername: s.Username, Attributes: s.Attributes,
		Dropped: s.Dropped, Invalid: s.Invalid, Overwritten: s.Overwritten, Missing: s.Missing,
		EnableSMSMFA: m.smsMFA(u, cfg, s.Attributes), Groups: u.Groups,
	}, nil
}

// KnownAs reports whether typed is one of u's identifiers in the old pool:
// its username, or its email, phone_number or preferred_username value.
// Letters compare ASCII case-insensitively, because u is what the old pool
// returned when asked for typed: a case-sensitive pool would not have found
// it under another case. No other fold applies (the Kelvin sign is not K).
func KnownAs(u User, typed string) bool {
	if typed == "" {
		return false
	}
	for _, id := range []string{u.Username, u.Attributes["email"], u.Attributes["phone_number"], u.Attributes["preferred_username"]} {
		if id != "" && asciiEqualFold(id, typed) {
			return true
		}
	}
	return false
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

// refuseStatus declines users who are not enabled and in status allowed
// (CONFIRMED, or FORCE_CHANGE_PASSWORD for a proven temporary password). It
// does not rely on the old pool's sign-in having refused them already.
func refuseStatus(u User, allowed string) (Decision, bool) {
	switch {
	case !u.Enabled:
		return decline(UserDisabled, ""), false
	case u.Status == allowed:
		return Decision{}, true
	case u.Status == StatusUnconfirmed:
		return decline(UserNotConfirmed, ""), false
	case u.Status == StatusResetRequired:
		return decline(PasswordResetNeeded, ""), false
	}
	return decline(UnsupportedStatus, u.Status), false
}

// Transferable returns the attributes Cognito accepts in a migration
// response: everything but sub (the new pool always makes its own),
// identities (federation links, not settable) and cognito:* system names.
// Values, verified flags included, are copied as they are.
func Transferable(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	for name, value := range attrs {
		if !Writable(name) {
			continue
		}
		out[name] = value
	}
	return out
}

// Writable reports whether an attribute may be written to a new user: every
// name but sub (the new pool always makes its own), identities (federation
// links) and username and cognito:* (system names). It is the one rule the
// trigger, the settings and the bulk export share.
func Writable(name string) bool {
	switch {
	case name == "sub", name == "identities", name == "username":
		return false
	case strings.HasPrefix(name, "cognito:"):
		return false
	}
	return true
}

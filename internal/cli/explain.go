package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// explainOptions are the flags of explain.
type explainOptions struct {
	twoPoolOptions
	Username string
}

func newExplainCmd(a *app) *command {
	opts := &explainOptions{}
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.StringVar(&opts.Username, "username", "", "the `NAME` the user types at the new pool: a username, or an email or phone alias (required)")
	opts.register(fs)
	c := &command{
		name:     "explain",
		summary:  "say what the trigger would answer for one user, changing nothing",
		synopsis: "--user-pool-id ID --username NAME [--function-arn ARN] [--output text|json] [flags]",
		description: `
Says what the "Migrate user" trigger would answer for the user who types NAME, with
the very same decision code the function runs, the function's settings (its
environment, or the setting flags), the old pool's record of the user (AdminGetUser)
and the new pool's configuration (DescribeUserPool):

  sign-in          as if the password typed were right; the challenge the old pool
                   would answer with is predicted from the user and the old pool's MFA
                   setting (NEW_PASSWORD_REQUIRED for a temporary password, the user's
                   second factor, MFA_SETUP where MFA is required and the user has
                   none), and MFA_POLICY decides what it changes
  sign-in, weak password
                   with ENFORCE_PASSWORD_POLICY, the same for a password that fails the
                   new pool's policy
  forgot-password  the user asks the new pool for a reset code

For each: migrate or decline with the reason, the "username" and every attribute the
trigger would send, the final status, and the attributes dropped and why. It needs no
password and sends none: the sign-in is never tried. It creates and changes nothing.

The attribute values printed are the user's own data (email, phone number, ...):
treat the output as personal data. No secret (client secret, password, token) is
ever printed. A user the old pool does not know is declined (user_not_found); with
PreventUserExistenceErrors on the old app client the function logs bad_credentials
for such a user instead.`,
		footer: `
IAM: cognito-idp:DescribeUserPool on the new pool, lambda:GetFunctionConfiguration on
the function, cognito-idp:AdminGetUser and DescribeUserPool on the old pool.

Exit status: 0 explained, 1 failed, 2 usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error {
		if err := opts.validate(c.name); err != nil {
			return err
		}
		if opts.Username == "" {
			return usagef(c.name, "--username is required")
		}
		res, err := runExplain(ctx, a, c.name, opts)
		if res == nil {
			res = &explainResult{}
		}
		return a.finish(opts.Output, res, err)
	}
	return c
}

// explainResult is explain's output.
type explainResult struct {
	// Username is what the user types (--username).
	Username string `json:"username"`
	// Found: the old pool has the user; OldUsername, OldStatus, Enabled and
	// MFA are its record.
	Found       bool     `json:"found"`
	OldUsername string   `json:"oldUsername,omitempty"`
	OldStatus   string   `json:"oldStatus,omitempty"`
	Enabled     bool     `json:"enabled"`
	MFA         []string `json:"mfa,omitempty"`
	MFAPolicy   string   `json:"mfaPolicy"`
	// OldPoolMFA is the old pool's MfaConfiguration, "" when unread.
	OldPoolMFA string        `json:"oldPoolMfa,omitempty"`
	Notes      []string      `json:"notes,omitempty"`
	Cases      []explainCase `json:"cases"`
	Error      *errorResult  `json:"error,omitempty"`
}

// explainCase is the trigger's answer in one situation.
type explainCase struct {
	// Case is "sign-in", "sign-in, weak password" or "forgot-password";
	// TriggerSource the event's triggerSource.
	Case          string `json:"case"`
	TriggerSource string `json:"triggerSource"`
	// Challenge is what the old pool is expected to answer the right
	// password with ("" for tokens).
	Challenge string `json:"challenge,omitempty"`
	Migrate   bool   `json:"migrate"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail,omitempty"`
	// Username is the response's "username", "" when it is left out (the
	// typed name becomes the username).
	Username     string            `json:"username,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	FinalStatus  string            `json:"finalStatus,omitempty"`
	EnableSMSMFA bool              `json:"enableSMSMFA,omitempty"`
	Dropped      []string          `json:"dropped,omitempty"`
	Invalid      []string          `json:"invalid,omitempty"`
	Overwritten  []string          `json:"overwritten,omitempty"`
	Missing      []string          `json:"missingRequired,omitempty"`
	// Fails holds the error the function would fail with (a configuration
	// problem), when it would fail rather than decide.
	Fails string `json:"fails,omitempty"`
}

func (r *explainResult) warnings() []string      { return nil }
func (r *explainResult) setError(e *errorResult) { r.Error = e }

func (r *explainResult) printText(w io.Writer) {
	if r.Error != nil {
		return
	}
	if r.Found {
		mfa := "none"
		if len(r.MFA) > 0 {
			mfa = strings.Join(r.MFA, ", ")
		}
		fmt.Fprintf(w, "%q in the old pool: user %q, %s, enabled %v, MFA %s; MFA_POLICY=%s\n", r.Username, r.OldUsername, r.OldStatus, r.Enabled, mfa, r.MFAPolicy)
		if r.OldPoolMFA != "" {
			fmt.Fprintf(w, "The old pool's MFA: %s\n", r.OldPoolMFA)
		}
	} else {
		fmt.Fprintf(w, "%q: the old pool has no such user\n", r.Username)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	for _, c := range r.Cases {
		fmt.Fprintf(w, "\n%s (%s)", c.Case, c.TriggerSource)
		if c.Challenge != "" {
			fmt.Fprintf(w, ", the old pool would answer with the challenge %s", c.Challenge)
		}
		fmt.Fprintln(w)
		switch {
		case c.Fails != "":
			fmt.Fprintf(w, "  FAILS: %s\n", c.Fails)
			continue
		case !c.Migrate:
			fmt.Fprintf(w, "  DECLINE: %s", c.Reason)
			if c.Detail != "" {
				fmt.Fprintf(w, " (%s)", c.Detail)
			}
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintf(w, "  MIGRATE")
		if c.Detail != "" {
			fmt.Fprintf(w, " (%s)", c.Detail)
		}
		fmt.Fprintln(w)
		if c.Username != "" {
			fmt.Fprintf(w, "  username: %q\n", c.Username)
		} else {
			fmt.Fprintf(w, "  username: %q (left out: the name typed)\n", r.Username)
		}
		final := c.FinalStatus
		if final == "" {
			final = "(none: the user sets a password with the reset code Cognito sends)"
		}
		fmt.Fprintf(w, "  final status: %s\n", final)
		if c.EnableSMSMFA {
			fmt.Fprintf(w, "  SMS MFA: kept (enableSMSMFA)\n")
		}
		fmt.Fprintf(w, "  attributes:\n")
		for _, k := range slices.Sorted(maps.Keys(c.Attributes)) {
			fmt.Fprintf(w, "    %s = %q\n", k, c.Attributes[k])
		}
		for _, l := range []struct {
			what  string
			names []string
		}{
			{"dropped (not in the new pool's schema)", c.Dropped},
			{"dropped (value refused by the new pool's schema)", c.Invalid},
			{"overwritten (by an ATTRIBUTE_MAP or LEGACY_SUB_ATTRIBUTE value)", c.Overwritten},
			{"missing (required by the new pool)", c.Missing},
		} {
			if len(l.names) > 0 {
				fmt.Fprintf(w, "  %s: %s\n", l.what, strings.Join(l.names, ", "))
			}
		}
	}
}

// Passwords explain decides with. They are never sent anywhere: the old
// pool's sign-in is replaced by its predicted answer. strongPassword meets
// any policy Cognito allows (at most 99 characters required, every class);
// weakPassword meets none.
const (
	strongPassword = "Explain-only-1-" + "Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!"
	weakPassword   = "x"
)

// runExplain drives the function's decision code with an old pool whose
// sign-in is predicted, not tried.
func runExplain(ctx context.Context, a *app, cmd string, opts *explainOptions) (*explainResult, error) {
	m, err := a.resolveMigration(ctx, cmd, &opts.twoPoolOptions)
	if err != nil {
		return nil, err
	}
	oldPool := cognito.NewOldPool(m.Old, m.Settings.OldUserPoolID, m.Settings.OldClientID, "")
	res := &explainResult{Username: opts.Username, MFAPolicy: string(m.Settings.Rules.MFA), Cases: []explainCase{}}
	if res.MFAPolicy == "" {
		res.MFAPolicy = string(migrate.MFADeny)
	}
	u, err := oldPool.GetUser(ctx, opts.Username)
	switch {
	case errors.Is(err, migrate.ErrUserNotFound):
	case err != nil:
		return nil, oldPoolHint(err, m)
	default:
		res.Found, res.OldUsername, res.OldStatus, res.Enabled, res.MFA = true, u.Username, u.Status, u.Enabled, u.MFA
	}
	pool := &predictedPool{real: oldPool}
	if res.Found {
		pool.user = &u
	}
	// The old pool's MFA setting decides whether a second factor is asked
	// for: none when OFF, set-up for a user without one when ON.
	if desc, err := cognito.NewAdmin(m.Old).UserPool(ctx, m.Settings.OldUserPoolID); err == nil {
		pool.mfa = string(desc.MfaConfiguration)
		res.OldPoolMFA = pool.mfa
	} else {
		res.Notes = append(res.Notes, "the old pool's MFA setting could not be read ("+explain(err)+"): the challenge is predicted from the user's MFA alone")
	}
	mig := migrate.New(pool, cognito.NewNewPool(m.New), m.Settings.Rules, migrate.WithLookup(m.Settings.Lookup))
	req := migrate.Request{NewPoolID: opts.PoolID, Username: opts.Username}

	signIn := func(name, password string) (explainCase, error) {
		req := req
		req.Password = password
		d, err := mig.Authenticate(ctx, req)
		return explained(name, migrate.SourceAuthentication, pool.challenge(), d, err)
	}
	c, err := signIn("sign-in", strongPassword)
	if err != nil {
		return nil, err
	}
	res.Cases = append(res.Cases, c)
	if m.Settings.Rules.EnforcePasswordPolicy && c.Migrate && c.FinalStatus == string(migrate.FinalConfirmed) {
		c, err := signIn("sign-in, weak password", weakPassword)
		if err != nil {
			return nil, err
		}
		res.Cases = append(res.Cases, c)
	}
	d, err := mig.ForgotPassword(ctx, req)
	c, err = explained("forgot-password", migrate.SourceForgotPassword, "", d, err)
	if err != nil {
		return nil, err
	}
	res.Cases = append(res.Cases, c)
	return res, nil
}

// explained turns a decision into a case. A configuration error is what the
// function would fail with; any other error stops explain.
func explained(name, source, challenge string, d migrate.Decision, err error) (explainCase, error) {
	c := explainCase{Case: name, TriggerSource: source, Challenge: challenge}
	var cfg *migrate.ConfigError
	switch {
	case errors.As(err, &cfg):
		c.Fails = cfg.Error()
		return c, nil
	case err != nil:
		return c, err
	}
	c.Migrate, c.Reason, c.Detail = d.Migrate, string(d.Reason), d.Detail
	if !d.Migrate {
		return c, nil
	}
	c.Username, c.Attributes, c.FinalStatus, c.EnableSMSMFA = d.ResponseUsername, d.Attributes, string(d.FinalStatus), d.EnableSMSMFA
	c.Dropped, c.Invalid, c.Overwritten, c.Missing = d.Dropped, d.Invalid, d.Overwritten, d.Missing
	return c, nil
}

// predictedPool is the old pool as explain sees it: GetUser is the real
// AdminGetUser, and SignIn answers what the old pool would answer the right
// password with, predicted from the user's record, without a call.
type predictedPool struct {
	real *cognito.OldPool
	user *migrate.User // nil: no such user
	// mfa is the old pool's MfaConfiguration (OFF, ON, OPTIONAL), "" when
	// unknown.
	mfa string
}

func (p *predictedPool) GetUser(ctx context.Context, username string) (migrate.User, error) {
	return p.real.GetUser(ctx, username)
}

func (p *predictedPool) SignIn(context.Context, string, string) (migrate.SignIn, error) {
	u := p.user
	switch {
	case u == nil:
		return migrate.SignIn{}, migrate.ErrUserNotFound
	case !u.Enabled:
		return migrate.SignIn{}, migrate.ErrBadCredentials // "User is disabled."
	case u.Status == migrate.StatusResetRequired:
		return migrate.SignIn{}, migrate.ErrPasswordResetRequired
	case u.Status == migrate.StatusUnconfirmed:
		return migrate.SignIn{}, migrate.ErrUserNotConfirmed
	}
	return migrate.SignIn{Challenge: p.challenge()}, nil
}

// challenge is the challenge the old pool answers the right password with:
// a temporary password must be changed; in a pool with MFA, a user with one
// second factor is asked for it, one with several chooses, and one without
// must set one up when MFA is required (ON).
func (p *predictedPool) challenge() string {
	u := p.user
	switch {
	case u == nil || !u.Enabled:
		return ""
	case u.Status == migrate.StatusForceChangePassword:
		return "NEW_PASSWORD_REQUIRED"
	case p.mfa == string(types.UserPoolMfaTypeOff):
		return ""
	case len(u.MFA) == 1:
		return u.MFA[0]
	case len(u.MFA) > 1:
		return "SELECT_MFA_TYPE"
	case p.mfa == string(types.UserPoolMfaTypeOn):
		return "MFA_SETUP"
	}
	return ""
}

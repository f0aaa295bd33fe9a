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
for such a user instead.

In a merge (OLD_2_USER_POOL_ID, ...) the function's own merge decides: "pools" says
which old pools the routes (OLD_ROUTE, OLD_2_ROUTE, ...) ask for NAME and what each
has, and each case names the pool that decided ("oldPool"); a name two asked pools
hold is declined (ambiguous_user).`,
		footer: `
IAM: cognito-idp:DescribeUserPool on the new pool, lambda:GetFunctionConfiguration on
the function, cognito-idp:AdminGetUser and DescribeUserPool on each old pool (and
AdminListGroupsForUser when MIGRATE_ONLY has a group: condition).

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
	OldPoolMFA string `json:"oldPoolMfa,omitempty"`
	// Pools, in a merge, are each old pool's record of the user and
	// whether the function asks it (its route, or no route owns the name).
	Pools []explainPool `json:"pools,omitempty"`
	Notes []string      `json:"notes,omitempty"`
	Cases []explainCase `json:"cases"`
	Error *errorResult  `json:"error,omitempty"`
}

// explainPool is one old pool of a merge, for the user typed.
type explainPool struct {
	Name       string `json:"name"`
	UserPoolID string `json:"userPoolId"`
	Route      string `json:"route,omitempty"`
	Asked      bool   `json:"asked"`
	// Found ... are the pool's AdminGetUser record, read for asked pools only.
	Found       bool     `json:"found"`
	OldUsername string   `json:"oldUsername,omitempty"`
	OldStatus   string   `json:"oldStatus,omitempty"`
	Enabled     bool     `json:"enabled"`
	MFA         []string `json:"mfa,omitempty"`
	OldPoolMFA  string   `json:"oldPoolMfa,omitempty"`
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
	// OldPool, in a merge, is the old pool that decided ("1", "2"...).
	OldPool string `json:"oldPool,omitempty"`
	Migrate bool   `json:"migrate"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail,omitempty"`
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
	if len(r.Pools) > 0 {
		fmt.Fprintf(w, "%q in the %d old pools of the merge; MFA_POLICY=%s\n", r.Username, len(r.Pools), r.MFAPolicy)
		for _, p := range r.Pools {
			fmt.Fprintf(w, "  old pool %s (%s): ", p.Name, p.UserPoolID)
			switch {
			case !p.Asked:
				fmt.Fprintf(w, "not asked (another pool's route owns the name)\n")
			case !p.Found:
				fmt.Fprintf(w, "no such user\n")
			default:
				mfa := "none"
				if len(p.MFA) > 0 {
					mfa = strings.Join(p.MFA, ", ")
				}
				fmt.Fprintf(w, "user %q, %s, enabled %v, MFA %s", p.OldUsername, p.OldStatus, p.Enabled, mfa)
				if p.OldPoolMFA != "" {
					fmt.Fprintf(w, "; the pool's MFA: %s", p.OldPoolMFA)
				}
				fmt.Fprintln(w)
			}
		}
	} else if r.Found {
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
			if c.OldPool != "" {
				fmt.Fprintf(w, ", decided by old pool %s", c.OldPool)
			}
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintf(w, "  MIGRATE")
		if c.OldPool != "" {
			fmt.Fprintf(w, " from old pool %s", c.OldPool)
		}
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
	res := &explainResult{Username: opts.Username, MFAPolicy: string(m.Settings.Rules.MFA), Cases: []explainCase{}}
	if res.MFAPolicy == "" {
		res.MFAPolicy = string(migrate.MFADeny)
	}
	req := migrate.Request{NewPoolID: opts.PoolID, Username: opts.Username}
	if len(m.Olds) > 1 {
		return explainMerge(ctx, m, res, req)
	}
	pool, err := predict(ctx, m, m.Olds[0], opts.Username)
	if err != nil {
		return nil, err
	}
	if u := pool.user; u != nil {
		res.Found, res.OldUsername, res.OldStatus, res.Enabled, res.MFA = true, u.Username, u.Status, u.Enabled, u.MFA
	}
	res.OldPoolMFA = pool.mfa
	if pool.mfaErr != nil {
		res.Notes = append(res.Notes, "the old pool's MFA setting could not be read ("+explain(pool.mfaErr)+"): the challenge is predicted from the user's MFA alone")
	}
	mig := migrate.New(pool, cognito.NewNewPool(m.New), m.Settings.Rules, migrate.WithLookup(m.Settings.Lookup))
	return explainCases(ctx, res, mig, m.Settings.Rules, req, func(migrate.Decision) *predictedPool { return pool })
}

// predict reads the old pool src's record of the typed name and its MFA
// setting, for a predictedPool.
func predict(ctx context.Context, m *migration, src oldSource, typed string) (*predictedPool, error) {
	real := cognito.NewOldPool(src.API, src.UserPoolID, src.ClientID, "")
	if m.Settings.Rules.Scope.NeedsGroups() {
		real.WithGroups() // MIGRATE_ONLY's group conditions, as the function reads them
	}
	pool := &predictedPool{real: real}
	u, err := real.GetUser(ctx, typed)
	switch {
	case errors.Is(err, migrate.ErrUserNotFound):
	case err != nil:
		return nil, poolHint(err, m, src)
	default:
		pool.user = &u
	}
	// The old pool's MFA setting decides whether a second factor is asked
	// for: none when OFF, set-up for a user without one when ON.
	if desc, err := cognito.NewAdmin(src.API).UserPool(ctx, src.UserPoolID); err == nil {
		pool.mfa = string(desc.MfaConfiguration)
	} else {
		pool.mfaErr = err
	}
	return pool, nil
}

// explainMerge explains a merge of several old pools with migrate.Merge,
// as the function decides: the pools its routing asks, each predicted.
func explainMerge(ctx context.Context, m *migration, res *explainResult, req migrate.Request) (*explainResult, error) {
	rules := m.Settings.Rules
	newPool := cognito.NewNewPool(m.New)
	routes := make([]migrate.Source, len(m.Olds))
	for i, src := range m.Olds {
		routes[i] = migrate.Source{Name: src.Name, Route: src.Route}
	}
	asked := map[string]bool{}
	for _, s := range migrate.NewMerge(routes...).Asked(req.Username) {
		asked[s.Name] = true
	}
	pools := map[string]*predictedPool{}
	sources := make([]migrate.Source, len(m.Olds))
	var owners []*predictedPool
	var ownerNames []string
	for i, src := range m.Olds {
		ep := explainPool{Name: src.Name, UserPoolID: src.UserPoolID, Route: src.Route.String(), Asked: asked[src.Name]}
		pool := &predictedPool{real: cognito.NewOldPool(src.API, src.UserPoolID, src.ClientID, "")}
		if ep.Asked {
			var err error
			if pool, err = predict(ctx, m, src, req.Username); err != nil {
				return nil, err
			}
			if u := pool.user; u != nil {
				ep.Found, ep.OldUsername, ep.OldStatus, ep.Enabled, ep.MFA = true, u.Username, u.Status, u.Enabled, u.MFA
				owners, ownerNames = append(owners, pool), append(ownerNames, src.Name)
			}
			ep.OldPoolMFA = pool.mfa
			if pool.mfaErr != nil {
				res.Notes = append(res.Notes, fmt.Sprintf("old pool %s's MFA setting could not be read (%s): the challenge is predicted from the user's MFA alone", src.Name, explain(pool.mfaErr)))
			}
		}
		res.Pools = append(res.Pools, ep)
		pools[src.Name] = pool
		shared := migrate.SharedLookups(pool)
		sources[i] = migrate.Source{Name: src.Name, Pool: shared, Route: src.Route,
			Migrator: migrate.New(shared, newPool, rules, migrate.WithLookup(m.Settings.Lookup))}
	}
	if len(asked) < len(m.Olds) {
		res.Notes = append(res.Notes, fmt.Sprintf("a route owns the name: only old pool(s) %s are asked", strings.Join(slices.Sorted(maps.Keys(asked)), ", ")))
	} else {
		res.Notes = append(res.Notes, "no route owns the name: every old pool is asked, at the same time")
	}
	if len(owners) > 0 {
		u := owners[0].user
		res.Found, res.OldUsername, res.OldStatus, res.Enabled, res.MFA = true, u.Username, u.Status, u.Enabled, u.MFA
		res.OldPoolMFA = owners[0].mfa
	}
	if len(owners) > 1 {
		res.Notes = append(res.Notes, fmt.Sprintf("old pools %s each have a user by this name: two people own it, and neither is given it (%s)", strings.Join(ownerNames, ", "), migrate.AmbiguousUser))
	}
	poolOf := func(d migrate.Decision) *predictedPool {
		if d.OldPool != "" {
			return pools[d.OldPool]
		}
		if len(owners) == 1 {
			return owners[0]
		}
		return nil
	}
	return explainCases(ctx, res, migrate.NewMerge(sources...), rules, req, poolOf)
}

// decider is what explain asks: a Migrator, or a Merge of several.
type decider interface {
	Authenticate(context.Context, migrate.Request) (migrate.Decision, error)
	ForgotPassword(context.Context, migrate.Request) (migrate.Decision, error)
}

// explainCases adds the cases to res; poolOf says which predicted pool
// answered a decision (for the challenge it predicts), nil for none.
func explainCases(ctx context.Context, res *explainResult, mig decider, rules migrate.Rules, req migrate.Request, poolOf func(migrate.Decision) *predictedPool) (*explainResult, error) {
	signIn := func(name, password string) (explainCase, error) {
		req := req
		req.Password = password
		d, err := mig.Authenticate(ctx, req)
		return explained(name, migrate.SourceAuthentication, poolOf(d).challenge(), d, err)
	}
	c, err := signIn("sign-in", strongPassword)
	if err != nil {
		return nil, err
	}
	res.Cases = append(res.Cases, c)
	if rules.EnforcePasswordPolicy && c.Migrate && c.FinalStatus == string(migrate.FinalConfirmed) {
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
	c.Migrate, c.Reason, c.Detail, c.OldPool = d.Migrate, string(d.Reason), d.Detail, d.OldPool
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
	// unknown (mfaErr says why).
	mfa    string
	mfaErr error
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
	if p == nil {
		return ""
	}
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

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
)

// passwordAuthOptions are the flags of enable-password-auth and
// disable-password-auth.
type passwordAuthOptions struct {
	poolOptions
	ClientID string
	// enable: add the flow (enable-password-auth), else remove it.
	enable bool
}

func newEnablePasswordAuthCmd(a *app) *command {
	opts := &passwordAuthOptions{enable: true}
	fs := flag.NewFlagSet("enable-password-auth", flag.ContinueOnError)
	fs.StringVar(&opts.ClientID, "client-id", "", "the app client's `ID` (required)")
	opts.register(fs)
	opts.registerDryRun(fs)
	c := &command{
		name:     "enable-password-auth",
		summary:  "allow USER_PASSWORD_AUTH on an app client, changing nothing else",
		synopsis: "--user-pool-id ID --client-id ID [--dry-run] [--output text|json] [--region REGION]",
		description: `
Adds ALLOW_USER_PASSWORD_AUTH to an app client of the NEW pool: Cognito calls the
"Migrate user" trigger only when the password reaches it, that is for
USER_PASSWORD_AUTH (and ADMIN_USER_PASSWORD_AUTH) sign-ins. SRP sign-ins
(USER_SRP_AUTH, the default of Amplify and the Cognito SDKs) never call it.

UpdateUserPoolClient resets every setting a request leaves out, so this command reads
the client (DescribeUserPoolClient), reads it again just before writing and stops if
anything changed in between, writes every setting back as it was with only the flow
added (UpdateUserPoolClient), and reads it again to check. A client without
ExplicitAuthFlows has Cognito's implicit ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_SRP_AUTH
and ALLOW_CUSTOM_AUTH; those are kept, written out. A client with legacy flow names
(ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH) is not converted: the
command explains and stops.

It prints the client's PreventUserExistenceErrors (ENABLED is recommended, so that a
declined migration reads "Incorrect username or password.") without changing it.
Switch the client back to SRP once everyone has migrated. --dry-run prints the plan
and changes nothing.`,
		footer: `
IAM: cognito-idp:DescribeUserPoolClient and cognito-idp:UpdateUserPoolClient on the
pool (with --dry-run, only DescribeUserPoolClient).

Exit status: 0 done (or nothing to do), 1 failed, 2 usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error { return opts.run(ctx, a, c.name) }
	return c
}

// run validates the flags and runs the command cmd (enable- or
// disable-password-auth).
func (o *passwordAuthOptions) run(ctx context.Context, a *app, cmd string) error {
	if err := o.poolOptions.validate(cmd); err != nil {
		return err
	}
	if o.ClientID == "" {
		return usagef(cmd, "--client-id is required")
	}
	res, err := runPasswordAuth(ctx, a, cmd, o)
	return a.finish(o.Output, res, err)
}

func newDisablePasswordAuthCmd(a *app) *command {
	opts := &passwordAuthOptions{}
	fs := flag.NewFlagSet("disable-password-auth", flag.ContinueOnError)
	fs.StringVar(&opts.ClientID, "client-id", "", "the app client's `ID` (required)")
	opts.register(fs)
	opts.registerDryRun(fs)
	c := &command{
		name:     "disable-password-auth",
		summary:  "remove ALLOW_USER_PASSWORD_AUTH from an app client, after the migration",
		synopsis: "--user-pool-id ID --client-id ID [--dry-run] [--output text|json] [--region REGION]",
		description: `
Removes ALLOW_USER_PASSWORD_AUTH from an app client of the NEW pool, once the
migration is over and the apps sign in with SRP (USER_SRP_AUTH) again: the reverse of
enable-password-auth. From then on, users not yet in the new pool can still arrive
through "forgot password" (the trigger's UserMigration_ForgotPassword) or a bulk
import, not by signing in with this client.

The same read-modify-write as enable-password-auth: the client is read
(DescribeUserPoolClient), read again just before writing (the command stops if
anything changed in between), written back with every other setting as it was
(UpdateUserPoolClient), and read again to check. A client whose other flows would
not let anyone sign in (only ALLOW_REFRESH_TOKEN_AUTH left), or with the legacy name
USER_PASSWORD_AUTH, is not changed: the command explains and stops.
--dry-run prints the plan and changes nothing.`,
		footer: `
IAM: cognito-idp:DescribeUserPoolClient and cognito-idp:UpdateUserPoolClient on the
pool (with --dry-run, only DescribeUserPoolClient).

Exit status: 0 done (or nothing to do), 1 failed, 2 usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error { return opts.run(ctx, a, c.name) }
	return c
}

const passwordAuthFlow = types.ExplicitAuthFlowsTypeAllowUserPasswordAuth

var (
	// implicitFlows are the flows of a client created without
	// ExplicitAuthFlows (CreateUserPoolClient API reference).
	implicitFlows = []types.ExplicitAuthFlowsType{
		types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
		types.ExplicitAuthFlowsTypeAllowUserSrpAuth,
		types.ExplicitAuthFlowsTypeAllowCustomAuth,
	}
	// legacyFlows cannot be mixed with ALLOW_ values.
	legacyFlows = []types.ExplicitAuthFlowsType{
		types.ExplicitAuthFlowsTypeAdminNoSrpAuth,
		types.ExplicitAuthFlowsTypeCustomAuthFlowOnly,
		types.ExplicitAuthFlowsTypeUserPasswordAuth,
	}
)

// withPasswordAuth returns the flows with ALLOW_USER_PASSWORD_AUTH added,
// and a note on what else it had to do; flows already allowing password
// sign-in are returned unchanged.
func withPasswordAuth(flows []types.ExplicitAuthFlowsType) ([]types.ExplicitAuthFlowsType, string, error) {
	if slices.Contains(flows, passwordAuthFlow) {
		return flows, "", nil
	}
	var legacy []string
	for _, f := range flows {
		if slices.Contains(legacyFlows, f) {
			legacy = append(legacy, string(f))
		}
	}
	if slices.Contains(flows, types.ExplicitAuthFlowsTypeUserPasswordAuth) {
		return flows, "USER_PASSWORD_AUTH is allowed under its legacy name", nil
	}
	if len(legacy) > 0 {
		return nil, "", failf("the app client uses legacy ExplicitAuthFlows names (%s), which Cognito does not accept next to ALLOW_USER_PASSWORD_AUTH, "+
			"and this command does not convert them: converting changes what the client allows. Convert the client to ALLOW_ names yourself "+
			"(ADMIN_NO_SRP_AUTH -> ALLOW_ADMIN_USER_PASSWORD_AUTH, USER_PASSWORD_AUTH -> ALLOW_USER_PASSWORD_AUTH, CUSTOM_AUTH_FLOW_ONLY -> ALLOW_CUSTOM_AUTH, "+
			"plus ALLOW_USER_SRP_AUTH and ALLOW_REFRESH_TOKEN_AUTH if your apps use them) with a full update-user-pool-client, then run this command again; "+
			"nothing was changed", strings.Join(legacy, ", "))
	}
	note := ""
	base := flows
	if len(flows) == 0 {
		base = implicitFlows
		note = "the client had no ExplicitAuthFlows, which Cognito treats as ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_SRP_AUTH and ALLOW_CUSTOM_AUTH; they are kept, now written out"
	}
	return append(slices.Clone(base), passwordAuthFlow), note, nil
}

// signInFlows are the flows that sign a user in (ALLOW_REFRESH_TOKEN_AUTH
// only renews a session).
var signInFlows = []types.ExplicitAuthFlowsType{
	types.ExplicitAuthFlowsTypeAllowUserSrpAuth,
	types.ExplicitAuthFlowsTypeAllowCustomAuth,
	types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth,
	types.ExplicitAuthFlowsTypeAllowUserAuth,
}

// withoutPasswordAuth returns the flows without ALLOW_USER_PASSWORD_AUTH;
// flows without it are returned unchanged.
func withoutPasswordAuth(flows []types.ExplicitAuthFlowsType) ([]types.ExplicitAuthFlowsType, error) {
	if slices.Contains(flows, types.ExplicitAuthFlowsTypeUserPasswordAuth) {
		return nil, failf("the app client allows password sign-in under the legacy name USER_PASSWORD_AUTH, which this command does not convert: " +
			"converting changes what the client allows. Convert the client to ALLOW_ names yourself with a full update-user-pool-client, " +
			"leaving out the password flow; nothing was changed")
	}
	if !slices.Contains(flows, passwordAuthFlow) {
		return flows, nil
	}
	after := slices.DeleteFunc(slices.Clone(flows), func(f types.ExplicitAuthFlowsType) bool { return f == passwordAuthFlow })
	if !slices.ContainsFunc(after, func(f types.ExplicitAuthFlowsType) bool { return slices.Contains(signInFlows, f) }) {
		return nil, failf("without ALLOW_USER_PASSWORD_AUTH the app client would allow no sign-in flow (%s): add the flow your apps now use "+
			"(ALLOW_USER_SRP_AUTH for SRP) first, then run this command again; nothing was changed", flowList(flowNames(after)))
	}
	return after, nil
}

// passwordAuthResult is what enable-password-auth did, or would do with
// --dry-run. It is the --output json object.
type passwordAuthResult struct {
	Command           string            `json:"command"`
	DryRun            bool              `json:"dryRun"`
	UserPoolID        string            `json:"userPoolId"`
	ClientID          string            `json:"clientId"`
	ClientName        string            `json:"clientName,omitempty"`
	Region            string            `json:"region,omitempty"`
	ExplicitAuthFlows *change[[]string] `json:"explicitAuthFlows,omitempty"`
	// PreventUserExistenceErrors is the client's setting as described
	// ("ENABLED", "LEGACY"; "" when Cognito did not say).
	PreventUserExistenceErrors string       `json:"preventUserExistenceErrors"`
	Warnings                   []string     `json:"warnings"`
	Error                      *errorResult `json:"error,omitempty"`
}

func (r *passwordAuthResult) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

func (r *passwordAuthResult) warnings() []string      { return r.Warnings }
func (r *passwordAuthResult) setError(e *errorResult) { r.Error = e }

func runPasswordAuth(ctx context.Context, a *app, cmd string, o *passwordAuthOptions) (*passwordAuthResult, error) {
	res := &passwordAuthResult{Command: cmd, DryRun: o.DryRun, UserPoolID: o.PoolID, ClientID: o.ClientID, Warnings: []string{}}
	api, region, err := a.adminAPI(ctx, cmd, &o.poolOptions)
	if err != nil {
		return res, err
	}
	res.Region = region
	admin := cognito.NewAdmin(api)

	client, err := admin.UserPoolClient(ctx, o.PoolID, o.ClientID)
	if err != nil {
		if errors.Is(err, awserr.ErrNotFound) {
			return res, withHint(poolNotFoundHint(err, o.PoolID, region), "Or no app client %s in that pool.", o.ClientID)
		}
		return res, err
	}
	res.ClientName = aws.ToString(client.ClientName)
	res.PreventUserExistenceErrors = string(client.PreventUserExistenceErrors)

	if o.enable {
		res.warnf("Cognito calls the migration trigger only for USER_PASSWORD_AUTH (and ADMIN_USER_PASSWORD_AUTH) sign-ins. " +
			"SRP sign-ins (USER_SRP_AUTH, the default of Amplify and the Cognito SDKs) never call it, because the password never reaches Cognito: " +
			"make the app sign in with USER_PASSWORD_AUTH during the migration, and switch this client back to SRP (remove ALLOW_USER_PASSWORD_AUTH) once everyone has migrated")
	} else {
		res.warnf("apps that still sign in with USER_PASSWORD_AUTH through this client will fail (\"USER_PASSWORD_AUTH flow not enabled for this client\"): " +
			"switch them to SRP (USER_SRP_AUTH) first. Users not yet in the new pool can still arrive through \"forgot password\" or a bulk import")
	}
	if client.PreventUserExistenceErrors != types.PreventUserExistenceErrorTypesEnabled {
		res.warnf("PreventUserExistenceErrors is %s; ENABLED is recommended: then a declined migration reads \"Incorrect username or password.\" instead of telling "+
			"whether the account exists (UserNotFoundException). This command does not change it", orUnset(res.PreventUserExistenceErrors))
	}
	if client.ClientSecret != nil {
		res.warnf("the client has a secret: USER_PASSWORD_AUTH sign-ins must send SECRET_HASH")
	}

	before := client.ExplicitAuthFlows
	var (
		after []types.ExplicitAuthFlowsType
		note  string
	)
	if o.enable {
		after, note, err = withPasswordAuth(before)
	} else {
		after, err = withoutPasswordAuth(before)
	}
	if err != nil {
		res.ExplicitAuthFlows = &change[[]string]{Before: flowNames(before), After: flowNames(before)}
		return res, err
	}
	changed := !slices.Equal(before, after)
	res.ExplicitAuthFlows = &change[[]string]{Before: flowNames(before), After: flowNames(after), Changed: changed}
	if note != "" {
		res.warnf("%s", note)
	}
	if !changed || o.DryRun {
		return res, nil
	}
	latest, err := admin.UserPoolClient(ctx, o.PoolID, o.ClientID)
	if err != nil {
		return res, withHint(err, "Nothing was written: reading the app client again, just before writing, failed.")
	}
	if changed := changedMembers(client, latest, "LastModifiedDate"); len(changed) > 0 {
		return res, &changedError{what: "app client " + o.ClientID, fields: changed}
	}
	in := cognito.UpdateUserPoolClientInput(latest)
	in.ExplicitAuthFlows = after
	if err := admin.UpdateUserPoolClient(ctx, in, o.PoolID); err != nil {
		return res, err
	}
	res.ExplicitAuthFlows.Applied = true
	reread, err := admin.UserPoolClient(ctx, o.PoolID, o.ClientID)
	if err != nil {
		return res, withHint(err, "The app client was updated; only reading it again, to check that nothing else changed, failed.")
	}
	if fields := cognito.ClientDrift(client, reread, after); len(fields) > 0 {
		return res, &driftError{what: "app client " + o.ClientID, fields: fields, before: client}
	}
	return res, nil
}

func flowNames(flows []types.ExplicitAuthFlowsType) []string {
	out := make([]string, len(flows))
	for i, f := range flows {
		out[i] = string(f)
	}
	return out
}

func orUnset(s string) string {
	if s == "" {
		return "not set (LEGACY)"
	}
	return s
}

func (r *passwordAuthResult) printText(w io.Writer) {
	if r.ExplicitAuthFlows == nil {
		return // nothing was read
	}
	if r.DryRun {
		fmt.Fprintln(w, "Dry run: nothing was changed.")
	}
	name := ""
	if r.ClientName != "" {
		name = " (" + r.ClientName + ")"
	}
	fmt.Fprintf(w, "App client %s%s of user pool %s\n", r.ClientID, name, r.UserPoolID)
	f := r.ExplicitAuthFlows
	if f.Changed {
		fmt.Fprintf(w, "  ExplicitAuthFlows:          %s -> %s%s\n", flowList(f.Before), flowList(f.After), changeNote(r.DryRun, f.Applied))
	} else {
		fmt.Fprintf(w, "  ExplicitAuthFlows:          %s (unchanged)\n", flowList(f.Before))
	}
	fmt.Fprintf(w, "  PreventUserExistenceErrors: %s (recommended: ENABLED; not changed by this command)\n", orUnset(r.PreventUserExistenceErrors))
	switch {
	case r.Error != nil || r.DryRun:
	case f.Changed:
		fmt.Fprintln(w, "Done. Every other setting of the app client was written back unchanged, and checked by reading it again.")
	case r.Command == "disable-password-auth":
		fmt.Fprintln(w, "Nothing to do: the client does not allow USER_PASSWORD_AUTH.")
	default:
		fmt.Fprintln(w, "Nothing to do: password sign-in is already allowed.")
	}
}

func flowList(flows []string) string {
	if len(flows) == 0 {
		return "(none)"
	}
	return strings.Join(flows, ", ")
}

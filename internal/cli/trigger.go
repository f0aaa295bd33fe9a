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
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
)

// StatementIDPrefix starts the Sid of the invoke permission attach-trigger
// adds: "cognito-migrate-<pool ID>".
const StatementIDPrefix = "cognito-migrate-"

// triggerOptions are the flags of attach-trigger and detach-trigger.
type triggerOptions struct {
	poolOptions
	FunctionARN string // attach-trigger only
	// Triggers are the --trigger flags, in order, without repeats; empty
	// means UserMigration.
	Triggers triggerList
	// PreTokenVersion is --pre-token-version (attach-trigger only).
	PreTokenVersion string
}

// triggerList is the repeatable --trigger flag.
type triggerList []cognito.Trigger

func (l *triggerList) String() string {
	if l == nil {
		return ""
	}
	names := make([]string, len(*l))
	for i, t := range *l {
		names[i] = string(t)
	}
	return strings.Join(names, ",")
}

func (l *triggerList) Set(v string) error {
	if !slices.Contains(cognito.Triggers(), cognito.Trigger(v)) {
		return fmt.Errorf("%q is not a trigger this function serves: UserMigration, PreTokenGeneration or PreSignUp", v)
	}
	if !slices.Contains(*l, cognito.Trigger(v)) {
		*l = append(*l, cognito.Trigger(v))
	}
	return nil
}

// register adds --trigger (and, for attach, --pre-token-version) to fs.
func (o *triggerOptions) registerTriggers(fs *flag.FlagSet, attach bool) {
	verb := "attach"
	if !attach {
		verb = "detach"
	}
	fs.Var(&o.Triggers, "trigger", "the `TRIGGER` to "+verb+": UserMigration (default), PreTokenGeneration or PreSignUp; repeat the flag for several")
	if attach {
		fs.StringVar(&o.PreTokenVersion, "pre-token-version", "", "with --trigger PreTokenGeneration, the event `VERSION`: V1_0 (default; every feature plan) or V2_0 (Essentials or Plus plan)")
	}
}

func (o *triggerOptions) validate(cmd string, attach bool) error {
	if err := o.poolOptions.validate(cmd); err != nil {
		return err
	}
	if len(o.Triggers) == 0 {
		o.Triggers = triggerList{cognito.TriggerUserMigration}
	}
	if attach {
		if o.FunctionARN == "" {
			return usagef(cmd, "--function-arn is required")
		}
		if _, err := lambdaapi.ParseFunctionARN(o.FunctionARN); err != nil {
			return usagef(cmd, "--function-arn: %v", err)
		}
		switch {
		case o.PreTokenVersion != "" && !slices.Contains(o.Triggers, cognito.TriggerPreTokenGeneration):
			return usagef(cmd, "--pre-token-version goes with --trigger PreTokenGeneration")
		case o.PreTokenVersion != "" && o.PreTokenVersion != cognito.PreTokenV1 && o.PreTokenVersion != cognito.PreTokenV2:
			return usagef(cmd, "--pre-token-version must be V1_0 or V2_0, not %q", o.PreTokenVersion)
		}
	}
	return nil
}

func newAttachTriggerCmd(a *app) *command {
	opts := &triggerOptions{}
	fs := flag.NewFlagSet("attach-trigger", flag.ContinueOnError)
	fs.StringVar(&opts.FunctionARN, "function-arn", "", "the migration function's `ARN`, optionally with a version or alias (required)")
	opts.register(fs)
	opts.registerDryRun(fs)
	opts.registerTriggers(fs, true)
	c := &command{
		name:     "attach-trigger",
		summary:  "set the pool's \"Migrate user\" (or another) trigger, changing nothing else",
		synopsis: "--user-pool-id ID --function-arn ARN [--trigger TRIGGER]... [--pre-token-version V1_0|V2_0] [--dry-run] [--output text|json] [--region REGION]",
		description: `
Makes the function the NEW pool's "Migrate user" trigger (LambdaConfig.UserMigration),
or with --trigger its pre token generation trigger (groups follow the user; both
LambdaConfig.PreTokenGeneration and PreTokenGenerationConfig, with the same ARN) or
its pre sign-up trigger (the sign-up guard), and makes sure Cognito may invoke it.
Attach a trigger only to a function configured for it (LEGACY_GROUPS_ATTRIBUTE,
SIGNUP_GUARD=true): otherwise every event of that trigger fails.

UpdateUserPool resets every setting a request leaves out, so this command reads the
pool (DescribeUserPool), then reads the function's resource-based policy (lambda
GetPolicy) and, unless a statement already lets cognito-idp.amazonaws.com invoke it
for this pool, adds one (lambda AddPermission, statement id "cognito-migrate-<pool
id>", SourceArn the pool's ARN, SourceAccount its account). It then reads the pool
again and stops, writing nothing, if any setting changed since the first read; else
it writes every setting back as it was with only those triggers changed
(UpdateUserPool) and reads the pool again to check that nothing else moved. A change
someone makes between that last read and the write is still overwritten.

Already attached to the same ARN: says so and leaves the pool alone (a missing
permission is still added). Another function on one of the triggers (Cognito allows
one function per trigger): stops, changing nothing, and says which; detach it first
if it should go. Another version or alias of the same function is replaced.
--dry-run prints the same plan and changes nothing.`,
		footer: `
IAM: cognito-idp:DescribeUserPool and cognito-idp:UpdateUserPool on the pool;
lambda:GetPolicy and lambda:AddPermission on the function (with --dry-run, only
the Describe and Get actions).

Exit status: 0 done (or nothing to do), 1 failed, 2 usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error {
		if err := opts.validate(c.name, true); err != nil {
			return err
		}
		res, err := runTrigger(ctx, a, c.name, opts, true)
		return a.finish(opts.Output, res, err)
	}
	return c
}

func newDetachTriggerCmd(a *app) *command {
	opts := &triggerOptions{}
	fs := flag.NewFlagSet("detach-trigger", flag.ContinueOnError)
	opts.register(fs)
	opts.registerDryRun(fs)
	opts.registerTriggers(fs, false)
	c := &command{
		name:     "detach-trigger",
		summary:  "remove the pool's \"Migrate user\" (or another) trigger, changing nothing else",
		synopsis: "--user-pool-id ID [--trigger TRIGGER]... [--dry-run] [--output text|json] [--region REGION]",
		description: `
Removes the NEW pool's "Migrate user" trigger (LambdaConfig.UserMigration), or with
--trigger its PreTokenGeneration (both of its fields) or PreSignUp trigger, with the
same read-modify-write as attach-trigger: the pool is read, read again just before
writing (the command stops if anything changed in between), every other setting, the
other triggers included, is written back as it was, and the pool is read again to
check.

The function's invoke permission is left in place (the command says how to remove
it). No trigger attached: says so and changes nothing. --dry-run prints the plan and
changes nothing.`,
		footer: `
IAM: cognito-idp:DescribeUserPool and cognito-idp:UpdateUserPool on the pool (with
--dry-run, only DescribeUserPool).

Exit status: 0 done (or nothing to do), 1 failed, 2 usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error {
		if err := opts.validate(c.name, false); err != nil {
			return err
		}
		res, err := runTrigger(ctx, a, c.name, opts, false)
		return a.finish(opts.Output, res, err)
	}
	return c
}

// triggerResult is what attach-trigger and detach-trigger did, or would do
// with --dry-run. It is the --output json object.
type triggerResult struct {
	Command       string            `json:"command"`
	DryRun        bool              `json:"dryRun"`
	UserPoolID    string            `json:"userPoolId"`
	UserPoolARN   string            `json:"userPoolArn,omitempty"`
	Region        string            `json:"region,omitempty"`
	UserMigration *change[*string]  `json:"userMigration,omitempty"`
	Triggers      []*triggerChange  `json:"triggers,omitempty"`
	Permission    *permissionResult `json:"permission,omitempty"`
	Warnings      []string          `json:"warnings"`
	Error         *errorResult      `json:"error,omitempty"`
}

// change is a setting before and after the command: Changed when the two
// differ (after is what it would be with --dry-run), Applied once the
// command wrote it.
type change[T any] struct {
	Before  T    `json:"before"`
	After   T    `json:"after"`
	Changed bool `json:"changed"`
	Applied bool `json:"applied"`
}

// triggerChange is one trigger before and after the command, as change;
// the versions are pre token generation's event versions.
type triggerChange struct {
	Trigger       cognito.Trigger `json:"trigger"`
	Before        *string         `json:"before"`
	After         *string         `json:"after"`
	VersionBefore string          `json:"versionBefore,omitempty"`
	VersionAfter  string          `json:"versionAfter,omitempty"`
	Changed       bool            `json:"changed"`
	Applied       bool            `json:"applied"`
}

// Permission statuses.
const (
	permissionPresent = "present" // a statement already allows the pool
	permissionAdded   = "added"   // this run added the statement
	permissionMissing = "missing" // --dry-run: the statement would be added
	permissionLeft    = "left"    // detach-trigger: not looked at, left as it is
)

type permissionResult struct {
	FunctionARN string `json:"functionArn"`
	Status      string `json:"status"`
	StatementID string `json:"statementId,omitempty"`
	// Unscoped: the allowing statement lets any user pool invoke the
	// function.
	Unscoped bool `json:"unscoped"`
}

type errorResult struct {
	Message  string `json:"message"`
	ExitCode int    `json:"exitCode"`
}

func (r *triggerResult) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

func (r *triggerResult) warnings() []string      { return r.Warnings }
func (r *triggerResult) setError(e *errorResult) { r.Error = e }

// runTrigger attaches (attach) or detaches the pool's triggers in o.Triggers.
// The result reports what was done even when err is not nil.
func runTrigger(ctx context.Context, a *app, cmd string, o *triggerOptions, attach bool) (*triggerResult, error) {
	res := &triggerResult{Command: cmd, DryRun: o.DryRun, UserPoolID: o.PoolID, Warnings: []string{}}
	api, region, err := a.adminAPI(ctx, cmd, &o.poolOptions)
	if err != nil {
		return res, err
	}
	res.Region = region
	admin := cognito.NewAdmin(api)

	pool, err := admin.UserPool(ctx, o.PoolID)
	if err != nil {
		return res, poolNotFoundHint(err, o.PoolID, region)
	}
	res.UserPoolARN = aws.ToString(pool.Arn)
	set, left, err := planTriggers(res, pool, o, attach)
	if err != nil {
		return res, err
	}

	if attach {
		// The permission comes first: a trigger Cognito may not invoke fails
		// every sign-in of an unknown user ("Exception migrating user in app
		// client ...").
		if err := ensurePermission(ctx, a, res, o); err != nil {
			return res, err
		}
	} else if left != "" {
		res.Permission = &permissionResult{FunctionARN: left, Status: permissionLeft, StatementID: StatementIDPrefix + o.PoolID}
	}

	if len(set) == 0 || o.DryRun {
		return res, nil
	}
	// UpdateUserPool writes every setting: read them again, after the
	// permission work, so that what is written is what was checked. A change
	// made between this read and the write is still overwritten (docs/cli.md).
	latest, err := admin.UserPool(ctx, o.PoolID)
	if err != nil {
		return res, withHint(err, "Nothing was written: reading the pool again, just before writing, failed.")
	}
	if changed := changedMembers(pool, latest, "LastModifiedDate", "EstimatedNumberOfUsers"); len(changed) > 0 {
		return res, &changedError{what: "user pool " + o.PoolID, fields: changed}
	}
	in := cognito.UpdateUserPoolInput(latest)
	cognito.SetTriggers(in, set)
	if err := admin.UpdateUserPool(ctx, in, res.UserPoolARN); err != nil {
		return res, err
	}
	for _, t := range res.Triggers {
		t.Applied = t.Changed
	}
	if res.UserMigration != nil {
		res.UserMigration.Applied = res.UserMigration.Changed
	}
	after, err := admin.UserPool(ctx, o.PoolID)
	if err != nil {
		return res, withHint(err, "The pool was updated; only reading it again, to check that nothing else changed, failed.")
	}
	if changed := cognito.PoolDriftAfter(pool, after, set); len(changed) > 0 {
		return res, &driftError{what: "user pool " + o.PoolID, fields: changed, before: pool}
	}
	return res, nil
}

// planTriggers fills res.Triggers (and res.UserMigration) from pool and
// returns the triggers to write, and for detach-trigger the function whose
// permission is left in place. It refuses, before anything is written, to
// replace another function, to attach V2_0 events to a Lite pool, and to
// guess with a pre token generation whose two fields disagree.
func planTriggers(res *triggerResult, pool *types.UserPoolType, o *triggerOptions, attach bool) (set map[cognito.Trigger]cognito.Attached, left string, err error) {
	set = map[cognito.Trigger]cognito.Attached{}
	for _, t := range o.Triggers {
		cur, curErr := cognito.AttachedTo(pool, t)
		want := cognito.Attached{}
		if attach {
			want.ARN = o.FunctionARN
			if t == cognito.TriggerPreTokenGeneration {
				// Without the flag: the version already set, else V1_0.
				want.Version = o.PreTokenVersion
				switch {
				case want.Version != "":
				case cur.Version != "" && sameFunction(cur.ARN, want.ARN):
					want.Version = cur.Version
				default:
					want.Version = cognito.PreTokenV1
				}
			}
		}
		c := &triggerChange{Trigger: t, Before: optional(cur.ARN), After: optional(want.ARN),
			VersionBefore: cur.Version, VersionAfter: want.Version, Changed: cur != want}
		res.Triggers = append(res.Triggers, c)
		if t == cognito.TriggerUserMigration {
			res.UserMigration = &change[*string]{Before: c.Before, After: c.After, Changed: c.Changed}
		}
		switch {
		case !attach:
			// Detaching clears both pre token generation fields, so fields
			// that disagree are no reason to stop.
			if cur.ARN != "" && left == "" {
				left = cur.ARN
			}
		case curErr != nil:
			return nil, "", failf("the pool's pre token generation trigger is inconsistent: %v. Nothing was changed: fix it in the console, or run detach-trigger --trigger PreTokenGeneration first", curErr)
		case cur.ARN != "" && !sameFunction(cur.ARN, want.ARN):
			return nil, "", failf("the pool's %s trigger is already %s. Cognito allows one function per trigger, and this command never replaces another function: nothing was changed. "+
				"If that function should go, run detach-trigger --user-pool-id %s --trigger %s first; if it must stay, see docs/triggers.md (one pre sign-up function: call the guard from yours)",
				t, cur.ARN, o.PoolID, t)
		case t == cognito.TriggerPreTokenGeneration && want.Version != cognito.PreTokenV1 && pool.UserPoolTier == types.UserPoolTierTypeLite:
			return nil, "", failf("--pre-token-version %s needs the Essentials or Plus feature plan, and pool %s is on Lite: use V1_0 (the default), which covers the groups in both tokens", want.Version, o.PoolID)
		}
		if c.Changed {
			set[t] = want
		}
	}
	return set, left, nil
}

// sameFunction reports whether two function ARNs name the same function,
// perhaps as different versions or aliases.
func sameFunction(a, b string) bool {
	fa, errA := lambdaapi.ParseFunctionARN(a)
	fb, errB := lambdaapi.ParseFunctionARN(b)
	if errA != nil || errB != nil {
		return a == b
	}
	fa.Qualifier, fb.Qualifier = "", ""
	return fa == fb
}

// ensurePermission makes sure the function's policy lets the pool invoke it,
// adding the statement unless it is there or this is a dry run.
func ensurePermission(ctx context.Context, a *app, res *triggerResult, o *triggerOptions) error {
	fn, _ := lambdaapi.ParseFunctionARN(o.FunctionARN) // validated with the flags
	poolARN, err := parsePoolARN(res.UserPoolARN)
	if err != nil {
		return err
	}
	grant := lambdaapi.Grant{
		FunctionARN:   o.FunctionARN,
		SourceARN:     res.UserPoolARN,
		SourceAccount: poolARN.account,
		StatementID:   StatementIDPrefix + o.PoolID,
	}
	perm := &permissionResult{FunctionARN: o.FunctionARN, StatementID: grant.StatementID}
	if fn.Region != poolARN.region {
		res.warnf("the function is in %s, the pool in %s: keep the trigger in the pool's region (only same-region triggers are documented and tested)", fn.Region, poolARN.region)
	}
	crossAccount := ""
	if fn.Account != poolARN.account {
		crossAccount = fmt.Sprintf("The function is in account %s, the pool in %s: with credentials of the function's account, run\n  %s",
			fn.Account, poolARN.account, grant.CLICommand())
	}

	lambdaAPI, err := a.permissionAPI(ctx, &o.poolOptions, fn.Region)
	if err != nil {
		return err
	}
	status, err := grant.Check(ctx, lambdaAPI)
	if err != nil {
		return permissionHint(err, crossAccount, grant)
	}
	switch {
	case status.Allowed:
		perm.Status, perm.StatementID, perm.Unscoped = permissionPresent, status.StatementID, status.Unscoped
		if status.Unscoped {
			res.warnf("the function's policy statement %q lets cognito-idp.amazonaws.com invoke it without an AWS:SourceArn condition: any user pool, in any account, can invoke it. Scope it to this pool: %s",
				status.StatementID, grant.CLICommand())
		}
	case o.DryRun:
		perm.Status = permissionMissing
	default:
		err := grant.Add(ctx, lambdaAPI, status.RevisionID)
		if errors.Is(err, awserr.ErrConflict) {
			// The SDK retries a call whose answer was lost, so the statement
			// may be our own first attempt's: look again before failing.
			if again, checkErr := grant.Check(ctx, lambdaAPI); checkErr == nil && again.Allowed && again.StatementID == grant.StatementID {
				err = nil
			}
		}
		if err != nil {
			res.Permission = perm
			perm.Status = permissionMissing
			return permissionHint(err, crossAccount, grant)
		}
		perm.Status = permissionAdded
	}
	res.Permission = perm
	return nil
}

func permissionHint(err error, crossAccount string, g lambdaapi.Grant) error {
	switch {
	case crossAccount != "":
		return withHint(err, "%s", crossAccount)
	case errors.Is(err, awserr.ErrAccessDenied):
		return withHint(err, "Or have someone who may run:\n  %s", g.CLICommand())
	}
	return err
}

// poolNotFoundHint adds, to a pool that was not found, the region the pool
// ID points at when it is not the one used.
func poolNotFoundHint(err error, poolID, region string) error {
	if !errors.Is(err, awserr.ErrNotFound) {
		return err
	}
	if guess, _, ok := strings.Cut(poolID, "_"); ok && guess != region {
		return withHint(err, "The command looked in region %s, but the pool ID starts with %s: pass --region %s.", region, guess, guess)
	}
	return withHint(err, "No user pool %s in region %s (account of the current credentials).", poolID, region)
}

type poolARNParts struct{ region, account string }

// parsePoolARN reads a user pool ARN,
// arn:PARTITION:cognito-idp:REGION:ACCOUNT:userpool/ID.
func parsePoolARN(s string) (poolARNParts, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "cognito-idp" || !strings.HasPrefix(a.Resource, "userpool/") {
		return poolARNParts{}, failf("DescribeUserPool returned %q, which is not a user pool ARN", s)
	}
	return poolARNParts{region: a.Region, account: a.AccountID}, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// triggerLabels name the triggers in the text output.
var triggerLabels = map[cognito.Trigger]string{
	cognito.TriggerUserMigration:      "Migrate user trigger",
	cognito.TriggerPreTokenGeneration: "Pre token generation trigger",
	cognito.TriggerPreSignUp:          "Pre sign-up trigger",
}

// printText writes the result for people.
func (r *triggerResult) printText(w io.Writer) {
	if len(r.Triggers) == 0 {
		return // nothing was read
	}
	if r.DryRun {
		fmt.Fprintln(w, "Dry run: nothing was changed.")
	}
	fmt.Fprintf(w, "User pool %s (%s)\n", r.UserPoolID, r.UserPoolARN)
	changed, applied := false, false
	for _, m := range r.Triggers {
		label := triggerLabels[m.Trigger]
		before, after := orNone(m.Before), orNone(m.After)
		if m.Trigger == cognito.TriggerPreTokenGeneration {
			before, after = withVersion(m.Before, m.VersionBefore), withVersion(m.After, m.VersionAfter)
		}
		switch {
		case !m.Changed && m.After == nil:
			fmt.Fprintf(w, "  %s: none (nothing to detach)\n", label)
		case !m.Changed:
			fmt.Fprintf(w, "  %s: %s (already attached; unchanged)\n", label, after)
		default:
			fmt.Fprintf(w, "  %s: %s -> %s%s\n", label, before, after, changeNote(r.DryRun, m.Applied))
		}
		changed = changed || m.Changed
		applied = applied || m.Applied
	}
	if p := r.Permission; p != nil {
		switch p.Status {
		case permissionPresent:
			fmt.Fprintf(w, "  Invoke permission:    present (statement %s)\n", p.StatementID)
		case permissionAdded:
			fmt.Fprintf(w, "  Invoke permission:    added statement %s (cognito-idp.amazonaws.com, this pool only)\n", p.StatementID)
		case permissionMissing:
			verb := "missing; would add"
			if !r.DryRun {
				verb = "missing; could not add"
			}
			fmt.Fprintf(w, "  Invoke permission:    %s statement %s (cognito-idp.amazonaws.com, this pool only)\n", verb, p.StatementID)
		case permissionLeft:
			fmt.Fprintf(w, "  Invoke permission:    left in place on %s; once the migration is over, remove it with\n"+
				"                        aws lambda remove-permission --function-name %s --statement-id %s\n"+
				"                        (the id attach-trigger uses; yours may differ: aws lambda get-policy)\n", p.FunctionARN, p.FunctionARN, p.StatementID)
		}
	}
	if r.Error != nil {
		return
	}
	switch {
	case r.DryRun:
	case changed && applied:
		fmt.Fprintln(w, "Done. Every other setting of the pool was written back unchanged, and checked by reading the pool again.")
	case r.Permission != nil && r.Permission.Status == permissionAdded:
		fmt.Fprintln(w, "Done. The pool itself was not changed.")
	default:
		fmt.Fprintln(w, "Nothing to do.")
	}
}

// withVersion is a pre token generation ARN with its event version.
func withVersion(arn *string, version string) string {
	if arn == nil || version == "" {
		return orNone(arn)
	}
	return *arn + " (" + version + ")"
}

// changeNote qualifies a change that was not made.
func changeNote(dryRun, applied bool) string {
	switch {
	case dryRun:
		return " (would change)"
	case !applied:
		return " (NOT changed: see the error)"
	}
	return ""
}

func orNone(s *string) string {
	if s == nil {
		return "(none)"
	}
	return *s
}

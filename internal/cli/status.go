package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

func newStatusCmd(a *app) *command {
	opts := &twoPoolOptions{}
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	opts.register(fs)
	c := &command{
		name:     "status",
		summary:  "how far the migration is: users migrated, remaining, per day",
		synopsis: "--user-pool-id ID [--function-arn ARN] [--output text|json] [flags]",
		description: `
Lists every user of the OLD pool(s), then of the NEW pool (ListUsers, pages of 60, at
most 29 requests per second under Cognito's quota of 30, throttled pages retried),
and prints: the old pool's users by status and how many are disabled, the new pool's
total, how many old users were migrated and how many remain (by status), and the
migrations of the last 30 days (UTC, by the new users' creation dates) as a chart.
A progress bar is drawn on stderr when stderr is a terminal.

A new user counts as migrated from at most one old user, and an old user as migrated
at most once: by LEGACY_SUB_ATTRIBUTE (the new user's value equals the old user's
sub) when it is set; otherwise by the new pool's sign-in names: the email or phone
number of a pool that signs in with them, else the username, then each alias
(email, phone_number, preferred_username). A case-insensitive new pool compares
them with A-Z folded to a-z, as Cognito does. Users kept in memory: a few bytes per
old user (hashes of their match keys), never their data.

In a merge (OLD_2_USER_POOL_ID, ...) every old pool is listed, in order, and the
old users of all of them make one set: a new user is migrated from whichever pool's
user holds its match key. The old figures are the sums; oldPools gives each pool's.

With MIGRATE_ONLY set, old users outside it are counted apart (outOfScope) and never
as remaining; one a new user matches still counts as migrated. A group: condition
reads each old pool's group memberships first (ListGroups, ListUsersInGroup).

--output json prints {"old":{"total","byStatus","disabled"},"new":{"total"},
"migrated","remaining","remainingByStatus","perDay":[{"date","migrated"}]}, with
"oldPools":[{"name","userPoolId","total","byStatus","disabled","migrated",
"remaining","outOfScope"}] in a merge, "scope","inScope","outOfScope",
"outOfScopeByStatus" under MIGRATE_ONLY.`,
		footer: `
IAM: cognito-idp:DescribeUserPool and ListUsers on every pool (and ListGroups and
ListUsersInGroup on the old pools with a group: condition in MIGRATE_ONLY),
lambda:GetFunctionConfiguration on the function. ListUsers shares its quota with
every other caller in the account and region: run status when nothing else lists.

Exit status: 0 done, 1 failed, 2 usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error {
		if err := opts.validate(c.name); err != nil {
			return err
		}
		res, err := runStatus(ctx, a, c.name, opts, time.Now())
		if err != nil {
			return a.finish(opts.Output, &statusResult{}, err)
		}
		return a.finish(opts.Output, res, nil)
	}
	return c
}

// statusResult is status's output: the figures, or the error alone.
type statusResult struct {
	*migrate.Report
	// Scope is MIGRATE_ONLY, when set.
	Scope string       `json:"scope,omitempty"`
	Error *errorResult `json:"error,omitempty"`
	// Old and new pool ids, for the text output.
	oldID, newID string
}

func (r *statusResult) warnings() []string      { return nil }
func (r *statusResult) setError(e *errorResult) { r.Error = e }

// matchRule is how status matches new users to old ones in newPool with
// the LEGACY_SUB_ATTRIBUTE legacySub.
func matchRule(newPool *types.UserPoolType, legacySub string) migrate.MatchRule {
	r := migrate.MatchRule{LegacySub: legacySub, CaseSensitive: true}
	for _, a := range newPool.UsernameAttributes {
		r.UsernameAttributes = append(r.UsernameAttributes, string(a))
	}
	for _, a := range newPool.AliasAttributes {
		r.AliasAttributes = append(r.AliasAttributes, string(a))
	}
	if uc := newPool.UsernameConfiguration; uc != nil && uc.CaseSensitive != nil {
		r.CaseSensitive = *uc.CaseSensitive
	}
	return r
}

func runStatus(ctx context.Context, a *app, cmd string, opts *twoPoolOptions, now time.Time) (*statusResult, error) {
	m, err := a.resolveMigration(ctx, cmd, opts)
	if err != nil {
		return nil, err
	}
	rules := m.Settings.Rules
	p := migrate.NewProgress(matchRule(m.NewPool, rules.LegacySub))
	res := &statusResult{oldID: m.Settings.OldUserPoolID, newID: opts.PoolID}
	scoped := len(rules.Scope.All) > 0
	if scoped {
		res.Scope = rules.Scope.String()
		p.CountScope()
	}
	// The estimates only size memory: without them (no DescribeUserPool on
	// an old pool) the table grows as it fills.
	estimates := make([]int, len(m.Olds))
	for i, src := range m.Olds {
		if desc, err := cognito.NewAdmin(src.API).UserPool(ctx, src.UserPoolID); err == nil {
			estimates[i] = int(desc.EstimatedNumberOfUsers)
		}
	}
	total := 0
	for _, n := range estimates {
		total += n
	}
	p.Reserve(total)
	newList, oldLists := listerSet(m, opts)
	bar := newProgressBar(a.stderr)
	defer bar.done()

	for i, src := range m.Olds {
		if err := p.BeginPool(src.Name, src.UserPoolID); err != nil {
			return nil, err
		}
		// A listing does not show groups: a group: condition reads the
		// memberships of the scope's groups (ListGroups, ListUsersInGroup).
		var groups map[string][]string
		if scoped && rules.Scope.NeedsGroups() {
			if groups, err = scopeGroups(ctx, oldLists[i], src, rules.Scope); err != nil {
				return nil, poolHint(err, m, src)
			}
		}
		err = oldLists[i].ListUsers(ctx, src.UserPoolID, cognito.ListUsersOptions{OnPage: func(pg cognito.Page) {
			bar.show("old pool "+src.UserPoolID, pg.Total, estimates[i])
		}}, func(u types.UserType) error {
			lu := cognito.ListedUser(u)
			if scoped {
				lu.OutOfScope = !rules.InScope(migrate.User{Username: lu.Username, Enabled: lu.Enabled, Status: lu.Status,
					Attributes: lu.Attributes, Groups: groups[lu.Username]})
			}
			return p.AddOld(lu)
		})
		if err != nil {
			return nil, poolHint(err, m, src)
		}
		bar.done()
	}
	newEstimate := int(m.NewPool.EstimatedNumberOfUsers)
	err = newList.ListUsers(ctx, opts.PoolID, cognito.ListUsersOptions{OnPage: func(pg cognito.Page) {
		bar.show("new pool "+opts.PoolID, pg.Total, newEstimate)
	}}, func(u types.UserType) error {
		p.AddNew(cognito.ListedUser(u))
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := p.Report(now)
	res.Report = &r
	return res, nil
}

func (r *statusResult) printText(w io.Writer) {
	if r.Report == nil {
		return
	}
	pct := func(n, of int) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	}
	of := "the old pool"
	if len(r.Pools) > 0 {
		of = fmt.Sprintf("the %d old pools", len(r.Pools))
		fmt.Fprintf(w, "Old pools, all %d: %d users, %d disabled\n", len(r.Pools), r.Old.Total, r.Old.Disabled)
	} else {
		fmt.Fprintf(w, "Old pool %s: %d users, %d disabled\n", r.oldID, r.Old.Total, r.Old.Disabled)
	}
	for _, s := range r.Statuses() {
		fmt.Fprintf(w, "  %-22s %9d   remaining %d\n", s, r.Old.ByStatus[s], r.RemainingByStatus[s])
	}
	for _, p := range r.Pools {
		fmt.Fprintf(w, "  old pool %s %s: %d users, %d disabled, migrated %d, remaining %d", p.Name, p.UserPoolID, p.Total, p.Disabled, p.Migrated, p.Remaining)
		if p.OutOfScope != nil {
			fmt.Fprintf(w, ", out of scope %d", *p.OutOfScope)
		}
		fmt.Fprintln(w)
	}
	if r.OutOfScope != nil {
		fmt.Fprintf(w, "MIGRATE_ONLY %s: %d users in scope, %d out of scope (never counted as remaining)\n", r.Scope, *r.InScope, *r.OutOfScope)
	}
	fmt.Fprintf(w, "New pool %s: %d users\n", r.newID, r.New.Total)
	fmt.Fprintf(w, "Migrated: %d (%s of %s)   Remaining: %d\n", r.Migrated, pct(r.Migrated, r.Old.Total), of, r.Remaining)
	fmt.Fprintf(w, "\nMigrations per day (UTC), last %d days:\n", len(r.PerDay))
	top := 0
	for _, d := range r.PerDay {
		top = max(top, d.Migrated)
	}
	const width = 40
	for _, d := range r.PerDay {
		n := 0
		if top > 0 {
			n = (d.Migrated*width + top - 1) / top
		}
		fmt.Fprintf(w, "  %s %-*s %d\n", d.Date, width, strings.Repeat("#", n), d.Migrated)
	}
}

// progressBar draws the listing's progress on a terminal, and nothing
// elsewhere (a file, a pipe, a CI log).
type progressBar struct {
	w    io.Writer // nil: not a terminal
	line bool      // a line is drawn and not ended
}

func newProgressBar(w io.Writer) *progressBar {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return &progressBar{w: w}
		}
	}
	return &progressBar{}
}

// show draws "what: n of about estimate users" with a bar when the
// estimate is known (DescribeUserPool's EstimatedNumberOfUsers).
func (b *progressBar) show(what string, n, estimate int) {
	if b.w == nil {
		return
	}
	const width = 30
	if estimate > 0 {
		done := min(width, n*width/estimate)
		fmt.Fprintf(b.w, "\r%s [%s%s] %d of about %d users ", what, strings.Repeat("=", done), strings.Repeat(" ", width-done), n, estimate)
	} else {
		fmt.Fprintf(b.w, "\r%s: %d users ", what, n)
	}
	b.line = true
}

func (b *progressBar) done() {
	if b.w != nil && b.line {
		fmt.Fprintln(b.w)
		b.line = false
	}
}

// scopeGroups returns the old pool's members of the groups MIGRATE_ONLY
// names, by username.
func scopeGroups(ctx context.Context, l *cognito.Lister, src oldSource, scope migrate.Scope) (map[string][]string, error) {
	named := map[string]bool{}
	for _, c := range scope.All {
		if c.Kind == migrate.ScopeGroup {
			for _, g := range c.Values {
				named[g] = true
			}
		}
	}
	out := map[string][]string{}
	err := l.GroupMembers(ctx, src.API, src.UserPoolID, func(group, username string) error {
		if named[group] {
			out[username] = append(out[username], group)
		}
		return nil
	})
	return out, err
}

package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// SkipMissingRequired is the export's skip reason for a user who lacks an
// attribute the new pool requires: the import job would fail their line.
const SkipMissingRequired bulk.SkipReason = "missing_required_attribute"

// Quotas the export stays under besides ListUsers'
// (https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html):
// AdminGetUser is in the UserRead category (120 requests per second).
const adminGetUserRate = 100

type exportOptions struct {
	twoPoolOptions
	Out string
}

func newExportCmd(a *app) *command {
	opts := &exportOptions{}
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.StringVar(&opts.Out, "out", "", "the `DIR` to write the export into, empty or absent (required)")
	opts.register(fs)
	opts.registerDryRun(fs)
	c := &command{
		name:     "export",
		summary:  "write import CSV files of the old users not in the new pool yet",
		synopsis: "--user-pool-id ID --out DIR [--dry-run] [--output text|json] [flags]",
		description: `
Lists the old pool and the new pool (ListUsers, at most 29 requests per second, pages
of 60, throttling retried) and writes, for every old user who is not in the new pool
yet, a row of the new pool's import CSV (its GetCSVHeader columns). Each row holds
what the migration function would give the user: the same code and settings
(ATTRIBUTE_MAP, EXCLUDE_ATTRIBUTES, LEGACY_SUB_ATTRIBUTE, MFA_POLICY, TRUST_EMAIL, the
new pool's schema and sign-in type), read from the function attached to the new pool
or --function-arn, each overridable by its flag.

Exported: CONFIRMED users, enabled or not (import disables the disabled ones again).
Skipped, each counted by reason and listed in DIR/skipped.jsonl: other statuses,
users without a verified email or phone number (an imported user must reset their
password), users the function would decline, users already in the new pool.
Group memberships (ListGroups, ListUsersInGroup) and the enabled flag go to
DIR/users-NNNN.map.jsonl, one line per CSV row; DIR/export.json is written last,
and only when the whole listing succeeded: a failed listing leaves no export.

In a merge (OLD_2_USER_POOL_ID, ...) every old pool is exported into the one DIR, in
order, each with its own groups; each manifest and skipped line names the user's
old pool ("old_pool"). A name (username, email, phone number or preferred username,
ASCII case ignored) held by users of two old pools belongs to two people: both are
skipped (ambiguous_user), as the function declines them, whatever the routes say.
Finding them lists every old pool once more before the export.

Attribute values are the users' own data: DIR is created readable by its owner only.
--dry-run lists both pools and prints the counts without writing anything.`,
		footer: `
IAM: on the new pool cognito-idp:DescribeUserPool, GetCSVHeader and ListUsers, and
lambda:GetFunctionConfiguration on the function; on each old pool (as the function
reaches it) cognito-idp:ListUsers, ListGroups, ListUsersInGroup and, unless
MFA_POLICY=migrate and the new pool's MFA is OFF or ON, AdminGetUser.

Exit status: 0 done, 1 failed (nothing is left that looks like a finished export), 2
usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error {
		if err := opts.validate(c.name); err != nil {
			return err
		}
		if opts.Out == "" {
			return usagef(c.name, "--out is required")
		}
		res := &exportResult{Out: opts.Out, DryRun: opts.DryRun, Skipped: map[bulk.SkipReason]int{}, Files: []bulk.ExportFile{}}
		err := a.export(ctx, opts, res)
		return a.finish(opts.Output, res, err)
	}
	return c
}

// exportResult is what export reports.
type exportResult struct {
	Out    string `json:"out"`
	DryRun bool   `json:"dryRun"`
	// NewPoolUsers and OldPoolUsers count the users listed in each pool.
	NewPoolUsers int                     `json:"newPoolUsers"`
	OldPoolUsers int                     `json:"oldPoolUsers"`
	Exported     int                     `json:"exported"`
	Skipped      map[bulk.SkipReason]int `json:"skipped"`
	Files        []bulk.ExportFile       `json:"files"`
	// OldPools, in a merge, count the users listed in each old pool.
	OldPools []exportPool `json:"oldPools,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	Error    *errorResult `json:"error,omitempty"`
}

// exportPool is one old pool of a merged export.
type exportPool struct {
	Name       string `json:"name"`
	UserPoolID string `json:"userPoolId"`
	Listed     int    `json:"listed"`
}

func (r *exportResult) warnings() []string      { return r.Warnings }
func (r *exportResult) setError(e *errorResult) { r.Error = e }

func (r *exportResult) printText(w io.Writer) {
	if r.Error != nil {
		fmt.Fprintf(w, "Export failed after listing %d new and %d old users: nothing was exported.\n", r.NewPoolUsers, r.OldPoolUsers)
		return
	}
	verb := "Exported"
	if r.DryRun {
		verb = "Would export"
	}
	skipped := 0
	for _, n := range r.Skipped {
		skipped += n
	}
	fmt.Fprintf(w, "%s %d of %d old users (%d already-migrated or other users in the new pool), in %d files; %d skipped.\n",
		verb, r.Exported, r.OldPoolUsers, r.NewPoolUsers, len(r.Files), skipped)
	for _, reason := range slices.Sorted(maps.Keys(r.Skipped)) {
		fmt.Fprintf(w, "  %-28s %d\n", reason, r.Skipped[reason])
	}
	if r.DryRun {
		fmt.Fprintln(w, "Dry run: nothing was written.")
		return
	}
	for _, f := range r.Files {
		fmt.Fprintf(w, "  %s  %d users, %d bytes (manifest %s)\n", filepath.Join(r.Out, f.CSV), f.Users, f.Bytes, f.Manifest)
	}
	if skipped > 0 {
		fmt.Fprintf(w, "Skipped users are listed in %s.\n", filepath.Join(r.Out, bulk.SkippedFile))
	}
	if r.Exported > 0 {
		fmt.Fprintf(w, "Next: cognito-migrate import --from %s --cloudwatch-logs-role-arn ARN (with the same pool flags).\n", r.Out)
	}
}

// export lists both pools and writes the export, filling res as it goes.
func (a *app) export(ctx context.Context, opts *exportOptions, res *exportResult) error {
	m, err := a.resolveMigration(ctx, "export", &opts.twoPoolOptions)
	if err != nil {
		return err
	}
	poolID := opts.PoolID
	merge := len(m.Olds) > 1
	cfg, err := cognito.NewNewPool(m.New).Config(ctx, poolID)
	if err != nil {
		return err
	}
	rules := m.Settings.Rules
	if err := checkRules(rules, cfg); err != nil {
		return err
	}
	header, err := cognito.NewImportJobs(m.New, poolID, "", nil).CSVHeader(ctx)
	if err != nil {
		return err
	}

	// The listings share ListUsers' quota when both pools are in one
	// account and region.
	newLister, oldListers := listerSet(m, &opts.twoPoolOptions)
	bar := newProgressBar(a.stderr)
	defer bar.done()
	idx := newPoolIndex(cfg, rules.LegacySub)
	newEstimate := int(m.NewPool.EstimatedNumberOfUsers)
	err = newLister.ListUsers(ctx, poolID, cognito.ListUsersOptions{OnPage: func(pg cognito.Page) {
		bar.show("new pool "+poolID, pg.Total, newEstimate)
	}}, func(u types.UserType) error {
		idx.add(cognito.ListedUser(u))
		res.NewPoolUsers++
		return nil
	})
	bar.done()
	if err != nil {
		return fmt.Errorf("list the new pool: %w", err)
	}

	// In a merge, a name that finds users in two old pools belongs to two
	// people: the function declines it for both, and so does the export
	// (found by listing every old pool once before exporting).
	single := shaper(rules, cfg)
	shape := single
	if merge {
		amb, err := ambiguousNames(ctx, m, oldListers, bar)
		if err != nil {
			return err
		}
		shape = func(u migrate.User) (bulk.Row, bulk.SkipReason) {
			if amb.holds(u) {
				return bulk.Row{}, bulk.SkipReason(migrate.AmbiguousUser)
			}
			return single(u)
		}
	}

	poolMFA := cfg.MFA
	if poolMFA == "" {
		poolMFA = bulk.MFAOff
	}
	exp, err := bulk.NewExporter(opts.Out, bulk.ExportOptions{
		Header: header, PoolMFA: poolMFA, CaseSensitive: cfg.CaseSensitive,
		Shape: shape, InNewPool: idx.has, DryRun: opts.DryRun,
	})
	if err != nil {
		return err
	}
	fail := func(err error) error {
		if aerr := exp.Abort(); aerr != nil {
			err = errors.Join(err, fmt.Errorf("remove the partial export: %w", aerr))
		}
		return err
	}
	for i, src := range m.Olds {
		label, from := "the old pool", ""
		if merge {
			label, from = "old pool "+src.Name, src.Name
		}
		groups := map[string][]string{}
		if err := oldListers[i].GroupMembers(ctx, src.API, src.UserPoolID, func(g, username string) error {
			groups[username] = append(groups[username], g)
			return nil
		}); err != nil {
			return fail(fmt.Errorf("list %s's groups: %w", label, poolHint(err, m, src)))
		}
		// ListUsers has no MFA settings: read them where they decide the row
		// (an OPTIONAL pool's cognito:mfa_enabled) or the user's fate
		// (MFA_POLICY=deny declines users with a second factor, as the
		// function does at forgot password).
		var mfa *mfaReader
		if poolMFA == bulk.MFAOptional || rules.MFA != migrate.MFAMigrate {
			mfa = &mfaReader{pool: cognito.NewOldPool(src.API, src.UserPoolID, src.ClientID, ""), limiter: bulk.NewLimiter(bulk.SystemClock{}, adminGetUserRate, 1)}
		}
		listed := 0
		err = oldListers[i].ListUsers(ctx, src.UserPoolID, cognito.ListUsersOptions{OnPage: func(pg cognito.Page) {
			bar.show("old pool "+src.UserPoolID, pg.Total, 0)
		}}, func(t types.UserType) error {
			u := oldUser(t)
			if mfa != nil && u.Status == migrate.StatusConfirmed {
				if err := mfa.fill(ctx, &u); err != nil {
					return err
				}
			}
			listed++
			// MIGRATE_ONLY's group conditions read them, as the function does.
			u.Groups = groups[u.Username]
			return exp.AddFrom(from, u, u.Groups)
		})
		bar.done()
		res.OldPoolUsers += listed
		if merge {
			res.OldPools = append(res.OldPools, exportPool{Name: src.Name, UserPoolID: src.UserPoolID, Listed: listed})
		}
		if err != nil {
			return fail(fmt.Errorf("list %s: %w", label, poolHint(err, m, src)))
		}
	}
	sum, err := exp.Commit()
	if err != nil {
		_ = exp.Abort()
		return err
	}
	res.Exported, res.Files = sum.Exported, sum.Files
	maps.Copy(res.Skipped, sum.Skipped)
	if res.Files == nil {
		res.Files = []bulk.ExportFile{}
	}
	return nil
}

// checkRules fails on a configuration the new pool refuses (a
// LEGACY_SUB_ATTRIBUTE not in its schema) before anything is listed.
func checkRules(rules migrate.Rules, cfg migrate.PoolConfig) error {
	_, _, err := rules.Shape(cfg, migrate.User{Username: "probe", Attributes: map[string]string{"sub": "probe"}}, "probe")
	var ce *migrate.ConfigError
	if errors.As(err, &ce) {
		return failf("%s: %s (--%s overrides the function's setting)", ce.Setting, ce.Problem, settingFlag(ce.Setting))
	}
	return nil
}

// oldUser is a listed old user as the decision sees them. MFA is not
// listed: mfaReader fills it.
func oldUser(t types.UserType) migrate.User {
	u := migrate.User{
		Username: aws.ToString(t.Username), Enabled: t.Enabled, Status: string(t.UserStatus),
		Attributes: make(map[string]string, len(t.Attributes)),
	}
	for _, a := range t.Attributes {
		u.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return u
}

// mfaReader reads users' MFA settings (AdminGetUser), under its quota.
type mfaReader struct {
	pool    *cognito.OldPool
	limiter *bulk.Limiter
}

// statusGone marks a user deleted between ListUsers and AdminGetUser: the
// exporter skips them as unsupported_status, with this detail.
const statusGone = "DELETED_DURING_EXPORT"

func (r *mfaReader) fill(ctx context.Context, u *migrate.User) error {
	const attempts = 8
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if err := r.limiter.Wait(ctx); err != nil {
			return err
		}
		full, err := r.pool.GetUser(ctx, u.Username)
		switch {
		case err == nil:
			u.MFA = full.MFA
			return nil
		case errors.Is(err, migrate.ErrUserNotFound):
			u.Status = statusGone
			return nil
		case !errors.Is(err, awserr.ErrThrottled) || attempt == attempts:
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// signInName is what the user types to sign in to the new pool, as far as
// the old user tells: the attribute a pool signing in by email or phone
// uses, the email (else phone) of an old user whose username is their sub
// (an old pool that signed in by email or phone), else the username.
func signInName(cfg migrate.PoolConfig, u migrate.User) string {
	if len(cfg.UsernameAttributes) > 0 {
		for _, a := range cfg.UsernameAttributes {
			if v := u.Attributes[a]; v != "" {
				return v
			}
		}
		return u.Username
	}
	if u.Username != "" && u.Username == u.Attributes["sub"] {
		for _, a := range []string{"email", "phone_number"} {
			if v := u.Attributes[a]; v != "" {
				return v
			}
		}
	}
	return u.Username
}

// shaper is the export's Shaper: migrate.Rules.Shape, the code the function
// shapes a migrated user with, as if the user had asked to reset their
// password by their usual sign-in name (an imported user must reset it).
// It declines whom the function's forgot-password path declines: a user with
// a second factor unless MFA_POLICY=migrate, and any Shape decline.
func shaper(rules migrate.Rules, cfg migrate.PoolConfig) bulk.Shaper {
	return func(u migrate.User) (bulk.Row, bulk.SkipReason) {
		if len(u.MFA) > 0 && rules.MFA != migrate.MFAMigrate {
			return bulk.Row{}, bulk.SkipReason(migrate.MFARequired)
		}
		typed := signInName(cfg, u)
		s, reason, err := rules.Shape(cfg, u, typed)
		if err != nil {
			// checkRules has ruled configuration errors out; a user is
			// never exported from a shape that failed.
			return bulk.Row{}, bulk.SkipReason("configuration_error")
		}
		if reason != "" {
			return bulk.Row{}, bulk.SkipReason(reason)
		}
		// An imported user must reset their password: the new pool's
		// account recovery setting must reach them, as the function
		// requires at forgot password.
		if !cfg.Reachable(s.Attributes) {
			return bulk.Row{}, bulk.SkipNoVerifiedContact
		}
		if len(s.Missing) > 0 {
			return bulk.Row{}, SkipMissingRequired
		}
		name := s.Username
		if name == "" {
			name = typed
		}
		return bulk.Row{Username: name, Attributes: s.Attributes}, ""
	}
}

// poolIndex knows which sign-in names the new pool already uses: 64-bit
// keyed hashes of each new user's username, LEGACY_SUB_ATTRIBUTE value and
// sign-in attributes (alias or username attributes), compared with the new
// pool's case rule. An old user whose row would reuse any of them is in the
// new pool already (the function moved them, or an earlier import did), or
// would collide with someone who is: either way they are not exported.
type poolIndex struct {
	seed          maphash.Seed
	keys          map[uint64]struct{}
	legacySub     string
	signIn        []string
	caseSensitive bool
}

func newPoolIndex(cfg migrate.PoolConfig, legacySub string) *poolIndex {
	p := &poolIndex{seed: maphash.MakeSeed(), keys: map[uint64]struct{}{}, legacySub: legacySub, caseSensitive: cfg.CaseSensitive}
	for _, a := range append(slices.Clone(cfg.AliasAttributes), cfg.UsernameAttributes...) {
		if !slices.Contains(p.signIn, a) {
			p.signIn = append(p.signIn, a)
		}
	}
	return p
}

func (p *poolIndex) key(kind, v string) uint64 {
	if !p.caseSensitive && kind != "phone_number" {
		v = migrate.FoldASCII(v)
	}
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.WriteString(kind)
	h.WriteByte(0)
	h.WriteString(v)
	return h.Sum64()
}

// each calls fn with the key of each sign-in name of a user.
func (p *poolIndex) each(username string, attrs map[string]string, fn func(uint64) bool) bool {
	if username != "" && fn(p.key("username", username)) {
		return true
	}
	if p.legacySub != "" && attrs[p.legacySub] != "" && fn(p.key("legacy_sub", attrs[p.legacySub])) {
		return true
	}
	for _, a := range p.signIn {
		if v := attrs[a]; v != "" && fn(p.key(a, v)) {
			return true
		}
	}
	return false
}

func (p *poolIndex) add(u migrate.ListedUser) {
	p.each(u.Username, u.Attributes, func(k uint64) bool { p.keys[k] = struct{}{}; return false })
}

func (p *poolIndex) has(r bulk.Row) bool {
	return p.each(r.Username, r.Attributes, func(k uint64) bool { _, ok := p.keys[k]; return ok })
}

// bufferedRequests hands the transport its own copy of each request body.
// The SDK closes the body it built as soon as the response headers are in;
// when the server answers before the transport has seen the body's end (a
// local endpoint such as cognito-local), the transport closes the
// connection and the response, when larger than its buffer (a ListUsers
// page), fails with "use of closed network connection" and is retried
// (aws/aws-sdk-go-v2#1825): under ListUsers' quota every retry costs a
// request. The SDK's request bodies are small JSON documents.
type bufferedRequests struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func (b bufferedRequests) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return b.next.Do(r)
}

// ambiguous is the set of names that find users in more than one old pool
// of a merge: 64-bit keyed hashes, sorted, 8 bytes each.
type ambiguous struct {
	seed   maphash.Seed
	hashes []uint64
}

// mergeKeys calls key with each name that can find the old user u: the
// username (unless it is their sub, in a pool that signs in by email or
// phone) and their email, phone number and preferred username, verified or
// not. ASCII letters are folded whatever the pools' case rules, and no
// name kind is told from another: a wider net skips more users from the
// export (they can still migrate by signing in), never fewer.
func mergeKeys(u migrate.User, key func(string)) {
	if u.Username != "" && u.Username != u.Attributes["sub"] {
		key(migrate.FoldASCII(u.Username))
	}
	for _, a := range []string{"email", "phone_number", "preferred_username"} {
		if v := u.Attributes[a]; v != "" {
			key(migrate.FoldASCII(v))
		}
	}
}

// holds reports whether one of u's names is held in two old pools.
func (a *ambiguous) holds(u migrate.User) bool {
	found := false
	mergeKeys(u, func(k string) {
		h := maphash.String(a.seed, k) &^ 7
		if _, ok := slices.BinarySearch(a.hashes, h); ok {
			found = true
		}
	})
	return found
}

// ambiguousNames lists every old pool of the merge and returns the names
// that find users in more than one. Each key is stored with its pool's
// index in the hash's low 3 bits (MaxOldPools is 5).
func ambiguousNames(ctx context.Context, m *migration, listers []*cognito.Lister, bar *progressBar) (*ambiguous, error) {
	a := &ambiguous{seed: maphash.MakeSeed()}
	var keys []uint64
	for i, src := range m.Olds {
		err := listers[i].ListUsers(ctx, src.UserPoolID, cognito.ListUsersOptions{OnPage: func(pg cognito.Page) {
			bar.show("old pool "+src.UserPoolID+" (names)", pg.Total, 0)
		}}, func(t types.UserType) error {
			mergeKeys(oldUser(t), func(k string) {
				keys = append(keys, maphash.String(a.seed, k)&^7|uint64(i))
			})
			return nil
		})
		bar.done()
		if err != nil {
			return nil, fmt.Errorf("list old pool %s: %w", src.Name, poolHint(err, m, src))
		}
	}
	slices.Sort(keys)
	for i := 0; i < len(keys); {
		j, pools := i, uint8(0)
		for ; j < len(keys) && keys[j]&^7 == keys[i]&^7; j++ {
			pools |= 1 << (keys[j] & 7)
		}
		if pools&(pools-1) != 0 { // two pools or more
			a.hashes = append(a.hashes, keys[i]&^7)
		}
		i = j
	}
	return a, nil
}

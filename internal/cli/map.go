package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

// How a user moved to the new pool, in map's "moved" field.
const (
	MovedByTrigger = "trigger"
	MovedByImport  = "import"
)

// SubMapping is one line of map's output.
type SubMapping struct {
	OldSub   string `json:"oldSub"`
	NewSub   string `json:"newSub"`
	Username string `json:"username"`
	Moved    string `json:"moved"`
	// OldPool, in a merge, is the old pool that holds OldSub ("1", "2"...);
	// "" when none does any more.
	OldPool string `json:"oldPool,omitempty"`
}

type mapOptions struct {
	twoPoolOptions
	Out string
}

func newMapCmd(a *app) *command {
	opts := &mapOptions{}
	fs := flag.NewFlagSet("map", flag.ContinueOnError)
	fs.StringVar(&opts.Out, "out", "", "the `FILE` to write, one JSON object per line (required; replaced if it exists)")
	opts.register(fs)
	c := &command{
		name:     "map",
		summary:  "write the old sub -> new sub mapping of the migrated users",
		synopsis: "--user-pool-id ID --out FILE [--output text|json] [flags]",
		description: `
Lists the NEW pool (ListUsers) and writes, for every user whose LEGACY_SUB_ATTRIBUTE
holds an old sub, one JSON line {"old_sub", "new_sub", "username", "moved"}, so that
data keyed on the old pool's sub can be re-keyed. Users without the attribute (created
in the new pool, or migrated before the setting was made) are counted, not written.

"moved" is "import" for a user created while one of the pool's import jobs ran (from
its StartDate to its CompletionDate, ListUserImportJobs), else "trigger". The job's
window is the only record of how a user arrived: an imported user who reset their
password looks like any other. A user the function moved during a running import
job is reported as "import".

Without LEGACY_SUB_ATTRIBUTE (the function's setting, or --legacy-sub-attribute) the
new pool does not record the old sub, and the command explains how to fix that.
The file is written to a temporary name and renamed when complete.

In a merge (OLD_2_USER_POOL_ID, ...) every old pool is listed first (ListUsers; 8
bytes per old user are kept), and each line says which old pool holds its old sub
("old_pool": "1", "2", ...; absent when none does any more, counted apart).`,
		footer: `
IAM: on the new pool cognito-idp:DescribeUserPool, ListUsers and ListUserImportJobs;
lambda:GetFunctionConfiguration on the function; in a merge, cognito-idp:ListUsers
on each old pool.

Exit status: 0 done, 1 failed (no LEGACY_SUB_ATTRIBUTE, or a call failed; FILE is
then left as it was), 2 usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error {
		if err := opts.validate(c.name); err != nil {
			return err
		}
		if opts.Out == "" {
			return usagef(c.name, "--out is required")
		}
		res := &mapResult{Out: opts.Out, ByMove: map[string]int{}}
		err := a.mapSubs(ctx, opts, res)
		return a.finish(opts.Output, res, err)
	}
	return c
}

type mapResult struct {
	Out string `json:"out"`
	// Listed counts the new pool's users; Written the lines, by "moved";
	// WithoutLegacySub the users without the attribute.
	Listed           int            `json:"listed"`
	Written          int            `json:"written"`
	ByMove           map[string]int `json:"byMove"`
	WithoutLegacySub int            `json:"withoutLegacySub"`
	// OldPoolUnknown counts, in a merge, the lines whose old sub no old
	// pool holds any more (deleted since it moved).
	OldPoolUnknown int          `json:"oldPoolUnknown,omitempty"`
	Warnings       []string     `json:"warnings,omitempty"`
	Error          *errorResult `json:"error,omitempty"`
}

func (r *mapResult) warnings() []string      { return r.Warnings }
func (r *mapResult) setError(e *errorResult) { r.Error = e }

func (r *mapResult) printText(w io.Writer) {
	if r.Error != nil {
		return
	}
	fmt.Fprintf(w, "Wrote %d mappings to %s (%d moved by the trigger, %d by import) of %d new users; %d have no old sub.\n",
		r.Written, r.Out, r.ByMove[MovedByTrigger], r.ByMove[MovedByImport], r.Listed, r.WithoutLegacySub)
}

// window is when an import job ran.
type window struct{ from, to time.Time }

func (a *app) mapSubs(ctx context.Context, opts *mapOptions, res *mapResult) error {
	m, err := a.resolveMigration(ctx, "map", &opts.twoPoolOptions)
	if err != nil {
		return err
	}
	legacy := m.Settings.Rules.LegacySub
	if legacy == "" {
		return failf("%s is not set, so the new pool does not record each user's old sub and no mapping can be written. "+
			"Add a custom attribute to the new pool (e.g. custom:legacy_sub, String, mutable), set %s=custom:legacy_sub on the function "+
			"(or pass --%s if the function already fills another attribute); users migrated or exported from then on carry it",
			settings.EnvLegacySubAttribute, settings.EnvLegacySubAttribute, settingFlag(settings.EnvLegacySubAttribute))
	}
	jobs, err := cognito.NewImportJobs(m.New, opts.PoolID, "", nil).ListImportJobs(ctx)
	if err != nil {
		return err
	}
	var windows []window
	now := time.Now()
	for _, j := range jobs {
		if j.Started.IsZero() {
			continue
		}
		to := j.Completed
		if to.IsZero() {
			to = now
		}
		// Creation dates and job dates come from different clocks: a
		// second of slack on each side.
		windows = append(windows, window{j.Started.Add(-time.Second), to.Add(time.Second)})
	}

	// In a merge, each old sub is looked up among every old pool's subs:
	// 8 bytes per old user.
	var subs *subPools
	if len(m.Olds) > 1 {
		if subs, err = listSubs(ctx, m, &opts.twoPoolOptions); err != nil {
			return err
		}
	}

	dir := filepath.Dir(opts.Out)
	tmp, err := os.CreateTemp(dir, filepath.Base(opts.Out)+".*.partial")
	if err != nil {
		return fmt.Errorf("map: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	defer tmp.Close()
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	lister := cognito.NewLister(m.New, listUsersLimiter())
	err = lister.ListUsers(ctx, opts.PoolID, cognito.ListUsersOptions{}, func(t types.UserType) error {
		res.Listed++
		u := cognito.ListedUser(t)
		old := u.Attributes[legacy]
		if old == "" {
			res.WithoutLegacySub++
			return nil
		}
		moved := MovedByTrigger
		for _, win := range windows {
			if !u.Created.Before(win.from) && !u.Created.After(win.to) {
				moved = MovedByImport
				break
			}
		}
		line := SubMapping{OldSub: old, NewSub: u.Attributes["sub"], Username: u.Username, Moved: moved}
		if subs != nil {
			if line.OldPool = subs.pool(old); line.OldPool == "" {
				res.OldPoolUnknown++
			}
		}
		res.Written++
		res.ByMove[moved]++
		return enc.Encode(line)
	})
	if err != nil {
		res.Written, res.ByMove = 0, map[string]int{}
		return fmt.Errorf("list the new pool: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("map: write %s: %w", opts.Out, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("map: write %s: %w", opts.Out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("map: write %s: %w", opts.Out, err)
	}
	if err := os.Rename(tmp.Name(), opts.Out); err != nil {
		return fmt.Errorf("map: %w", err)
	}
	return nil
}

// subPools says which old pool of a merge holds a sub: 64-bit keyed hashes
// of every old user's sub with their pool's index in the low 3 bits
// (MaxOldPools is 5), sorted.
type subPools struct {
	seed  maphash.Seed
	keys  []uint64
	names []string
}

// listSubs lists every old pool of the merge m.
func listSubs(ctx context.Context, m *migration, o *twoPoolOptions) (*subPools, error) {
	p := &subPools{seed: maphash.MakeSeed()}
	_, listers := listerSet(m, o)
	for i, src := range m.Olds {
		p.names = append(p.names, src.Name)
		err := listers[i].ListUsers(ctx, src.UserPoolID, cognito.ListUsersOptions{}, func(t types.UserType) error {
			for _, a := range t.Attributes {
				if aws.ToString(a.Name) == "sub" && aws.ToString(a.Value) != "" {
					p.keys = append(p.keys, maphash.String(p.seed, aws.ToString(a.Value))&^7|uint64(i))
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list old pool %s: %w", src.Name, poolHint(err, m, src))
		}
	}
	slices.Sort(p.keys)
	return p, nil
}

// pool names the one old pool holding sub, "" for none (or, against all
// odds, two).
func (p *subPools) pool(sub string) string {
	h := maphash.String(p.seed, sub) &^ 7
	i, _ := slices.BinarySearch(p.keys, h)
	if i < len(p.keys) && p.keys[i]&^7 == h && (i+1 == len(p.keys) || p.keys[i+1]&^7 != h) {
		return p.names[p.keys[i]&7]
	}
	return ""
}

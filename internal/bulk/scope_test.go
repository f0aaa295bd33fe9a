package bulk

import (
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// The export skips users outside MIGRATE_ONLY, counted as out_of_scope, when
// its Shaper applies the trigger's rules; group conditions see the groups
// Add is given.
func TestExportSkipsOutOfScope(t *testing.T) {
	scope, err := migrate.ParseScope("custom:code=acme;group:staff", func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	rules := migrate.Rules{Scope: scope}
	e := newTestExporter(t, t.TempDir(), func(o *ExportOptions) {
		o.Shape = func(u migrate.User) (Row, SkipReason) {
			if !rules.InScope(u) {
				return Row{}, SkipReason(migrate.OutOfScope)
			}
			return copyShaper(u)
		}
	})
	for _, add := range []struct {
		u      migrate.User
		groups []string
	}{
		{user("alice", "custom:code", "acme"), []string{"staff"}},
		{user("bruno", "custom:code", "globex"), []string{"staff"}},
		{user("carol", "custom:code", "acme"), nil},
	} {
		if err := e.Add(add.u, add.groups); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := e.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped[SkipReason(migrate.OutOfScope)] != 2 || sum.Listed != 3 {
		t.Errorf("summary = %+v, want 3 listed, 2 skipped out_of_scope", sum)
	}
}

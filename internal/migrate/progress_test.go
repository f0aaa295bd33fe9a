package migrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var progressNow = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func day(n int) time.Time { return progressNow.AddDate(0, 0, -n) }

func lu(name, status string, enabled bool, attrs ...string) ListedUser {
	u := ListedUser{Username: name, Status: status, Enabled: enabled, Attributes: map[string]string{}}
	for i := 0; i+1 < len(attrs); i += 2 {
		u.Attributes[attrs[i]] = attrs[i+1]
	}
	return u
}

func created(u ListedUser, t time.Time) ListedUser { u.Created = t; return u }

// perDay returns a zero-filled window with the given days (0 = today) set.
func perDay(counts map[int]int) []DayCount {
	var out []DayCount
	for i := PerDayWindow - 1; i >= 0; i-- {
		out = append(out, DayCount{Date: day(i).Format(time.DateOnly), Migrated: counts[i]})
	}
	return out
}

type progressWant struct {
	oldTotal, disabled, newTotal, migrated, remaining int
	byStatus, remainingByStatus                       map[string]int
	perDay                                            map[int]int
	matched                                           []bool // per new user
}

func TestProgressExact(t *testing.T) {
	const c, u, r, f = StatusConfirmed, StatusUnconfirmed, StatusResetRequired, StatusForceChangePassword
	tests := []struct {
		name     string
		rule     MatchRule
		old, new []ListedUser
		want     progressWant
	}{
		{
			name: "username pool, case-sensitive, by username and email alias",
			rule: MatchRule{AliasAttributes: []string{"email"}, CaseSensitive: true},
			old: []ListedUser{
				lu("alice", c, true, "sub", "s1", "email", "alice@example.com"),
				lu("bob", c, true, "sub", "s2", "email", "bob@example.com"),
				lu("Carol", u, true, "sub", "s3"),
				lu("carol", c, false, "sub", "s4"),
				lu("dave", r, true, "sub", "s5"),
				lu("erin", f, false, "sub", "s6"),
			},
			new: []ListedUser{
				created(lu("alice", c, true, "sub", "n1"), day(0)),
				// migrated by alias: a new username but the same email
				created(lu("bob2", c, true, "sub", "n2", "email", "bob@example.com"), day(3)),
				// case-sensitive: "CAROL" is nobody
				created(lu("CAROL", c, true, "sub", "n3"), day(1)),
				created(lu("carol", c, true, "sub", "n4"), day(29)),
				// too old for the window but still migrated
				created(lu("erin", c, true, "sub", "n5"), day(30)),
				created(lu("zed", c, true, "sub", "n6"), day(0)),
			},
			want: progressWant{
				oldTotal: 6, disabled: 2, newTotal: 6, migrated: 4, remaining: 2,
				byStatus:          map[string]int{c: 3, u: 1, r: 1, f: 1},
				remainingByStatus: map[string]int{u: 1, r: 1},
				perDay:            map[int]int{0: 1, 3: 1, 29: 1},
				matched:           []bool{true, true, false, true, true, false},
			},
		},
		{
			name: "case-insensitive new pool: colliding old users, one new user each",
			rule: MatchRule{CaseSensitive: false},
			old: []ListedUser{
				lu("Ann", c, true, "sub", "s1"),
				lu("ann", c, true, "sub", "s2"),
				lu("ANN", c, true, "sub", "s3"),
				lu("Émile", c, true, "sub", "s4"),
			},
			new: []ListedUser{
				created(lu("aNN", c, true), day(2)),
				// the same person again cannot take a second old user... but
				// a second colliding old user can be matched by a second new
				// user only if one exists; the new pool cannot hold one.
				created(lu("émile", c, true), day(2)), // non-ASCII case is not folded
			},
			want: progressWant{
				oldTotal: 4, newTotal: 2, migrated: 1, remaining: 3,
				byStatus:          map[string]int{c: 4},
				remainingByStatus: map[string]int{c: 3},
				perDay:            map[int]int{2: 1},
				matched:           []bool{true, false},
			},
		},
		{
			name: "email as username in the new pool; phone numbers exact",
			rule: MatchRule{UsernameAttributes: []string{"email", "phone_number"}, CaseSensitive: false},
			old: []ListedUser{
				lu("u1", c, true, "email", "Mixed@Example.com"),
				lu("u2", c, true, "phone_number", "+15550001"),
				lu("u3", c, true, "email", "other@example.com"),
			},
			new: []ListedUser{
				created(lu("uuid-1", c, true, "email", "mixed@example.com"), day(0)),
				created(lu("uuid-2", c, true, "phone_number", "+15550001"), day(0)),
				created(lu("u3", c, true, "email", "nobody@example.com"), day(0)), // usernames do not count
			},
			want: progressWant{
				oldTotal: 3, newTotal: 3, migrated: 2, remaining: 1,
				byStatus: map[string]int{c: 3}, remainingByStatus: map[string]int{c: 1},
				perDay: map[int]int{0: 2}, matched: []bool{true, true, false},
			},
		},
		{
			name: "old pool signed in by email: opaque usernames become the email",
			rule: MatchRule{CaseSensitive: true},
			old: []ListedUser{
				lu("0d5e-sub", c, true, "sub", "0d5e-sub", "email", "pat@example.com"),
				lu("a1b2-sub", c, true, "sub", "a1b2-sub", "email", "kim@example.com"),
			},
			new: []ListedUser{
				created(lu("pat@example.com", c, true), day(5)),
				// the email alias is not one of the new pool's aliases
				created(lu("kimmy", c, true, "email", "kim@example.com"), day(5)),
			},
			want: progressWant{
				oldTotal: 2, newTotal: 2, migrated: 1, remaining: 1,
				byStatus: map[string]int{c: 2}, remainingByStatus: map[string]int{c: 1},
				perDay: map[int]int{5: 1}, matched: []bool{true, false},
			},
		},
		{
			name: "legacy sub attribute is the only rule",
			rule: MatchRule{LegacySub: "custom:legacy_sub", AliasAttributes: []string{"email"}, CaseSensitive: true},
			old: []ListedUser{
				lu("alice", c, true, "sub", "s1", "email", "a@example.com"),
				lu("bob", c, false, "sub", "s2"),
				lu("carl", u, true, "sub", "s3"),
			},
			new: []ListedUser{
				created(lu("renamed", c, true, "custom:legacy_sub", "s1"), day(1)),
				created(lu("bob", c, true), day(1)),                              // same username, no legacy sub: not migrated
				created(lu("other", c, true, "custom:legacy_sub", "s1"), day(1)), // s1 already taken
				created(lu("c", c, true, "custom:legacy_sub", "s3"), time.Time{}),
			},
			want: progressWant{
				oldTotal: 3, disabled: 1, newTotal: 4, migrated: 2, remaining: 1,
				byStatus: map[string]int{c: 2, u: 1}, remainingByStatus: map[string]int{c: 1},
				perDay: map[int]int{1: 1}, matched: []bool{true, false, false, true},
			},
		},
		{
			name: "empty pools",
			rule: MatchRule{CaseSensitive: true},
			want: progressWant{byStatus: map[string]int{}, remainingByStatus: map[string]int{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProgress(tt.rule)
			for _, o := range tt.old {
				if err := p.AddOld(o); err != nil {
					t.Fatalf("AddOld(%q) = %v", o.Username, err)
				}
			}
			var matched []bool
			for _, n := range tt.new {
				matched = append(matched, p.AddNew(n))
			}
			got := p.Report(progressNow)
			var want Report
			want.Old.Total, want.Old.Disabled, want.Old.ByStatus = tt.want.oldTotal, tt.want.disabled, tt.want.byStatus
			want.New.Total = tt.want.newTotal
			want.Migrated, want.Remaining, want.RemainingByStatus = tt.want.migrated, tt.want.remaining, tt.want.remainingByStatus
			want.PerDay = perDay(tt.want.perDay)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Report mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.matched, matched); diff != "" {
				t.Errorf("AddNew results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProgressOldAfterNew(t *testing.T) {
	p := NewProgress(MatchRule{})
	p.AddNew(lu("a", "CONFIRMED", true))
	if err := p.AddOld(lu("b", "CONFIRMED", true)); !errors.Is(err, ErrOldAfterNew) {
		t.Errorf("AddOld after AddNew = %v, want ErrOldAfterNew", err)
	}
}

func TestReserveKeepsTheResult(t *testing.T) {
	rule := MatchRule{AliasAttributes: []string{"email"}}
	var reports []Report
	for _, reserve := range []int{0, 2, 1000} {
		p := NewProgress(rule)
		p.Reserve(reserve)
		for i := range 10 {
			if err := p.AddOld(benchUser(i)); err != nil {
				t.Fatal(err)
			}
		}
		p.AddNew(benchUser(3))
		reports = append(reports, p.Report(progressNow))
	}
	if diff := cmp.Diff(reports[0], reports[2]); diff != "" || reports[0].Migrated != 1 || reports[1].Migrated != 1 {
		t.Errorf("Reserve changed the result:\n%s", diff)
	}
}

func TestReportJSONNames(t *testing.T) {
	p := NewProgress(MatchRule{})
	_ = p.AddOld(lu("a", "CONFIRMED", false))
	p.AddNew(created(lu("a", "CONFIRMED", true), progressNow))
	b, err := json.Marshal(p.Report(progressNow))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	want := `{"migrated":1,"new":{"total":1},"old":{"byStatus":{"CONFIRMED":1},"disabled":1,"total":1},"perDay":[`
	if s := string(b); !strings.HasPrefix(canonical(t, b), want) || len(got["perDay"].([]any)) != PerDayWindow {
		t.Errorf("Report JSON = %s, want it to start %s", s, want)
	}
	last := got["perDay"].([]any)[PerDayWindow-1].(map[string]any)
	if last["date"] != "2026-12-06" || last["migrated"] != 1.0 || got["remaining"] != 0.0 || got["remainingByStatus"] == nil {
		t.Errorf("Report JSON = %s", b)
	}
}

// canonical re-encodes JSON with sorted keys.
func canonical(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestFoldASCII(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", "AbC": "abc", "ÉMILE": "Émile", "İx": "İx", "Z@Q.COM": "z@q.com"} {
		if got := FoldASCII(in); got != want {
			t.Errorf("FoldASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

// benchUsers makes n old users with a username and a verified email, the
// common username-plus-email-alias pool.
func benchUser(i int) ListedUser {
	return ListedUser{
		Username: fmt.Sprintf("user-%08d", i), Status: StatusConfirmed, Enabled: true,
		Created: progressNow,
		Attributes: map[string]string{
			"sub":   fmt.Sprintf("%08x-0000-4000-8000-000000000000", i),
			"email": fmt.Sprintf("user-%08d@example.com", i),
		},
	}
}

// heapObjects is the live heap (and not yet swept garbage) now, cheaper to
// read than runtime.ReadMemStats.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkProgress measures the matching over n old users and n/2 new
// users (all migrated) and reports, per user of the larger pool, the memory
// Progress holds after both streams (bytes/user) and the most it held along
// the way (peak-bytes/user, sampled every 1,000 users, garbage included, so
// an upper bound), and users/s. reserve=true calls Reserve(n) first, as the
// status command can with the pool's EstimatedNumberOfUsers.
func BenchmarkProgress(b *testing.B) {
	for _, bc := range []struct {
		n       int
		reserve bool
	}{{10_000, false}, {100_000, false}, {10_000, true}, {100_000, true}} {
		n := bc.n
		b.Run(fmt.Sprintf("users=%d/reserve=%t", n, bc.reserve), func(b *testing.B) {
			b.ReportAllocs()
			old := make([]ListedUser, n)
			for i := range old {
				old[i] = benchUser(i)
			}
			rule := MatchRule{AliasAttributes: []string{"email"}, CaseSensitive: false}
			var retained, peak int64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				base := int64(heapObjects())
				sample := func() { peak = max(peak, int64(heapObjects())-base) }
				p := NewProgress(rule)
				if bc.reserve {
					p.Reserve(n)
				}
				for i, u := range old {
					if err := p.AddOld(u); err != nil {
						b.Fatal(err)
					}
					if i%1000 == 0 {
						sample()
					}
				}
				for i := 0; i < n; i += 2 {
					p.AddNew(old[i])
					if i%1000 == 0 {
						sample()
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				retained = int64(after.HeapAlloc) - int64(before.HeapAlloc)
				if r := p.Report(progressNow); r.Migrated != (n+1)/2 {
					b.Fatalf("migrated = %d, want %d", r.Migrated, (n+1)/2)
				}
				runtime.KeepAlive(p)
			}
			b.ReportMetric(float64(retained)/float64(n), "bytes/user")
			b.ReportMetric(float64(peak)/float64(n), "peak-bytes/user")
			b.ReportMetric(float64(n+n/2)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

func TestProgressOverSeveralPoolsWithAScope(t *testing.T) {
	p := NewProgress(MatchRule{CaseSensitive: true})
	p.CountScope()
	old := func(name, status string, enabled, out bool) ListedUser {
		return ListedUser{Username: name, Status: status, Enabled: enabled, OutOfScope: out}
	}
	if err := p.BeginPool("1", "eu-west-1_A"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []ListedUser{old("a", "CONFIRMED", true, false), old("b", "CONFIRMED", true, true),
		old("c", "UNCONFIRMED", false, false), old("x", "CONFIRMED", true, false)} {
		if err := p.AddOld(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.BeginPool("2", "eu-west-1_B"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []ListedUser{old("d", "CONFIRMED", true, false), old("e", "CONFIRMED", true, true),
		old("x", "RESET_REQUIRED", true, false)} {
		if err := p.AddOld(u); err != nil {
			t.Fatal(err)
		}
	}
	// b is outside the scope but was migrated (before the scope narrowed):
	// migrated, not remaining. x is in both pools: one new x takes one.
	for _, n := range []string{"a", "b", "d", "x", "stranger"} {
		p.AddNew(ListedUser{Username: n})
	}
	if err := p.BeginPool("3", "eu-west-1_C"); !errors.Is(err, ErrOldAfterNew) {
		t.Errorf("BeginPool after the new users = %v, want ErrOldAfterNew", err)
	}
	got := p.Report(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	n := func(i int) *int { return &i }
	want := []PoolFigures{
		{Name: "1", UserPoolID: "eu-west-1_A", Total: 4, ByStatus: map[string]int{"CONFIRMED": 3, "UNCONFIRMED": 1}, Disabled: 1, Migrated: 3, Remaining: 1, OutOfScope: n(1)},
		{Name: "2", UserPoolID: "eu-west-1_B", Total: 3, ByStatus: map[string]int{"CONFIRMED": 2, "RESET_REQUIRED": 1}, Migrated: 1, Remaining: 1, OutOfScope: n(1)},
	}
	if diff := cmp.Diff(want, got.Pools); diff != "" {
		t.Errorf("Pools (-want +got):\n%s", diff)
	}
	if got.Old.Total != 7 || got.Old.Disabled != 1 || got.Migrated != 4 || got.Remaining != 2 || got.New.Total != 5 {
		t.Errorf("old %d, disabled %d, migrated %d, remaining %d, new %d; want 7, 1, 4, 2, 5", got.Old.Total, got.Old.Disabled, got.Migrated, got.Remaining, got.New.Total)
	}
	if *got.InScope != 5 || *got.OutOfScope != 2 || !cmp.Equal(got.OutOfScopeByStatus, map[string]int{"CONFIRMED": 2}) {
		t.Errorf("in scope %d, out of scope %d by status %v; want 5, 2, CONFIRMED 2", *got.InScope, *got.OutOfScope, got.OutOfScopeByStatus)
	}
	if !cmp.Equal(got.RemainingByStatus, map[string]int{"UNCONFIRMED": 1, "RESET_REQUIRED": 1}) {
		t.Errorf("RemainingByStatus = %v", got.RemainingByStatus)
	}
}

func TestProgressWithoutPoolsOrScopeAddsNoFigures(t *testing.T) {
	p := NewProgress(MatchRule{CaseSensitive: true})
	_ = p.BeginPool("1", "eu-west-1_A") // one pool: no per-pool figures
	_ = p.AddOld(ListedUser{Username: "a", Status: "CONFIRMED", Enabled: true, OutOfScope: true})
	r := p.Report(time.Now())
	if r.Pools != nil || r.InScope != nil || r.OutOfScope != nil || r.OutOfScopeByStatus != nil || r.Remaining != 1 {
		t.Errorf("report = %+v; want no pools, no scope figures, and the user remaining", r)
	}
}

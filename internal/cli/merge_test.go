package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// The second old pool of the merge tests, in the same fake.
const (
	mergeOldID = "eu-west-1_OldPoolB"
	mergeOldCl = "oldfnclientb"
)

// mergeSetup is correctSetup with a second old pool (OLD_2_*) holding
// users; its client and pool descriptions are correct.
type mergeSetup struct {
	*twoPoolSetup
	oldPool2, oldClient2 string
	oldUsers2            []cognitotest.User
}

func correctMerge() *mergeSetup {
	s := &mergeSetup{twoPoolSetup: correctSetup()}
	s.oldPool2 = strings.Replace(s.oldPool, twoOldID, mergeOldID, 1)
	s.oldClient2 = `{"UserPoolId":"` + mergeOldID + `","ClientId":"` + mergeOldCl + `","ExplicitAuthFlows":["ALLOW_ADMIN_USER_PASSWORD_AUTH"]}`
	s.fnEnv["OLD_2_USER_POOL_ID"] = mergeOldID
	s.fnEnv["OLD_2_CLIENT_ID"] = mergeOldCl
	s.oldUsers2 = []cognitotest.User{
		{Username: "cleo", Enabled: true, Attributes: map[string]string{"sub": "old-sub-cleo", "email": "cleo@globex.com", "email_verified": "true", "custom:tenant": "t2"}},
	}
	return s
}

func (s *mergeSetup) world(t *testing.T) *env {
	t.Helper()
	e := s.twoPoolSetup.world(t)
	e.cognito.AddPool(cognitotest.Pool{ID: mergeOldID, AliasAttributes: []string{"email"}, CaseInsensitive: true})
	e.cognito.PutUserPool([]byte(s.oldPool2))
	e.cognito.PutUserPoolClient([]byte(s.oldClient2))
	e.cognito.PutUserPoolMfaConfig(mergeOldID, []byte(s.oldMFA))
	for _, u := range s.oldUsers2 {
		e.cognito.AddUser(mergeOldID, u)
	}
	return e
}

// listed returns the pools ListUsers was called on, in order, once each.
func listed(e *env) []string {
	var out []string
	for _, c := range e.cognito.Calls() {
		if id, _ := c.Input["UserPoolId"].(string); c.Operation == "ListUsers" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func TestCheckOverTwoOldPoolsFindsNothingWhenNamesAreTheirOwn(t *testing.T) {
	e := correctMerge().world(t)
	r := e.run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	if out := decodeCheck(t, r.stdout); len(out.Findings) != 0 {
		t.Errorf("findings = %v, want none", findingIDs(out.Findings))
	}
	if got := listed(e); !slices.Contains(got, twoOldID) || !slices.Contains(got, mergeOldID) {
		t.Errorf("ListUsers on %v, want both old pools", got)
	}
	text := e.run(t, "check", "--user-pool-id", twoNewID)
	if !strings.Contains(text.stdout, "old pools 1 ("+twoOldID+"), 2 ("+mergeOldID+")") {
		t.Errorf("text does not name both old pools:\n%s", text.stdout)
	}
}

func TestCheckOverTwoOldPoolsReportsCollisionsAndEachPoolsClient(t *testing.T) {
	const secret = "old-client-b-secret-never-printed-5e2"
	s := correctMerge()
	// bob of the first pool has a namesake in the second; ann's verified
	// email is the second pool's alias of someone else.
	s.oldUsers2 = append(s.oldUsers2,
		cognitotest.User{Username: "BOB", Enabled: true, Attributes: map[string]string{"sub": "old-sub-bob2"}},
		cognitotest.User{Username: "annie", Enabled: true, Attributes: map[string]string{"sub": "old-sub-annie", "email": "ann@example.com", "email_verified": "true"}})
	s.oldClient2 = `{"UserPoolId":"` + mergeOldID + `","ClientId":"` + mergeOldCl + `","ClientSecret":"` + secret + `","ExplicitAuthFlows":["ALLOW_USER_SRP_AUTH"]}`
	e := s.world(t)
	r := e.run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want %d", r.code, ExitFindings)
	}
	out := decodeCheck(t, r.stdout)
	want := []string{"old-client-admin-auth error", "old-client-secret error", "merge-name-collision warning"}
	if got := findingIDs(out.Findings); !slices.Equal(got, want) {
		t.Fatalf("findings = %v, want %v", got, want)
	}
	for i, sub := range []string{"old pool 2 (" + mergeOldID + "): the old pool's app client " + mergeOldCl + " (OLD_2_CLIENT_ID)",
		"(OLD_2_CLIENT_SECRET_ARN is not set)", `2 name(s) among the sampled users find a user in more than one old pool`} {
		if !strings.Contains(out.Findings[i].Detail, sub) {
			t.Errorf("finding %s: detail %q lacks %q", out.Findings[i].ID, out.Findings[i].Detail, sub)
		}
	}
	c := out.Findings[2]
	for _, sub := range []string{`"ann@example.com in old pools 1, 2"`, `"bob in old pools 1, 2"`} {
		if !strings.Contains(c.Detail, sub) {
			t.Errorf("merge-name-collision detail %q lacks %s", c.Detail, sub)
		}
	}
	if !strings.Contains(c.Fix, "OLD_ROUTE") {
		t.Errorf("merge-name-collision fix %q does not mention routes", c.Fix)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("check printed the second pool's client secret")
	}
}

// mergeStatusFixture: 65 users in the first old pool (13 of another
// tenant, outside MIGRATE_ONLY), 21 in the second (one, a01, also named in
// the first), and 41 new users.
func mergeStatusFixture(t *testing.T) *env {
	t.Helper()
	s := correctMerge()
	delete(s.fnEnv, "LEGACY_SUB_ATTRIBUTE")
	s.fnEnv["MIGRATE_ONLY"] = "custom:tenant=t1,t2"
	s.oldUsers, s.oldUsers2, s.newUsers = nil, nil, nil
	for i := range 65 {
		tenant := "t1"
		if i%5 == 0 {
			tenant = "other"
		}
		s.oldUsers = append(s.oldUsers, cognitotest.User{Username: fmt.Sprintf("a%02d", i), Enabled: true,
			Attributes: map[string]string{"custom:tenant": tenant}})
		if i < 30 { // six of them out of scope: migrated before the scope narrowed
			s.newUsers = append(s.newUsers, cognitotest.User{Username: fmt.Sprintf("a%02d", i), Enabled: true})
		}
	}
	for i := range 20 {
		s.oldUsers2 = append(s.oldUsers2, cognitotest.User{Username: fmt.Sprintf("b%02d", i), Enabled: i != 3,
			Attributes: map[string]string{"custom:tenant": "t2"}})
		if i < 10 {
			s.newUsers = append(s.newUsers, cognitotest.User{Username: fmt.Sprintf("B%02d", i), Enabled: true})
		}
	}
	s.oldUsers2 = append(s.oldUsers2, cognitotest.User{Username: "a01", Enabled: true, Attributes: map[string]string{"custom:tenant": "t2"}})
	s.newUsers = append(s.newUsers, cognitotest.User{Username: "stranger", Enabled: true})
	return s.world(t)
}

func TestStatusOverTwoOldPoolsWithAScopeIsExact(t *testing.T) {
	e := mergeStatusFixture(t)
	r := e.run(t, "status", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d", r.code)
	}
	var got struct {
		migrate.Report
		Scope string `json:"scope"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	n := func(i int) *int { return &i }
	want := []migrate.PoolFigures{
		{Name: "1", UserPoolID: twoOldID, Total: 65, ByStatus: map[string]int{"CONFIRMED": 65}, Migrated: 30, Remaining: 28, OutOfScope: n(13)},
		{Name: "2", UserPoolID: mergeOldID, Total: 21, ByStatus: map[string]int{"CONFIRMED": 21}, Disabled: 1, Migrated: 10, Remaining: 11, OutOfScope: n(0)},
	}
	if diff := cmp.Diff(want, got.Pools); diff != "" {
		t.Errorf("oldPools (-want +got):\n%s", diff)
	}
	if got.Old.Total != 86 || got.Old.Disabled != 1 || got.New.Total != 41 || got.Migrated != 40 || got.Remaining != 39 ||
		got.RemainingByStatus["CONFIRMED"] != 39 {
		t.Errorf("old %d (disabled %d), new %d, migrated %d, remaining %d (%v); want 86 (1), 41, 40, 39",
			got.Old.Total, got.Old.Disabled, got.New.Total, got.Migrated, got.Remaining, got.RemainingByStatus)
	}
	if got.InScope == nil || got.OutOfScope == nil || *got.InScope != 73 || *got.OutOfScope != 13 || got.Scope != "custom:tenant=t1,t2" {
		t.Errorf("scope %q: in %v, out %v; want 73 and 13", got.Scope, got.InScope, got.OutOfScope)
	}
	if l := listed(e); !slices.Equal(l, []string{twoOldID, mergeOldID, twoNewID}) {
		t.Errorf("ListUsers on %v, want the old pools in order, then the new", l)
	}
	// The keys are kept; the new ones only added.
	var keys map[string]json.RawMessage
	_ = json.Unmarshal([]byte(r.stdout), &keys)
	for _, k := range []string{"old", "new", "migrated", "remaining", "remainingByStatus", "perDay", "oldPools", "inScope", "outOfScope", "scope"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}

	text := e.run(t, "status", "--user-pool-id", twoNewID)
	for _, line := range []string{
		"Old pools, all 2: 86 users, 1 disabled",
		"  old pool 1 " + twoOldID + ": 65 users, 0 disabled, migrated 30, remaining 28, out of scope 13",
		"  old pool 2 " + mergeOldID + ": 21 users, 1 disabled, migrated 10, remaining 11, out of scope 0",
		"MIGRATE_ONLY custom:tenant=t1,t2: 73 users in scope, 13 out of scope (never counted as remaining)",
		"Migrated: 40 (46.5% of the 2 old pools)   Remaining: 39",
	} {
		if !strings.Contains(text.stdout, line+"\n") {
			t.Errorf("text lacks %q", line)
		}
	}
}

func TestStatusJudgesAGroupScopeWithEachPoolsGroups(t *testing.T) {
	s := correctMerge()
	s.fnEnv["MIGRATE_ONLY"] = "group:staff"
	e := s.world(t)
	// ann (pool 1) and cleo (pool 2) are staff; bob is not; ann migrated.
	e.cognito.PutGroup(twoOldID, cognitotest.GroupSpec{Name: "staff", Members: []string{"ann"}})
	e.cognito.PutGroup(twoOldID, cognitotest.GroupSpec{Name: "other", Members: []string{"bob"}})
	e.cognito.PutGroup(mergeOldID, cognitotest.GroupSpec{Name: "staff", Members: []string{"cleo"}})
	r := e.run(t, "status", "--user-pool-id", twoNewID, "--output", "json")
	var got migrate.Report
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != ExitOK {
		t.Fatalf("status: exit %d, %v", r.code, err)
	}
	if got.InScope == nil || *got.InScope != 2 || *got.OutOfScope != 1 || got.Migrated != 1 || got.Remaining != 1 ||
		len(got.Pools) != 2 || *got.Pools[0].OutOfScope != 1 || got.Pools[1].Remaining != 1 {
		t.Errorf("status = %s; want ann and cleo in scope (ann migrated, cleo remaining), bob out", r.stdout)
	}
}

// explainMergeRun runs explain --output json on a merge and decodes it.
func explainMergeRun(t *testing.T, e *env, name string) (explainResult, runResult) {
	t.Helper()
	r := e.run(t, "explain", "--user-pool-id", twoNewID, "--output", "json", "--username", name)
	var out explainResult
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("explain --output json: %v\n%s", err, r.stdout)
	}
	for _, op := range r.cognitoOps {
		if op == "AdminInitiateAuth" || strings.HasPrefix(op, "AdminCreate") || strings.HasPrefix(op, "AdminUpdate") {
			t.Errorf("explain called %s", op)
		}
	}
	return out, r
}

// askedPools lists the pools AdminGetUser was called on, once each.
func askedPools(e *env, from int) []string {
	var out []string
	for _, c := range e.cognito.Calls()[from:] {
		if id, _ := c.Input["UserPoolId"].(string); c.Operation == "AdminGetUser" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func TestExplainOverTwoOldPools(t *testing.T) {
	s := correctMerge()
	delete(s.fnEnv, "LEGACY_SUB_ATTRIBUTE")
	// bob has a namesake in the second pool.
	s.oldUsers2 = append(s.oldUsers2, cognitotest.User{Username: "bob", Enabled: true, Attributes: map[string]string{"sub": "old-sub-bob2"}})
	s.fnEnv["OLD_2_ROUTE"] = "email@globex.com"
	e := s.world(t)
	type caseView struct{ Case, Reason, OldPool string }
	cases := func(out explainResult) []caseView {
		var v []caseView
		for _, c := range out.Cases {
			v = append(v, caseView{c.Case, c.Reason, c.OldPool})
		}
		return v
	}
	tests := []struct {
		typed     string
		asked     []string // pools looked up
		found     []bool   // per pool
		wantCases []caseView
		note      string
	}{
		{"cleo", []string{twoOldID, mergeOldID}, []bool{false, true},
			[]caseView{{"sign-in", "migrated", "2"}, {"forgot-password", "migrated", "2"}}, "no route owns the name"},
		{"ann", []string{twoOldID, mergeOldID}, []bool{true, false},
			[]caseView{{"sign-in", "migrated", "1"}, {"forgot-password", "migrated", "1"}}, "no route owns the name"},
		{"bob", []string{twoOldID, mergeOldID}, []bool{true, true},
			[]caseView{{"sign-in", "ambiguous_user", ""}, {"forgot-password", "ambiguous_user", ""}}, "two people own it"},
		// The route sends globex addresses to the second pool alone.
		{"cleo@globex.com", []string{mergeOldID}, []bool{false, true},
			[]caseView{{"sign-in", "migrated", "2"}, {"forgot-password", "migrated", "2"}}, "only old pool(s) 2 are asked"},
		{"nobody", []string{twoOldID, mergeOldID}, []bool{false, false},
			[]caseView{{"sign-in", "user_not_found", ""}, {"forgot-password", "user_not_found", ""}}, "no route owns the name"},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			from := len(e.cognito.Calls())
			out, r := explainMergeRun(t, e, tt.typed)
			if r.code != ExitOK {
				t.Fatalf("exit %d", r.code)
			}
			if got := askedPools(e, from); !slices.Equal(got, tt.asked) {
				t.Errorf("AdminGetUser on %v, want %v", got, tt.asked)
			}
			if len(out.Pools) != 2 {
				t.Fatalf("pools = %+v, want 2", out.Pools)
			}
			for i, p := range out.Pools {
				if p.Found != tt.found[i] || p.Asked != slices.Contains(tt.asked, p.UserPoolID) {
					t.Errorf("pool %s: found %v asked %v, want found %v", p.Name, p.Found, p.Asked, tt.found[i])
				}
			}
			if diff := cmp.Diff(tt.wantCases, cases(out)); diff != "" {
				t.Errorf("cases (-want +got):\n%s", diff)
			}
			if !strings.Contains(strings.Join(out.Notes, "\n"), tt.note) {
				t.Errorf("notes %q lack %q", out.Notes, tt.note)
			}
		})
	}
	text := e.run(t, "explain", "--user-pool-id", twoNewID, "--username", "cleo@globex.com")
	for _, line := range []string{
		`  old pool 1 (` + twoOldID + `): not asked (another pool's route owns the name)`,
		`  old pool 2 (` + mergeOldID + `): user "cleo", CONFIRMED, enabled true, MFA none; the pool's MFA: OFF`,
		`  MIGRATE from old pool 2`,
	} {
		if !strings.Contains(text.stdout, line+"\n") {
			t.Errorf("text lacks %q", line)
		}
	}
}

// A MIGRATE_ONLY group condition needs the user's old-pool groups, which
// explain reads as the function does.
func TestExplainJudgesAGroupScopeWithTheUsersGroups(t *testing.T) {
	s := correctSetup()
	s.fnEnv["MIGRATE_ONLY"] = "group:staff"
	e := s.world(t)
	e.cognito.PutGroup(twoOldID, cognitotest.GroupSpec{Name: "staff", Members: []string{"bob"}})
	for name, want := range map[string]string{"bob": "migrated", "ann": "out_of_scope"} {
		out, r := explainMergeRun(t, e, name)
		if r.code != ExitOK || len(out.Cases) == 0 || out.Cases[0].Reason != want {
			t.Errorf("explain %s: exit %d, cases %+v; want sign-in %s", name, r.code, out.Cases, want)
		}
	}
}

const bulkOldPool2 = "us-east-1_OldPool2"

// mergeBulkEnv is newBulkEnv with a second old pool: zoe is hers alone,
// ALICE is another alice (the new pool ignores case), and yan's verified
// email is judy's.
func mergeBulkEnv(t *testing.T) *bulkEnv {
	t.Helper()
	vars := maps.Clone(bulkSettings)
	vars["OLD_2_USER_POOL_ID"], vars["OLD_2_CLIENT_ID"] = bulkOldPool2, "oldclient2"
	e := newBulkEnv(t, vars)
	e.cognito.AddPool(cognitotest.Pool{ID: bulkOldPool2})
	for _, u := range []cognitotest.User{
		{Username: "zoe", Enabled: true, Status: "CONFIRMED", Attributes: map[string]string{"sub": "old-sub-zoe", "email": "zoe@globex.com", "email_verified": "true"}},
		{Username: "ALICE", Enabled: true, Status: "CONFIRMED", Attributes: map[string]string{"sub": "old-sub-alice2", "email": "alice@globex.com", "email_verified": "true"}},
		{Username: "yan", Enabled: true, Status: "CONFIRMED", Attributes: map[string]string{"sub": "old-sub-yan", "email": "judy@example.com", "email_verified": "true"}},
	} {
		e.cognito.AddUser(bulkOldPool2, u)
	}
	e.cognito.AddGroup(bulkOldPool2, "globex")
	e.cognito.AddToGroup(bulkOldPool2, "globex", "zoe")
	return e
}

// manifests reads every manifest line of an export, by old username.
func manifests(t *testing.T, dir string, res exportResult) map[string]bulk.ManifestLine {
	t.Helper()
	out := map[string]bulk.ManifestLine{}
	for _, f := range res.Files {
		b, err := os.ReadFile(filepath.Join(dir, f.Manifest))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			m := readJSON[bulk.ManifestLine](t, line)
			out[m.Username] = m
		}
	}
	return out
}

func TestExportOverTwoOldPools(t *testing.T) {
	// What the first pool alone exports.
	single := newBulkEnv(t, bulkSettings)
	dir1 := filepath.Join(t.TempDir(), "export")
	r := single.run(t, exportArgs(dir1)...)
	if r.code != ExitOK {
		t.Fatalf("export of one pool: exit %d", r.code)
	}
	alone := manifests(t, dir1, readJSON[exportResult](t, r.stdout))

	e := mergeBulkEnv(t)
	dir := filepath.Join(t.TempDir(), "export")
	r = e.run(t, exportArgs(dir)...)
	if r.code != ExitOK {
		t.Fatalf("export: exit %d", r.code)
	}
	res := readJSON[exportResult](t, r.stdout)
	got := manifests(t, dir, res)
	var want []string
	for name := range alone {
		if name != "alice" && name != "judy" { // each shares a name with someone of the second pool
			want = append(want, name)
		}
	}
	want = append(want, "zoe")
	if diff := cmp.Diff(want, slices.Collect(maps.Keys(got)), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("exported (-want +got):\n%s", diff)
	}
	if z := got["zoe"]; z.OldPool != "2" || !slices.Equal(z.Groups, []string{"globex"}) {
		t.Errorf("zoe's manifest line = %+v, want old pool 2 and her group", z)
	}
	for name, m := range got {
		if name != "zoe" && m.OldPool != "1" {
			t.Errorf("%s's manifest line says old pool %q, want 1", name, m.OldPool)
		}
	}
	if n := res.Skipped[bulk.SkipReason(migrate.AmbiguousUser)]; n != 4 {
		t.Errorf("skipped %v: want 4 ambiguous_user (alice, ALICE, judy, yan)", res.Skipped)
	}
	b, err := os.ReadFile(filepath.Join(dir, bulk.SkippedFile))
	if err != nil {
		t.Fatal(err)
	}
	var ambiguous []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if s := readJSON[bulk.SkippedUser](t, line); s.Reason == bulk.SkipReason(migrate.AmbiguousUser) {
			ambiguous = append(ambiguous, s.OldPool+":"+s.Username)
		}
	}
	if w := []string{"1:alice", "1:judy", "2:ALICE", "2:yan"}; !slices.Equal(slices.Sorted(slices.Values(ambiguous)), w) {
		t.Errorf("ambiguous users skipped = %v, want %v", ambiguous, w)
	}
	wantPools := []exportPool{{Name: "1", UserPoolID: bulkOldPool, Listed: 10}, {Name: "2", UserPoolID: bulkOldPool2, Listed: 3}}
	if diff := cmp.Diff(wantPools, res.OldPools); diff != "" || res.OldPoolUsers != 13 {
		t.Errorf("old pools (-want +got):\n%s\nold users %d, want 13", diff, res.OldPoolUsers)
	}
}

func TestMapOverTwoOldPools(t *testing.T) {
	e := mergeBulkEnv(t)
	// Moved by the function: zoe from the second pool, dave (newBulkEnv)
	// from the first; kim's old account is gone from both.
	e.cognito.AddUser(bulkNewPool, cognitotest.User{Username: "zoe", Enabled: true, Attributes: map[string]string{
		"email": "zoe@globex.com", "custom:legacy_sub": "old-sub-zoe"}})
	e.cognito.AddUser(bulkNewPool, cognitotest.User{Username: "kim", Enabled: true, Attributes: map[string]string{
		"email": "kim@globex.com", "custom:legacy_sub": "old-sub-kim"}})
	out := filepath.Join(t.TempDir(), "subs.jsonl")
	r := e.run(t, "map", "--user-pool-id", bulkNewPool, "--function-arn", functionARN, "--out", out, "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("map: exit %d", r.code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		m := readJSON[SubMapping](t, line)
		got[m.Username] = m.OldPool
	}
	if want := map[string]string{"dave": "1", "zoe": "2", "kim": ""}; !cmp.Equal(want, got) {
		t.Errorf("old pools by user = %v, want %v", got, want)
	}
	if res := readJSON[mapResult](t, r.stdout); res.OldPoolUnknown != 1 || res.Written != 3 {
		t.Errorf("map: %+v; want 3 written, 1 without an old pool", res)
	}
}

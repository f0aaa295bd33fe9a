package cognito_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

func operations(f *cognitotest.Fake, op string) []cognitotest.Call {
	var out []cognitotest.Call
	for _, c := range f.Calls() {
		if c.Operation == op {
			out = append(out, c)
		}
	}
	return out
}

func TestGetUserReadsGroupsOnlyWhenAsked(t *testing.T) {
	p, f := oldPool(t, cognitotest.Pool{AliasAttributes: []string{"email"}}, "", user("alice"), user("bob", func(u *cognitotest.User) { u.Attributes["sub"] = "22222222-2222-4333-8444-555555555555" }))
	var want []string
	for i := range 70 { // more than one page (60)
		name := fmt.Sprintf("g%02d", i)
		f.AddGroup(poolID, name)
		f.AddMember(poolID, name, "alice")
		want = append(want, name)
	}
	ctx := context.Background()

	u, err := p.GetUser(ctx, "alice")
	if err != nil || u.Groups != nil || len(operations(f, "AdminListGroupsForUser")) != 0 {
		t.Fatalf("GetUser without WithGroups = %v groups, %v; %d group reads, want none", u.Groups, err, len(operations(f, "AdminListGroupsForUser")))
	}

	p.WithGroups()
	u, err = p.GetUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(u.Groups)
	if diff := cmp.Diff(want, u.Groups); diff != "" {
		t.Errorf("GetUser(alice).Groups (-want +got):\n%s", diff)
	}
	if n := len(operations(f, "AdminListGroupsForUser")); n != 2 {
		t.Errorf("AdminListGroupsForUser calls = %d, want 2 pages", n)
	}

	u, err = p.GetUser(ctx, "bob")
	if err != nil || u.Groups == nil || len(u.Groups) != 0 {
		t.Errorf("GetUser(bob).Groups = %#v, %v; want an empty, non-nil list", u.Groups, err)
	}
}

// The group read and the user read go out together: with both delayed, the
// lookup takes one delay, not two.
func TestGetUserReadsGroupsConcurrently(t *testing.T) {
	p, f := oldPool(t, cognitotest.Pool{}, "", user("alice"))
	p.WithGroups()
	const delay = 150 * time.Millisecond
	f.SetFault("AdminGetUser", cognitotest.Fault{Delay: delay})
	f.SetFault("AdminListGroupsForUser", cognitotest.Fault{Delay: delay})
	start := time.Now()
	if _, err := p.GetUser(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= 2*delay {
		t.Errorf("GetUser with groups took %v, want under %v (the two calls in parallel)", took, 2*delay)
	}
}

// An emulator that answers an alias with no groups: the real username is
// asked again. cognitotest accepts aliases, so this test counts the calls
// for a user who has no group.
func TestGetUserByAliasAsksAgainByUsername(t *testing.T) {
	p, f := oldPool(t, cognitotest.Pool{AliasAttributes: []string{"email"}}, "", user("alice"))
	p.WithGroups()
	u, err := p.GetUser(context.Background(), "alice@example.com")
	if err != nil || len(u.Groups) != 0 {
		t.Fatalf("GetUser(alias) = %v, %v", u.Groups, err)
	}
	calls := operations(f, "AdminListGroupsForUser")
	if len(calls) != 2 || calls[1].Input["Username"] != "alice" {
		t.Errorf("AdminListGroupsForUser calls = %d, want a second one for alice", len(calls))
	}
}

func TestGetUserGroupFault(t *testing.T) {
	p, f := oldPool(t, cognitotest.Pool{}, "", user("alice"))
	p.WithGroups()
	f.SetFault("AdminListGroupsForUser", cognitotest.Fault{ErrorType: "AccessDeniedException"})
	if u, err := p.GetUser(context.Background(), "alice"); err == nil {
		t.Errorf("GetUser with the group read refused = %+v, want an error (never a user without their groups)", u)
	}
}

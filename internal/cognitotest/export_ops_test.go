package cognitotest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/google/go-cmp/cmp"
)

// ListGroups and ListUsersInGroup page as Cognito does, and the SDK's
// paginators walk every page.
func TestGroupListing(t *testing.T) {
	f := New(t)
	const pool = "eu-west-1_Groups1"
	f.AddPool(Pool{ID: pool})
	var want []string
	for i := range 65 {
		name := fmt.Sprintf("group%02d", i)
		f.AddGroup(pool, name)
		want = append(want, name)
	}
	var users []User
	for i := range 5 {
		users = append(users, User{Username: fmt.Sprintf("u%d", i), Enabled: true})
	}
	f.AddUsers(pool, users)
	for _, u := range []string{"u3", "u0", "u4"} {
		f.AddToGroup(pool, "group07", u)
	}
	ctx := context.Background()
	c := f.Client()

	var got []string
	groups := cip.NewListGroupsPaginator(c, &cip.ListGroupsInput{UserPoolId: aws.String(pool), Limit: aws.Int32(60)})
	for groups.HasMorePages() {
		out, err := groups.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Groups {
			got = append(got, aws.ToString(g.GroupName))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListGroups (-want +got):\n%s", diff)
	}
	if n := f.CallCount("ListGroups"); n != 2 {
		t.Errorf("ListGroups calls = %d, want 2 pages", n)
	}

	var members []string
	pages := cip.NewListUsersInGroupPaginator(c, &cip.ListUsersInGroupInput{UserPoolId: aws.String(pool), GroupName: aws.String("group07"), Limit: aws.Int32(2)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Users {
			members = append(members, aws.ToString(u.Username))
		}
	}
	if !slices.Equal(members, []string{"u0", "u3", "u4"}) {
		t.Errorf("ListUsersInGroup = %v, want u0, u3, u4", members)
	}
	if _, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: aws.String(pool), GroupName: aws.String("nope")}); err == nil {
		t.Error("ListUsersInGroup of a missing group succeeded")
	}
	if _, err := c.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: aws.String(pool), Limit: aws.Int32(61)}); err == nil {
		t.Error("ListGroups with Limit 61 succeeded")
	}
	if n := len(f.Users(pool)); n != 5 {
		t.Errorf("AddUsers added %d users, want 5", n)
	}
}

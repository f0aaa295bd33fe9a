package cognitotest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

const listPoolID = "eu-west-1_List1"

func listFake(t *testing.T, n int) *Fake {
	f := New(t)
	f.AddPool(Pool{ID: listPoolID})
	for i := range n {
		f.AddUser(listPoolID, User{
			Username: fmt.Sprintf("user%03d", i), Enabled: i%10 != 0,
			Attributes: map[string]string{"email": fmt.Sprintf("u%03d@example.com", i)},
			Created:    time.Date(2026, 12, 1, 0, 0, i, 0, time.UTC),
		})
	}
	return f
}

// noRetry keeps the SDK from hiding the fake's errors behind retries.
func noRetry(o *cip.Options) { o.Retryer = aws.NopRetryer{} }

// listAll pages through ListUsers with the real paginator and returns the
// usernames and the page sizes.
func listAll(t *testing.T, c *cip.Client, filter string, limit int32) (names []string, sizes []int) {
	t.Helper()
	in := &cip.ListUsersInput{UserPoolId: aws.String(listPoolID), Limit: aws.Int32(limit)}
	if filter != "" {
		in.Filter = aws.String(filter)
	}
	pages := cip.NewListUsersPaginator(c, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListUsers page %d: %v", len(sizes)+1, err)
		}
		sizes = append(sizes, len(out.Users))
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.Username))
		}
	}
	return names, sizes
}

func TestListUsersPaginates(t *testing.T) {
	f := listFake(t, 130)
	names, sizes := listAll(t, f.Client(), "", 60)
	if diff := cmp.Diff([]int{60, 60, 10}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	if len(names) != 130 || names[0] != "user000" || names[129] != "user129" {
		t.Errorf("listed %d users %q...%q, want user000...user129", len(names), names[0], names[len(names)-1])
	}
}

func TestListUsersShortPages(t *testing.T) {
	f := listFake(t, 130)
	f.SetShortPages(true)
	names, sizes := listAll(t, f.Client(), "", 60)
	if diff := cmp.Diff([]int{60, 30, 0, 40}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	if len(names) != 130 {
		t.Errorf("listed %d users, want 130", len(names))
	}
}

func TestListUsersFilter(t *testing.T) {
	f := listFake(t, 130)
	for _, tt := range []struct {
		filter string
		want   int
	}{
		{`username ^= "user1"`, 30},
		{`username="user007"`, 1},
		{`email = "u042@example.com"`, 1},
		{`status = "Disabled"`, 13},
		{`cognito:user_status = "confirmed"`, 130},
		{`email ^= "nobody"`, 0},
	} {
		names, _ := listAll(t, f.Client(), tt.filter, 7)
		if len(names) != tt.want {
			t.Errorf("ListUsers(Filter %s) listed %d users, want %d", tt.filter, len(names), tt.want)
		}
	}
}

func TestListUsersRefusals(t *testing.T) {
	f := listFake(t, 70)
	c := f.Client(noRetry)
	ctx := context.Background()
	// A full page is a large answer: with the SDK's retries, as a response
	// cut short (seen under -race) is retried.
	first, err := f.Client().ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(listPoolID), Filter: aws.String(`username ^= "user"`)})
	if err != nil || first.PaginationToken == nil {
		t.Fatalf("ListUsers() = %v, %v; want a page with a token", first, err)
	}
	for _, tt := range []struct {
		name string
		in   cip.ListUsersInput
		want string
	}{
		{"limit over 60", cip.ListUsersInput{Limit: aws.Int32(61)}, "InvalidParameterException"},
		{"token with another filter", cip.ListUsersInput{PaginationToken: first.PaginationToken}, "InvalidParameterException"},
		{"garbage token", cip.ListUsersInput{PaginationToken: aws.String("nope")}, "InvalidParameterException"},
		{"bad filter", cip.ListUsersInput{Filter: aws.String(`email like "x"`)}, "InvalidParameterException"},
		{"custom attribute filter", cip.ListUsersInput{Filter: aws.String(`custom:x = "y"`)}, "InvalidParameterException"},
		{"unknown pool", cip.ListUsersInput{UserPoolId: aws.String("eu-west-1_Nope")}, "ResourceNotFoundException"},
	} {
		in := tt.in
		if in.UserPoolId == nil {
			in.UserPoolId = aws.String(listPoolID)
		}
		_, err := c.ListUsers(ctx, &in)
		if got := apiCode(err); got != tt.want {
			t.Errorf("%s: ListUsers() error = %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestListUsersFields(t *testing.T) {
	f := listFake(t, 1)
	out, err := f.Client().ListUsers(context.Background(), &cip.ListUsersInput{UserPoolId: aws.String(listPoolID)})
	if err != nil || len(out.Users) != 1 {
		t.Fatalf("ListUsers() = %v, %v", out, err)
	}
	u := out.Users[0]
	attrs := map[string]string{}
	for _, a := range u.Attributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	if aws.ToString(u.Username) != "user000" || u.Enabled || u.UserStatus != types.UserStatusTypeConfirmed ||
		!aws.ToTime(u.UserCreateDate).Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) ||
		attrs["email"] != "u000@example.com" || attrs["sub"] == "" {
		t.Errorf("ListUsers() user = %+v, attributes %v", u, attrs)
	}
}

func TestSetRateLimit(t *testing.T) {
	f := listFake(t, 10)
	f.SetRateLimit("ListUsers", 3)
	c := f.Client(noRetry)
	ctx := context.Background()
	var codes []string
	for range 5 {
		_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(listPoolID)})
		codes = append(codes, apiCode(err))
	}
	want := []string{"", "", "", "TooManyRequestsException", "TooManyRequestsException"}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("error codes (-want +got):\n%s", diff)
	}
	if got := f.Throttled("ListUsers"); got != 2 {
		t.Errorf("Throttled() = %d, want 2", got)
	}
	f.SetRateLimit("ListUsers", 0)
	if _, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(listPoolID)}); err != nil {
		t.Errorf("ListUsers() after removing the quota: %v", err)
	}
}

func TestListUserPoolClientsPaginates(t *testing.T) {
	f := New(t)
	f.AddPool(Pool{ID: listPoolID})
	f.AddPool(Pool{ID: "eu-west-1_Other"})
	f.AddClient(AppClient{PoolID: "eu-west-1_Other", ID: "other"})
	for i := range 65 {
		f.AddClient(AppClient{PoolID: listPoolID, ID: fmt.Sprintf("client%02d", i)})
	}
	pages := cip.NewListUserPoolClientsPaginator(f.Client(), &cip.ListUserPoolClientsInput{
		UserPoolId: aws.String(listPoolID), MaxResults: aws.Int32(60),
	})
	var ids []string
	var sizes []int
	for pages.HasMorePages() {
		out, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListUserPoolClients: %v", err)
		}
		sizes = append(sizes, len(out.UserPoolClients))
		for _, c := range out.UserPoolClients {
			ids = append(ids, aws.ToString(c.ClientId))
			if aws.ToString(c.UserPoolId) != listPoolID || aws.ToString(c.ClientName) == "" {
				t.Errorf("client %+v: want the pool id and a name", c)
			}
		}
	}
	if diff := cmp.Diff([]int{60, 5}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	if len(ids) != 65 || ids[0] != "client00" || ids[64] != "client64" {
		t.Errorf("listed %v, want client00..client64", ids)
	}
	_, err := f.Client(noRetry).ListUserPoolClients(context.Background(), &cip.ListUserPoolClientsInput{
		UserPoolId: aws.String(listPoolID), MaxResults: aws.Int32(61),
	})
	if apiCode(err) != "InvalidParameterException" {
		t.Errorf("MaxResults 61: error = %v, want InvalidParameterException", err)
	}
}

func TestGetUserPoolMfaConfig(t *testing.T) {
	f := New(t)
	f.AddPool(Pool{ID: listPoolID})
	c := f.Client(noRetry)
	ctx := context.Background()
	out, err := c.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(listPoolID)})
	if err != nil || out.MfaConfiguration != types.UserPoolMfaTypeOff {
		t.Errorf("GetUserPoolMfaConfig() = %+v, %v; want OFF", out, err)
	}
	f.PutUserPoolMfaConfig(listPoolID, []byte(`{"MfaConfiguration":"OPTIONAL","SoftwareTokenMfaConfiguration":{"Enabled":true}}`))
	out, err = c.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(listPoolID)})
	if err != nil || out.MfaConfiguration != types.UserPoolMfaTypeOptional || out.SoftwareTokenMfaConfiguration == nil || !out.SoftwareTokenMfaConfiguration.Enabled {
		t.Errorf("GetUserPoolMfaConfig() = %+v, %v; want the stored answer", out, err)
	}
	_, err = c.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String("eu-west-1_Nope")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("unknown pool: error = %v, want ResourceNotFoundException", err)
	}
}

func TestAddUsersChecksAsAddUserDoes(t *testing.T) {
	f := New(t)
	f.AddPool(Pool{ID: "eu-west-1_Bulk", CaseInsensitive: true})
	f.AddUsers("eu-west-1_Bulk", []User{{Username: "ann", Enabled: true}, {Username: "bob"}})
	users := f.Users("eu-west-1_Bulk")
	if len(users) != 2 || users[0].Status != "CONFIRMED" || users[0].Attributes["sub"] == "" || users[0].Created.IsZero() {
		t.Fatalf("users = %+v, want two with AddUser's defaults", users)
	}
	for _, dup := range []User{{Username: "ANN"}, {Username: "carol", Attributes: map[string]string{"sub": users[1].Attributes["sub"]}}} {
		tb := &fatalTB{TB: t}
		f.tb = tb
		f.AddUsers("eu-west-1_Bulk", []User{dup})
		if !tb.failed {
			t.Errorf("AddUsers(%+v) did not fail on a duplicate", dup)
		}
	}
}

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	failed bool
}

func (tb *fatalTB) Helper()               {}
func (tb *fatalTB) Fatalf(string, ...any) { tb.failed = true }

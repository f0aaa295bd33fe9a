package cognito

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

const listPool = "eu-west-1_Listed"

func listedFake(t *testing.T, n int) *cognitotest.Fake {
	t.Helper()
	f := cognitotest.New(t)
	f.AddPool(cognitotest.Pool{ID: listPool})
	for i := range n {
		f.AddUser(listPool, cognitotest.User{Username: fmt.Sprintf("user%04d", i), Enabled: true})
	}
	return f
}

// fastLister is a Lister whose retries do not slow the tests down.
func fastLister(f *cognitotest.Fake, l RateLimiter) *Lister {
	lister := NewLister(f.Client(), l)
	lister.BackoffBase, lister.BackoffMax = time.Millisecond, 20*time.Millisecond
	return lister
}

func TestListUsersStreamsEveryPage(t *testing.T) {
	f := listedFake(t, 250)
	f.SetShortPages(true)
	var pages []Page
	seen := map[string]bool{}
	err := fastLister(f, nil).ListUsers(context.Background(), listPool, ListUsersOptions{OnPage: func(p Page) { pages = append(pages, p) }},
		func(u types.UserType) error {
			name := *u.Username
			if seen[name] {
				t.Errorf("user %q listed twice", name)
			}
			seen[name] = true
			return nil
		})
	if err != nil {
		t.Fatalf("ListUsers() error = %v", err)
	}
	if len(seen) != 250 {
		t.Errorf("listed %d users, want 250", len(seen))
	}
	want := []Page{{1, 60, 60}, {2, 30, 90}, {3, 0, 90}, {4, 60, 150}, {5, 30, 180}, {6, 0, 180}, {7, 60, 240}, {8, 10, 250}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	for _, c := range f.Calls() {
		if c.Operation == "ListUsers" && c.Input["Limit"] != 60.0 {
			t.Errorf("ListUsers Limit = %v, want 60", c.Input["Limit"])
		}
	}
}

func TestListUsersFilterAndStop(t *testing.T) {
	f := listedFake(t, 130)
	stop := errors.New("stop")
	n := 0
	err := fastLister(f, nil).ListUsers(context.Background(), listPool, ListUsersOptions{Filter: `username ^= "user00"`},
		func(u types.UserType) error {
			if n++; n == 5 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || n != 5 {
		t.Errorf("ListUsers() = %v after %d users, want the callback's error after 5", err, n)
	}
}

func TestListUsersRetriesThrottling(t *testing.T) {
	f := listedFake(t, 200)
	f.SetRateLimit("ListUsers", 2) // far below what an unlimited lister asks
	total := 0
	l := fastLister(f, nil)
	l.BackoffBase, l.BackoffMax, l.Attempts = 50*time.Millisecond, time.Second, 20
	err := l.ListUsers(context.Background(), listPool, ListUsersOptions{OnPage: func(p Page) { total = p.Total }},
		func(types.UserType) error { return nil })
	if err != nil {
		t.Fatalf("ListUsers() error = %v", err)
	}
	if total != 200 || f.Throttled("ListUsers") == 0 {
		t.Errorf("listed %d users with %d throttles, want 200 users after some throttles", total, f.Throttled("ListUsers"))
	}
}

func TestListUsersGivesUpOnEndlessThrottling(t *testing.T) {
	f := listedFake(t, 10)
	f.SetFault("ListUsers", cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"})
	l := fastLister(f, nil)
	l.Attempts = 3
	err := l.ListUsers(context.Background(), listPool, ListUsersOptions{}, func(types.UserType) error { return nil })
	if !errors.Is(err, awserr.ErrThrottled) {
		t.Errorf("ListUsers() error = %v, want ErrThrottled", err)
	}
	if got := f.CallCount("ListUsers"); got != 3 {
		t.Errorf("ListUsers calls = %d, want 3 (no SDK retries on top)", got)
	}
}

func TestListUsersPerCallTimeout(t *testing.T) {
	f := listedFake(t, 10)
	f.SetFault("ListUsers", cognitotest.Fault{Hang: true, Times: 1})
	l := fastLister(f, nil)
	l.CallTimeout = 100 * time.Millisecond
	n := 0
	err := l.ListUsers(context.Background(), listPool, ListUsersOptions{}, func(types.UserType) error { n++; return nil })
	if err != nil || n != 10 {
		t.Errorf("ListUsers() = %v with %d users, want the hung call retried and 10 users", err, n)
	}
	f.SetFault("ListUsers", cognitotest.Fault{Hang: true})
	l.Attempts = 2
	start := time.Now()
	err = l.ListUsers(context.Background(), listPool, ListUsersOptions{}, func(types.UserType) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("ListUsers() on a silent endpoint = %v after %v, want a deadline error quickly", err, time.Since(start))
	}
}

func TestListUsersUnknownPool(t *testing.T) {
	f := listedFake(t, 0)
	err := fastLister(f, nil).ListUsers(context.Background(), "eu-west-1_Nope", ListUsersOptions{}, func(types.UserType) error { return nil })
	var ce *awserr.CallError
	if !errors.Is(err, awserr.ErrNotFound) || !errors.As(err, &ce) || ce.Action != "cognito-idp:ListUsers" {
		t.Errorf("ListUsers(unknown pool) = %v, want a ListUsers CallError of kind ErrNotFound", err)
	}
}

func TestAppClients(t *testing.T) {
	f := listedFake(t, 0)
	for i := range 63 {
		f.AddClient(cognitotest.AppClient{PoolID: listPool, ID: fmt.Sprintf("c%02d", i), Flows: []string{"ALLOW_USER_SRP_AUTH"}})
	}
	clients, err := fastLister(f, nil).AppClients(context.Background(), listPool)
	if err != nil {
		t.Fatalf("AppClients() error = %v", err)
	}
	if len(clients) != 63 || *clients[62].ClientId != "c62" || len(clients[0].ExplicitAuthFlows) != 1 {
		t.Errorf("AppClients() = %d clients, want 63 described ones", len(clients))
	}
	if got := f.CallCount("DescribeUserPoolClient"); got != 63 {
		t.Errorf("DescribeUserPoolClient calls = %d, want 63", got)
	}
}

func TestMFAConfig(t *testing.T) {
	f := listedFake(t, 0)
	f.PutUserPoolMfaConfig(listPool, []byte(`{"MfaConfiguration":"ON","SoftwareTokenMfaConfiguration":{"Enabled":true}}`))
	out, err := fastLister(f, nil).MFAConfig(context.Background(), listPool)
	if err != nil || out.MfaConfiguration != types.UserPoolMfaTypeOn || !out.SoftwareTokenMfaConfiguration.Enabled {
		t.Errorf("MFAConfig() = %+v, %v", out, err)
	}
}

func TestListedUser(t *testing.T) {
	f := listedFake(t, 0)
	when := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	f.AddUser(listPool, cognitotest.User{Username: "ann", Status: "RESET_REQUIRED", Created: when,
		Attributes: map[string]string{"sub": "s-1", "email": "ann@example.com"}})
	var got []migrate.ListedUser
	err := fastLister(f, nil).ListUsers(context.Background(), listPool, ListUsersOptions{}, func(u types.UserType) error {
		got = append(got, ListedUser(u))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []migrate.ListedUser{{Username: "ann", Status: "RESET_REQUIRED", Enabled: false, Created: when,
		Attributes: map[string]string{"sub": "s-1", "email": "ann@example.com"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListedUser (-want +got):\n%s", diff)
	}
}

// TestStatusOverPagesOnTheFake runs the status arithmetic over real
// listings of two pools, several pages each.
func TestStatusOverPagesOnTheFake(t *testing.T) {
	f := cognitotest.New(t)
	f.SetShortPages(true)
	f.AddPool(cognitotest.Pool{ID: "eu-west-1_Old"})
	f.AddPool(cognitotest.Pool{ID: "eu-west-1_New", CaseInsensitive: true})
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range 200 {
		st := "CONFIRMED"
		if i%4 == 0 {
			st = "RESET_REQUIRED"
		}
		f.AddUser("eu-west-1_Old", cognitotest.User{Username: fmt.Sprintf("User%03d", i), Status: st, Enabled: i%5 != 0})
	}
	for i := 0; i < 200; i += 3 { // 67 migrated, in other case
		f.AddUser("eu-west-1_New", cognitotest.User{Username: fmt.Sprintf("user%03d", i), Enabled: true, Created: now.AddDate(0, 0, -(i % 7))})
	}
	f.AddUser("eu-west-1_New", cognitotest.User{Username: "newcomer", Enabled: true, Created: now})

	p := migrate.NewProgress(migrate.MatchRule{CaseSensitive: false})
	l := fastLister(f, nil)
	ctx := context.Background()
	if err := l.ListUsers(ctx, "eu-west-1_Old", ListUsersOptions{}, func(u types.UserType) error { return p.AddOld(ListedUser(u)) }); err != nil {
		t.Fatal(err)
	}
	if err := l.ListUsers(ctx, "eu-west-1_New", ListUsersOptions{}, func(u types.UserType) error { p.AddNew(ListedUser(u)); return nil }); err != nil {
		t.Fatal(err)
	}
	r := p.Report(now)
	// i%3==0 and i%4==0: i%12==0, 17 of the 67 migrated were RESET_REQUIRED.
	if r.Old.Total != 200 || r.Old.Disabled != 40 || r.New.Total != 68 || r.Migrated != 67 || r.Remaining != 133 ||
		r.RemainingByStatus["RESET_REQUIRED"] != 50-17 || r.RemainingByStatus["CONFIRMED"] != 150-50 {
		t.Errorf("Report() = %+v", r)
	}
	sum := 0
	for _, d := range r.PerDay {
		sum += d.Migrated
	}
	if sum != 67 || r.PerDay[29].Migrated != 10 { // i%7==0 among multiples of 3 below 200: i%21==0, 10 of them
		t.Errorf("PerDay = %+v, want 67 in all and 10 today", r.PerDay)
	}
}

func TestListUsersRetriesAConnectionReset(t *testing.T) {
	f := listedFake(t, 70)
	f.SetFault("ListUsers", cognitotest.Fault{ResetConn: true, Times: 1})
	n := 0
	err := fastLister(f, nil).ListUsers(context.Background(), listPool, ListUsersOptions{}, func(types.UserType) error { n++; return nil })
	if err != nil || n != 70 {
		t.Errorf("ListUsers() = %v with %d users, want the reset page retried and 70 users", err, n)
	}
}

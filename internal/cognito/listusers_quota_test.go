package cognito_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// The Lister with the one token bucket of the code base, bulk.Limiter, as
// the commands use it: DefaultListUsersRate, a burst of 1.

const quotaPool = "eu-west-1_Quota"

func quotaFake(tb testing.TB, n int) *cognitotest.Fake {
	tb.Helper()
	f := cognitotest.New(tb)
	f.AddPool(cognitotest.Pool{ID: quotaPool})
	users := make([]cognitotest.User, n)
	for i := range users {
		users[i] = cognitotest.User{Username: fmt.Sprintf("user%05d", i), Enabled: true,
			Attributes: map[string]string{"email": fmt.Sprintf("user%05d@example.com", i)}}
	}
	f.AddUsers(quotaPool, users)
	f.SetRateLimit("ListUsers", cognito.ListUsersQuota)
	return f
}

func listUsersLimiter() *bulk.Limiter {
	return bulk.NewLimiter(bulk.SystemClock{}, cognito.DefaultListUsersRate, 1)
}

func TestListUsersLimiterKeepsTheQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a second")
	}
	f := quotaFake(t, 60*40)
	start := time.Now()
	total := 0
	err := cognito.NewLister(f.Client(), listUsersLimiter()).ListUsers(context.Background(), quotaPool,
		cognito.ListUsersOptions{OnPage: func(p cognito.Page) { total = p.Total }}, func(types.UserType) error { return nil })
	if err != nil {
		t.Fatalf("ListUsers() error = %v", err)
	}
	elapsed := time.Since(start)
	if total != 2400 || f.Throttled("ListUsers") != 0 {
		t.Errorf("listed %d users with %d throttles, want 2400 and none", total, f.Throttled("ListUsers"))
	}
	// 40 requests at 29/s: the first goes at once, the 40th after 39/29 s.
	if min := 39 * time.Second / cognito.DefaultListUsersRate; elapsed < min {
		t.Errorf("40 pages took %v, less than %v: the limiter let requests through too fast", elapsed, min)
	}
}

// BenchmarkListUsersQuota lists 3,000 users (50 pages) from the fake with
// Cognito's ListUsers quota (30 requests per second) enforced, through a
// Lister at DefaultListUsersRate, and reports users/s, the share of the
// quota's ceiling (30 x 60 = 1,800 users/s) it reached, and the requests
// the quota refused.
func BenchmarkListUsersQuota(b *testing.B) {
	f := quotaFake(b, 3000)
	lister := cognito.NewLister(f.Client(), listUsersLimiter())
	b.ReportAllocs()
	listed := 0
	for b.Loop() {
		err := lister.ListUsers(context.Background(), quotaPool, cognito.ListUsersOptions{}, func(types.UserType) error {
			listed++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	perSecond := float64(listed) / b.Elapsed().Seconds()
	b.ReportMetric(perSecond, "users/s")
	b.ReportMetric(100*perSecond/(cognito.ListUsersQuota*cognito.ListUsersPageSize), "%ceiling")
	b.ReportMetric(float64(f.Throttled("ListUsers")), "throttled")
}

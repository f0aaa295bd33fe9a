package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Sizes of the status scenario: the throughput run lists ThroughputUsers
// (100 pages, about 3.5 s at the quota); the memory runs list each of
// MemoryUsers old users and a tenth as many new ones.
var (
	StatusThroughputUsers = 6000
	StatusMemoryUsers     = []int{10_000, 100_000}
)

// Targets of the status command (issue 12).
const (
	// ListUsersCeiling is the users per second ListUsers' quota allows:
	// 30 requests of 60 users.
	ListUsersCeiling = cognito.ListUsersQuota * cognito.ListUsersPageSize
	// MinStatusShare is the share of that ceiling status must reach.
	MinStatusShare = 0.90
	// MaxStatusBytesPerUser bounds status's memory per old user.
	MaxStatusBytesPerUser = 100
)

// StatusResult is what the status scenario measured.
type StatusResult struct {
	// Users were listed (both pools) in Seconds, Pages requests answered,
	// Throttled refused by the fake's quota (and retried).
	Users          int     `json:"users"`
	Pages          int     `json:"pages"`
	Throttled      int     `json:"throttled"`
	Seconds        float64 `json:"seconds"`
	UsersPerSecond float64 `json:"usersPerSecond"`
	// Share is UsersPerSecond over ListUsersCeiling.
	Share  float64        `json:"shareOfCeiling"`
	Memory []StatusMemory `json:"memory"`
}

// StatusMemory is one memory run.
type StatusMemory struct {
	OldUsers int `json:"oldUsers"`
	NewUsers int `json:"newUsers"`
	Migrated int `json:"migrated"`
	// GrossBytes is the highest live heap above the baseline (the fake
	// and its users), sampled after a collection every 25 pages of the
	// listing; ControlBytes the same for a listing that keeps nothing.
	// PeakBytes is their difference, status's own, and BytesPerUser
	// PeakBytes per old user.
	GrossBytes   int64   `json:"grossBytes"`
	ControlBytes int64   `json:"controlBytes"`
	PeakBytes    int64   `json:"peakBytes"`
	BytesPerUser float64 `json:"bytesPerUser"`
	Seconds      float64 `json:"seconds"`
}

const (
	statusOldPool = "eu-west-1_StatusOld"
	statusNewPool = "eu-west-1_StatusNew"
)

// statusPools starts a fake with an old pool of oldUsers users (a username
// and a verified email each) and a new pool of newUsers of them, migrated:
// the first new user is the first old one, and so on, every other one by
// its email alias under another username.
func statusPools(oldUsers, newUsers int) (*cognitotest.Fake, func()) {
	f, stop := cognitotest.NewServer(cognitotest.ServerOptions{})
	f.AddPool(cognitotest.Pool{ID: statusOldPool, AliasAttributes: []string{"email"}})
	f.AddPool(cognitotest.Pool{ID: statusNewPool, AliasAttributes: []string{"email"}})
	created := time.Now().Add(-48 * time.Hour)
	old := make([]cognitotest.User, oldUsers)
	for i := range old {
		old[i] = cognitotest.User{Username: fmt.Sprintf("user%07d", i), Enabled: true, Created: created,
			Attributes: map[string]string{"email": fmt.Sprintf("user%07d@example.com", i), "email_verified": "true"}}
	}
	f.AddUsers(statusOldPool, old)
	migrated := make([]cognitotest.User, newUsers)
	for i := range migrated {
		name := fmt.Sprintf("user%07d", i)
		if i%2 == 1 {
			name = fmt.Sprintf("renamed%07d", i)
		}
		migrated[i] = cognitotest.User{Username: name, Enabled: true,
			Attributes: map[string]string{"email": fmt.Sprintf("user%07d@example.com", i), "email_verified": "true"}}
	}
	f.AddUsers(statusNewPool, migrated)
	return f, stop
}

// statusFigures lists both pools as the status command does (Lister,
// Progress reserved for the old pool's size) and returns the report.
// onPage is called after each page.
func statusFigures(ctx context.Context, f *cognitotest.Fake, limiter cognito.RateLimiter, oldUsers int, onPage func()) (migrate.Report, error) {
	list := cognito.NewLister(f.Client(), limiter)
	p := migrate.NewProgress(migrate.MatchRule{AliasAttributes: []string{"email"}, CaseSensitive: false})
	p.Reserve(oldUsers)
	page := cognito.ListUsersOptions{OnPage: func(cognito.Page) { onPage() }}
	if err := list.ListUsers(ctx, statusOldPool, page, func(u types.UserType) error { return p.AddOld(cognito.ListedUser(u)) }); err != nil {
		return migrate.Report{}, err
	}
	err := list.ListUsers(ctx, statusNewPool, page, func(u types.UserType) error {
		p.AddNew(cognito.ListedUser(u))
		return nil
	})
	return p.Report(time.Now()), err
}

// statusScenario measures status: throughput under the enforced quota, and
// memory at each size (unthrottled: the quota sets only the pace).
func statusScenario(ctx context.Context, run *runner) error {
	res := &StatusResult{}
	run.results.Status = res

	oldN := StatusThroughputUsers * 4 / 5
	f, stop := statusPools(oldN, StatusThroughputUsers-oldN)
	f.SetRateLimit("ListUsers", cognito.ListUsersQuota)
	run.say("status: listing %d users at the ListUsers quota (%d requests/s enforced by the fake)", StatusThroughputUsers, cognito.ListUsersQuota)
	start := time.Now()
	r, err := statusFigures(ctx, f, bulk.NewLimiter(bulk.SystemClock{}, cognito.DefaultListUsersRate, 1), oldN, func() { res.Pages++ })
	elapsed := time.Since(start)
	res.Throttled = f.Throttled("ListUsers")
	stop()
	if err != nil {
		return fmt.Errorf("status throughput: %w", err)
	}
	if got := r.Old.Total + r.New.Total; got != StatusThroughputUsers || r.Migrated != StatusThroughputUsers-oldN {
		return fmt.Errorf("status throughput: listed %d users, %d migrated; want %d and %d", got, r.Migrated, StatusThroughputUsers, StatusThroughputUsers-oldN)
	}
	res.Users, res.Seconds = StatusThroughputUsers, elapsed.Seconds()
	res.UsersPerSecond = float64(res.Users) / res.Seconds
	res.Share = res.UsersPerSecond / ListUsersCeiling

	for _, n := range StatusMemoryUsers {
		m, err := statusMemory(ctx, n)
		if err != nil {
			return fmt.Errorf("status memory, %d users: %w", n, err)
		}
		run.say("status: %d old users: peak %d bytes above the baseline, %.1f bytes per user", n, m.PeakBytes, m.BytesPerUser)
		res.Memory = append(res.Memory, m)
	}
	return nil
}

// statusMemory lists n old and n/10 new users twice and samples the live
// heap: once as status does, once keeping nothing (the control: the
// client's buffers and the fake's own record of every call, which grows
// with the pages). Status's memory is the difference of the two peaks.
func statusMemory(ctx context.Context, n int) (StatusMemory, error) {
	m := StatusMemory{OldUsers: n, NewUsers: n / 10}
	f, stop := statusPools(m.OldUsers, m.NewUsers)
	defer stop()
	live := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	peakOf := func(list func(onPage func()) error) (int64, error) {
		base, peak, pages := live(), int64(0), 0
		err := list(func() {
			if pages++; pages%25 == 0 {
				peak = max(peak, live()-base)
			}
		})
		return peak, err
	}
	start := time.Now()
	var r migrate.Report
	gross, err := peakOf(func(onPage func()) (err error) {
		r, err = statusFigures(ctx, f, nil, n, onPage)
		return err
	})
	m.Seconds = time.Since(start).Seconds()
	if err != nil {
		return m, err
	}
	if r.Old.Total != n || r.Migrated != m.NewUsers {
		return m, fmt.Errorf("listed %d old users, %d migrated; want %d and %d", r.Old.Total, r.Migrated, n, m.NewUsers)
	}
	control, err := peakOf(func(onPage func()) error {
		list := cognito.NewLister(f.Client(), nil)
		opts := cognito.ListUsersOptions{OnPage: func(cognito.Page) { onPage() }}
		for _, pool := range []string{statusOldPool, statusNewPool} {
			if err := list.ListUsers(ctx, pool, opts, func(types.UserType) error { return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	m.Migrated, m.GrossBytes, m.ControlBytes = r.Migrated, gross, control
	m.PeakBytes = max(gross-control, 0)
	m.BytesPerUser = float64(m.PeakBytes) / float64(n)
	return m, nil
}

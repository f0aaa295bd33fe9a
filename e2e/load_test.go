package e2e

// Many first sign-ins at once, through the real chain: the new pool's
// trigger calls the built binary, which calls the old pool. Every user must
// arrive exactly once, with their own attributes, and every invocation must
// leave one log line and one EMF record.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/e2e/rehearsal"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics/emftest"
)

const (
	// loadUsers sign in for the first time, all at once.
	loadUsers = 100
	// loadDeadline bounds the whole test (the build and both emulators
	// included), so a stuck emulator fails it rather than hanging CI.
	loadDeadline = 90 * time.Second
)

// lockedLog keeps the emulators' output, for the log only if the test fails:
// a hundred sign-ins make too many lines to print every time.
type lockedLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startForLoad is start (e2e_test.go) with the emulators' output kept back
// until a failure.
func startForLoad(t *testing.T, ctx context.Context) *rehearsal.Rehearsal {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	if _, err := cognitolocal.Bin(); err != nil {
		t.Fatal(err) // never skipped: CI must fail when the emulator is missing
	}
	bin, err := rehearsal.Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	emulators := &lockedLog{}
	r, err := rehearsal.Start(ctx, rehearsal.Options{Bootstrap: bin, Log: emulators})
	if err != nil {
		t.Fatalf("%v\n%s", err, emulators)
	}
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() {
			t.Logf("emulators' output:\n%s", emulators)
			t.Logf("migrate-trigger output:\n%s", r.TriggerOutput())
		}
	})
	return r
}

func loadUser(i int) rehearsal.OldUser {
	return rehearsal.OldUser{
		Username: fmt.Sprintf("user%03d", i),
		Password: fmt.Sprintf("User%03d-Passw0rd!", i),
		Attributes: map[string]string{
			"email": fmt.Sprintf("user%03d@example.com", i), "email_verified": "true",
			"given_name": fmt.Sprintf("User %03d", i), "custom:tenant": fmt.Sprintf("tenant-%03d", i),
		},
	}
}

func TestConcurrentFirstSignIns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), loadDeadline)
	defer cancel()
	r := startForLoad(t, ctx)

	// The old pool's users, created a few at a time: this is set-up, not
	// the load under test.
	users := make([]rehearsal.OldUser, loadUsers)
	setup := make(chan error, loadUsers)
	sem := make(chan struct{}, 8)
	for i := range users {
		users[i] = loadUser(i)
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			setup <- r.AddOldUser(ctx, users[i])
		}()
	}
	for range users {
		if err := <-setup; err != nil {
			t.Fatal(err)
		}
	}

	// Every user signs in to the new pool at the same moment.
	type result struct {
		err  error
		took time.Duration
	}
	results := make([]result, loadUsers)
	ready, go_ := sync.WaitGroup{}, make(chan struct{})
	var done sync.WaitGroup
	ready.Add(loadUsers)
	for i, u := range users {
		done.Go(func() {
			ready.Done()
			<-go_
			start := time.Now()
			err := r.SignIn(ctx, u.Username, u.Password)
			results[i] = result{err, time.Since(start)}
		})
	}
	ready.Wait()
	start := time.Now()
	close(go_)
	done.Wait()
	wall := time.Since(start)

	var failed []string
	var took []time.Duration
	for i, res := range results {
		took = append(took, res.took)
		if res.err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", users[i].Username, res.err))
		}
	}
	slices.Sort(took)
	t.Logf("%d concurrent first sign-ins in %v: sign-in latency p50 %v, p95 %v, max %v; %d failed",
		loadUsers, wall.Round(time.Millisecond), took[len(took)/2].Round(time.Millisecond),
		took[len(took)*95/100].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), len(failed))
	if len(failed) > 0 {
		t.Errorf("%d of %d sign-ins failed:\n%s", len(failed), loadUsers, strings.Join(failed, "\n"))
	}

	// Each user is in the new pool once, with their own attributes.
	for _, u := range users {
		got, err := r.NewUser(ctx, u.Username)
		if err != nil {
			t.Errorf("%s in the new pool: %v", u.Username, err)
			continue
		}
		for k, want := range u.Attributes {
			if got[k] != want {
				t.Errorf("new pool %s %s = %q, want %q", u.Username, k, got[k], want)
			}
		}
	}

	// One "migrated" decision per user, and nothing else.
	perUser := map[string]int{}
	var fn []float64
	for _, d := range r.Decisions() {
		if d["outcome"] != "migrated" {
			t.Errorf("decision %v, want migrated", d)
			continue
		}
		perUser[fmt.Sprint(d["userName"])]++
		if ms, ok := d["durationMs"].(float64); ok {
			fn = append(fn, ms)
		}
	}
	for _, u := range users {
		if n := perUser[u.Username]; n != 1 {
			t.Errorf("%s migrated %d times, want once", u.Username, n)
		}
	}
	if len(perUser) != loadUsers {
		t.Errorf("decisions for %d users, want %d", len(perUser), loadUsers)
	}
	slices.Sort(fn)
	if len(fn) > 0 {
		t.Logf("function time per invocation: p50 %.1f ms, p95 %.1f ms, max %.1f ms",
			fn[len(fn)/2], fn[len(fn)*95/100], fn[len(fn)-1])
	}

	// And one valid EMF record per invocation.
	recs, _ := emftest.Split(t, r.TriggerOutput())
	migrated := 0
	for _, rec := range recs {
		if rec["Outcome"] == "migrated" {
			migrated++
		}
	}
	if len(recs) != loadUsers || migrated != loadUsers {
		t.Errorf("%d EMF records, %d of them migrated; want %d migrated", len(recs), migrated, loadUsers)
	}
}

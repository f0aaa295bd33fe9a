package migrate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// directory is an old pool holding several users, each with a password.
type directory struct {
	users     map[string]migrate.User
	passwords map[string]string
	getErr    error // a fault for every lookup
	// started, when set, is told of each call and the call then waits for
	// release: a test can see which calls are in flight at once.
	started chan string
	release chan struct{}

	mu    sync.Mutex
	calls []string
}

func newDirectory(users ...migrate.User) *directory {
	d := &directory{users: map[string]migrate.User{}, passwords: map[string]string{}}
	for _, u := range users {
		d.users[u.Username] = u
		d.passwords[u.Username] = "pw-" + u.Username
	}
	return d
}

func (d *directory) record(ctx context.Context, call string) error {
	d.mu.Lock()
	d.calls = append(d.calls, call)
	d.mu.Unlock()
	if d.started != nil {
		d.started <- call
		select {
		case <-d.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (d *directory) SignIn(ctx context.Context, username, password string) (migrate.SignIn, error) {
	if err := d.record(ctx, "SignIn"); err != nil {
		return migrate.SignIn{}, err
	}
	if _, ok := d.users[username]; !ok || d.passwords[username] != password {
		return migrate.SignIn{}, migrate.ErrBadCredentials
	}
	return migrate.SignIn{}, nil
}

func (d *directory) GetUser(ctx context.Context, username string) (migrate.User, error) {
	if err := d.record(ctx, "GetUser"); err != nil {
		return migrate.User{}, err
	}
	if d.getErr != nil {
		return migrate.User{}, d.getErr
	}
	u, ok := d.users[username]
	if !ok {
		return migrate.User{}, migrate.ErrUserNotFound
	}
	return u, nil
}

func (d *directory) count(call string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.calls {
		if c == call {
			n++
		}
	}
	return n
}

func member(name, tenant string) migrate.User {
	return migrate.User{Username: name, Enabled: true, Status: migrate.StatusConfirmed, Attributes: map[string]string{
		"email": name + "@" + tenant + ".com", "email_verified": "true", "custom:tenant": tenant}}
}

func source(name string, d *directory, route string) migrate.Source {
	r, err := migrate.ParseRoute(route)
	if route == "" {
		r, err = migrate.Route{}, nil
	}
	if err != nil {
		panic(err)
	}
	pool := migrate.SharedLookups(d)
	return migrate.Source{Name: name, Pool: pool, Migrator: migrate.New(pool, fakeNewPool{}, migrate.Rules{}), Route: r}
}

// Two pools: acme (alice, sam) and globex (bruno, sam).
func twoPools() (*directory, *directory) {
	return newDirectory(member("alice", "acme"), member("sam", "acme")),
		newDirectory(member("bruno", "globex"), member("sam", "globex"))
}

func TestMergeSignIn(t *testing.T) {
	tests := []struct {
		name, user, password string
		wantMigrate          bool
		wantReason           migrate.Reason
		wantPool, wantTenant string
	}{
		{"a user of the first pool", "alice", "pw-alice", true, migrate.Migrated, "1", "acme"},
		{"a user of the second pool, with their own attributes", "bruno", "pw-bruno", true, migrate.Migrated, "2", "globex"},
		{"a name both pools hold: nobody gets it", "sam", "pw-sam", false, migrate.AmbiguousUser, "", ""},
		{"wrong password: the owner's answer", "bruno", "nope", false, migrate.BadCredentials, "2", ""},
		{"nobody by that name", "zed", "pw-zed", false, migrate.BadCredentials, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acme, globex := twoPools()
			m := migrate.NewMerge(source("1", acme, ""), source("2", globex, ""))
			d, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: tt.user, Password: tt.password})
			if err != nil {
				t.Fatalf("Authenticate(%q) error = %v", tt.user, err)
			}
			if d.Migrate != tt.wantMigrate || d.Reason != tt.wantReason || d.OldPool != tt.wantPool || d.Attributes["custom:tenant"] != tt.wantTenant {
				t.Errorf("Authenticate(%q) = %+v, want migrate %v, %s, pool %q, tenant %q", tt.user, d, tt.wantMigrate, tt.wantReason, tt.wantPool, tt.wantTenant)
			}
			// One lookup per pool: the Merge's and the Migrator's are shared.
			for i, p := range []*directory{acme, globex} {
				if n := p.count("GetUser"); n != 1 {
					t.Errorf("pool %d: GetUser called %d times, want 1", i+1, n)
				}
			}
		})
	}
}

func TestMergeForgotPassword(t *testing.T) {
	for user, want := range map[string]struct {
		migrate bool
		reason  migrate.Reason
		pool    string
	}{
		"alice": {true, migrate.Migrated, "1"},
		"bruno": {true, migrate.Migrated, "2"},
		"sam":   {false, migrate.AmbiguousUser, ""},
		"zed":   {false, migrate.UserNotFound, ""},
	} {
		acme, globex := twoPools()
		m := migrate.NewMerge(source("1", acme, ""), source("2", globex, ""))
		d, err := m.ForgotPassword(context.Background(), migrate.Request{NewPoolID: "p", Username: user})
		if err != nil || d.Migrate != want.migrate || d.Reason != want.reason || d.OldPool != want.pool {
			t.Errorf("ForgotPassword(%q) = %+v, %v; want migrate %v, %s, pool %q", user, d, err, want.migrate, want.reason, want.pool)
		}
		if acme.count("SignIn")+globex.count("SignIn") != 0 {
			t.Errorf("ForgotPassword(%q) signed in", user)
		}
	}
}

func TestMergeRouting(t *testing.T) {
	globexOwnsItsDomain := func() (*migrate.Merge, *directory, *directory) {
		acme := newDirectory(member("alice", "acme"))
		globex := newDirectory(member("bruno@globex.com", "globex"))
		return migrate.NewMerge(source("1", acme, ""), source("2", globex, "email@globex.com")), acme, globex
	}
	m, acme, globex := globexOwnsItsDomain()
	d, err := m.Authenticate(context.Background(), migrate.Request{Username: "bruno@GLOBEX.com", Password: "pw-bruno@globex.com"})
	if err != nil || acme.count("SignIn")+acme.count("GetUser") != 0 || globex.count("SignIn") != 1 {
		t.Errorf("routed sign-in: %+v, %v; acme calls %v, globex calls %v; want globex only", d, err, acme.calls, globex.calls)
	}
	m, acme, globex = globexOwnsItsDomain()
	if _, err := m.Authenticate(context.Background(), migrate.Request{Username: "alice", Password: "pw-alice"}); err != nil ||
		acme.count("SignIn") != 1 || globex.count("SignIn") != 1 {
		t.Errorf("unrouted sign-in: %v; acme calls %v, globex calls %v; want both asked", err, acme.calls, globex.calls)
	}
}

func TestParseRoute(t *testing.T) {
	for in, want := range map[string]migrate.Route{
		"email@globex.com":               migrate.Route{Domains: []string{"globex.com"}},
		"email@globex.com, globex.org":   migrate.Route{Domains: []string{"globex.com", "globex.org"}},
		"form:phone":                     migrate.Route{Forms: []string{"phone"}},
		"email@globex.com,form:username": migrate.Route{Domains: []string{"globex.com"}, Forms: []string{"username"}},
	} {
		got, err := migrate.ParseRoute(in)
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("ParseRoute(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "globex.com", "email@", "email@globex", "form:sms", "email@a.com,,b.com", "custom:tenant=acme"} {
		if r, err := migrate.ParseRoute(in); err == nil {
			t.Errorf("ParseRoute(%q) = %+v, want an error", in, r)
		}
	}
	owns := []struct {
		route, typed string
		want         bool
	}{
		{"email@globex.com", "bruno@Globex.COM", true},
		{"email@globex.com", "bruno@mail.globex.com", false},
		{"email@globex.com", "bruno@globex.co\u212a", false}, // Kelvin sign
		{"email@globex.com", "globex.com", false},
		{"form:phone", "+447700900123", true},
		{"form:phone", "447700900123", false},
		{"form:username", "bruno", true},
		{"form:username", "bruno@globex.com", false},
		{"form:email", "bruno@globex.com", true},
	}
	for _, tt := range owns {
		r, _ := migrate.ParseRoute(tt.route)
		if got := r.Owns(tt.typed); got != tt.want {
			t.Errorf("ParseRoute(%q).Owns(%q) = %v, want %v", tt.route, tt.typed, got, tt.want)
		}
	}
}

// Every asked pool is asked at once: each call waits until all four (two
// sign-ins, two lookups) are in flight, which a sequential merge never
// reaches.
func TestMergeAsksPoolsConcurrently(t *testing.T) {
	acme, globex := twoPools()
	started, release := make(chan string, 8), make(chan struct{})
	for _, d := range []*directory{acme, globex} {
		d.started, d.release = started, release
	}
	m := migrate.NewMerge(source("1", acme, ""), source("2", globex, ""))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := m.Authenticate(ctx, migrate.Request{Username: "bruno", Password: "pw-bruno"})
		done <- err
	}()
	for i := range 4 {
		select {
		case <-started:
		case <-ctx.Done():
			t.Fatalf("only %d calls in flight at once, want 4", i)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A pool that cannot answer leaves the name's owner unknown: a fault, never
// a migration from the pool that did answer.
func TestMergeOnePoolDown(t *testing.T) {
	for _, flow := range []string{"sign-in", "forgot password"} {
		acme, globex := twoPools()
		globex.getErr = &migrate.Fault{Kind: migrate.FaultUnavailable, Err: errors.New("connection reset")}
		m := migrate.NewMerge(source("1", acme, ""), source("2", globex, ""))
		req := migrate.Request{Username: "alice", Password: "pw-alice"}
		var d migrate.Decision
		var err error
		if flow == "sign-in" {
			d, err = m.Authenticate(context.Background(), req)
		} else {
			req.Password = ""
			d, err = m.ForgotPassword(context.Background(), req)
		}
		if err == nil || d.Migrate || migrate.KindOf(err) != migrate.FaultUnavailable {
			t.Errorf("%s with pool 2 down = %+v, %v; want an unavailable fault", flow, d, err)
		}
		if err != nil && !errors.Is(err, globex.getErr) {
			t.Errorf("%s: error %v does not wrap the pool's fault", flow, err)
		}
	}
}

func TestMergeEmptyInput(t *testing.T) {
	acme, globex := twoPools()
	m := migrate.NewMerge(source("1", acme, ""), source("2", globex, ""))
	for _, req := range []migrate.Request{{Username: "", Password: "x"}, {Username: "alice"}} {
		d, err := m.Authenticate(context.Background(), req)
		if err != nil || d.Reason != migrate.EmptyInput {
			t.Errorf("Authenticate(%+v) = %+v, %v; want empty_input", req, d, err)
		}
	}
	if n := len(acme.calls) + len(globex.calls); n != 0 {
		t.Errorf("%d calls for empty input", n)
	}
}

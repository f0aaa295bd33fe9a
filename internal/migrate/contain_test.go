package migrate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// panickyPool is an old pool whose lookup panics with a value holding what
// was typed, as a bug might.
type panickyPool struct {
	*fakePool
	getUser bool
}

func (p panickyPool) GetUser(ctx context.Context, username string) (migrate.User, error) {
	if p.getUser {
		panic("lookup bug: " + username)
	}
	return p.fakePool.GetUser(ctx, username)
}

type panickyNewPool struct{}

func (panickyNewPool) Config(context.Context, string) (migrate.PoolConfig, error) {
	panic("describe bug")
}

// A panic in a goroutine Authenticate or ForgotPassword starts is recovered
// and returned as a fault of kind panic that does not quote the value: left
// alone it would end the process, whatever the handler recovers.
func TestGoroutinePanicsAreFaults(t *testing.T) {
	const pw = "Pa55-word-typed"
	ok := &fakePool{user: confirmedUser(aliceAttrs)}
	tests := []struct {
		name    string
		m       *migrate.Migrator
		forgot  bool
		wantErr bool
	}{
		{"lookup", migrate.New(panickyPool{fakePool: ok, getUser: true}, fakeNewPool{}, migrate.Rules{}), false, true},
		{"pool description", migrate.New(ok, panickyNewPool{}, migrate.Rules{}), false, true},
		{"pool description, forgot password", migrate.New(ok, panickyNewPool{}, migrate.Rules{}), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: pw}
			var (
				d   migrate.Decision
				err error
			)
			if tt.forgot {
				req.Password = ""
				d, err = tt.m.ForgotPassword(context.Background(), req)
			} else {
				d, err = tt.m.Authenticate(context.Background(), req)
			}
			if k := migrate.KindOf(err); err == nil || k != migrate.FaultPanic {
				t.Fatalf("got %+v, %v (kind %q); want a fault of kind %q", d, err, k, migrate.FaultPanic)
			}
			if d.Migrate {
				t.Errorf("migrated after a panic: %+v", d)
			}
			if strings.Contains(err.Error(), "bug") || strings.Contains(err.Error(), pw) {
				t.Errorf("error %q quotes the panic value", err)
			}
		})
	}
}

// slowSignIn answers sign-ins after 20 ms, so a lookup sent alongside is
// recorded before the sign-in returns.
type slowSignIn struct{ *fakePool }

func (p *slowSignIn) SignIn(ctx context.Context, username, password string) (migrate.SignIn, error) {
	s, err := p.fakePool.SignIn(ctx, username, password)
	time.Sleep(20 * time.Millisecond)
	return s, err
}

// With OLD_POOL_LOOKUP=after-sign-in, a refused sign-in is the only old-pool
// call; a proven one is followed by the lookup.
func TestLookupAfterSignIn(t *testing.T) {
	tests := []struct {
		name      string
		mode      migrate.LookupMode
		signInErr error
		wantCalls []string
		wantWhy   migrate.Reason
	}{
		{"wrong password: no lookup", migrate.LookupAfterSignIn, migrate.ErrBadCredentials, []string{"SignIn alice"}, migrate.BadCredentials},
		{"unknown user: no lookup", migrate.LookupAfterSignIn, migrate.ErrUserNotFound, []string{"SignIn alice"}, migrate.UserNotFound},
		{"proven: lookup after", migrate.LookupAfterSignIn, nil, []string{"SignIn alice", "GetUser alice"}, migrate.Migrated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := &slowSignIn{fakePool: &fakePool{signInErr: tt.signInErr, user: confirmedUser(aliceAttrs)}}
			m := migrate.New(pool, fakeNewPool{}, migrate.Rules{}, migrate.WithLookup(tt.mode))
			d, err := m.Authenticate(context.Background(), migrate.Request{NewPoolID: "eu-west-2_New", Username: "alice", Password: "pw"})
			if err != nil || d.Reason != tt.wantWhy {
				t.Fatalf("Authenticate() = %+v, %v; want reason %q", d, err, tt.wantWhy)
			}
			pool.mu.Lock()
			calls := append([]string(nil), pool.calls...)
			pool.mu.Unlock()
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("old-pool calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookupModes(t *testing.T) {
	if got := migrate.LookupModes(); len(got) != 2 || got[0] != migrate.LookupParallel {
		t.Errorf("LookupModes() = %v, want parallel first", got)
	}
}

// ignoreNameKnown leaves Decision.NameKnown, tested here, out of the
// decision tables' comparisons.
var ignoreNameKnown = cmpopts.IgnoreFields(migrate.Decision{}, "NameKnown")

func TestKnownAs(t *testing.T) {
	u := migrate.User{Username: "alice", Attributes: map[string]string{
		"email": "Alice@Example.com", "phone_number": "+447700900123", "preferred_username": "ally", "name": "Alice Liddell", "sub": "0b6f4c9e"}}
	tests := []struct {
		typed string
		want  bool
	}{
		{"alice", true},
		{"ALICE", true},
		{"alice@example.com", true},
		{"+447700900123", true},
		{"Ally", true},
		{"Alice Liddell", false}, // a name, not an identifier
		{"0b6f4c9e", false},
		{"\u212alice", false},      // no fold beyond ASCII
		{"alice-Passw0rd!", false}, // what someone typed into the wrong box
		{"", false},
	}
	for _, tt := range tests {
		if got := migrate.KnownAs(u, tt.typed); got != tt.want {
			t.Errorf("KnownAs(%q) = %v, want %v", tt.typed, got, tt.want)
		}
	}
}

// The decision says whether the typed name may be logged: only once the
// old pool returned a user it identifies.
func TestDecisionNameKnown(t *testing.T) {
	alias := confirmedUser(aliceAttrs)
	tests := []struct {
		name   string
		pool   *fakePool
		typed  string
		forgot bool
		want   bool
	}{
		{"migrated by username", &fakePool{user: alias}, "alice", false, true},
		{"migrated by email alias", &fakePool{user: alias}, "alice@example.com", false, true},
		{"wrong password", &fakePool{signInErr: migrate.ErrBadCredentials, user: alias}, "alice", false, false},
		{"unknown user", &fakePool{signInErr: migrate.ErrUserNotFound, getErr: migrate.ErrUserNotFound}, "Pa55word!", false, false},
		{"disabled, after the lookup", &fakePool{user: migrate.User{Username: "alice", Status: migrate.StatusConfirmed}}, "alice", false, true},
		{"forgot password, unknown", &fakePool{getErr: migrate.ErrUserNotFound}, "Pa55word!", true, false},
		{"forgot password, known", &fakePool{user: alias}, "ALICE", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := migrate.New(tt.pool, fakeNewPool{}, migrate.Rules{})
			req := migrate.Request{NewPoolID: "eu-west-2_New", Username: tt.typed, Password: "pw"}
			var (
				d   migrate.Decision
				err error
			)
			if tt.forgot {
				req.Password = ""
				d, err = m.ForgotPassword(context.Background(), req)
			} else {
				d, err = m.Authenticate(context.Background(), req)
			}
			if err != nil || d.NameKnown != tt.want {
				t.Errorf("decision = %+v, %v; want NameKnown %v", d, err, tt.want)
			}
		})
	}
}

package migrate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

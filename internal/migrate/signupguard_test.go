package migrate_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// fakeFinder is an old pool of users, found by username (exactly, or
// case-insensitively when foldNames) and by exact attribute value.
type fakeFinder struct {
	users     []migrate.User
	foldNames bool
	err       error
	mu        sync.Mutex
	asked     []string
}

func (f *fakeFinder) GetUser(ctx context.Context, username string) (migrate.User, error) {
	f.mu.Lock()
	f.asked = append(f.asked, "username "+username)
	f.mu.Unlock()
	if f.err != nil {
		return migrate.User{}, f.err
	}
	for _, u := range f.users {
		if u.Username == username {
			return u, nil
		}
	}
	return migrate.User{}, migrate.ErrUserNotFound
}

func (f *fakeFinder) FindUsers(ctx context.Context, attr, value string) ([]migrate.User, error) {
	f.mu.Lock()
	f.asked = append(f.asked, attr+" "+value)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []migrate.User
	for _, u := range f.users {
		if u.Attributes[attr] == value {
			out = append(out, u)
		}
	}
	return out, nil
}

func TestSignUpGuard(t *testing.T) {
	alice := migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusConfirmed,
		Attributes: map[string]string{"sub": "old-sub-1", "email": "alice@example.com", "phone_number": "+15550100"}}
	pools := map[string]migrate.PoolConfig{
		"username, case sensitive":     {CaseSensitive: true},
		"username, case insensitive":   {CaseSensitive: false},
		"username with email alias":    {CaseSensitive: true, AliasAttributes: []string{"email"}},
		"case-insensitive email alias": {CaseSensitive: false, AliasAttributes: []string{"email", "phone_number"}},
		"email as username":            {CaseSensitive: false, UsernameAttributes: []string{"email"}},
		"phone as username":            {CaseSensitive: true, UsernameAttributes: []string{"phone_number"}},
	}
	tests := []struct {
		name, pool string
		signUp     migrate.SignUp
		refuse     bool
		matched    string
	}{
		{"same username", "username, case sensitive", migrate.SignUp{Username: "alice"}, true, "username"},
		{"username in other case, case-sensitive pool", "username, case sensitive", migrate.SignUp{Username: "ALICE"}, false, ""},
		{"username in other case, case-insensitive pool", "username, case insensitive", migrate.SignUp{Username: "ALICE"}, true, "username"},
		{"Unicode look-alike is not folded", "username, case insensitive", migrate.SignUp{Username: "alıce"}, false, ""},
		{"email without an email alias is not checked", "username, case sensitive", migrate.SignUp{Username: "mallory", Attributes: map[string]string{"email": "alice@example.com"}}, false, ""},
		{"email alias", "username with email alias", migrate.SignUp{Username: "mallory", Attributes: map[string]string{"email": "alice@example.com"}}, true, "email"},
		{"email in other case, case-insensitive pool", "case-insensitive email alias", migrate.SignUp{Username: "mallory", Attributes: map[string]string{"email": "Alice@Example.COM"}}, true, "email"},
		{"phone alias", "case-insensitive email alias", migrate.SignUp{Username: "mallory", Attributes: map[string]string{"phone_number": "+15550100"}}, true, "phone_number"},
		{"email as username: the opaque userName is not looked up", "email as username", migrate.SignUp{Username: "alice", Attributes: map[string]string{"email": "bob@example.com"}}, false, ""},
		{"email as username", "email as username", migrate.SignUp{Username: "3f1c-uuid", Attributes: map[string]string{"email": "ALICE@example.com"}}, true, "email"},
		{"phone as username", "phone as username", migrate.SignUp{Username: "3f1c-uuid", Attributes: map[string]string{"phone_number": "+15550100"}}, true, "phone_number"},
		{"the migration writes the old sub", "username with email alias", migrate.SignUp{Username: "alice", Attributes: map[string]string{"email": "alice@example.com", "custom:legacy_sub": "old-sub-1"}}, false, "username"},
		{"a wrong sub is no proof", "username with email alias", migrate.SignUp{Username: "alice", Attributes: map[string]string{"custom:legacy_sub": "guess"}}, true, "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := pools[tt.pool]
			old := &fakeFinder{users: []migrate.User{alice}}
			g := migrate.NewSignUpGuard(old, fakeNewPool{cfg: &cfg}, "custom:legacy_sub")
			d, err := g.Check(context.Background(), tt.signUp)
			if err != nil {
				t.Fatal(err)
			}
			if d.Refuse != tt.refuse || (tt.matched != "" && d.Matched != tt.matched) {
				t.Errorf("Check(%+v) = %+v, want refuse %v matched %q (asked %v)", tt.signUp, d, tt.refuse, tt.matched, old.asked)
			}
		})
	}

	t.Run("an old-pool fault is an error, not a refusal", func(t *testing.T) {
		cfg := pools["username with email alias"]
		old := &fakeFinder{err: errors.New("throttled")}
		d, err := migrate.NewSignUpGuard(old, fakeNewPool{cfg: &cfg}, "").Check(context.Background(), migrate.SignUp{Username: "alice"})
		if err == nil || d.Refuse {
			t.Errorf("Check() = %+v, %v; want an error and no refusal", d, err)
		}
	})
	t.Run("a match outweighs another lookup's fault", func(t *testing.T) {
		cfg := pools["username with email alias"]
		old := &partlyFailing{fakeFinder: fakeFinder{users: []migrate.User{alice}}}
		d, err := migrate.NewSignUpGuard(old, fakeNewPool{cfg: &cfg}, "").Check(context.Background(),
			migrate.SignUp{Username: "alice", Attributes: map[string]string{"email": "x@example.com"}})
		if err != nil || !d.Refuse {
			t.Errorf("Check() = %+v, %v; want refused", d, err)
		}
	})
	t.Run("lowercase is looked up too only where case is ignored", func(t *testing.T) {
		cfg := pools["case-insensitive email alias"]
		old := &fakeFinder{}
		_, _ = migrate.NewSignUpGuard(old, fakeNewPool{cfg: &cfg}, "").Check(context.Background(),
			migrate.SignUp{Username: "Mallory", Attributes: map[string]string{"email": "M@X.io"}})
		slices.Sort(old.asked)
		if want := []string{"email M@X.io", "email m@x.io", "username Mallory", "username mallory"}; !slices.Equal(old.asked, want) {
			t.Errorf("lookups = %v, want %v", old.asked, want)
		}
	})
}

type partlyFailing struct{ fakeFinder }

func (p *partlyFailing) FindUsers(ctx context.Context, attr, value string) ([]migrate.User, error) {
	return nil, errors.New("throttled")
}

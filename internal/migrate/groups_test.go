package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

func TestEncodeGroups(t *testing.T) {
	long := make([]string, 0, 200)
	for i := range 200 {
		long = append(long, fmt.Sprintf("group-with-a-long-name-%03d", i))
	}
	tests := []struct {
		name    string
		names   []string
		limit   int
		want    migrate.GroupList
		wantErr bool
	}{
		{"a few", []string{"admins", `we "quote", and, commas`}, 2048, migrate.GroupList{Names: []string{"admins", `we "quote", and, commas`}}, false},
		{"more than fit: listed again, never cut", long, 2048, migrate.GroupList{ListFrom: "alice"}, false},
		{"limit shorter than the attribute", []string{"admins", "editors", "viewers"}, 20, migrate.GroupList{ListFrom: "alice"}, false},
		{"limit too short for the placeholder", []string{"admins", "editors"}, 8, migrate.GroupList{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := migrate.EncodeGroups(tt.names, "alice", tt.limit)
			if (err != nil) != tt.wantErr {
				t.Fatalf("EncodeGroups() error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len([]rune(v)) > tt.limit {
				t.Errorf("EncodeGroups() = %d characters, limit %d", len([]rune(v)), tt.limit)
			}
			got, err := migrate.DecodeGroups(v)
			if err != nil {
				t.Fatalf("DecodeGroups(%s) error = %v", v, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "admins", `["a"`, `{"listFrom":""}`, `{}`, `[1,2]`} {
		if _, err := migrate.DecodeGroups(bad); err == nil {
			t.Errorf("DecodeGroups(%q) error = nil, want one", bad)
		}
	}
}

type fakeLister struct {
	groups  []migrate.Group
	err     error
	started chan struct{} // closed when Groups is called
	calls   int
	mu      sync.Mutex
}

func (l *fakeLister) Groups(ctx context.Context, username string) ([]migrate.Group, error) {
	l.mu.Lock()
	l.calls++
	l.mu.Unlock()
	if l.started != nil {
		close(l.started)
	}
	return l.groups, l.err
}

func (l *fakeLister) GetGroup(ctx context.Context, name string) (migrate.Group, error) {
	for _, g := range l.groups {
		if g.Name == name {
			return g, nil
		}
	}
	return migrate.Group{}, migrate.ErrGroupNotFound
}

// decider answers with d, or err.
type decider struct {
	d   migrate.Decision
	err error
}

func (f decider) Authenticate(ctx context.Context, req migrate.Request) (migrate.Decision, error) {
	return f.d, f.err
}

func (f decider) ForgotPassword(ctx context.Context, req migrate.Request) (migrate.Decision, error) {
	return f.Authenticate(ctx, req)
}

func TestCarryGroups(t *testing.T) {
	const attr = "custom:legacy_groups"
	withAttr := func(spec migrate.AttributeSpec) *migrate.PoolConfig {
		s := map[string]migrate.AttributeSpec{attr: spec}
		for k, v := range standardSchema {
			s[k] = v
		}
		return &migrate.PoolConfig{Attributes: s, CaseSensitive: true}
	}
	migrated := migrate.Decision{Migrate: true, Reason: migrate.Migrated, Username: "alice", Attributes: map[string]string{"email": "a@example.com"}}
	two := []string{"admins", "editors"}
	three := append([]string{"viewers"}, two...)
	tests := []struct {
		name      string
		decision  migrate.Decision
		groups    []string // the groups the lookup read (Decision.Groups)
		lookupErr error
		cfg       *migrate.PoolConfig
		wantValue string // "" for no attribute
		wantErr   string
	}{
		{"two groups", migrated, two, nil, withAttr(migrate.AttributeSpec{Mutable: true, MaxLength: 2048}), `["admins","editors"]`, ""},
		{"no groups: no attribute", migrated, []string{}, nil, withAttr(migrate.AttributeSpec{Mutable: true}), "", ""},
		{"declined: nothing", migrate.Decision{Reason: migrate.BadCredentials}, two, nil, withAttr(migrate.AttributeSpec{Mutable: true}), "", ""},
		{"listing failed: no migration without the groups", migrated, nil, errors.New("get user: list groups: throttled"), withAttr(migrate.AttributeSpec{Mutable: true}), "", "list groups: throttled"},
		{"groups not read with the user: no migration without them", migrated, nil, nil, withAttr(migrate.AttributeSpec{Mutable: true}), "", "list groups: the old user's groups were not read"},
		{"attribute not in the schema", migrated, two, nil, nil, "", "LEGACY_GROUPS_ATTRIBUTE"},
		{"immutable attribute", migrated, two, nil, withAttr(migrate.AttributeSpec{}), "", "immutable"},
		{"short attribute: listed again at the first tokens", migrated, three, nil, withAttr(migrate.AttributeSpec{Mutable: true, MaxLength: 20}), `{"listFrom":"alice"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := tt.decision
			dec.Groups = tt.groups
			c := migrate.CarryGroups(decider{d: dec, err: tt.lookupErr}, fakeNewPool{cfg: tt.cfg}, attr)
			d, err := c.Authenticate(context.Background(), migrate.Request{NewPoolID: "p", Username: "alice", Password: "x"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Authenticate() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := d.Attributes[attr]
			if got != tt.wantValue || ok != (tt.wantValue != "") {
				t.Errorf("%s = %q (%v), want %q", attr, got, ok, tt.wantValue)
			}
			if tt.decision.Migrate && d.Attributes["email"] != "a@example.com" {
				t.Errorf("the decision's attributes were lost: %v", d.Attributes)
			}
			if _, ok := migrated.Attributes[attr]; ok {
				t.Fatal("the decider's map was changed")
			}
		})
	}
}

// fakeGroupPool is the new pool's groups.
type fakeGroupPool struct {
	mu      sync.Mutex
	groups  map[string][]string // name -> members
	created []migrate.Group
	deleted []string
	addErr  error
	calls   []string
	times   migrate.UserTimes
}

func (p *fakeGroupPool) AddUserToGroup(ctx context.Context, poolID, username, group string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "add "+group)
	if p.addErr != nil {
		return p.addErr
	}
	m, ok := p.groups[group]
	if !ok {
		return fmt.Errorf("wrapped: %w", migrate.ErrGroupNotFound)
	}
	p.groups[group] = append(m, username)
	return nil
}

func (p *fakeGroupPool) GetGroup(ctx context.Context, poolID, group string) (migrate.Group, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "get "+group)
	if _, ok := p.groups[group]; !ok {
		return migrate.Group{}, migrate.ErrGroupNotFound
	}
	return migrate.Group{Name: group}, nil
}

func (p *fakeGroupPool) CreateGroup(ctx context.Context, poolID string, g migrate.Group) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "create "+g.Name)
	p.groups[g.Name] = nil // would wipe members if it existed: the applier must not call it then
	p.created = append(p.created, g)
	return nil
}

func (p *fakeGroupPool) DeleteUserAttributes(ctx context.Context, poolID, username string, names ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted = append(p.deleted, names...)
	return nil
}

func (p *fakeGroupPool) UserTimes(ctx context.Context, poolID, username string) (migrate.UserTimes, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "times "+username)
	return p.times, nil
}

func TestApplyGroups(t *testing.T) {
	prec := int32(5)
	old := &fakeLister{groups: []migrate.Group{{Name: "admins"}, {Name: "editors", Description: "Edit", Precedence: &prec}, {Name: "gone"}}}
	tests := []struct {
		name        string
		list        migrate.GroupList
		create      bool
		want        migrate.GroupsApplied
		wantCreated []migrate.Group
	}{
		{"skips what the new pool lacks", migrate.GroupList{Names: []string{"admins", "editors"}}, false,
			migrate.GroupsApplied{Member: []string{"admins"}, Missing: []string{"editors"}}, nil},
		{"creates it as the old pool has it", migrate.GroupList{Names: []string{"admins", "editors"}}, true,
			migrate.GroupsApplied{Member: []string{"admins", "editors"}, Created: []string{"editors"}}, []migrate.Group{{Name: "editors", Description: "Edit", Precedence: &prec}}},
		{"a group gone from both pools is skipped", migrate.GroupList{Names: []string{"nowhere"}}, true,
			migrate.GroupsApplied{Missing: []string{"nowhere"}}, nil},
		{"names that did not fit are listed from the old pool", migrate.GroupList{ListFrom: "alice"}, false,
			migrate.GroupsApplied{Member: []string{"admins"}, Missing: []string{"editors", "gone"}, Listed: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := &fakeGroupPool{groups: map[string][]string{"admins": {"bob"}}}
			a := migrate.NewGroupApplier(pool, old, "custom:legacy_groups", tt.create)
			got, err := a.Apply(context.Background(), "p", "alice", tt.list)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Apply() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCreated, pool.created); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"bob", "alice"}, pool.groups["admins"]); slices.Contains(got.Member, "admins") && diff != "" {
				t.Errorf("admins' members (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"custom:legacy_groups"}, pool.deleted); diff != "" {
				t.Errorf("deleted attributes (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("a group created meanwhile is joined, not created again", func(t *testing.T) {
		pool := &racingPool{fakeGroupPool: fakeGroupPool{groups: map[string][]string{}}}
		a := migrate.NewGroupApplier(pool, old, "custom:legacy_groups", true)
		got, err := a.Apply(context.Background(), "p", "alice", migrate.GroupList{Names: []string{"editors"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(pool.created) != 0 || len(got.Member) != 1 || len(got.Created) != 0 {
			t.Errorf("Apply() = %+v, created %v; want joined without CreateGroup", got, pool.created)
		}
	})

	t.Run("names listed from an old user who is gone: none, and the attribute goes", func(t *testing.T) {
		pool := &fakeGroupPool{groups: map[string][]string{"admins": nil}}
		gone := &fakeLister{err: fmt.Errorf("admin list groups for user: %w", migrate.ErrUserNotFound)}
		got, err := migrate.NewGroupApplier(pool, gone, "custom:legacy_groups", false).Apply(context.Background(), "p", "alice", migrate.GroupList{ListFrom: "alice"})
		if err != nil || !got.OldUserGone || len(got.Member) != 0 || len(pool.deleted) != 1 {
			t.Errorf("Apply() = %+v, %v, deleted %v; want nothing applied, the loss reported, the attribute deleted", got, err, pool.deleted)
		}
	})

	t.Run("a fault keeps the attribute for the next tokens", func(t *testing.T) {
		pool := &fakeGroupPool{groups: map[string][]string{"admins": nil}, addErr: &migrate.Fault{Kind: migrate.FaultThrottled, Err: errors.New("rate exceeded")}}
		a := migrate.NewGroupApplier(pool, old, "custom:legacy_groups", false)
		_, err := a.Apply(context.Background(), "p", "alice", migrate.GroupList{Names: []string{"admins"}})
		if migrate.KindOf(err) != migrate.FaultThrottled {
			t.Errorf("Apply() error = %v, want the throttling fault", err)
		}
		if len(pool.deleted) != 0 {
			t.Errorf("attribute deleted after a fault: %v", pool.deleted)
		}
	})
}

// racingPool: the group appears between the failed add and the check, as
// when another sign-in created it.
type racingPool struct{ fakeGroupPool }

func (p *racingPool) AddUserToGroup(ctx context.Context, poolID, username, group string) error {
	err := p.fakeGroupPool.AddUserToGroup(ctx, poolID, username, group)
	if errors.Is(err, migrate.ErrGroupNotFound) {
		p.mu.Lock()
		p.groups[group] = []string{"someone"}
		p.mu.Unlock()
	}
	return err
}

// With OLD_POOL_LOOKUP=after-sign-in the groups are listed only for a user
// the sign-in proved, with the lookup: a wrong password costs no listing.
// The groups reach the attribute from the lookup, in both flows.
func TestCarryGroupsAfterSignIn(t *testing.T) {
	cfg := &migrate.PoolConfig{Attributes: map[string]migrate.AttributeSpec{"custom:g": {Mutable: true}, "email": {}, "email_verified": {}},
		CaseSensitive: true, MFA: "OFF"}
	user := migrate.User{Username: "alice", Enabled: true, Status: migrate.StatusConfirmed, Groups: []string{"admins"},
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}}
	for _, tt := range []struct {
		name      string
		signInErr error
		wantCalls int // lookups, each reading the user with their groups
	}{
		{"declined", fmt.Errorf("wrapped: %w", migrate.ErrBadCredentials), 0},
		{"migrated", nil, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pool := &fakePool{user: user, signInErr: tt.signInErr}
			m := migrate.New(pool, fakeNewPool{cfg: cfg}, migrate.Rules{}, migrate.WithLookup(migrate.LookupAfterSignIn))
			d, err := migrate.CarryGroups(m, fakeNewPool{cfg: cfg}, "custom:g").
				Authenticate(context.Background(), migrate.Request{Username: "alice", Password: "x"})
			lookups := 0
			for _, c := range pool.calls {
				if strings.HasPrefix(c, "GetUser") {
					lookups++
				}
			}
			if err != nil || lookups != tt.wantCalls {
				t.Fatalf("Authenticate() = %+v, %v; listings %d, want %d", d, err, lookups, tt.wantCalls)
			}
			if tt.signInErr == nil && d.Attributes["custom:g"] != `["admins"]` {
				t.Errorf("custom:g = %q", d.Attributes["custom:g"])
			}
		})
	}
	t.Run("forgot password", func(t *testing.T) {
		pool := &fakePool{user: user}
		m := migrate.New(pool, fakeNewPool{cfg: cfg}, migrate.Rules{})
		d, err := migrate.CarryGroups(m, fakeNewPool{cfg: cfg}, "custom:g").
			ForgotPassword(context.Background(), migrate.Request{Username: "alice"})
		if err != nil || !d.Migrate || d.Attributes["custom:g"] != `["admins"]` {
			t.Fatalf("ForgotPassword() = %+v, %v; want migrated with custom:g [\"admins\"]", d, err)
		}
	})
}

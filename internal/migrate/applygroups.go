package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrGroupNotFound: the pool has no group of that name.
var ErrGroupNotFound = errors.New("no such group")

// Reasons of the pre token generation trigger.
const (
	// GroupsAppliedReason: the carried groups were applied.
	GroupsAppliedReason Reason = "groups_applied"
	// NoGroups: the user carried no groups; the tokens are left as they are.
	NoGroups Reason = "no_groups"
)

// GroupPool is the new pool's groups, as the pre token generation trigger
// needs them.
type GroupPool interface {
	// AddUserToGroup makes username a member of group (AdminAddUserToGroup,
	// which succeeds for a member already). ErrGroupNotFound, wrapped, when
	// the group does not exist.
	AddUserToGroup(ctx context.Context, poolID, username, group string) error
	// GetGroup reads a group; ErrGroupNotFound, wrapped, when it does not exist.
	GetGroup(ctx context.Context, poolID, group string) (Group, error)
	// CreateGroup creates g. A group that exists already is left as it is
	// and is no error.
	CreateGroup(ctx context.Context, poolID string, g Group) error
	// DeleteUserAttributes removes attributes of username.
	DeleteUserAttributes(ctx context.Context, poolID, username string, names ...string) error
	// UserTimes reads when username was created and last modified
	// (AdminGetUser), to vouch for the attribute (Vouch).
	UserTimes(ctx context.Context, poolID, username string) (UserTimes, error)
}

// OldGroups is the old pool's groups, read at the first tokens only when
// the list did not fit in the attribute or a group must be created.
type OldGroups interface {
	GroupLister
	// GetGroup reads a group; ErrGroupNotFound, wrapped, when it does not exist.
	GetGroup(ctx context.Context, group string) (Group, error)
}

// GroupApplier applies the groups a migration carried (GroupCarrier).
type GroupApplier struct {
	pool      GroupPool
	old       OldGroups
	attribute string
	// create makes groups the new pool lacks (CREATE_MISSING_GROUPS).
	create bool
	// now is the clock Vouch reads.
	now func() time.Time
}

// NewGroupApplier returns a GroupApplier for the groups in attribute.
// With create, groups missing in the new pool are created with the old
// group's description and precedence; without, they are skipped.
func NewGroupApplier(pool GroupPool, old OldGroups, attribute string, create bool) *GroupApplier {
	return &GroupApplier{pool: pool, old: old, attribute: attribute, create: create, now: time.Now}
}

// Attribute is the attribute the groups arrive in.
func (a *GroupApplier) Attribute() string { return a.attribute }

// GroupsApplied is what applying a user's groups did.
type GroupsApplied struct {
	// Member lists the groups the user is now a member of, in the old
	// pool's order; Created those of them that were created.
	Member, Created []string
	// Missing lists the groups the new pool lacks, skipped.
	Missing []string
	// Listed is true when the names were read from the old pool because
	// they did not fit in the attribute; OldUserGone when the old pool no
	// longer had the user to read them from.
	Listed, OldUserGone bool
}

// applyConcurrency bounds the calls in flight for one user: the new pool's
// AdminAddUserToGroup shares a fixed 25 per second quota with every other
// user update.
const applyConcurrency = 4

// Apply makes username (the new pool's username) a member of the groups in
// list, then deletes the attribute. Callers Vouch for the attribute first. An error means the attribute stays, so
// the next token generation tries again; memberships are idempotent.
func (a *GroupApplier) Apply(ctx context.Context, poolID, username string, list GroupList) (GroupsApplied, error) {
	var res GroupsApplied
	names := list.Names
	old := map[string]Group{}
	if list.ListFrom != "" {
		groups, err := a.old.Groups(ctx, list.ListFrom)
		switch {
		case errors.Is(err, ErrUserNotFound):
			// Deleted from the old pool since: nothing left to list, and
			// trying again at every sign-in would lock the user out.
			res.OldUserGone = true
		case err != nil:
			return res, fmt.Errorf("list old groups: %w", err)
		}
		res.Listed = true
		names = nil
		for _, g := range groups {
			names = append(names, g.Name)
			old[g.Name] = g
		}
	}

	type result struct {
		member, created bool
		err             error
	}
	results := make([]result, len(names))
	sem := make(chan struct{}, applyConcurrency)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := &results[i]
			r.member, r.created, r.err = a.join(ctx, poolID, username, name, old)
		}()
	}
	wg.Wait()
	for i, r := range results {
		switch {
		case r.err != nil:
			return GroupsApplied{}, fmt.Errorf("group %q: %w", names[i], r.err)
		case r.member:
			res.Member = append(res.Member, names[i])
			if r.created {
				res.Created = append(res.Created, names[i])
			}
		default:
			res.Missing = append(res.Missing, names[i])
		}
	}
	if err := a.pool.DeleteUserAttributes(ctx, poolID, username, a.attribute); err != nil {
		return GroupsApplied{}, fmt.Errorf("delete %s: %w", a.attribute, err)
	}
	return res, nil
}

// Discard deletes the attribute without applying it (a value no migration
// wrote).
func (a *GroupApplier) Discard(ctx context.Context, poolID, username string) error {
	if err := a.pool.DeleteUserAttributes(ctx, poolID, username, a.attribute); err != nil {
		return fmt.Errorf("delete %s: %w", a.attribute, err)
	}
	return nil
}

// join adds username to group name, creating the group first when it is
// missing and creation is on. It never creates a group that exists:
// creating one again can drop its members (some emulators do).
func (a *GroupApplier) join(ctx context.Context, poolID, username, name string, old map[string]Group) (member, created bool, err error) {
	err = a.pool.AddUserToGroup(ctx, poolID, username, name)
	switch {
	case err == nil:
		return true, false, nil
	case !errors.Is(err, ErrGroupNotFound):
		return false, false, err
	case !a.create:
		return false, false, nil
	}
	// Missing: check again (another sign-in may have just created it), then
	// create it as the old pool has it.
	if _, err := a.pool.GetGroup(ctx, poolID, name); err == nil {
		return true, false, a.pool.AddUserToGroup(ctx, poolID, username, name)
	} else if !errors.Is(err, ErrGroupNotFound) {
		return false, false, err
	}
	g, ok := old[name]
	if !ok {
		if g, err = a.old.GetGroup(ctx, name); errors.Is(err, ErrGroupNotFound) {
			return false, false, nil // gone from the old pool too
		} else if err != nil {
			return false, false, fmt.Errorf("old group: %w", err)
		}
	}
	if err := a.pool.CreateGroup(ctx, poolID, Group{Name: name, Description: g.Description, Precedence: g.Precedence}); err != nil {
		return false, false, fmt.Errorf("create: %w", err)
	}
	return true, true, a.pool.AddUserToGroup(ctx, poolID, username, name)
}

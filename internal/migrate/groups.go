package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Groups follow the user in two steps. At the migrating sign-in the user
// does not exist in the new pool yet, so nobody can add them to a group: the
// migration writes the old pool's group names into a custom attribute of the
// new user (LEGACY_GROUPS_ATTRIBUTE). The new pool then generates the user's
// first tokens, and the pre token generation trigger adds the memberships,
// returns them for those very tokens and deletes the attribute. Later
// sign-ins and refreshes find no attribute and call nothing.

// Group is a group of a user pool.
type Group struct {
	Name        string
	Description string
	// Precedence is nil when the group has none.
	Precedence *int32
}

// GroupLister lists a user's groups in the old pool (AdminListGroupsForUser,
// every page).
type GroupLister interface {
	// Groups lists the groups of username, which may be an alias.
	Groups(ctx context.Context, username string) ([]Group, error)
}

// GroupList is what the groups attribute carries: the names, or, when they
// do not fit, the old username to list them from once, at the first tokens.
type GroupList struct {
	Names []string
	// ListFrom is the old pool's username of a user whose group names did
	// not fit in the attribute.
	ListFrom string
}

// overflow is the attribute's form when the names do not fit.
type overflow struct {
	ListFrom string `json:"listFrom"`
}

// EncodeGroups writes the group names as a JSON array, or, when that is
// longer than limit characters, as {"listFrom": oldUsername}. Nothing is
// ever cut: a list that does not fit is read again from the old pool.
func EncodeGroups(names []string, oldUsername string, limit int) (string, error) {
	b, err := json.Marshal(names)
	if err != nil {
		return "", err
	}
	if utf8.RuneCount(b) <= limit {
		return string(b), nil
	}
	b, err = json.Marshal(overflow{ListFrom: oldUsername})
	if err != nil {
		return "", err
	}
	if utf8.RuneCount(b) > limit {
		return "", fmt.Errorf("the group list and its placeholder are longer than the attribute's %d characters", limit)
	}
	return string(b), nil
}

// DecodeGroups reads what EncodeGroups wrote. Its errors quote nothing of
// the value.
func DecodeGroups(value string) (GroupList, error) {
	v := strings.TrimSpace(value)
	switch {
	case strings.HasPrefix(v, "["):
		var names []string
		if err := json.Unmarshal([]byte(v), &names); err != nil {
			return GroupList{}, errors.New("not a JSON array of group names")
		}
		var out []string
		for _, n := range names {
			if n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return GroupList{Names: out}, nil
	case strings.HasPrefix(v, "{"):
		var o overflow
		if err := json.Unmarshal([]byte(v), &o); err != nil || o.ListFrom == "" {
			return GroupList{}, errors.New(`not {"listFrom": "<old username>"}`)
		}
		return GroupList{ListFrom: o.ListFrom}, nil
	}
	return GroupList{}, errors.New("neither a JSON array nor an object")
}

// Decider makes the decisions of the "Migrate user" trigger (Migrator).
type Decider interface {
	Authenticate(ctx context.Context, req Request) (Decision, error)
	ForgotPassword(ctx context.Context, req Request) (Decision, error)
}

// GroupCarrier is a Decider that also hands the old user's groups to the
// new user, in the attribute Attribute, for the pre token generation trigger
// to apply.
type GroupCarrier struct {
	next      Decider
	newPool   NewPool
	attribute string
}

// CarryGroups returns next, with the old user's groups written into
// attribute of every user it migrates. The groups are the ones next's
// lookup read with the user (Decision.Groups; the old pool adapter reads
// them when asked to): one listing per migration, at the same time as the
// lookup, so OLD_POOL_LOOKUP decides when they are read and they cost no
// round trip of their own. newPool says whether the attribute exists and
// how long it may be.
func CarryGroups(next Decider, newPool NewPool, attribute string) *GroupCarrier {
	return &GroupCarrier{next: next, newPool: newPool, attribute: attribute}
}

// Authenticate decides as next does, and carries the groups.
func (g *GroupCarrier) Authenticate(ctx context.Context, req Request) (Decision, error) {
	return g.carry(ctx, req, g.next.Authenticate)
}

// ForgotPassword decides as next does, and carries the groups likewise.
func (g *GroupCarrier) ForgotPassword(ctx context.Context, req Request) (Decision, error) {
	return g.carry(ctx, req, g.next.ForgotPassword)
}

// carry decides, and writes the groups of a migrated user into the
// attribute.
func (g *GroupCarrier) carry(ctx context.Context, req Request, decide func(context.Context, Request) (Decision, error)) (Decision, error) {
	d, err := decide(ctx, req)
	if err != nil || !d.Migrate {
		return d, err
	}
	groups := d.Groups
	if groups == nil {
		// The lookup did not read the groups: migrating without them would
		// lose them for good, so nothing is created.
		return Decision{}, &Fault{Kind: FaultUnknown, Err: errors.New("list groups: the old user's groups were not read with the user")}
	}
	if len(groups) == 0 {
		return d, nil
	}
	cfg, err := g.newPool.Config(ctx, req.NewPoolID) // cached: the decision just read it
	if err != nil {
		return Decision{}, fmt.Errorf("describe new pool: %w", err)
	}
	spec, ok := cfg.Attributes[g.attribute]
	if !ok {
		return Decision{}, &ConfigError{Setting: SettingGroupsAttribute,
			Problem: fmt.Sprintf("%q is not in the new pool's schema: add it as a mutable custom string attribute of at most %d characters that no app client can write", g.attribute, DefaultMaxLength)}
	}
	if !spec.Mutable {
		return Decision{}, &ConfigError{Setting: SettingGroupsAttribute,
			Problem: fmt.Sprintf("%q is immutable in the new pool's schema, so it cannot be removed once the groups are applied: use a mutable custom attribute", g.attribute)}
	}
	limit := DefaultMaxLength
	if spec.MaxLength > 0 && spec.MaxLength < limit {
		limit = spec.MaxLength
	}
	value, err := EncodeGroups(groups, d.Username, limit)
	if err != nil {
		return Decision{}, &ConfigError{Setting: SettingGroupsAttribute,
			Problem: fmt.Sprintf("%s: raise %q's maximum length to %d", err, g.attribute, DefaultMaxLength)}
	}
	attrs := make(map[string]string, len(d.Attributes)+1)
	for k, v := range d.Attributes {
		attrs[k] = v
	}
	attrs[g.attribute] = value
	d.Attributes = attrs
	return d, nil
}

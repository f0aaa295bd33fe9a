package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// The sign-up guard: a person who has not migrated yet must not be able to
// sign up again in the new pool with the name, email or phone number of
// their old account, because the new account would then block their
// migration for good (the "Migrate user" trigger only runs for names the new
// pool does not know).

// UserFinder finds old-pool users by what identifies them.
type UserFinder interface {
	// GetUser reads a user by username or alias (AdminGetUser);
	// ErrUserNotFound, wrapped, when there is none.
	GetUser(ctx context.Context, username string) (User, error)
	// FindUsers lists the users whose attribute attr ("email" or
	// "phone_number") equals value exactly (ListUsers with a Filter).
	FindUsers(ctx context.Context, attr, value string) ([]User, error)
}

// SignUp is a self-service sign-up at the new pool (PreSignUp_SignUp).
type SignUp struct {
	NewPoolID string
	// Username is the event's userName; in pools that sign in by email or
	// phone number it is an opaque id.
	Username   string
	Attributes map[string]string
}

// Guard reasons, for logs and metrics.
const (
	// OldUserExists: the sign-up uses an identifier of an old user who can
	// still migrate; it is refused.
	OldUserExists Reason = "old_user_exists"
	// NoOldUser: nothing of the sign-up belongs to such an old user.
	NoOldUser Reason = "no_old_user"
	// MigrationSignUp: the new user carries the old user's sub in
	// LEGACY_SUB_ATTRIBUTE, which only the migration writes.
	MigrationSignUp Reason = "migration"
	// NotGuarded: a trigger source the guard lets through untouched.
	NotGuarded Reason = "not_guarded"
)

// GuardDecision is the guard's answer.
type GuardDecision struct {
	Refuse bool
	Reason Reason
	// Matched names the identifier that matched ("username", "email",
	// "phone_number"), never its value.
	Matched string
}

// SignUpGuard decides sign-ups.
type SignUpGuard struct {
	old       UserFinder
	newPool   NewPool
	legacySub string
}

// NewSignUpGuard returns a guard that looks users up in old. legacySub is
// LEGACY_SUB_ATTRIBUTE ("" when unset).
func NewSignUpGuard(old UserFinder, newPool NewPool, legacySub string) *SignUpGuard {
	return &SignUpGuard{old: old, newPool: newPool, legacySub: legacySub}
}

// lookup is one old-pool query of the guard.
type lookup struct {
	kind, attr, value string
}

// Check decides s. The identifiers checked are those the new pool signs in
// with: its username attributes (email, phone number), or the username and
// its email and phone number aliases. In a case-insensitive new pool a value
// is also looked up in lower case, folding ASCII letters only, so no Unicode
// case rule can make two people one. An error means the old pool could not
// answer and nothing matched so far.
func (g *SignUpGuard) Check(ctx context.Context, s SignUp) (GuardDecision, error) {
	cfg, err := g.newPool.Config(ctx, s.NewPoolID)
	if err != nil {
		return GuardDecision{}, fmt.Errorf("describe new pool: %w", err)
	}
	var lookups []lookup
	add := func(kind, attr, value string, fold bool) {
		if value == "" {
			return
		}
		lookups = append(lookups, lookup{kind, attr, value})
		if lower := FoldASCII(value); fold && lower != value {
			lookups = append(lookups, lookup{kind, attr, lower})
		}
	}
	foldCase := !cfg.CaseSensitive
	signInAttrs := cfg.UsernameAttributes
	if len(signInAttrs) == 0 {
		add("username", "", s.Username, foldCase)
		signInAttrs = cfg.AliasAttributes
	}
	for _, attr := range []string{"email", "phone_number"} {
		if slices.Contains(signInAttrs, attr) {
			add(attr, attr, s.Attributes[attr], foldCase && attr == "email")
		}
	}
	if len(lookups) == 0 {
		return GuardDecision{Reason: NoOldUser}, nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make([]<-chan result[[]User], len(lookups))
	for i, l := range lookups {
		answers[i] = async(func() ([]User, error) { return g.find(ctx, l) })
	}
	var fault error
	for i, c := range answers {
		users, err := await(ctx, c)
		if err != nil {
			fault = errors.Join(fault, fmt.Errorf("look up %s: %w", lookups[i].kind, err))
			continue
		}
		for _, u := range users {
			if !canMigrate(u) {
				continue
			}
			if g.migrating(s, u) {
				return GuardDecision{Reason: MigrationSignUp, Matched: lookups[i].kind}, nil
			}
			return GuardDecision{Refuse: true, Reason: OldUserExists, Matched: lookups[i].kind}, nil
		}
	}
	if fault != nil {
		return GuardDecision{}, fault
	}
	return GuardDecision{Reason: NoOldUser}, nil
}

// find runs one lookup. A user the old pool returns is kept only if the
// identifier really matches (under the same ASCII folding). A username no
// Cognito user can have is not looked up.
func (g *SignUpGuard) find(ctx context.Context, l lookup) ([]User, error) {
	if l.attr == "" {
		if !AcceptableUsername(l.value) {
			// No old user can have this name; asking would only earn an
			// InvalidParameterException.
			return nil, nil
		}
		u, err := g.old.GetUser(ctx, l.value)
		if errors.Is(err, ErrUserNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []User{u}, nil
	}
	users, err := g.old.FindUsers(ctx, l.attr, l.value)
	if err != nil {
		return nil, err
	}
	var out []User
	for _, u := range users {
		if FoldASCII(u.Attributes[l.attr]) == FoldASCII(l.value) {
			out = append(out, u)
		}
	}
	return out, nil
}

// canMigrate reports whether an old user is an account someone owns: any
// status but a sign-up never confirmed (such users are never migrated, so
// refusing them would lock them out of both pools).
func canMigrate(u User) bool {
	return u.Status != StatusUnconfirmed
}

// migrating reports whether the sign-up is the migration creating u: only
// the migration writes the old sub into LEGACY_SUB_ATTRIBUTE, and nobody
// signing up knows it.
func (g *SignUpGuard) migrating(s SignUp, u User) bool {
	sub := u.Attributes["sub"]
	return g.legacySub != "" && sub != "" && s.Attributes[g.legacySub] == sub
}

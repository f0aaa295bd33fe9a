package settings

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Companions are the settings of the triggers that work beside "Migrate
// user" in the same function. Each is off unless its setting is given, and
// the function refuses events of a trigger that is off.
type Companions struct {
	// GroupsAttribute (LEGACY_GROUPS_ATTRIBUTE), e.g. custom:legacy_groups,
	// carries the old user's groups from the migration to the first
	// tokens. Set, it enables the pre token generation trigger.
	GroupsAttribute string
	// CreateMissingGroups (CREATE_MISSING_GROUPS) creates groups the new
	// pool lacks, as the old pool has them, instead of skipping them.
	CreateMissingGroups bool
	// SignUpGuard (SIGNUP_GUARD) enables the pre sign-up trigger.
	SignUpGuard bool
	// SignUpGuardMessage (SIGNUP_GUARD_MESSAGE) is what a refused person
	// reads; empty means the default.
	SignUpGuardMessage string
}

// maxGuardMessage bounds SIGNUP_GUARD_MESSAGE: people read it on a form.
const maxGuardMessage = 500

func loadCompanions(getenv, get func(string) string, bad func(name, format string, args ...any), rules migrate.Rules) Companions {
	var c Companions
	if v := get(EnvGroupsAttribute); v != "" {
		switch {
		case !strings.HasPrefix(v, "custom:") || !validAttribute(v):
			bad(EnvGroupsAttribute, "%q must be a custom attribute of the new pool, e.g. custom:legacy_groups (custom: and at most 20 characters)", v)
		case v == rules.LegacySub:
			bad(EnvGroupsAttribute, "%s is also %s: give each its own attribute", v, EnvLegacySubAttribute)
		case rules.Rename[v] != "" || renameTarget(rules, v):
			bad(EnvGroupsAttribute, "%s also appears in %s: give the groups an attribute of their own", v, EnvAttributeMap)
		}
		c.GroupsAttribute = v
	}
	c.CreateMissingGroups = boolean(get, bad, EnvCreateMissingGroups)
	if c.CreateMissingGroups && c.GroupsAttribute == "" {
		bad(EnvCreateMissingGroups, "is true but %s is not set: groups are copied only through that attribute", EnvGroupsAttribute)
	}
	c.SignUpGuard = boolean(get, bad, EnvSignUpGuard)
	// The message is taken as written, inner spaces included.
	if m := strings.TrimSpace(getenv(EnvSignUpGuardMessage)); m != "" {
		switch {
		case !c.SignUpGuard:
			bad(EnvSignUpGuardMessage, "is set but %s is not true: the message is shown only by the sign-up guard", EnvSignUpGuard)
		case !utf8.ValidString(m) || utf8.RuneCountInString(m) > maxGuardMessage || strings.IndexFunc(m, unicode.IsControl) >= 0:
			bad(EnvSignUpGuardMessage, "must be one line of at most %d characters: people read it on the sign-up form", maxGuardMessage)
		}
		c.SignUpGuardMessage = m
	}
	return c
}

func renameTarget(rules migrate.Rules, name string) bool {
	for _, to := range rules.Rename {
		if to == name {
			return true
		}
	}
	return false
}

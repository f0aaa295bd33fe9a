package migrate

import (
	"fmt"
	"slices"
	"strings"
)

// OutOfScope: the old user is outside MIGRATE_ONLY (another tenant in a
// split, or not on the canary list). Declined like a wrong password.
const OutOfScope Reason = "out_of_scope"

// Scope is MIGRATE_ONLY: which old users this function may migrate. Its
// zero value lets everyone in.
//
// The setting is a list of conditions separated by ";", all of which must
// hold; each condition lists alternatives separated by ",", one of which
// must match:
//
//	custom:tenant=acme            the attribute equals the value (exactly)
//	custom:tenant=acme,globex     ... one of the values
//	email@acme.com,acme.org       the verified email's domain is one of these (ASCII case-insensitive)
//	group:staff,admins            the user belongs to one of these old-pool groups (exactly)
//	user:alice,bob@acme.com       the username is one of these (exactly), or the verified email is
//	                              (ASCII case-insensitive): a canary list
//	custom:tenant=acme;user:alice both: acme's alice only
//
// Email conditions look only at an email the old pool marks verified (or
// any email under TRUST_EMAIL): a user who may edit their own email must
// not be able to move themselves into another tenant's pool. Values cannot
// contain "," or ";"; spaces around them are ignored.
type Scope struct {
	// All lists the conditions; every one must hold.
	All []Condition
}

// ConditionKind is what a Condition looks at.
type ConditionKind string

// Condition kinds.
const (
	// ScopeAttribute: the attribute Condition.Attribute equals one of Values.
	ScopeAttribute ConditionKind = "attribute"
	// ScopeEmailDomain: the verified email's domain is one of Values.
	ScopeEmailDomain ConditionKind = "email_domain"
	// ScopeGroup: the user is in one of the old-pool groups Values.
	ScopeGroup ConditionKind = "group"
	// ScopeUser: the username, or the verified email, is one of Values.
	ScopeUser ConditionKind = "user"
)

// Condition is one ";"-separated part of MIGRATE_ONLY.
type Condition struct {
	Kind ConditionKind
	// Attribute is the old attribute's name (ScopeAttribute only).
	Attribute string
	// Values are the alternatives, one of which must match.
	Values []string
}

// Prefixes of the conditions that are not attribute comparisons.
const (
	scopeEmailPrefix = "email@"
	scopeGroupPrefix = "group:"
	scopeUserPrefix  = "user:"
)

// ParseScope reads MIGRATE_ONLY. validAttribute says whether a name is an
// attribute name. The error describes the first malformed condition without
// the setting's name, which the caller adds.
func ParseScope(s string, validAttribute func(string) bool) (Scope, error) {
	var sc Scope
	if strings.TrimSpace(s) == "" {
		return sc, nil
	}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			return Scope{}, fmt.Errorf("empty condition in %q: separate conditions with a single \";\"", s)
		}
		c, err := parseCondition(part, validAttribute)
		if err != nil {
			return Scope{}, err
		}
		sc.All = append(sc.All, c)
	}
	return sc, nil
}

func parseCondition(part string, validAttribute func(string) bool) (Condition, error) {
	var c Condition
	var list string
	switch {
	case strings.HasPrefix(part, scopeEmailPrefix):
		c.Kind, list = ScopeEmailDomain, part[len(scopeEmailPrefix):]
	case strings.HasPrefix(part, scopeGroupPrefix):
		c.Kind, list = ScopeGroup, part[len(scopeGroupPrefix):]
	case strings.HasPrefix(part, scopeUserPrefix):
		c.Kind, list = ScopeUser, part[len(scopeUserPrefix):]
	default:
		name, values, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return Condition{}, fmt.Errorf("%q is not a condition: write attribute=value[,value], email@domain[,domain], group:name[,name] or user:name-or-email[,...]", part)
		}
		if !validAttribute(name) {
			return Condition{}, fmt.Errorf("%q: %q is not an attribute name", part, name)
		}
		c.Kind, c.Attribute, list = ScopeAttribute, name, values
	}
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			return Condition{}, fmt.Errorf("%q has an empty value: list values separated by single commas", part)
		}
		if c.Kind == ScopeEmailDomain && (strings.ContainsAny(v, "@ \t") || !strings.Contains(v, ".")) {
			return Condition{}, fmt.Errorf("%q: %q is not an email domain, e.g. email@acme.com,acme.org", part, v)
		}
		if !slices.Contains(c.Values, v) {
			c.Values = append(c.Values, v)
		}
	}
	return c, nil
}

// String writes the scope back in MIGRATE_ONLY's syntax ("" for everyone).
func (s Scope) String() string {
	parts := make([]string, 0, len(s.All))
	for _, c := range s.All {
		var prefix string
		switch c.Kind {
		case ScopeEmailDomain:
			prefix = scopeEmailPrefix
		case ScopeGroup:
			prefix = scopeGroupPrefix
		case ScopeUser:
			prefix = scopeUserPrefix
		default:
			prefix = c.Attribute + "="
		}
		parts = append(parts, prefix+strings.Join(c.Values, ","))
	}
	return strings.Join(parts, ";")
}

// NeedsGroups reports whether deciding the scope needs the user's old-pool
// groups (User.Groups): only then does the adapter read them.
func (s Scope) NeedsGroups() bool {
	return slices.ContainsFunc(s.All, func(c Condition) bool { return c.Kind == ScopeGroup })
}

// InScope reports whether MIGRATE_ONLY lets the old user u migrate. The
// trigger (both flows, through Shape) and the operator commands share it.
func (r Rules) InScope(u User) bool {
	_, out := r.OutOfScopeBy(u)
	return !out
}

// OutOfScopeBy returns the first MIGRATE_ONLY condition the old user u does
// not meet, for `explain` and the operator's logs; false when u is in scope.
func (r Rules) OutOfScopeBy(u User) (Condition, bool) {
	email := ""
	if r.TrustEmail || verified(u.Attributes, "email") {
		email = u.Attributes["email"]
	}
	for _, c := range r.Scope.All {
		if !c.holds(u, email) {
			return c, true
		}
	}
	return Condition{}, false
}

// String writes the condition in MIGRATE_ONLY's syntax.
func (c Condition) String() string { return Scope{All: []Condition{c}}.String() }

// holds reports whether u, whose trusted email is email ("" for none),
// meets c.
func (c Condition) holds(u User, email string) bool {
	switch c.Kind {
	case ScopeAttribute:
		v, ok := u.Attributes[c.Attribute]
		return ok && slices.Contains(c.Values, v)
	case ScopeEmailDomain:
		at := strings.LastIndexByte(email, '@')
		if at < 0 {
			return false
		}
		domain := email[at+1:]
		return slices.ContainsFunc(c.Values, func(d string) bool { return asciiEqualFold(d, domain) })
	case ScopeGroup:
		return slices.ContainsFunc(c.Values, func(g string) bool { return slices.Contains(u.Groups, g) })
	case ScopeUser:
		return slices.ContainsFunc(c.Values, func(v string) bool {
			return (u.Username != "" && v == u.Username) || (email != "" && asciiEqualFold(v, email))
		})
	}
	return false // an unknown kind lets nobody in
}

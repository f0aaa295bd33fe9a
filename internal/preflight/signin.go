package preflight

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// signInNames lists what users type to sign in to a pool: "username" and
// the alias attributes, or the username attributes (email, phone_number)
// of a pool that signs in by them instead.
func signInNames(p *types.UserPoolType) []string {
	if len(p.UsernameAttributes) > 0 {
		var out []string
		for _, a := range p.UsernameAttributes {
			out = append(out, string(a))
		}
		return out
	}
	out := []string{"username"}
	for _, a := range p.AliasAttributes {
		out = append(out, string(a))
	}
	return out
}

// caseSensitive is a pool's case rule: true unless UsernameConfiguration
// says CaseSensitive=false (absent means case-sensitive, the API default).
func caseSensitive(p *types.UserPoolType) bool {
	return p.UsernameConfiguration == nil || p.UsernameConfiguration.CaseSensitive == nil || *p.UsernameConfiguration.CaseSensitive
}

// recreate ends a fix: these settings are fixed at a pool's creation.
const recreate = "create the new pool again with the old pool's settings (aws cognito-idp create-user-pool with --username-attributes or --alias-attributes and --username-configuration CaseSensitive=true|false): sign-in options and case sensitivity cannot change on an existing pool"

// signInType compares what users type at each pool. The function accepts a
// typed name the new pool also signs in with; an old pool's email or phone
// used as username becomes the new username in a username pool.
func (c *checker) signInType() {
	if c.in.OldPool == nil {
		return
	}
	oldNames, newNames := signInNames(c.in.OldPool), signInNames(c.in.NewPool)
	newUsernamePool := len(c.in.NewPool.UsernameAttributes) == 0
	var lost, gained []string
	for _, n := range oldNames {
		accepted := slices.Contains(newNames, n) ||
			(newUsernamePool && len(c.in.OldPool.UsernameAttributes) > 0) // the email or phone becomes the username
		if !accepted {
			lost = append(lost, n)
		}
	}
	for _, n := range newNames {
		if !slices.Contains(oldNames, n) {
			gained = append(gained, n)
		}
	}
	desc := func(names []string) string { return strings.Join(names, ", ") }
	if len(lost) > 0 {
		c.add(SignInType, Warning,
			"tell those users to sign in with "+desc(newNames)+" (a forgot-password started with it migrates them too); or "+recreate,
			"the old pool signs in with %s and the new pool with %s: users who type their %s cannot migrate that way (the function declines: %s) and must use %s",
			desc(oldNames), desc(newNames), desc(lost), migrate.SignInNameNotUsable, desc(newNames))
	}
	if len(gained) > 0 && len(lost) == 0 {
		fix := "nothing to do; say so in the announcement"
		detail := fmt.Sprintf("the new pool also signs in with %s, which the old pool did not", desc(gained))
		if newUsernamePool && len(c.in.OldPool.UsernameAttributes) > 0 {
			detail = fmt.Sprintf("the old pool signs in with %s used as the username; the new pool has usernames, so the %s users type becomes their username", desc(oldNames), desc(oldNames))
		}
		c.add(SignInType, Info, fix, "%s", detail)
	}
}

// usernameCase: a case rule that changes, and old users whose names become
// the same person once case is ignored.
func (c *checker) usernameCase() {
	if c.in.OldPool == nil {
		return
	}
	oldCS, newCS := caseSensitive(c.in.OldPool), caseSensitive(c.in.NewPool)
	switch {
	case !oldCS && newCS:
		c.add(UsernameCase, Warning, "accept it and tell users, or "+recreate,
			"the old pool ignores the case of usernames and the new pool does not: a user who types their username in another case than it was created with is declined (%s), and after migrating must type it exactly", migrate.UsernameCaseMismatch)
	case oldCS && !newCS:
		groups := caseCollisions(c.in.Sample, signInNames(c.in.NewPool))
		if len(groups) == 0 {
			c.add(UsernameCase, Info, "nothing to do",
				"the old pool's usernames are case-sensitive and the new pool's are not; no two of the %d sampled old users differ only in case", len(c.in.Sample))
			return
		}
		var ex []string
		for _, g := range groups[:min(3, len(groups))] {
			ex = append(ex, "("+strings.Join(quote(g), ", ")+")")
		}
		c.add(UsernameCase, Error,
			"rename or merge these users in the old pool before they sign in (each group can keep one name), or "+recreate,
			"the new pool ignores case (ASCII letters) and %d group(s) of old users have names that differ only in case, e.g. %s: the first of a group to sign in takes the name, the others can never migrate",
			len(groups), strings.Join(ex, ", "))
	}
}

// caseCollisions groups the sample's sign-in names (username, email,
// preferred_username: those of names) that are equal once ASCII letters are
// folded, as Cognito's case-insensitive pools do. Phone numbers have no case.
func caseCollisions(sample []SampleUser, names []string) [][]string {
	byKey := map[string][]string{}
	var order []string
	add := func(kind, v string) {
		if v == "" {
			return
		}
		k := kind + "\x00" + migrate.FoldASCII(v)
		if !slices.Contains(byKey[k], v) {
			if byKey[k] == nil {
				order = append(order, k)
			}
			byKey[k] = append(byKey[k], v)
		}
	}
	for _, u := range sample {
		for _, kind := range names {
			switch kind {
			case "username":
				add(kind, u.Username)
			case "email", "preferred_username":
				add(kind, u.Attributes[kind])
			}
		}
	}
	var out [][]string
	for _, k := range order {
		if len(byKey[k]) > 1 {
			out = append(out, byKey[k])
		}
	}
	return out
}

func quote(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// emailFormat is a username Cognito would take for an email address.
var emailFormat = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)

// usernameEmailFormat: a pool with an email alias refuses usernames in
// email format ("Username cannot be of email format, since user pool is
// configured for email alias"), so such old users cannot be created.
func (c *checker) usernameEmailFormat() {
	if !slices.Contains(c.in.NewPool.AliasAttributes, types.AliasAttributeTypeEmail) {
		return
	}
	var names []string
	for _, u := range c.in.Sample {
		if emailFormat.MatchString(u.Username) && u.Username != u.Attributes["sub"] {
			names = append(names, u.Username)
		}
	}
	if len(names) == 0 {
		return
	}
	c.add(UsernameEmailFormat, Error,
		"rename these users in the old pool to usernames that are not email addresses, or create the new pool with email as the username (aws cognito-idp create-user-pool --username-attributes email) instead of an email alias",
		"%d of %d sampled old users have a username in email format (%s) and the new pool %s has an email alias: Cognito refuses such usernames there, so these users cannot migrate",
		len(names), len(c.in.Sample), examples(names), aws.ToString(c.in.NewPool.Id))
}

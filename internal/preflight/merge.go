package preflight

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// mergeNameCollision: in a merge, a name that finds a user in two old pools
// belongs to two people, and the function declines it for both
// (migrate.AmbiguousUser) unless a route asks only one of the pools.
// Only the sampled users of each pool are compared.
func (c *checker) mergeNameCollision() {
	if len(c.in.OtherOldPools) == 0 {
		return
	}
	pools := []OldPoolInput{{Name: "1", UserPoolID: c.oldID, OldPool: c.in.OldPool, Sample: c.in.Sample}}
	pools = append(pools, c.in.OtherOldPools...)
	fold := !caseSensitive(c.in.NewPool)
	for _, p := range pools {
		fold = fold || (p.OldPool != nil && !caseSensitive(p.OldPool))
	}
	type owners struct {
		name  string   // as the first pool holding it spells it
		pools []string // pool names, in order
	}
	byKey := map[string]*owners{}
	var order []string
	for _, p := range pools {
		for _, u := range p.Sample {
			for _, name := range typedNames(u, p.OldPool, c.in.NewPool) {
				key := name
				if fold && typedForm(name) != "phone" {
					key = migrate.FoldASCII(name)
				}
				o := byKey[key]
				if o == nil {
					o = &owners{name: name}
					byKey[key] = o
					order = append(order, key)
				}
				if !slices.Contains(o.pools, p.Name) {
					o.pools = append(o.pools, p.Name)
				}
			}
		}
	}
	var names []string
	for _, k := range order {
		if o := byKey[k]; len(o.pools) > 1 {
			names = append(names, fmt.Sprintf("%s in old pools %s", o.name, strings.Join(o.pools, ", ")))
		}
	}
	if len(names) == 0 {
		return
	}
	c.add(MergeNameCollision, Warning,
		"for each name, rename one of the two users in its old pool (or delete the account nobody uses), or give the pools routes that send the name to one pool only (OLD_ROUTE, OLD_2_ROUTE, ...: email@domain for typed email addresses, form:email|phone|username; a route cannot tell two usernames apart)",
		"%d name(s) among the sampled users find a user in more than one old pool (%s): two people own each, so the function declines both whoever signs in (%s)",
		len(names), examples(names), migrate.AmbiguousUser)
}

// typedNames are the names that find user u in old pool p (AdminGetUser
// accepts the username and the pool's sign-in aliases) and that users can
// type at the new pool.
func typedNames(u SampleUser, p, newPool *types.UserPoolType) []string {
	var out []string
	if u.Username != "" && u.Username != u.Attributes["sub"] {
		out = append(out, u.Username)
	}
	if p != nil {
		for _, a := range signInNames(p) {
			if a == "username" {
				continue
			}
			v := u.Attributes[a]
			// An alias finds the user only once verified; a username
			// attribute always does.
			alias := slices.Contains(p.AliasAttributes, types.AliasAttributeType(a))
			if v == "" || (alias && a != "preferred_username" && u.Attributes[a+"_verified"] != "true") {
				continue
			}
			out = append(out, v)
		}
	}
	if len(newPool.UsernameAttributes) > 0 {
		// The new pool signs in with email or phone only.
		out = slices.DeleteFunc(out, func(n string) bool {
			f := typedForm(n)
			return !((f == "email" && slices.Contains(newPool.UsernameAttributes, types.UsernameAttributeTypeEmail)) ||
				(f == "phone" && slices.Contains(newPool.UsernameAttributes, types.UsernameAttributeTypePhoneNumber)))
		})
	}
	return out
}

// typedForm is "email" (holds an @), "phone" (+ and digits) or "username",
// as routes (migrate.Route) tell typed names apart.
func typedForm(n string) string {
	if strings.Contains(n, "@") {
		return "email"
	}
	if len(n) >= 2 && n[0] == '+' && strings.Trim(n[1:], "0123456789") == "" {
		return "phone"
	}
	return "username"
}

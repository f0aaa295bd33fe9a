package cognitotest

import (
	"slices"
	"strconv"
)

// AdminListGroupsForUser, which the trigger calls when MIGRATE_ONLY has a
// group condition. Registered here so that this file stands alone.
func init() {
	operations["AdminListGroupsForUser"] = (*Fake).adminListGroupsForUser
}

// AddMember puts the user username (their real username) in a group added
// with AddGroup.
func (f *Fake) AddMember(poolID, groupName, username string) {
	f.tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports.init()
	g := f.imports.groups[poolID][groupName]
	if g == nil {
		f.tb.Fatalf("cognitotest: AddMember(%q): no group %q in pool %q", username, groupName, poolID)
	}
	if !slices.Contains(g.members, username) {
		g.members = append(g.members, username)
	}
}

// adminListGroupsForUser lists a user's groups by name, Limit (at most 60,
// the default) at a time, with NextToken. Username may be an alias, as in
// Cognito.
func (f *Fake) adminListGroupsForUser(body []byte) (any, *apiError) {
	var in struct {
		UserPoolId, Username, NextToken string
		Limit                           int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Limit < 0 || in.Limit > maxListLimit {
		return nil, errorf("InvalidParameterException", "Limit must be between 0 and 60")
	}
	if in.Limit == 0 {
		in.Limit = maxListLimit
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pools[in.UserPoolId]
	if !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	u := p.lookup(in.Username, true)
	if u == nil {
		return nil, errorf("UserNotFoundException", msgUserNotFound)
	}
	f.imports.init()
	var names []string
	for name, g := range f.imports.groups[in.UserPoolId] {
		if slices.Contains(g.members, u.Username) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(names) {
			return nil, errorf("InvalidParameterException", "Invalid pagination token")
		}
		start = n
	}
	end := min(start+in.Limit, len(names))
	groups := make([]group, 0, end-start)
	for _, name := range names[start:end] {
		groups = append(groups, *f.imports.groups[in.UserPoolId][name])
	}
	out := map[string]any{"Groups": groups}
	if end < len(names) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

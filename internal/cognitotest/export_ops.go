package cognitotest

import (
	"slices"
	"strconv"
)

// What the export needs of the fake: ListGroups and ListUsersInGroup for
// the old pool's group memberships.
// Registered here rather than in the operations literal so that this file
// stands alone; init only fills the dispatch table, it does no work.
// ListUsersInGroup shares ListUsers' quota in Cognito; SetRateLimit sets
// each operation's own quota here.
func init() {
	operations["ListGroups"] = limited("ListGroups", (*Fake).listGroups)
	operations["ListUsersInGroup"] = limited("ListUsersInGroup", (*Fake).listUsersInGroup)
}

type groupPageInput struct {
	UserPoolId, GroupName string
	Limit                 *int
	NextToken             *string
}

// page returns the offset and size of the page in asks for.
func (in groupPageInput) page() (offset, size int, err *apiError) {
	size = maxListLimit
	if in.Limit != nil {
		if *in.Limit < 0 || *in.Limit > maxListLimit {
			return 0, 0, errorf("InvalidParameterException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60", *in.Limit)
		}
		if *in.Limit > 0 {
			size = *in.Limit
		}
	}
	if in.NextToken != nil {
		n, perr := strconv.Atoi(*in.NextToken)
		if perr != nil || n < 0 {
			return 0, 0, errorf("InvalidParameterException", "Invalid pagination token")
		}
		offset = n
	}
	return offset, size, nil
}

func (f *Fake) listGroups(body []byte) (any, *apiError) {
	var in groupPageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	offset, size, err := in.page()
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[in.UserPoolId]; !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	f.imports.init()
	var names []string
	for name := range f.imports.groups[in.UserPoolId] {
		names = append(names, name)
	}
	slices.Sort(names)
	out := struct {
		Groups    []group
		NextToken string `json:",omitempty"`
	}{Groups: []group{}}
	for i := offset; i < len(names) && len(out.Groups) < size; i++ {
		out.Groups = append(out.Groups, *f.imports.groups[in.UserPoolId][names[i]])
	}
	if end := offset + len(out.Groups); end < len(names) {
		out.NextToken = strconv.Itoa(end)
	}
	return out, nil
}

func (f *Fake) listUsersInGroup(body []byte) (any, *apiError) {
	var in groupPageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	offset, size, err := in.page()
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupOf(in.UserPoolId, in.GroupName)
	if err != nil {
		return nil, err
	}
	p := f.pools[in.UserPoolId]
	members := slices.Sorted(slices.Values(g.members))
	out := struct {
		Users     []listedUser
		NextToken string `json:",omitempty"`
	}{Users: []listedUser{}}
	i := offset
	for ; i < len(members) && len(out.Users) < size; i++ {
		u := p.lookup(members[i], false)
		if u == nil {
			continue
		}
		out.Users = append(out.Users, listedUser{
			Username: u.Username, Enabled: u.Enabled, UserStatus: u.Status, Attributes: attributeList(u.Attributes),
			UserCreateDate: epochSeconds(u.Created), UserLastModifiedDate: epochSeconds(u.LastModified),
		})
	}
	if i < len(members) {
		out.NextToken = strconv.Itoa(i)
	}
	return out, nil
}

// AddToGroup makes a user of a pool a member of a group added earlier.
func (f *Fake) AddToGroup(poolID, groupName, username string) {
	if f.tb != nil {
		f.tb.Helper()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupOf(poolID, groupName)
	if err != nil {
		f.misuse("cognitotest: AddToGroup: %v", err)
		return
	}
	if !slices.Contains(g.members, username) {
		g.members = append(g.members, username)
	}
}

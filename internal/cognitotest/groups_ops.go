package cognitotest

import (
	"slices"
)

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

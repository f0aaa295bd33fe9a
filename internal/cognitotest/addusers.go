package cognitotest

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// AddUsers adds many users to a pool with AddUser's defaults and checks,
// but finds duplicate usernames and subs with maps rather than by scanning
// the pool for each user: a benchmark fills a pool of 100,000 users in a
// second, where AddUser one by one would take minutes.
func (f *Fake) AddUsers(poolID string, users []User) {
	if f.tb != nil {
		f.tb.Helper()
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pools[poolID]
	if !ok {
		f.misuse("cognitotest: AddUsers: unknown pool %q", poolID)
		return
	}
	// sameName is strings.EqualFold in a case-insensitive pool; upper then
	// lower case is the key that folds alike.
	key := func(s string) string {
		if p.CaseInsensitive {
			return strings.ToLower(strings.ToUpper(s))
		}
		return s
	}
	names := make(map[string]bool, len(p.users)+len(users))
	subs := make(map[string]bool, len(p.users)+len(users))
	for _, o := range p.users {
		names[key(o.Username)], subs[o.Attributes["sub"]] = true, true
	}
	for _, u := range users {
		u.Attributes = maps.Clone(u.Attributes)
		if u.Attributes == nil {
			u.Attributes = map[string]string{}
		}
		if u.Attributes["sub"] == "" {
			u.Attributes["sub"] = newUUID()
		}
		if u.Username == "" {
			u.Username = u.Attributes["sub"]
		}
		if u.Status == "" {
			u.Status = "CONFIRMED"
		}
		u.MFASettings = slices.Clone(u.MFASettings)
		if u.Created.IsZero() {
			u.Created = now
		}
		if u.LastModified.IsZero() {
			u.LastModified = u.Created
		}
		if names[key(u.Username)] {
			f.misuse("cognitotest: AddUsers(%q): username already exists in pool %q", u.Username, poolID)
			return
		}
		if subs[u.Attributes["sub"]] {
			f.misuse("cognitotest: AddUsers(%q): sub %q already used", u.Username, u.Attributes["sub"])
			return
		}
		names[key(u.Username)], subs[u.Attributes["sub"]] = true, true
		p.users = append(p.users, &u)
	}
}

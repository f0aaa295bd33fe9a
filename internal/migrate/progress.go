package migrate

import (
	"errors"
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"sort"
	"time"
)

// ListedUser is one user as a pool listing (ListUsers) shows it, reduced to
// what progress needs. Attributes need only hold sub, email, phone_number,
// preferred_username and the LEGACY_SUB_ATTRIBUTE; others are ignored.
type ListedUser struct {
	Username   string
	Status     string
	Enabled    bool
	Created    time.Time
	Attributes map[string]string
	// OutOfScope: the old user is outside MIGRATE_ONLY (judged by the
	// caller with Rules.InScope). Such users never count as remaining.
	OutOfScope bool
}

// MatchRule says how a user of the new pool is matched to a user of the old
// pool. Its fields describe the NEW pool and the function's settings.
type MatchRule struct {
	// LegacySub is LEGACY_SUB_ATTRIBUTE: the new pool's attribute holding
	// the old user's sub. When set, it is the only rule.
	LegacySub string
	// UsernameAttributes and AliasAttributes are the new pool's.
	UsernameAttributes, AliasAttributes []string
	// CaseSensitive is the new pool's UsernameConfiguration.CaseSensitive
	// (true when absent, Cognito's default).
	CaseSensitive bool
}

// Progress computes how far a migration is from two streams of users: first
// every old-pool user (AddOld), then every new-pool user (AddNew).
//
// A new user is matched to (counted as migrated from) at most one old user,
// and an old user to at most one new user:
//
//   - With LEGACY_SUB_ATTRIBUTE set, only by it: the new user's value of that
//     attribute equals the old user's sub.
//   - In a new pool that signs in by email or phone number instead of a
//     username (UsernameAttributes), by each of those attributes: equal
//     values match.
//   - Otherwise by username, then by each of the new pool's alias attributes
//     (email, phone_number, preferred_username) in that order. An old user
//     whose username is their sub (an old pool that signed in by email or
//     phone) is also matched when the new username equals their email or
//     phone number, as the function names such users.
//
// When the new pool is case-insensitive (CaseSensitive false), usernames,
// emails and preferred usernames compare with ASCII letters folded (A-Z as
// a-z, nothing else), as Cognito does; phone numbers always compare exactly.
// Old users whose keys collide (for example "Ann" and "ann" going to a
// case-insensitive pool) are candidates in listing order: one new user
// takes one of them, the other remains.
//
// Memory: only 64-bit keyed hashes of the old users' match keys, a status
// code and a matched bit per old user are kept; new users are streamed. Two
// different keys share a hash with probability about n²/2⁶⁵ (negligible at
// millions of users); the seed is random per Progress.
type Progress struct {
	rule MatchRule
	seed maphash.Seed

	// keys[i] is a match key's hash and owner[i] the old user it belongs
	// to; sorted by hash (then owner) once the new users start.
	keys   []uint64
	owner  []uint32
	frozen bool

	status   []uint8 // per old user: index into statuses
	matched  []uint64
	statuses []string
	codes    map[string]uint8

	oldTotal, disabled int
	newTotal, migrated int
	perDay             map[civilDay]int

	// scoped: MIGRATE_ONLY is set (CountScope); outOfScope is a bit per
	// old user.
	scoped     bool
	outOfScope []uint64
	// pools mark where each old pool's users start (BeginPool).
	pools []poolMark
}

// poolMark is where one old pool's users start among the old users.
type poolMark struct {
	name, id string
	start    int
	disabled int
}

// CountScope makes the report count old users outside MIGRATE_ONLY apart
// (ListedUser.OutOfScope): InScope and OutOfScope are set, and such users
// are not remaining.
func (p *Progress) CountScope() { p.scoped = true }

// BeginPool says that the old users added next, until the next BeginPool,
// are those of the old pool name (the pool's number, "1", "2"...) with the
// id. Call it before each pool's first AddOld; with more than one pool the
// report has figures per pool. Old users of all pools make one set to
// match against: a new user matches whichever pool's user holds the key.
func (p *Progress) BeginPool(name, id string) error {
	if p.frozen {
		return ErrOldAfterNew
	}
	p.pools = append(p.pools, poolMark{name: name, id: id, start: len(p.status)})
	return nil
}

type civilDay struct {
	y int
	m time.Month
	d int
}

// NewProgress returns an empty Progress for rule.
func NewProgress(rule MatchRule) *Progress {
	return &Progress{rule: rule, seed: maphash.MakeSeed(), codes: map[string]uint8{}, perDay: map[civilDay]int{}}
}

// Reserve makes room for oldUsers old users (DescribeUserPool's
// EstimatedNumberOfUsers, say), so that the key table does not grow by
// copying: the peak memory then stays near the final. A wrong estimate only
// costs the growth it would have saved.
func (p *Progress) Reserve(oldUsers int) {
	if p.frozen || oldUsers <= len(p.status) {
		return
	}
	keys := oldUsers * p.keysPerUser()
	p.keys = slices.Grow(p.keys, keys-len(p.keys))
	p.owner = slices.Grow(p.owner, keys-len(p.owner))
	p.status = slices.Grow(p.status, oldUsers-len(p.status))
	p.matched = slices.Grow(p.matched, (oldUsers+63)/64-len(p.matched))
}

// keysPerUser is how many match keys an old user typically has under the
// rule: one per sign-in name.
func (p *Progress) keysPerUser() int {
	switch r := p.rule; {
	case r.LegacySub != "":
		return 1
	case len(r.UsernameAttributes) > 0:
		return len(r.UsernameAttributes)
	default:
		return 1 + len(r.AliasAttributes)
	}
}

// Errors of misuse.
var (
	ErrOldAfterNew   = errors.New("progress: an old user was added after the first new user")
	ErrTooManyStatus = errors.New("progress: more than 255 distinct user statuses")
	ErrTooManyUsers  = errors.New("progress: more than 4,294,967,295 old users")
)

// AddOld adds the next user of the old pool. All old users must be added
// before the first new user.
func (p *Progress) AddOld(u ListedUser) error {
	if p.frozen {
		return ErrOldAfterNew
	}
	if uint64(len(p.status)) >= math.MaxUint32 {
		return ErrTooManyUsers
	}
	code, ok := p.codes[u.Status]
	if !ok {
		if len(p.statuses) == 255 {
			return ErrTooManyStatus
		}
		code = uint8(len(p.statuses))
		p.codes[u.Status] = code
		p.statuses = append(p.statuses, u.Status)
	}
	idx := uint32(len(p.status))
	p.status = append(p.status, code)
	if idx%64 == 0 {
		p.matched = append(p.matched, 0)
		if p.scoped {
			p.outOfScope = append(p.outOfScope, 0)
		}
	}
	if p.scoped && u.OutOfScope {
		p.outOfScope[idx/64] |= 1 << (idx % 64)
	}
	p.oldTotal++
	if !u.Enabled {
		p.disabled++
		if len(p.pools) > 0 {
			p.pools[len(p.pools)-1].disabled++
		}
	}
	p.oldKeys(u, func(h uint64) {
		p.keys = append(p.keys, h)
		p.owner = append(p.owner, idx)
	})
	return nil
}

// AddNew adds the next user of the new pool and reports whether it was
// matched to an old user.
func (p *Progress) AddNew(u ListedUser) bool {
	if !p.frozen {
		p.freeze()
	}
	p.newTotal++
	found := false
	p.newKeys(u, func(h uint64) {
		if !found {
			found = p.take(h)
		}
	})
	if !found {
		return false
	}
	p.migrated++
	if !u.Created.IsZero() {
		y, m, d := u.Created.UTC().Date()
		p.perDay[civilDay{y, m, d}]++
	}
	return true
}

// take marks the first unmatched old user holding key h as matched.
func (p *Progress) take(h uint64) bool {
	i := sort.Search(len(p.keys), func(i int) bool { return p.keys[i] >= h })
	for ; i < len(p.keys) && p.keys[i] == h; i++ {
		o := p.owner[i]
		if p.matched[o/64]&(1<<(o%64)) == 0 {
			p.matched[o/64] |= 1 << (o % 64)
			return true
		}
	}
	return false
}

func (p *Progress) freeze() {
	p.frozen = true
	sort.Sort(byKey{p.keys, p.owner})
	// Give back what append over-allocated.
	p.keys = slices.Clip(p.keys)
	p.owner = slices.Clip(p.owner)
}

type byKey struct {
	k []uint64
	o []uint32
}

func (b byKey) Len() int { return len(b.k) }
func (b byKey) Less(i, j int) bool {
	return b.k[i] < b.k[j] || (b.k[i] == b.k[j] && b.o[i] < b.o[j])
}
func (b byKey) Swap(i, j int) {
	b.k[i], b.k[j] = b.k[j], b.k[i]
	b.o[i], b.o[j] = b.o[j], b.o[i]
}

// Match-key kinds, hashed in front of the value so that equal values of
// different kinds never meet.
const (
	kindLegacySub = "sub"
	kindUsername  = "username"
)

// oldKeys calls key with the hash of each key the old user can be matched
// by, per the rule in Progress's doc.
func (p *Progress) oldKeys(u ListedUser, key func(uint64)) {
	r := p.rule
	if r.LegacySub != "" {
		if sub := u.Attributes["sub"]; sub != "" {
			key(p.hash(kindLegacySub, sub))
		}
		return
	}
	if len(r.UsernameAttributes) > 0 {
		for _, a := range r.UsernameAttributes {
			if v := u.Attributes[a]; v != "" {
				key(p.hash(a, p.fold(a, v)))
			}
		}
		return
	}
	if u.Username != "" {
		key(p.hash(kindUsername, p.fold(kindUsername, u.Username)))
	}
	if sub := u.Attributes["sub"]; sub != "" && u.Username == sub {
		for _, a := range []string{"email", "phone_number"} {
			if v := u.Attributes[a]; v != "" {
				key(p.hash(kindUsername, p.fold(a, v)))
			}
		}
	}
	for _, a := range aliasOrder {
		if v := u.Attributes[a]; v != "" && slices.Contains(r.AliasAttributes, a) {
			key(p.hash(a, p.fold(a, v)))
		}
	}
}

// newKeys is oldKeys for a new user, in the order they are tried.
func (p *Progress) newKeys(u ListedUser, key func(uint64)) {
	r := p.rule
	if r.LegacySub != "" {
		if v := u.Attributes[r.LegacySub]; v != "" {
			key(p.hash(kindLegacySub, v))
		}
		return
	}
	if len(r.UsernameAttributes) > 0 {
		for _, a := range r.UsernameAttributes {
			if v := u.Attributes[a]; v != "" {
				key(p.hash(a, p.fold(a, v)))
			}
		}
		return
	}
	if u.Username != "" {
		key(p.hash(kindUsername, p.fold(kindUsername, u.Username)))
	}
	for _, a := range aliasOrder {
		if v := u.Attributes[a]; v != "" && slices.Contains(r.AliasAttributes, a) {
			key(p.hash(a, p.fold(a, v)))
		}
	}
}

var aliasOrder = []string{"email", "phone_number", "preferred_username"}

// fold applies the new pool's case rule to a value of kind.
func (p *Progress) fold(kind, v string) string {
	if p.rule.CaseSensitive || kind == "phone_number" {
		return v
	}
	return FoldASCII(v)
}

func (p *Progress) hash(kind, v string) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.WriteString(kind)
	h.WriteByte(0)
	h.WriteString(v)
	return h.Sum64()
}

// Report is what Progress found: the figures of the status command.
type Report struct {
	Old struct {
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"byStatus"`
		Disabled int            `json:"disabled"`
	} `json:"old"`
	New struct {
		Total int `json:"total"`
	} `json:"new"`
	Migrated          int            `json:"migrated"`
	Remaining         int            `json:"remaining"`
	RemainingByStatus map[string]int `json:"remainingByStatus"`
	PerDay            []DayCount     `json:"perDay"`
	// Pools are the figures of each old pool, in order, when there are
	// several (a merge); Old, Migrated and Remaining are their sums.
	Pools []PoolFigures `json:"oldPools,omitempty"`
	// InScope and OutOfScope count the old users inside and outside
	// MIGRATE_ONLY, when it is set (CountScope). Out-of-scope users are
	// not remaining; one a new user matches still counts as migrated.
	InScope            *int           `json:"inScope,omitempty"`
	OutOfScope         *int           `json:"outOfScope,omitempty"`
	OutOfScopeByStatus map[string]int `json:"outOfScopeByStatus,omitempty"`
}

// PoolFigures are one old pool's part of a Report.
type PoolFigures struct {
	// Name is the pool's number ("1" for OLD_*, "2" for OLD_2_*...).
	Name       string         `json:"name"`
	UserPoolID string         `json:"userPoolId"`
	Total      int            `json:"total"`
	ByStatus   map[string]int `json:"byStatus"`
	Disabled   int            `json:"disabled"`
	// Migrated counts the pool's users a new user matches.
	Migrated  int `json:"migrated"`
	Remaining int `json:"remaining"`
	// OutOfScope is set with CountScope.
	OutOfScope *int `json:"outOfScope,omitempty"`
}

// DayCount is the number of users migrated on one UTC day.
type DayCount struct {
	// Date is the day, YYYY-MM-DD, in UTC.
	Date     string `json:"date"`
	Migrated int    `json:"migrated"`
}

// PerDayWindow is how many days Report's PerDay covers.
const PerDayWindow = 30

// Report returns the figures so far. PerDay lists the PerDayWindow UTC days
// ending with now's, oldest first, zero-filled; it counts matched new users
// by their creation date.
func (p *Progress) Report(now time.Time) Report {
	var r Report
	r.Old.Total = p.oldTotal
	r.Old.Disabled = p.disabled
	r.Old.ByStatus = map[string]int{}
	r.RemainingByStatus = map[string]int{}
	if len(p.pools) > 1 {
		for _, m := range p.pools {
			f := PoolFigures{Name: m.name, UserPoolID: m.id, ByStatus: map[string]int{}, Disabled: m.disabled}
			if p.scoped {
				f.OutOfScope = new(int)
			}
			r.Pools = append(r.Pools, f)
		}
	}
	if p.scoped {
		r.InScope, r.OutOfScope, r.OutOfScopeByStatus = new(int), new(int), map[string]int{}
	}
	pool := -1
	for i, code := range p.status {
		for len(r.Pools) > 0 && pool+1 < len(p.pools) && i >= p.pools[pool+1].start {
			pool++
		}
		var f *PoolFigures
		if pool >= 0 {
			f = &r.Pools[pool]
		}
		s := p.statuses[code]
		r.Old.ByStatus[s]++
		matched := p.matched[i/64]&(1<<(i%64)) != 0
		out := p.scoped && p.outOfScope[i/64]&(1<<(i%64)) != 0
		if f != nil {
			f.Total++
			f.ByStatus[s]++
			if matched {
				f.Migrated++
			}
		}
		switch {
		case out:
			*r.OutOfScope++
			r.OutOfScopeByStatus[s]++
			if f != nil {
				*f.OutOfScope++
			}
		case !matched:
			r.RemainingByStatus[s]++
			r.Remaining++
			if f != nil {
				f.Remaining++
			}
		}
	}
	if p.scoped {
		*r.InScope = p.oldTotal - *r.OutOfScope
	}
	r.New.Total = p.newTotal
	r.Migrated = p.migrated
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for i := PerDayWindow - 1; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		y, m, d := day.Date()
		r.PerDay = append(r.PerDay, DayCount{Date: day.Format(time.DateOnly), Migrated: p.perDay[civilDay{y, m, d}]})
	}
	return r
}

// Statuses lists the statuses seen among old users, sorted.
func (r Report) Statuses() []string {
	return slices.Sorted(maps.Keys(r.Old.ByStatus))
}

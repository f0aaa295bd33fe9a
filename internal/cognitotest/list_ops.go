package cognitotest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The listing operations the status and check commands use (ListUsers,
// ListUserPoolClients, GetUserPoolMfaConfig), registered in fake.go's
// operations table, each wrapped by limited for SetRateLimit.

// maxListLimit is the largest Limit of ListUsers and MaxResults of
// ListUserPoolClients Cognito accepts (API reference: 0-60 and 1-60).
const maxListLimit = 60

// listState is the fake's state for these operations, the Fake's list
// field, as adminState is its admin field; guarded by the Fake's mu.
type listState struct {
	rates      map[string]*rateLimit
	shortPages bool
	mfa        map[string]map[string]any // GetUserPoolMfaConfig answers by pool ID
}

// rateLimit is a quota of perSecond calls in any one-second window.
type rateLimit struct {
	perSecond int
	accepted  []time.Time // the accepted calls of the last second, oldest first
	refused   int
}

func newListState() listState {
	return listState{rates: map[string]*rateLimit{}, mfa: map[string]map[string]any{}}
}

// lists returns the Fake's listState (its lists field).
func (f *Fake) lists() *listState { return &f.list }

// SetRateLimit enforces a quota of perSecond calls of op (ListUsers,
// ListUserPoolClients or GetUserPoolMfaConfig) in any one-second window:
// calls beyond it get TooManyRequestsException, as Cognito's quotas do
// (ListUsers: 30 per second, not adjustable). perSecond <= 0 removes it.
func (f *Fake) SetRateLimit(op string, perSecond int) {
	s := f.lists()
	f.mu.Lock()
	defer f.mu.Unlock()
	if perSecond <= 0 {
		delete(s.rates, op)
		return
	}
	s.rates[op] = &rateLimit{perSecond: perSecond}
}

// Throttled returns how many calls of op SetRateLimit's quota refused.
func (f *Fake) Throttled(op string) int {
	s := f.lists()
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := s.rates[op]; r != nil {
		return r.refused
	}
	return 0
}

// SetShortPages makes ListUsers answer short pages, as Cognito may: of every
// three pages the second holds half the Limit and the third none, each
// still with a PaginationToken when users remain.
func (f *Fake) SetShortPages(on bool) {
	s := f.lists()
	f.mu.Lock()
	defer f.mu.Unlock()
	s.shortPages = on
}

// PutUserPoolMfaConfig stores what GetUserPoolMfaConfig answers for a pool
// added earlier (the whole response, as JSON). Without it the answer holds
// only the pool's MfaConfiguration.
func (f *Fake) PutUserPoolMfaConfig(poolID string, desc []byte) {
	if f.tb != nil {
		f.tb.Helper()
	}
	var m map[string]any
	if err := json.Unmarshal(desc, &m); err != nil {
		f.misuse("cognitotest: PutUserPoolMfaConfig: %v", err)
	}
	s := f.lists()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[poolID]; !ok {
		f.misuse("cognitotest: PutUserPoolMfaConfig: unknown pool %q", poolID)
	}
	s.mfa[poolID] = m
}

// limited wraps an operation with the quota SetRateLimit may set for op.
func limited(op string, handle operation) operation {
	return func(f *Fake, body []byte) (any, *apiError) {
		s := f.lists()
		f.mu.Lock()
		r := s.rates[op]
		if r != nil {
			now := time.Now()
			i := 0
			for i < len(r.accepted) && now.Sub(r.accepted[i]) >= time.Second {
				i++
			}
			r.accepted = r.accepted[i:]
			if len(r.accepted) >= r.perSecond {
				r.refused++
				f.mu.Unlock()
				return nil, errorf("TooManyRequestsException", "Rate exceeded")
			}
			r.accepted = append(r.accepted, now)
		}
		f.mu.Unlock()
		return handle(f, body)
	}
}

type listUsersInput struct {
	UserPoolId      string
	Limit           *int
	PaginationToken *string
	Filter          string
	AttributesToGet []string
}

type listedUser struct {
	Username             string
	Attributes           []attribute
	UserCreateDate       float64
	UserLastModifiedDate float64
	Enabled              bool
	UserStatus           string
}

// pageToken is what a PaginationToken carries: where the next page starts,
// which page it is, and the Filter it belongs to.
type pageToken struct {
	Offset int    `json:"o"`
	Page   int    `json:"p"`
	Filter string `json:"f"`
}

// filterSyntax is ListUsers' Filter: one attribute, "=" or "^=", a quoted
// value with \" escapes; spaces around the operator are optional.
var filterSyntax = regexp.MustCompile(`^\s*([a-zA-Z_:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$`)

// searchable are the attributes a Filter may name (ListUsers API reference).
var searchable = []string{"username", "email", "phone_number", "name", "given_name", "family_name",
	"preferred_username", "cognito:user_status", "status", "sub"}

// listUsers implements ListUsers with real pagination: Limit 0-60 (0 or
// absent: 60), a PaginationToken valid only with the Filter it was issued
// for, users in a stable order.
func (f *Fake) listUsers(body []byte) (any, *apiError) {
	var in listUsersInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	limit := maxListLimit
	if in.Limit != nil {
		if *in.Limit < 0 || *in.Limit > maxListLimit {
			return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60", *in.Limit)
		}
		if *in.Limit > 0 {
			limit = *in.Limit
		}
	}
	match, apiErr := parseFilter(in.Filter)
	if apiErr != nil {
		return nil, apiErr
	}
	tok := pageToken{Filter: in.Filter}
	if in.PaginationToken != nil {
		var err *apiError
		if tok, err = readToken(*in.PaginationToken); err != nil {
			return nil, err
		}
		if tok.Filter != in.Filter {
			return nil, errorf("InvalidParameterException", "Pagination token does not match the request's parameters")
		}
	}
	s := f.lists()
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pools[in.UserPoolId]
	if !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	size := limit
	if s.shortPages {
		switch tok.Page % 3 {
		case 1:
			size = limit / 2
		case 2:
			size = 0
		}
	}
	out := struct {
		Users           []listedUser
		PaginationToken string `json:",omitempty"`
	}{Users: []listedUser{}}
	i := tok.Offset
	for ; i < len(p.users) && len(out.Users) < size; i++ {
		u := p.users[i]
		if !match(p, u) {
			continue
		}
		lu := listedUser{
			Username: u.Username, Enabled: u.Enabled, UserStatus: u.Status,
			UserCreateDate: epochSeconds(u.Created), UserLastModifiedDate: epochSeconds(u.LastModified),
		}
		for _, a := range attributeList(u.Attributes) {
			if len(in.AttributesToGet) == 0 || slices.Contains(in.AttributesToGet, a.Name) {
				lu.Attributes = append(lu.Attributes, a)
			}
		}
		out.Users = append(out.Users, lu)
	}
	for i < len(p.users) && !match(p, p.users[i]) {
		i++
	}
	if i < len(p.users) {
		out.PaginationToken = writeToken(pageToken{Offset: i, Page: tok.Page + 1, Filter: in.Filter})
	}
	return out, nil
}

func writeToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.StdEncoding.EncodeToString(b)
}

func readToken(s string) (pageToken, *apiError) {
	var t pageToken
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &t) != nil || t.Offset < 0 {
		return pageToken{}, errorf("InvalidParameterException", "Invalid pagination token")
	}
	return t, nil
}

// parseFilter returns the predicate of a ListUsers Filter ("" matches all).
func parseFilter(filter string) (func(*poolState, *User) bool, *apiError) {
	if filter == "" {
		return func(*poolState, *User) bool { return true }, nil
	}
	if len(filter) > 256 {
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value at 'filter' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	m := filterSyntax.FindStringSubmatch(filter)
	if m == nil {
		return nil, errorf("InvalidParameterException", "Error while parsing filter.")
	}
	attr, prefix := m[1], m[2] == "^="
	want := strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[3])
	if !slices.Contains(searchable, attr) {
		return nil, errorf("InvalidParameterException", "Invalid search attribute: %s", attr)
	}
	cmp := func(got, want string, fold bool) bool {
		if fold {
			got, want = strings.ToLower(got), strings.ToLower(want)
		}
		if prefix {
			return strings.HasPrefix(got, want)
		}
		return got == want
	}
	return func(p *poolState, u *User) bool {
		switch attr {
		case "username":
			return cmp(u.Username, want, false)
		case "cognito:user_status":
			return cmp(u.Status, want, true)
		case "status":
			st := "Disabled"
			if u.Enabled {
				st = "Enabled"
			}
			return cmp(st, want, false)
		}
		v, ok := u.Attributes[attr]
		return ok && cmp(v, want, false)
	}, nil
}

// listUserPoolClients implements ListUserPoolClients: MaxResults 1-60
// (absent: 60), NextToken, clients ordered by ID.
func (f *Fake) listUserPoolClients(body []byte) (any, *apiError) {
	var in struct {
		UserPoolId string
		MaxResults *int
		NextToken  *string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	limit := maxListLimit
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxListLimit {
			return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*in.NextToken, "clients-"))
		if err != nil || n < 0 || !strings.HasPrefix(*in.NextToken, "clients-") {
			return nil, errorf("InvalidParameterException", "Invalid next token")
		}
		start = n
	}
	a := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[in.UserPoolId]; !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(f.clients)) {
		if f.clients[id].PoolID == in.UserPoolId {
			ids = append(ids, id)
		}
	}
	type description struct{ ClientId, ClientName, UserPoolId string }
	out := struct {
		UserPoolClients []description
		NextToken       string `json:",omitempty"`
	}{UserPoolClients: []description{}}
	end := min(start+limit, len(ids))
	for _, id := range ids[min(start, len(ids)):end] {
		name, _ := f.describedClient(a, id)["ClientName"].(string)
		out.UserPoolClients = append(out.UserPoolClients, description{ClientId: id, ClientName: name, UserPoolId: in.UserPoolId})
	}
	if end < len(ids) {
		out.NextToken = fmt.Sprintf("clients-%d", end)
	}
	return out, nil
}

// getUserPoolMfaConfig answers what PutUserPoolMfaConfig stored, or the
// pool's MfaConfiguration alone.
func (f *Fake) getUserPoolMfaConfig(body []byte) (any, *apiError) {
	var in struct{ UserPoolId string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s := f.lists()
	a := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := s.mfa[in.UserPoolId]; ok {
		return m, nil
	}
	p := f.describedPool(a, in.UserPoolId)
	if p == nil {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	mfa, _ := p["MfaConfiguration"].(string)
	if mfa == "" {
		mfa = "OFF"
	}
	return map[string]any{"MfaConfiguration": mfa}, nil
}

package cognitotest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"weak"
)

// Groups, ListUsers and the pre token generation trigger. They live in
// this file, beside the Fake (whose struct they do not change), in a side
// state guarded by the Fake's mu, like admin_ops.go.
//
// Unlike some emulators, the fake behaves as Cognito documents: CreateGroup
// refuses an existing name (GroupExistsException), AdminListGroupsForUser
// and ListUsers paginate (at most 60 per page), and the pre token
// generation trigger receives the user's groups in groupConfiguration and
// its groupOverrideDetails decide the tokens' cognito:groups.
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html

func init() {
	operations["CreateGroup"] = (*Fake).createGroup
	operations["GetGroup"] = (*Fake).getGroup
	operations["AdminAddUserToGroup"] = (*Fake).adminAddUserToGroup
	operations["AdminListGroupsForUser"] = (*Fake).adminListGroupsForUser
	operations["AdminDeleteUserAttributes"] = (*Fake).adminDeleteUserAttributes
	operations["ListUsers"] = (*Fake).listUsers
	initiate := operations["AdminInitiateAuth"]
	operations["AdminInitiateAuth"] = func(f *Fake, body []byte) (any, *apiError) {
		out, err := initiate(f, body)
		if err != nil {
			return out, err
		}
		return f.generateTokens(body, out)
	}
}

// Group is a group of a fake pool.
type Group struct {
	Name        string
	Description string
	// Precedence is nil for a group without one.
	Precedence *int32
	// Members are real usernames.
	Members []string
}

// PreTokenGeneration is a pre token generation trigger: it gets the event
// JSON and returns the answer, as a Lambda function would.
type PreTokenGeneration func(event []byte) ([]byte, error)

type groupState struct {
	groups   map[string][]*Group // by pool id, in creation order
	preToken map[string]PreTokenGeneration
	version  map[string]string
}

var groupStates sync.Map // weak.Pointer[Fake] -> *groupState

func (f *Fake) groupState() *groupState {
	key := weak.Make(f)
	if s, ok := groupStates.Load(key); ok {
		return s.(*groupState)
	}
	s, loaded := groupStates.LoadOrStore(key, &groupState{groups: map[string][]*Group{},
		preToken: map[string]PreTokenGeneration{}, version: map[string]string{}})
	if !loaded {
		runtime.AddCleanup(f, func(k weak.Pointer[Fake]) { groupStates.Delete(k) }, key)
	}
	return s.(*groupState)
}

// AddGroup creates a group in pool poolID.
func (f *Fake) AddGroup(poolID string, g Group) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.groupState()
	c := g
	c.Members = slices.Clone(g.Members)
	s.groups[poolID] = append(s.groups[poolID], &c)
}

// Group returns a copy of a group of pool poolID, and whether it exists.
func (f *Fake) Group(poolID, name string) (Group, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.findGroup(poolID, name)
	if g == nil {
		return Group{}, false
	}
	c := *g
	c.Members = slices.Clone(g.Members)
	return c, true
}

// UserAttributes returns a copy of a user's attributes (nil when there is
// no such user).
func (f *Fake) UserAttributes(poolID, username string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pools[poolID]
	if p == nil {
		return nil
	}
	u := p.lookup(username, true)
	if u == nil {
		return nil
	}
	out := make(map[string]string, len(u.Attributes))
	for k, v := range u.Attributes {
		out[k] = v
	}
	return out
}

// SetPreTokenGeneration attaches fn to pool poolID as its pre token
// generation trigger, sent events of version ("1" for V1_0, "2" for V2_0).
func (f *Fake) SetPreTokenGeneration(poolID, version string, fn PreTokenGeneration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.groupState()
	s.preToken[poolID], s.version[poolID] = fn, version
}

// findGroup: f.mu is held.
func (f *Fake) findGroup(poolID, name string) *Group {
	for _, g := range f.groupState().groups[poolID] {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// memberOf lists username's groups in pool poolID: f.mu is held.
func (f *Fake) memberOf(poolID, username string) []*Group {
	var out []*Group
	for _, g := range f.groupState().groups[poolID] {
		if slices.Contains(g.Members, username) {
			out = append(out, g)
		}
	}
	return out
}

type groupOut struct {
	GroupName   string
	UserPoolId  string
	Description string `json:",omitempty"`
	Precedence  *int32 `json:",omitempty"`
}

func (g *Group) out(poolID string) groupOut {
	return groupOut{GroupName: g.Name, UserPoolId: poolID, Description: g.Description, Precedence: g.Precedence}
}

type groupInput struct {
	UserPoolId, GroupName, Username, Description string
	Precedence                                   *int32
}

func (f *Fake) pool(id string) (*poolState, *apiError) {
	p, ok := f.pools[id]
	if !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, id)
	}
	return p, nil
}

func (f *Fake) createGroup(body []byte) (any, *apiError) {
	var in groupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.pool(in.UserPoolId); err != nil {
		return nil, err
	}
	if f.findGroup(in.UserPoolId, in.GroupName) != nil {
		return nil, errorf("GroupExistsException", "A group with the name %s already exists.", in.GroupName)
	}
	g := &Group{Name: in.GroupName, Description: in.Description, Precedence: in.Precedence}
	s := f.groupState()
	s.groups[in.UserPoolId] = append(s.groups[in.UserPoolId], g)
	return map[string]any{"Group": g.out(in.UserPoolId)}, nil
}

func (f *Fake) getGroup(body []byte) (any, *apiError) {
	var in groupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.pool(in.UserPoolId); err != nil {
		return nil, err
	}
	g := f.findGroup(in.UserPoolId, in.GroupName)
	if g == nil {
		return nil, errorf("ResourceNotFoundException", "Group not found.")
	}
	return map[string]any{"Group": g.out(in.UserPoolId)}, nil
}

func (f *Fake) adminAddUserToGroup(body []byte) (any, *apiError) {
	var in groupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.pool(in.UserPoolId)
	if err != nil {
		return nil, err
	}
	u := p.lookup(in.Username, true)
	if u == nil {
		return nil, errorf("UserNotFoundException", msgUserNotFound)
	}
	g := f.findGroup(in.UserPoolId, in.GroupName)
	if g == nil {
		return nil, errorf("ResourceNotFoundException", "Group not found.")
	}
	if !slices.Contains(g.Members, u.Username) {
		g.Members = append(g.Members, u.Username)
	}
	return map[string]any{}, nil
}

// pageSize reads a Limit (1 to 60; 60 when absent).
func pageSize(limit *int) (int, *apiError) {
	if limit == nil {
		return 60, nil
	}
	if *limit < 1 || *limit > 60 {
		return 0, errorf("InvalidParameterException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60", *limit)
	}
	return *limit, nil
}

// page returns items [token, token+size) and the next token ("" at the end).
func page[T any](items []T, token string, size int) ([]T, string, *apiError) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(token, "page-"))
		if err != nil || n < 0 || n > len(items) {
			return nil, "", errorf("InvalidParameterException", "Invalid pagination token")
		}
		start = n
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = "page-" + strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func (f *Fake) adminListGroupsForUser(body []byte) (any, *apiError) {
	var in struct {
		UserPoolId, Username, NextToken string
		Limit                           *int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	size, aerr := pageSize(in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.pool(in.UserPoolId)
	if err != nil {
		return nil, err
	}
	u := p.lookup(in.Username, true)
	if u == nil {
		return nil, errorf("UserNotFoundException", msgUserNotFound)
	}
	groups, next, aerr := page(f.memberOf(in.UserPoolId, u.Username), in.NextToken, size)
	if aerr != nil {
		return nil, aerr
	}
	out := []groupOut{}
	for _, g := range groups {
		out = append(out, g.out(in.UserPoolId))
	}
	resp := map[string]any{"Groups": out}
	if next != "" {
		resp["NextToken"] = next
	}
	return resp, nil
}

func (f *Fake) adminDeleteUserAttributes(body []byte) (any, *apiError) {
	var in struct {
		UserPoolId, Username string
		UserAttributeNames   []string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.pool(in.UserPoolId)
	if err != nil {
		return nil, err
	}
	u := p.lookup(in.Username, true)
	if u == nil {
		return nil, errorf("UserNotFoundException", msgUserNotFound)
	}
	for _, n := range in.UserAttributeNames {
		delete(u.Attributes, n)
	}
	return map[string]any{}, nil
}

// listFilter is ListUsers' Filter: attr = "value" or attr ^= "value", with
// \" and \\ escapes.
var listFilter = regexp.MustCompile(`^\s*([\w:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$`)

func (f *Fake) listUsers(body []byte) (any, *apiError) {
	var in struct {
		UserPoolId, Filter, PaginationToken string
		Limit                               *int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	size, aerr := pageSize(in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	var attr, op, value string
	if in.Filter != "" {
		m := listFilter.FindStringSubmatch(in.Filter)
		if m == nil {
			return nil, errorf("InvalidParameterException", "Error while parsing filter.")
		}
		attr, op = m[1], m[2]
		value = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[3])
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.pool(in.UserPoolId)
	if err != nil {
		return nil, err
	}
	var matched []*User
	for _, u := range p.users {
		v := u.Attributes[attr]
		if attr == "username" {
			v = u.Username
		}
		switch {
		case attr == "":
		case op == "=" && v == value:
		case op == "^=" && strings.HasPrefix(v, value):
		default:
			continue
		}
		matched = append(matched, u)
	}
	users, next, aerr := page(matched, in.PaginationToken, size)
	if aerr != nil {
		return nil, aerr
	}
	out := []map[string]any{}
	for _, u := range users {
		out = append(out, map[string]any{"Username": u.Username, "Attributes": attributeList(u.Attributes),
			"UserStatus": u.Status, "Enabled": u.Enabled})
	}
	resp := map[string]any{"Users": out}
	if next != "" {
		resp["PaginationToken"] = next
	}
	return resp, nil
}

// generateTokens runs the pool's pre token generation trigger, if any, for
// tokens AdminInitiateAuth is about to return, and applies its group
// override and suppressed claims. Without a trigger, the tokens carry the
// user's groups. The trigger runs without f.mu held: it may call back.
func (f *Fake) generateTokens(body []byte, out any) (any, *apiError) {
	res, ok := out.(adminInitiateAuthOutput)
	if !ok || res.AuthenticationResult == nil {
		return out, nil
	}
	var in adminInitiateAuthInput
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	p := f.pools[in.UserPoolId]
	u := p.lookup(in.AuthParameters["USERNAME"], false)
	username, attrs := u.Username, map[string]string{}
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	var groups []string
	for _, g := range f.memberOf(in.UserPoolId, u.Username) {
		groups = append(groups, g.Name)
	}
	s := f.groupState()
	trigger, version := s.preToken[in.UserPoolId], s.version[in.UserPoolId]
	f.mu.Unlock()

	if trigger == nil && len(groups) == 0 {
		return out, nil // the tokens as they were
	}
	var suppress []string
	if trigger == nil {
		attrs = nil // custom claims only where a trigger could suppress them
	} else {
		event, _ := json.Marshal(map[string]any{
			"version": version, "triggerSource": "TokenGeneration_Authentication", "region": Region,
			"userPoolId": in.UserPoolId, "userName": username,
			"callerContext": map[string]any{"awsSdkVersion": "cognitotest", "clientId": in.ClientId},
			"request":       map[string]any{"userAttributes": attrs, "groupConfiguration": map[string]any{"groupsToOverride": nonNilList(groups), "iamRolesToOverride": []string{}}},
			"response":      map[string]any{"claimsOverrideDetails": nil},
		})
		answer, err := trigger(event)
		if err != nil {
			return nil, errorf("UserLambdaValidationException", "PreTokenGeneration failed with error %s.", err)
		}
		var resp struct {
			Response struct {
				V1 *struct {
					ClaimsToSuppress     []string
					GroupOverrideDetails *struct{ GroupsToOverride *[]string }
				} `json:"claimsOverrideDetails"`
				V2 *struct {
					IDTokenGeneration *struct {
						ClaimsToSuppress []string `json:"claimsToSuppress"`
					} `json:"idTokenGeneration"`
					GroupOverrideDetails *struct{ GroupsToOverride *[]string }
				} `json:"claimsAndScopeOverrideDetails"`
			} `json:"response"`
		}
		if err := json.Unmarshal(answer, &resp); err != nil {
			return nil, errorf("InvalidLambdaResponseException", "Invalid lambda response: %v", err)
		}
		if r := resp.Response.V1; r != nil {
			suppress = r.ClaimsToSuppress
			if r.GroupOverrideDetails != nil && r.GroupOverrideDetails.GroupsToOverride != nil {
				groups = *r.GroupOverrideDetails.GroupsToOverride
			}
		}
		if r := resp.Response.V2; r != nil {
			if r.IDTokenGeneration != nil {
				suppress = r.IDTokenGeneration.ClaimsToSuppress
			}
			if r.GroupOverrideDetails != nil && r.GroupOverrideDetails.GroupsToOverride != nil {
				groups = *r.GroupOverrideDetails.GroupsToOverride
			}
		}
	}
	ar := *res.AuthenticationResult
	var err error
	if ar.IdToken, err = withClaims(ar.IdToken, groups, attrs, suppress); err != nil {
		return nil, errorf("InternalErrorException", "%v", err)
	}
	if ar.AccessToken, err = withClaims(ar.AccessToken, groups, nil, nil); err != nil {
		return nil, errorf("InternalErrorException", "%v", err)
	}
	res.AuthenticationResult = &ar
	return res, nil
}

// withClaims re-mints a fake JWT with cognito:groups (when there are any),
// the custom attributes of attrs (ID tokens carry them), less suppress.
func withClaims(token string, groups []string, attrs map[string]string, suppress []string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("cognitotest: token with %d parts", len(parts))
	}
	b, err := b64urlDecode(parts[1])
	if err != nil {
		return "", err
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		return "", err
	}
	if len(groups) > 0 {
		claims["cognito:groups"] = groups
	}
	for k, v := range attrs {
		if strings.HasPrefix(k, "custom:") {
			claims[k] = v
		}
	}
	for _, k := range suppress {
		delete(claims, k)
	}
	return jwt(claims), nil
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func b64urlDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

package cognitotest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// A user's groups (AdminListGroupsForUser, paginated at most 60 a page),
// AdminDeleteUserAttributes, and the pre token generation trigger, which
// receives the user's groups in groupConfiguration and whose
// groupOverrideDetails decide the tokens' cognito:groups, as Cognito
// documents (some emulators ignore it). The groups themselves are those of
// importjobs.go; the trigger lives in a side state guarded by the Fake's
// mu, like admin_ops.go's.
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html

// signIn is AdminInitiateAuth with the pool's pre token generation
// trigger, when one is set, applied to the tokens.
func (f *Fake) signIn(body []byte) (any, *apiError) {
	out, err := f.adminInitiateAuth(body)
	if err != nil {
		return out, err
	}
	return f.generateTokens(body, out)
}

// GroupSpec is a group of a fake pool, for PutGroup and GroupSpecOf.
type GroupSpec struct {
	Name        string
	Description string
	// Precedence is nil for a group without one.
	Precedence *int64
	// Members are real usernames.
	Members []string
}

// PreTokenGeneration is a pre token generation trigger: it gets the event
// JSON and returns the answer, as a Lambda function would.
type PreTokenGeneration func(event []byte) ([]byte, error)

type tokenTriggers struct {
	fn      map[string]PreTokenGeneration
	version map[string]string
}

func (f *Fake) tokenTriggers() *tokenTriggers {
	f.tokensOnce.Do(func() {
		f.tokens = tokenTriggers{fn: map[string]PreTokenGeneration{}, version: map[string]string{}}
	})
	return &f.tokens
}

// PutGroup adds a group, with its description, precedence and members, to a
// pool added earlier.
func (f *Fake) PutGroup(poolID string, g GroupSpec) {
	f.tb.Helper()
	f.AddGroup(poolID, g.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	gr := f.imports.groups[poolID][g.Name]
	gr.Description, gr.Precedence, gr.members = g.Description, g.Precedence, slices.Clone(g.Members)
}

// GroupSpecOf returns a group of pool poolID, and whether it exists.
func (f *Fake) GroupSpecOf(poolID, name string) (GroupSpec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports.init()
	g := f.imports.groups[poolID][name]
	if g == nil {
		return GroupSpec{}, false
	}
	return GroupSpec{Name: g.GroupName, Description: g.Description, Precedence: g.Precedence, Members: slices.Clone(g.members)}, true
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
	return maps.Clone(u.Attributes)
}

// SetPreTokenGeneration attaches fn to pool poolID as its pre token
// generation trigger, sent events of version ("1" for V1_0, "2" for V2_0).
func (f *Fake) SetPreTokenGeneration(poolID, version string, fn PreTokenGeneration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.tokenTriggers()
	s.fn[poolID], s.version[poolID] = fn, version
}

// memberOf lists username's groups in pool poolID, by name; f.mu is held.
func (f *Fake) memberOf(poolID, username string) []*group {
	f.imports.init()
	var out []*group
	for _, name := range slices.Sorted(maps.Keys(f.imports.groups[poolID])) {
		if g := f.imports.groups[poolID][name]; slices.Contains(g.members, username) {
			out = append(out, g)
		}
	}
	return out
}

func (f *Fake) adminListGroupsForUser(body []byte) (any, *apiError) {
	var in struct {
		UserPoolId, Username, NextToken string
		Limit                           *int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	size := 60
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 60 {
			return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60", *in.Limit)
		}
		size = *in.Limit
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, u, err := f.userOf(in.UserPoolId, in.Username)
	if err != nil {
		return nil, err
	}
	groups := f.memberOf(in.UserPoolId, u.Username)
	start := 0
	if in.NextToken != "" {
		n, perr := strconv.Atoi(strings.TrimPrefix(in.NextToken, "page-"))
		if perr != nil || n < 0 || n > len(groups) {
			return nil, errorf("InvalidParameterException", "Invalid pagination token")
		}
		start = n
	}
	end := min(start+size, len(groups))
	out := []group{}
	for _, g := range groups[start:end] {
		out = append(out, *g)
	}
	resp := map[string]any{"Groups": out}
	if end < len(groups) {
		resp["NextToken"] = "page-" + strconv.Itoa(end)
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
	_, u, err := f.userOf(in.UserPoolId, in.Username)
	if err != nil {
		return nil, err
	}
	for _, n := range in.UserAttributeNames {
		delete(u.Attributes, n)
	}
	return map[string]any{}, nil
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
		groups = append(groups, g.GroupName)
	}
	s := f.tokenTriggers()
	trigger, version := s.fn[in.UserPoolId], s.version[in.UserPoolId]
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

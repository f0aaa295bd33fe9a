package cognitotest

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// msgTemporaryPasswordValidity is Cognito's answer to an UpdateUserPool that
// sends AdminCreateUserConfig.UnusedAccountValidityDays next to
// Policies.PasswordPolicy.TemporaryPasswordValidityDays (docs/cognito-behaviour.md §4.2;
// hashicorp/terraform-provider-aws retries on exactly this message).
const msgTemporaryPasswordValidity = "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays"

// adminState holds the configuration of the fake's pools and app clients as
// DescribeUserPool and DescribeUserPoolClient return them, as decoded JSON.
// It is the Fake's admin field, guarded by the Fake's mu.
type adminState struct {
	pools   map[string]map[string]any // by pool ID
	clients map[string]map[string]any // by client ID
}

func newAdminState() adminState {
	return adminState{
		pools:   make(map[string]map[string]any),
		clients: make(map[string]map[string]any),
	}
}

// updatableKeys lists the members of an SDK Update*Input struct, which are
// the keys Cognito's Update* operation replaces; skip names the identifying
// members. Taking them from the SDK means the fake resets a member added to
// the API as soon as the SDK knows it, so a caller that forgets to copy it
// loses it here, as it would in AWS.
func updatableKeys(input any, skip ...string) []string {
	var keys []string
	t := reflect.TypeOf(input)
	for f := range t.Fields() {
		if f.IsExported() && !slices.Contains(skip, f.Name) {
			keys = append(keys, f.Name)
		}
	}
	return keys
}

var (
	userPoolUpdatableKeys       = updatableKeys(cip.UpdateUserPoolInput{}, "UserPoolId")
	userPoolClientUpdatableKeys = updatableKeys(cip.UpdateUserPoolClientInput{}, "UserPoolId", "ClientId")
)

// userPoolDefaults are what an omitted UpdateUserPool member becomes, as
// DescribeUserPool shows a new pool's settings; members not listed are
// removed. The exact defaults are Cognito's business; what matters to tests
// is that an omitted setting does not survive.
func userPoolDefaults() map[string]any {
	return map[string]any{
		"MfaConfiguration":   "OFF",
		"DeletionProtection": "INACTIVE",
		"UserPoolTier":       "ESSENTIALS",
		"AdminCreateUserConfig": map[string]any{
			"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7.0,
		},
		"Policies": map[string]any{
			"PasswordPolicy": map[string]any{
				"MinimumLength": 8.0, "RequireUppercase": true, "RequireLowercase": true,
				"RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": 7.0,
			},
			"SignInPolicy": map[string]any{"AllowedFirstAuthFactors": []any{"PASSWORD"}},
		},
		"EmailConfiguration":          map[string]any{"EmailSendingAccount": "COGNITO_DEFAULT"},
		"VerificationMessageTemplate": map[string]any{"DefaultEmailOption": "CONFIRM_WITH_CODE"},
	}
}

// userPoolClientDefaults are what an omitted UpdateUserPoolClient member
// becomes (the API reference's defaults); members not listed are removed.
func userPoolClientDefaults() map[string]any {
	return map[string]any{
		"ExplicitAuthFlows":               []any{"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"},
		"PreventUserExistenceErrors":      "LEGACY",
		"RefreshTokenValidity":            30.0,
		"AllowedOAuthFlowsUserPoolClient": false,
		"AuthSessionValidity":             3.0,
		"EnableTokenRevocation":           true,
	}
}

// PutUserPool stores a pool's configuration as DescribeUserPool returns it:
// desc is the UserPool object or the whole DescribeUserPool response, with
// timestamps as epoch seconds. Its Id names the pool, which is added (as by
// AddPool with that ID alone) if it does not exist yet. PutUserPool fails the
// test on malformed JSON or a missing Id.
func (f *Fake) PutUserPool(desc []byte) {
	if f.tb != nil {
		f.tb.Helper()
	}
	pool := decodeDescription(f, "PutUserPool", desc, "UserPool")
	id, _ := pool["Id"].(string)
	if id == "" {
		f.misuse("cognitotest: PutUserPool: no Id in %s", desc)
	}
	f.mu.Lock()
	_, exists := f.pools[id]
	f.mu.Unlock()
	if !exists {
		f.AddPool(Pool{ID: id})
	}
	s := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	s.pools[id] = pool
}

// UserPool returns a copy of the pool's configuration as DescribeUserPool
// would return it, as decoded JSON (numbers are float64), or nil if the pool
// does not exist.
func (f *Fake) UserPool(poolID string) map[string]any {
	s := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.describedPool(s, poolID)
	if p == nil {
		return nil
	}
	return deepCopy(p)
}

// PutUserPoolClient stores an app client's configuration as
// DescribeUserPoolClient returns it: desc is the UserPoolClient object or the
// whole response. UserPoolId must name a pool added earlier; the client
// (ClientId, ClientSecret, ExplicitAuthFlows) is added for AdminInitiateAuth
// too, replacing an AppClient of that ID. It fails the test on malformed JSON
// or an unknown pool.
func (f *Fake) PutUserPoolClient(desc []byte) {
	if f.tb != nil {
		f.tb.Helper()
	}
	c := decodeDescription(f, "PutUserPoolClient", desc, "UserPoolClient")
	poolID, _ := c["UserPoolId"].(string)
	clientID, _ := c["ClientId"].(string)
	if clientID == "" {
		f.misuse("cognitotest: PutUserPoolClient: no ClientId in %s", desc)
	}
	s := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[poolID]; !ok {
		f.misuse("cognitotest: PutUserPoolClient(%q): unknown pool %q", clientID, poolID)
	}
	secret, _ := c["ClientSecret"].(string)
	f.clients[clientID] = AppClient{PoolID: poolID, ID: clientID, Secret: secret, Flows: stringList(c["ExplicitAuthFlows"])}
	s.clients[clientID] = c
}

// UserPoolClient returns a copy of the app client's configuration as
// DescribeUserPoolClient would return it, or nil if it does not exist.
func (f *Fake) UserPoolClient(clientID string) map[string]any {
	s := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.describedClient(s, clientID)
	if c == nil {
		return nil
	}
	return deepCopy(c)
}

func decodeDescription(f *Fake, op string, desc []byte, wrapper string) map[string]any {
	if f.tb != nil {
		f.tb.Helper()
	}
	var m map[string]any
	if err := json.Unmarshal(desc, &m); err != nil {
		f.misuse("cognitotest: %s: %v", op, err)
	}
	if inner, ok := m[wrapper].(map[string]any); ok && len(m) == 1 {
		m = inner
	}
	return m
}

// describedPool returns the stored description of a pool, making a minimal
// one for a pool added with AddPool alone; f.mu is held.
func (f *Fake) describedPool(s *adminState, poolID string) map[string]any {
	if p, ok := s.pools[poolID]; ok {
		return p
	}
	p, ok := f.pools[poolID]
	if !ok {
		return nil
	}
	region, _, _ := strings.Cut(poolID, "_")
	d := map[string]any{
		"Id":               poolID,
		"Name":             poolID,
		"Arn":              "arn:aws:cognito-idp:" + region + ":000000000000:userpool/" + poolID,
		"MfaConfiguration": "OFF",
	}
	if len(p.AliasAttributes) > 0 {
		d["AliasAttributes"] = anyList(p.AliasAttributes)
	}
	if len(p.UsernameAttributes) > 0 {
		d["UsernameAttributes"] = anyList(p.UsernameAttributes)
	}
	s.pools[poolID] = d
	return d
}

// describedClient is describedPool for app clients; f.mu is held.
func (f *Fake) describedClient(s *adminState, clientID string) map[string]any {
	if c, ok := s.clients[clientID]; ok {
		return c
	}
	c, ok := f.clients[clientID]
	if !ok {
		return nil
	}
	d := map[string]any{
		"UserPoolId":        c.PoolID,
		"ClientId":          c.ID,
		"ClientName":        c.ID,
		"ExplicitAuthFlows": anyList(c.Flows),
	}
	if c.Secret != "" {
		d["ClientSecret"] = c.Secret
	}
	if f.pools[c.PoolID].PreventUserExistenceErrors {
		d["PreventUserExistenceErrors"] = "ENABLED"
	} else {
		d["PreventUserExistenceErrors"] = "LEGACY"
	}
	s.clients[clientID] = d
	return d
}

func (f *Fake) describeUserPool(body []byte) (any, *apiError) {
	var in struct{ UserPoolId string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.describedPool(s, in.UserPoolId)
	if p == nil {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	return map[string]any{"UserPool": p}, nil
}

// updateUserPool replaces every updatable setting of the pool with the
// request's, resetting the ones the request leaves out, as Cognito does
// ("If you don't provide a value for an attribute, Amazon Cognito sets it to
// its default value", UpdateUserPool API reference). The pool's name is kept
// when PoolName is absent: it has no default.
func (f *Fake) updateUserPool(body []byte) (any, *apiError) {
	var in map[string]any
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, _ := in["UserPoolId"].(string)
	if id == "" {
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null")
	}
	if days := lookupPath(in, "AdminCreateUserConfig", "UnusedAccountValidityDays"); days != nil {
		if lookupPath(in, "Policies", "PasswordPolicy", "TemporaryPasswordValidityDays") != nil {
			return nil, errorf("InvalidParameterException", msgTemporaryPasswordValidity)
		}
	}
	s := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.describedPool(s, id)
	if p == nil {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, id)
	}
	defaults := userPoolDefaults()
	for _, k := range userPoolUpdatableKeys {
		stored := k
		if k == "PoolName" {
			stored = "Name"
		}
		switch v, ok := in[k]; {
		case ok:
			p[stored] = deepCopyValue(v)
		case k == "PoolName":
		case defaults[k] != nil:
			p[stored] = defaults[k]
		default:
			delete(p, stored)
		}
	}
	// DescribeUserPool keeps showing the legacy UnusedAccountValidityDays,
	// mirroring TemporaryPasswordValidityDays (as seen in describe-user-pool
	// output; not documented).
	if days := lookupPath(p, "Policies", "PasswordPolicy", "TemporaryPasswordValidityDays"); days != nil {
		if c, ok := p["AdminCreateUserConfig"].(map[string]any); ok {
			c["UnusedAccountValidityDays"] = days
		}
	}
	p["LastModifiedDate"] = epochSeconds(time.Now())
	return map[string]any{}, nil
}

func (f *Fake) describeUserPoolClient(body []byte) (any, *apiError) {
	var in struct{ UserPoolId, ClientId string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[in.UserPoolId]; !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	c := f.describedClient(s, in.ClientId)
	if c == nil || c["UserPoolId"] != in.UserPoolId {
		return nil, errorf("ResourceNotFoundException", msgClientNotFound, in.ClientId)
	}
	return map[string]any{"UserPoolClient": c}, nil
}

// legacyFlows are the ExplicitAuthFlows values from before the ALLOW_ names;
// Cognito refuses a list that mixes the two kinds.
var legacyFlows = []string{"ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH"}

// updateUserPoolClient is updateUserPool for app clients; the client's name
// is kept when ClientName is absent. The new ExplicitAuthFlows also apply to
// AdminInitiateAuth.
func (f *Fake) updateUserPoolClient(body []byte) (any, *apiError) {
	var in map[string]any
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	poolID, _ := in["UserPoolId"].(string)
	clientID, _ := in["ClientId"].(string)
	flows := stringList(in["ExplicitAuthFlows"])
	legacy, current := 0, 0
	for _, fl := range flows {
		if slices.Contains(legacyFlows, fl) {
			legacy++
		} else {
			current++
		}
	}
	if legacy > 0 && current > 0 {
		// The wording is the fake's; the refusal is documented.
		return nil, errorf("InvalidParameterException", "ExplicitAuthFlows cannot mix legacy values with values that begin with ALLOW_")
	}
	s := &f.admin
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[poolID]; !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, poolID)
	}
	c := f.describedClient(s, clientID)
	if c == nil || c["UserPoolId"] != poolID {
		return nil, errorf("ResourceNotFoundException", msgClientNotFound, clientID)
	}
	defaults := userPoolClientDefaults()
	for _, k := range userPoolClientUpdatableKeys {
		switch v, ok := in[k]; {
		case ok:
			c[k] = deepCopyValue(v)
		case k == "ClientName":
		case defaults[k] != nil:
			c[k] = defaults[k]
		default:
			delete(c, k)
		}
	}
	c["LastModifiedDate"] = epochSeconds(time.Now())
	ac := f.clients[clientID]
	ac.Flows = stringList(c["ExplicitAuthFlows"])
	f.clients[clientID] = ac
	return map[string]any{"UserPoolClient": c}, nil
}

// lookupPath returns the value at a path of nested JSON objects, or nil.
func lookupPath(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func deepCopy(m map[string]any) map[string]any {
	return deepCopyValue(m).(map[string]any)
}

// deepCopyValue copies decoded JSON.
func deepCopyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := maps.Clone(v)
		for k, x := range out {
			out[k] = deepCopyValue(x)
		}
		return out
	case []any:
		out := slices.Clone(v)
		for i, x := range out {
			out[i] = deepCopyValue(x)
		}
		return out
	}
	return v
}

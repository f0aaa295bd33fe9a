package cognitotest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// Messages of real Cognito errors (docs/cognito-behaviour.md §2.1). The codes are the
// contract; these texts are what clients have observed.
const (
	msgBadCredentials  = "Incorrect username or password."
	msgUserNotFound    = "User does not exist."
	msgDisabled        = "User is disabled."
	msgResetRequired   = "Password reset required for the user"
	msgNotConfirmed    = "User is not confirmed."
	msgFlowNotEnabled  = "Auth flow not enabled for this client"
	msgMissingUsername = "Missing required parameter USERNAME"
	msgMissingPassword = "Missing required parameter PASSWORD"
	msgSecretNotSent   = "Client %s is configured with secret but SECRET_HASH was not received"
	msgSecretMismatch  = "Unable to verify secret hash for client %s"
	msgPoolNotFound    = "User pool %s does not exist."
	msgClientNotFound  = "User pool client %s does not exist."
)

// tokenLifetime is ExpiresIn, in seconds: Cognito's default one-hour tokens.
const tokenLifetime = 3600

type adminInitiateAuthInput struct {
	UserPoolId     string
	ClientId       string
	AuthFlow       string
	AuthParameters map[string]string
	ClientMetadata map[string]string
}

type authenticationResult struct {
	AccessToken  string
	IdToken      string
	RefreshToken string
	ExpiresIn    int
	TokenType    string
}

type adminInitiateAuthOutput struct {
	AuthenticationResult *authenticationResult `json:",omitempty"`
	ChallengeName        string                `json:",omitempty"`
	ChallengeParameters  map[string]string
	Session              string `json:",omitempty"`
}

// adminInitiateAuth implements ADMIN_USER_PASSWORD_AUTH. The order of the
// status checks is a choice where Cognito's is undocumented (docs/cognito-behaviour.md §2.1, [U]):
// RESET_REQUIRED before the password, disabled and UNCONFIRMED after it.
func (f *Fake) adminInitiateAuth(body []byte) (any, *apiError) {
	var in adminInitiateAuthInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	p, ok := f.pools[in.UserPoolId]
	if !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	c, ok := f.clients[in.ClientId]
	if !ok || c.PoolID != p.ID {
		return nil, errorf("ResourceNotFoundException", msgClientNotFound, in.ClientId)
	}
	switch in.AuthFlow {
	case "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH": // ADMIN_NO_SRP_AUTH is the legacy name
		if !slices.Contains(c.Flows, "ALLOW_ADMIN_USER_PASSWORD_AUTH") && !slices.Contains(c.Flows, "ADMIN_NO_SRP_AUTH") {
			return nil, errorf("InvalidParameterException", msgFlowNotEnabled)
		}
	default:
		if slices.Contains(c.Flows, "ALLOW_"+in.AuthFlow) {
			return nil, errorf("InvalidParameterException", "cognitotest: auth flow %s is not implemented by the fake", in.AuthFlow)
		}
		return nil, errorf("InvalidParameterException", msgFlowNotEnabled)
	}

	username, ok := in.AuthParameters["USERNAME"]
	if !ok || username == "" {
		return nil, errorf("InvalidParameterException", msgMissingUsername)
	}
	if c.Secret != "" {
		got, ok := in.AuthParameters["SECRET_HASH"]
		if !ok {
			return nil, errorf("NotAuthorizedException", msgSecretNotSent, c.ID)
		}
		// The hash is over USERNAME exactly as sent, alias or not (docs/cognito-behaviour.md §2.4).
		if !hmac.Equal([]byte(got), []byte(SecretHash(c.Secret, username, c.ID))) {
			return nil, errorf("NotAuthorizedException", msgSecretMismatch, c.ID)
		}
	}
	password, ok := in.AuthParameters["PASSWORD"]
	if !ok {
		return nil, errorf("InvalidParameterException", msgMissingPassword)
	}

	u := p.lookup(username, false)
	if u == nil {
		if p.PreventUserExistenceErrors {
			return nil, errorf("NotAuthorizedException", msgBadCredentials)
		}
		return nil, errorf("UserNotFoundException", msgUserNotFound)
	}
	if u.Status == "RESET_REQUIRED" {
		// Imported users have no password to check.
		if p.PreventUserExistenceErrors {
			return nil, errorf("NotAuthorizedException", msgBadCredentials)
		}
		return nil, errorf("PasswordResetRequiredException", msgResetRequired)
	}
	if !hmac.Equal([]byte(password), []byte(u.Password)) {
		return nil, errorf("NotAuthorizedException", msgBadCredentials)
	}
	if !u.Enabled {
		return nil, errorf("NotAuthorizedException", msgDisabled)
	}
	if u.Status == "UNCONFIRMED" {
		return nil, errorf("UserNotConfirmedException", msgNotConfirmed)
	}

	if u.Status == "FORCE_CHANGE_PASSWORD" {
		attrs := maps.Clone(u.Attributes)
		delete(attrs, "sub") // not writable, so not offered for the new-password response
		ua, _ := json.Marshal(attrs)
		return adminInitiateAuthOutput{
			ChallengeName: "NEW_PASSWORD_REQUIRED",
			ChallengeParameters: map[string]string{
				"USER_ID_FOR_SRP":    u.Username,
				"requiredAttributes": "[]",
				"userAttributes":     string(ua),
			},
			Session: newSession(),
		}, nil
	}
	if u.Challenge != "" {
		return adminInitiateAuthOutput{
			ChallengeName:       u.Challenge,
			ChallengeParameters: challengeParameters(u),
			Session:             newSession(),
		}, nil
	}
	return adminInitiateAuthOutput{
		AuthenticationResult: &authenticationResult{
			AccessToken:  accessToken(p.ID, c.ID, u),
			IdToken:      idToken(p.ID, c.ID, u),
			RefreshToken: refreshToken(),
			ExpiresIn:    tokenLifetime,
			TokenType:    "Bearer",
		},
		// Cognito sends an empty map alongside tokens.
		ChallengeParameters: map[string]string{},
	}, nil
}

// challengeParameters are the parameters Cognito sends with an MFA challenge;
// USER_ID_FOR_SRP is always the real username, even after an alias sign-in.
func challengeParameters(u *User) map[string]string {
	cp := map[string]string{"USER_ID_FOR_SRP": u.Username}
	switch u.Challenge {
	case "SMS_MFA", "SMS_OTP":
		cp["CODE_DELIVERY_DELIVERY_MEDIUM"] = "SMS"
		cp["CODE_DELIVERY_DESTINATION"] = mask(u.Attributes["phone_number"])
	case "EMAIL_OTP":
		cp["CODE_DELIVERY_DELIVERY_MEDIUM"] = "EMAIL"
		cp["CODE_DELIVERY_DESTINATION"] = mask(u.Attributes["email"])
	case "SELECT_MFA_TYPE":
		choose := u.MFASettings
		if len(choose) == 0 {
			choose = []string{"SMS_MFA", "SOFTWARE_TOKEN_MFA"}
		}
		b, _ := json.Marshal(choose)
		cp["MFAS_CAN_CHOOSE"] = string(b)
	case "MFA_SETUP":
		cp["MFAS_CAN_SETUP"] = `["SOFTWARE_TOKEN_MFA"]`
	}
	return cp
}

// mask hides all but the last four characters of a delivery destination, as
// Cognito's CODE_DELIVERY_DESTINATION does.
func mask(s string) string {
	if len(s) <= 4 {
		return s
	}
	return strings.Repeat("*", len(s)-4) + s[len(s)-4:]
}

type adminGetUserInput struct {
	UserPoolId string
	Username   string
}

type attribute struct {
	Name  string
	Value string
}

type adminGetUserOutput struct {
	Username             string
	UserAttributes       []attribute
	UserStatus           string
	Enabled              bool
	UserMFASettingList   []string `json:",omitempty"`
	PreferredMfaSetting  string   `json:",omitempty"`
	UserCreateDate       float64
	UserLastModifiedDate float64
}

// adminGetUser accepts the username, any alias, or the sub (docs/cognito-behaviour.md §2.5).
func (f *Fake) adminGetUser(body []byte) (any, *apiError) {
	var in adminGetUserInput
	if err := decode(body, &in); err != nil {
		return nil, err
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
	return adminGetUserOutput{
		Username:             u.Username,
		UserAttributes:       attributeList(u.Attributes),
		UserStatus:           u.Status,
		Enabled:              u.Enabled,
		UserMFASettingList:   u.MFASettings,
		PreferredMfaSetting:  u.PreferredMFA,
		UserCreateDate:       epochSeconds(u.Created),
		UserLastModifiedDate: epochSeconds(u.LastModified),
	}, nil
}

// attributeList lists sub first, then the other attributes by name, for
// stable output.
func attributeList(m map[string]string) []attribute {
	out := []attribute{{Name: "sub", Value: m["sub"]}}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "sub" {
			out = append(out, attribute{Name: k, Value: m[k]})
		}
	}
	return out
}

// epochSeconds is the AWS JSON timestamp format: seconds as a JSON number,
// with milliseconds as Cognito sends them.
func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

// lookup finds a user by username, then by sign-in alias, then (when bySub)
// by sub. The caller holds f.mu.
func (p *poolState) lookup(name string, bySub bool) *User {
	for _, u := range p.users {
		if p.sameName(u.Username, name) {
			return u
		}
	}
	for _, u := range p.users {
		for _, a := range p.UsernameAttributes {
			if v := u.Attributes[a]; v != "" && p.sameAttr(a, v, name) {
				return u
			}
		}
		for _, a := range p.AliasAttributes {
			v := u.Attributes[a]
			if v == "" || !p.sameAttr(a, v, name) {
				continue
			}
			// Only verified email addresses and phone numbers work as aliases.
			if a == "preferred_username" || u.Attributes[a+"_verified"] == "true" {
				return u
			}
		}
	}
	if bySub {
		for _, u := range p.users {
			if u.Attributes["sub"] == name {
				return u
			}
		}
	}
	return nil
}

func (p *poolState) sameName(a, b string) bool {
	if p.CaseInsensitive {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// sameAttr compares a sign-in attribute; case insensitivity covers the email
// and preferred_username aliases as well as the username.
func (p *poolState) sameAttr(name, a, b string) bool {
	if name == "phone_number" {
		return a == b
	}
	return p.sameName(a, b)
}

// SecretHash returns Cognito's SECRET_HASH for username and clientID:
// base64(HMAC-SHA256(key=secret, message=username+clientID)).
func SecretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomPart(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64url(b)
}

// jwt makes an unsigned-but-JWT-shaped token: "eyJ<header>.<claims>.<sig>".
func jwt(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"kid": "cognitotest", "alg": "RS256"})
	c, _ := json.Marshal(claims)
	return b64url(h) + "." + b64url(c) + "." + randomPart(64)
}

func issuer(poolID string) string {
	return "https://cognito-idp." + Region + ".amazonaws.com/" + poolID
}

func accessToken(poolID, clientID string, u *User) string {
	now := time.Now().Unix()
	return jwt(map[string]any{
		"sub": u.Attributes["sub"], "iss": issuer(poolID), "client_id": clientID,
		"token_use": "access", "scope": "aws.cognito.signin.user.admin", "username": u.Username,
		"auth_time": now, "iat": now, "exp": now + tokenLifetime, "jti": newUUID(),
	})
}

func idToken(poolID, clientID string, u *User) string {
	now := time.Now().Unix()
	claims := map[string]any{
		"sub": u.Attributes["sub"], "iss": issuer(poolID), "aud": clientID,
		"token_use": "id", "cognito:username": u.Username,
		"auth_time": now, "iat": now, "exp": now + tokenLifetime, "jti": newUUID(),
	}
	for _, k := range []string{"email", "email_verified", "phone_number", "phone_number_verified"} {
		if v, ok := u.Attributes[k]; ok {
			claims[k] = v
		}
	}
	return jwt(claims)
}

// refreshToken is shaped like Cognito's: an encrypted JWE with five parts.
func refreshToken() string {
	h, _ := json.Marshal(map[string]string{"cty": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP"})
	return b64url(h) + "." + randomPart(256) + "." + randomPart(12) + "." + randomPart(512) + "." + randomPart(16)
}

// newSession is an opaque challenge session, shaped like Cognito's.
func newSession() string {
	return "AYABe" + randomPart(300)
}

package cognitotest

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	oldPool   = "eu-west-1_OldPool1"
	quietPool = "eu-west-1_QuietPool"
	emailPool = "eu-west-1_EmailPool"
	ciPool    = "eu-west-1_CaseInsens"

	plainClient  = "plainclient"
	srpClient    = "srponlyclient"
	quietClient  = "quietclient"
	emailClient  = "emailclient"
	ciClient     = "ciclient"
	legacyClient = "legacyclient"

	password = "Correct-Horse-1"
)

// RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
// Splitting the message into USERNAME + client ID makes it a SECRET_HASH vector
// that does not depend on the code under test.
const (
	vectorSecret   = "Jefe"
	vectorUsername = "what do ya want "
	vectorClientID = "for nothing?"
	vectorHMACHex  = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
)

var created = time.Date(2024, 3, 1, 12, 30, 45, 123e6, time.UTC)

// newFixture returns a fake with an old pool holding a user in every state
// the migration trigger has to handle.
func newFixture(tb testing.TB) *Fake {
	tb.Helper()
	f := New(tb)
	f.AddPool(Pool{ID: oldPool, AliasAttributes: []string{"email", "phone_number", "preferred_username"}})
	f.AddClient(AppClient{PoolID: oldPool, ID: plainClient, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}})
	f.AddClient(AppClient{PoolID: oldPool, ID: legacyClient, Flows: []string{"ADMIN_NO_SRP_AUTH"}})
	f.AddClient(AppClient{PoolID: oldPool, ID: srpClient, Flows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}})
	f.AddClient(AppClient{PoolID: oldPool, ID: vectorClientID, Secret: vectorSecret, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})

	users := []User{
		{Username: "alice", Password: password, Enabled: true, Created: created, LastModified: created.Add(time.Hour),
			Attributes: map[string]string{
				"sub": "11111111-2222-4333-8444-555555555555", "email": "alice@example.com", "email_verified": "true",
				"phone_number": "+447700900123", "phone_number_verified": "true", "preferred_username": "ali",
				"custom:tier": "gold",
			},
			MFASettings: []string{"SOFTWARE_TOKEN_MFA"}, PreferredMFA: "SOFTWARE_TOKEN_MFA"},
		{Username: "unverified", Password: password, Enabled: true,
			Attributes: map[string]string{"email": "unverified@example.com", "email_verified": "false"}},
		{Username: "bob", Password: password, Enabled: false},
		{Username: "carol", Password: password, Enabled: true, Status: "UNCONFIRMED"},
		{Username: "dave", Password: password, Enabled: true, Status: "RESET_REQUIRED"},
		{Username: "erin", Password: password, Enabled: true, Status: "FORCE_CHANGE_PASSWORD",
			Attributes: map[string]string{"email": "erin@example.com", "email_verified": "true", "name": "Erin"}},
		{Username: vectorUsername, Password: password, Enabled: true},
		{Username: "sms", Password: password, Enabled: true, Challenge: "SMS_MFA",
			Attributes: map[string]string{"phone_number": "+447700900999", "phone_number_verified": "true"}},
		{Username: "totp", Password: password, Enabled: true, Challenge: "SOFTWARE_TOKEN_MFA",
			Attributes: map[string]string{"email": "totp@example.com", "email_verified": "true"}},
		{Username: "select", Password: password, Enabled: true, Challenge: "SELECT_MFA_TYPE",
			MFASettings: []string{"SMS_MFA", "SOFTWARE_TOKEN_MFA"}},
		{Username: "setup", Password: password, Enabled: true, Challenge: "MFA_SETUP"},
		{Username: "emailotp", Password: password, Enabled: true, Challenge: "EMAIL_OTP",
			Attributes: map[string]string{"email": "otp@example.com", "email_verified": "true"}},
	}
	for _, u := range users {
		f.AddUser(oldPool, u)
	}

	f.AddPool(Pool{ID: quietPool, PreventUserExistenceErrors: true})
	f.AddClient(AppClient{PoolID: quietPool, ID: quietClient, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser(quietPool, User{Username: "dave", Password: password, Enabled: true, Status: "RESET_REQUIRED"})

	f.AddPool(Pool{ID: emailPool, UsernameAttributes: []string{"email"}})
	f.AddClient(AppClient{PoolID: emailPool, ID: emailClient, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser(emailPool, User{Password: password, Enabled: true,
		Attributes: map[string]string{"sub": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "email": "frank@example.com"}})

	f.AddPool(Pool{ID: ciPool, AliasAttributes: []string{"email"}, CaseInsensitive: true})
	f.AddClient(AppClient{PoolID: ciPool, ID: ciClient, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser(ciPool, User{Username: "Grace", Password: password, Enabled: true,
		Attributes: map[string]string{"email": "Grace@Example.com", "email_verified": "true"}})
	return f
}

// fastBackoff keeps the SDK's standard retryer, which decides what is retried
// and how often, but caps its backoff (up to 20 s by default) so tests are quick.
func fastBackoff(o *cip.Options) {
	o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Millisecond)
}

func authInput(pool, client, username, pw string) *cip.AdminInitiateAuthInput {
	return &cip.AdminInitiateAuthInput{
		UserPoolId:     aws.String(pool),
		ClientId:       aws.String(client),
		AuthFlow:       types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": pw},
	}
}

func errAs[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func TestAdminInitiateAuthErrors(t *testing.T) {
	f := newFixture(t)
	client := f.Client()

	tests := []struct {
		name    string
		in      *cip.AdminInitiateAuthInput
		wantAs  func(error) bool
		wantMsg string
	}{
		{
			name:    "unknown pool",
			in:      authInput("eu-west-1_Nope", plainClient, "alice", password),
			wantAs:  errAs[*types.ResourceNotFoundException],
			wantMsg: "User pool eu-west-1_Nope does not exist.",
		},
		{
			name:    "unknown client",
			in:      authInput(oldPool, "nope", "alice", password),
			wantAs:  errAs[*types.ResourceNotFoundException],
			wantMsg: "User pool client nope does not exist.",
		},
		{
			name:    "client of another pool",
			in:      authInput(oldPool, quietClient, "alice", password),
			wantAs:  errAs[*types.ResourceNotFoundException],
			wantMsg: "User pool client quietclient does not exist.",
		},
		{
			name:    "admin flow not allowed on client",
			in:      authInput(oldPool, srpClient, "alice", password),
			wantAs:  errAs[*types.InvalidParameterException],
			wantMsg: "Auth flow not enabled for this client",
		},
		{
			name: "other auth flow",
			in: func() *cip.AdminInitiateAuthInput {
				in := authInput(oldPool, plainClient, "alice", password)
				in.AuthFlow = types.AuthFlowTypeUserPasswordAuth
				return in
			}(),
			wantAs:  errAs[*types.InvalidParameterException],
			wantMsg: "Auth flow not enabled for this client",
		},
		{
			name: "missing USERNAME",
			in: &cip.AdminInitiateAuthInput{
				UserPoolId: aws.String(oldPool), ClientId: aws.String(plainClient),
				AuthFlow:       types.AuthFlowTypeAdminUserPasswordAuth,
				AuthParameters: map[string]string{"PASSWORD": password},
			},
			wantAs:  errAs[*types.InvalidParameterException],
			wantMsg: "Missing required parameter USERNAME",
		},
		{
			name:    "unknown user",
			in:      authInput(oldPool, plainClient, "nobody", password),
			wantAs:  errAs[*types.UserNotFoundException],
			wantMsg: "User does not exist.",
		},
		{
			name:    "unknown user, existence errors prevented",
			in:      authInput(quietPool, quietClient, "nobody", password),
			wantAs:  errAs[*types.NotAuthorizedException],
			wantMsg: "Incorrect username or password.",
		},
		{
			name:    "wrong password",
			in:      authInput(oldPool, plainClient, "alice", "wrong"),
			wantAs:  errAs[*types.NotAuthorizedException],
			wantMsg: "Incorrect username or password.",
		},
		{
			name:    "disabled, right password",
			in:      authInput(oldPool, plainClient, "bob", password),
			wantAs:  errAs[*types.NotAuthorizedException],
			wantMsg: "User is disabled.",
		},
		{
			name:    "disabled, wrong password",
			in:      authInput(oldPool, plainClient, "bob", "wrong"),
			wantAs:  errAs[*types.NotAuthorizedException],
			wantMsg: "Incorrect username or password.",
		},
		{
			name:    "reset required",
			in:      authInput(oldPool, plainClient, "dave", password),
			wantAs:  errAs[*types.PasswordResetRequiredException],
			wantMsg: "Password reset required for the user",
		},
		{
			name:    "reset required, existence errors prevented",
			in:      authInput(quietPool, quietClient, "dave", password),
			wantAs:  errAs[*types.NotAuthorizedException],
			wantMsg: "Incorrect username or password.",
		},
		{
			name:    "unconfirmed, right password",
			in:      authInput(oldPool, plainClient, "carol", password),
			wantAs:  errAs[*types.UserNotConfirmedException],
			wantMsg: "User is not confirmed.",
		},
		{
			name:    "unconfirmed, wrong password",
			in:      authInput(oldPool, plainClient, "carol", "wrong"),
			wantAs:  errAs[*types.NotAuthorizedException],
			wantMsg: "Incorrect username or password.",
		},
		{
			name:    "unverified email is no alias",
			in:      authInput(oldPool, plainClient, "unverified@example.com", password),
			wantAs:  errAs[*types.UserNotFoundException],
			wantMsg: "User does not exist.",
		},
		{
			name:    "case-sensitive pool",
			in:      authInput(oldPool, plainClient, "ALICE", password),
			wantAs:  errAs[*types.UserNotFoundException],
			wantMsg: "User does not exist.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := client.AdminInitiateAuth(t.Context(), tt.in)
			if !tt.wantAs(err) {
				t.Fatalf("AdminInitiateAuth(%q) = %+v, %v (%T), want the modeled error", tt.in.AuthParameters["USERNAME"], out, err, errors.Unwrap(err))
			}
			if got := errorMessage(err); got != tt.wantMsg {
				t.Errorf("AdminInitiateAuth(%q) message = %q, want %q", tt.in.AuthParameters["USERNAME"], got, tt.wantMsg)
			}
		})
	}
}

func TestSecretHashVector(t *testing.T) {
	raw, err := hex.DecodeString(vectorHMACHex)
	if err != nil {
		t.Fatal(err)
	}
	want := base64.StdEncoding.EncodeToString(raw)
	if got := SecretHash(vectorSecret, vectorUsername, vectorClientID); got != want {
		t.Errorf("SecretHash(%q, %q, %q) = %q, want %q", vectorSecret, vectorUsername, vectorClientID, got, want)
	}
}

func TestAdminInitiateAuthSecretHash(t *testing.T) {
	f := newFixture(t)
	client := f.Client()
	raw, err := hex.DecodeString(vectorHMACHex)
	if err != nil {
		t.Fatal(err)
	}
	rightHash := base64.StdEncoding.EncodeToString(raw)

	tests := []struct {
		name    string
		params  map[string]string
		wantErr string // "" for success
	}{
		{
			name:   "right hash",
			params: map[string]string{"USERNAME": vectorUsername, "PASSWORD": password, "SECRET_HASH": rightHash},
		},
		{
			name:    "missing hash",
			params:  map[string]string{"USERNAME": vectorUsername, "PASSWORD": password},
			wantErr: "Client for nothing? is configured with secret but SECRET_HASH was not received",
		},
		{
			name:    "wrong hash",
			params:  map[string]string{"USERNAME": vectorUsername, "PASSWORD": password, "SECRET_HASH": base64.StdEncoding.EncodeToString(raw[1:])},
			wantErr: "Unable to verify secret hash for client for nothing?",
		},
		{
			// The hash covers USERNAME as sent, so another spelling of the
			// same user needs its own hash.
			name:    "hash of another username",
			params:  map[string]string{"USERNAME": "What do ya want ", "PASSWORD": password, "SECRET_HASH": rightHash},
			wantErr: "Unable to verify secret hash for client for nothing?",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := client.AdminInitiateAuth(t.Context(), &cip.AdminInitiateAuthInput{
				UserPoolId: aws.String(oldPool), ClientId: aws.String(vectorClientID),
				AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: tt.params,
			})
			if tt.wantErr == "" {
				if err != nil || out.AuthenticationResult == nil {
					t.Fatalf("AdminInitiateAuth(%q) = %+v, %v, want tokens", tt.params["USERNAME"], out, err)
				}
				return
			}
			if !errAs[*types.NotAuthorizedException](err) {
				t.Fatalf("AdminInitiateAuth(%q) error = %v, want NotAuthorizedException", tt.params["USERNAME"], err)
			}
			if got := errorMessage(err); got != tt.wantErr {
				t.Errorf("AdminInitiateAuth(%q) message = %q, want %q", tt.params["USERNAME"], got, tt.wantErr)
			}
		})
	}
}

// jwtClaims decodes the payload of a JWT-shaped token.
func jwtClaims(tb testing.TB, token string) map[string]any {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("token %q has %d parts, want 3", token, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatalf("decode token payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		tb.Fatalf("decode token claims: %v", err)
	}
	return claims
}

func TestAdminInitiateAuthTokens(t *testing.T) {
	f := newFixture(t)
	client := f.Client()

	tests := []struct {
		name         string
		pool, client string
		username     string
		wantUsername string
	}{
		{name: "username", pool: oldPool, client: plainClient, username: "alice", wantUsername: "alice"},
		{name: "legacy ADMIN_NO_SRP_AUTH client", pool: oldPool, client: legacyClient, username: "alice", wantUsername: "alice"},
		{name: "verified email alias", pool: oldPool, client: plainClient, username: "alice@example.com", wantUsername: "alice"},
		{name: "verified phone alias", pool: oldPool, client: plainClient, username: "+447700900123", wantUsername: "alice"},
		{name: "preferred_username alias", pool: oldPool, client: plainClient, username: "ali", wantUsername: "alice"},
		{name: "email as username, unverified", pool: emailPool, client: emailClient, username: "frank@example.com",
			wantUsername: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"},
		{name: "case-insensitive username", pool: ciPool, client: ciClient, username: "GRACE", wantUsername: "Grace"},
		{name: "case-insensitive email alias", pool: ciPool, client: ciClient, username: "grace@example.COM", wantUsername: "Grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := client.AdminInitiateAuth(t.Context(), authInput(tt.pool, tt.client, tt.username, password))
			if err != nil {
				t.Fatalf("AdminInitiateAuth(%q) error = %v, want tokens", tt.username, err)
			}
			if out.ChallengeName != "" || out.Session != nil {
				t.Errorf("AdminInitiateAuth(%q) challenge = %q, session %v, want none", tt.username, out.ChallengeName, out.Session)
			}
			ar := out.AuthenticationResult
			if ar == nil {
				t.Fatalf("AdminInitiateAuth(%q) AuthenticationResult = nil", tt.username)
			}
			for name, tok := range map[string]*string{"AccessToken": ar.AccessToken, "IdToken": ar.IdToken, "RefreshToken": ar.RefreshToken} {
				if !strings.HasPrefix(aws.ToString(tok), "eyJ") {
					t.Errorf("AdminInitiateAuth(%q) %s = %q, want a JWT-shaped eyJ... token", tt.username, name, aws.ToString(tok))
				}
			}
			if ar.ExpiresIn != 3600 || aws.ToString(ar.TokenType) != "Bearer" {
				t.Errorf("AdminInitiateAuth(%q) ExpiresIn, TokenType = %d, %q, want 3600, Bearer", tt.username, ar.ExpiresIn, aws.ToString(ar.TokenType))
			}
			if got := jwtClaims(t, aws.ToString(ar.IdToken))["cognito:username"]; got != tt.wantUsername {
				t.Errorf("AdminInitiateAuth(%q) id token cognito:username = %v, want %q", tt.username, got, tt.wantUsername)
			}
			if got := jwtClaims(t, aws.ToString(ar.AccessToken))["client_id"]; got != tt.client {
				t.Errorf("AdminInitiateAuth(%q) access token client_id = %v, want %q", tt.username, got, tt.client)
			}
		})
	}
}

func TestAdminInitiateAuthChallenges(t *testing.T) {
	f := newFixture(t)
	client := f.Client()

	tests := []struct {
		name       string
		username   string
		wantName   types.ChallengeNameType
		wantParams map[string]string
	}{
		{
			name: "SMS_MFA", username: "sms", wantName: types.ChallengeNameTypeSmsMfa,
			wantParams: map[string]string{
				"USER_ID_FOR_SRP":               "sms",
				"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
				"CODE_DELIVERY_DESTINATION":     "*********0999",
			},
		},
		{
			name: "SOFTWARE_TOKEN_MFA via email alias", username: "totp@example.com", wantName: types.ChallengeNameTypeSoftwareTokenMfa,
			wantParams: map[string]string{"USER_ID_FOR_SRP": "totp"},
		},
		{
			name: "SELECT_MFA_TYPE", username: "select", wantName: types.ChallengeNameTypeSelectMfaType,
			wantParams: map[string]string{"USER_ID_FOR_SRP": "select", "MFAS_CAN_CHOOSE": `["SMS_MFA","SOFTWARE_TOKEN_MFA"]`},
		},
		{
			name: "MFA_SETUP", username: "setup", wantName: types.ChallengeNameTypeMfaSetup,
			wantParams: map[string]string{"USER_ID_FOR_SRP": "setup", "MFAS_CAN_SETUP": `["SOFTWARE_TOKEN_MFA"]`},
		},
		{
			name: "EMAIL_OTP", username: "emailotp", wantName: types.ChallengeNameTypeEmailOtp,
			wantParams: map[string]string{
				"USER_ID_FOR_SRP":               "emailotp",
				"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
				"CODE_DELIVERY_DESTINATION":     "***********.com",
			},
		},
		{
			name: "NEW_PASSWORD_REQUIRED via email alias", username: "erin@example.com", wantName: types.ChallengeNameTypeNewPasswordRequired,
			wantParams: map[string]string{
				"USER_ID_FOR_SRP":    "erin",
				"requiredAttributes": "[]",
				"userAttributes":     `{"email":"erin@example.com","email_verified":"true","name":"Erin"}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := client.AdminInitiateAuth(t.Context(), authInput(oldPool, plainClient, tt.username, password))
			if err != nil {
				t.Fatalf("AdminInitiateAuth(%q) error = %v, want challenge %s", tt.username, err, tt.wantName)
			}
			if out.ChallengeName != tt.wantName {
				t.Errorf("AdminInitiateAuth(%q) ChallengeName = %q, want %q", tt.username, out.ChallengeName, tt.wantName)
			}
			if out.AuthenticationResult != nil {
				t.Errorf("AdminInitiateAuth(%q) AuthenticationResult = %+v, want nil with a challenge", tt.username, out.AuthenticationResult)
			}
			if aws.ToString(out.Session) == "" {
				t.Errorf("AdminInitiateAuth(%q) Session is empty", tt.username)
			}
			if diff := cmp.Diff(tt.wantParams, out.ChallengeParameters); diff != "" {
				t.Errorf("AdminInitiateAuth(%q) ChallengeParameters mismatch (-want +got):\n%s", tt.username, diff)
			}
		})
	}

	t.Run("wrong password comes before the challenge", func(t *testing.T) {
		_, err := client.AdminInitiateAuth(t.Context(), authInput(oldPool, plainClient, "sms", "wrong"))
		if !errAs[*types.NotAuthorizedException](err) {
			t.Errorf("AdminInitiateAuth(%q) error = %v, want NotAuthorizedException", "sms", err)
		}
	})
}

// gotUser is the part of AdminGetUserOutput the tests compare.
type gotUser struct {
	Username      string
	Attributes    []types.AttributeType
	Status        types.UserStatusType
	Enabled       bool
	MFA           []string
	PreferredMFA  string
	Created, Last time.Time
}

func TestAdminGetUser(t *testing.T) {
	f := newFixture(t)
	client := f.Client()

	alice := gotUser{
		Username: "alice",
		Attributes: []types.AttributeType{
			{Name: aws.String("sub"), Value: aws.String("11111111-2222-4333-8444-555555555555")},
			{Name: aws.String("custom:tier"), Value: aws.String("gold")},
			{Name: aws.String("email"), Value: aws.String("alice@example.com")},
			{Name: aws.String("email_verified"), Value: aws.String("true")},
			{Name: aws.String("phone_number"), Value: aws.String("+447700900123")},
			{Name: aws.String("phone_number_verified"), Value: aws.String("true")},
			{Name: aws.String("preferred_username"), Value: aws.String("ali")},
		},
		Status:       types.UserStatusTypeConfirmed,
		Enabled:      true,
		MFA:          []string{"SOFTWARE_TOKEN_MFA"},
		PreferredMFA: "SOFTWARE_TOKEN_MFA",
		Created:      created,
		Last:         created.Add(time.Hour),
	}

	tests := []struct {
		name     string
		pool     string
		username string
		want     gotUser
		wantAs   func(error) bool // nil for success
	}{
		{name: "by username", pool: oldPool, username: "alice", want: alice},
		{name: "by email alias", pool: oldPool, username: "alice@example.com", want: alice},
		{name: "by phone alias", pool: oldPool, username: "+447700900123", want: alice},
		{name: "by sub", pool: oldPool, username: "11111111-2222-4333-8444-555555555555", want: alice},
		{name: "unknown user", pool: oldPool, username: "nobody", wantAs: errAs[*types.UserNotFoundException]},
		{name: "unknown pool", pool: "eu-west-1_Nope", username: "alice", wantAs: errAs[*types.ResourceNotFoundException]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := client.AdminGetUser(t.Context(), &cip.AdminGetUserInput{
				UserPoolId: aws.String(tt.pool), Username: aws.String(tt.username),
			})
			if tt.wantAs != nil {
				if !tt.wantAs(err) {
					t.Fatalf("AdminGetUser(%q) error = %v, want the modeled error", tt.username, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("AdminGetUser(%q) error = %v", tt.username, err)
			}
			got := gotUser{
				Username: aws.ToString(out.Username), Attributes: out.UserAttributes,
				Status: out.UserStatus, Enabled: out.Enabled,
				MFA: out.UserMFASettingList, PreferredMFA: aws.ToString(out.PreferredMfaSetting),
				Created: aws.ToTime(out.UserCreateDate), Last: aws.ToTime(out.UserLastModifiedDate),
			}
			opts := cmp.Options{
				cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
				cmpopts.IgnoreUnexported(types.AttributeType{}),
			}
			if diff := cmp.Diff(tt.want, got, opts...); diff != "" {
				t.Errorf("AdminGetUser(%q) mismatch (-want +got):\n%s", tt.username, diff)
			}
		})
	}

	t.Run("disabled user and generated sub", func(t *testing.T) {
		out, err := client.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(oldPool), Username: aws.String("bob")})
		if err != nil {
			t.Fatalf("AdminGetUser(%q) error = %v", "bob", err)
		}
		if out.Enabled {
			t.Errorf("AdminGetUser(%q) Enabled = true, want false", "bob")
		}
		if len(out.UserAttributes) == 0 || aws.ToString(out.UserAttributes[0].Name) != "sub" || len(aws.ToString(out.UserAttributes[0].Value)) != 36 {
			t.Errorf("AdminGetUser(%q) UserAttributes = %+v, want a generated sub first", "bob", out.UserAttributes)
		}
	})
}

func TestFaults(t *testing.T) {
	const op = "AdminInitiateAuth"
	tests := []struct {
		name      string
		fault     Fault
		wantErr   func(error) bool // nil for success
		wantCalls int
	}{
		{
			name:      "throttled every time",
			fault:     Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"},
			wantErr:   errAs[*types.TooManyRequestsException],
			wantCalls: retry.DefaultMaxAttempts,
		},
		{
			name:      "throttled once, retry succeeds",
			fault:     Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded", Times: 1},
			wantCalls: 2,
		},
		{
			name:      "bare 500 once, retry succeeds",
			fault:     Fault{Status: 500, Times: 1},
			wantCalls: 2,
		},
		{
			name:      "internal error every time",
			fault:     Fault{ErrorType: "InternalErrorException", Message: "Internal server error"},
			wantErr:   errAs[*types.InternalErrorException],
			wantCalls: retry.DefaultMaxAttempts,
		},
		{
			name:      "modeled non-retryable error",
			fault:     Fault{ErrorType: "NotAuthorizedException", Message: "Password attempts exceeded"},
			wantErr:   errAs[*types.NotAuthorizedException],
			wantCalls: 1,
		},
		{
			name:      "malformed JSON",
			fault:     Fault{RawBody: `{"AuthenticationResult": {"AccessToken": `},
			wantErr:   errAs[*smithy.DeserializationError],
			wantCalls: 1,
		},
		{
			name:  "connection reset",
			fault: Fault{ResetConn: true},
			wantErr: func(err error) bool {
				return err != nil && !errAs[smithy.APIError](err)
			},
			wantCalls: retry.DefaultMaxAttempts, // a reset is a retryable connection error
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.SetFault(op, tt.fault)
			out, err := f.Client(fastBackoff).AdminInitiateAuth(t.Context(), authInput(oldPool, plainClient, "alice", password))
			if tt.wantErr == nil {
				if err != nil || out.AuthenticationResult == nil {
					t.Fatalf("AdminInitiateAuth() = %+v, %v, want tokens after retry", out, err)
				}
			} else if !tt.wantErr(err) {
				t.Fatalf("AdminInitiateAuth() error = %v, want another kind", err)
			}
			if got := f.CallCount(op); got != tt.wantCalls {
				t.Errorf("CallCount(%q) = %d, want %d", op, got, tt.wantCalls)
			}
			// The retries were the SDK's: each attempt says which it is.
			for i, c := range f.Calls() {
				if got := c.Header.Get("Amz-Sdk-Request"); !strings.HasPrefix(got, fmt.Sprintf("attempt=%d;", i+1)) {
					t.Errorf("call %d amz-sdk-request = %q, want attempt=%d", i, got, i+1)
				}
			}
		})
	}
}

// TestThrottleDefaultRetryer uses the client exactly as configured by default
// (standard retryer, backoff up to 20 s), so one retry costs up to 2 s.
func TestThrottleDefaultRetryer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.SetFault("AdminInitiateAuth", Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded", Times: 1})
	out, err := f.Client().AdminInitiateAuth(t.Context(), authInput(oldPool, plainClient, "alice", password))
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("AdminInitiateAuth() = %+v, %v, want tokens after a retry", out, err)
	}
	if got := f.CallCount("AdminInitiateAuth"); got != 2 {
		t.Errorf("CallCount(%q) = %d, want 2", "AdminInitiateAuth", got)
	}
}

func TestFaultTimesThenNormal(t *testing.T) {
	f := newFixture(t)
	client := f.Client(func(o *cip.Options) { o.RetryMaxAttempts = 1 })
	f.SetFault("AdminGetUser", Fault{ErrorType: "TooManyRequestsException", Times: 2})
	in := &cip.AdminGetUserInput{UserPoolId: aws.String(oldPool), Username: aws.String("alice")}

	var got []bool
	for range 3 {
		_, err := client.AdminGetUser(t.Context(), in)
		got = append(got, errAs[*types.TooManyRequestsException](err))
	}
	if want := []bool{true, true, false}; !cmp.Equal(got, want) {
		t.Errorf("throttled per call = %v, want %v", got, want)
	}

	f.SetFault("AdminGetUser", Fault{ErrorType: "TooManyRequestsException"})
	f.ClearFault("AdminGetUser")
	if _, err := client.AdminGetUser(t.Context(), in); err != nil {
		t.Errorf("AdminGetUser() after ClearFault error = %v", err)
	}
}

func TestHangEndsWithClientContext(t *testing.T) {
	f := newFixture(t)
	f.SetFault("AdminInitiateAuth", Fault{Hang: true})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := f.Client().AdminInitiateAuth(ctx, authInput(oldPool, plainClient, "alice", password))
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("AdminInitiateAuth() took %v with a 100ms deadline", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AdminInitiateAuth() error = %v, want context.DeadlineExceeded", err)
	}
	if got := f.CallCount("AdminInitiateAuth"); got != 1 {
		t.Errorf("CallCount = %d, want 1 (a deadline is not retried)", got)
	}
}

// TestHangEndsWithCleanup checks that a request still hanging when the test
// ends does not block the server's shutdown.
func TestHangEndsWithCleanup(t *testing.T) {
	errc := make(chan error, 1)
	t.Run("inner", func(t *testing.T) {
		f := newFixture(t)
		f.SetFault("AdminGetUser", Fault{Hang: true})
		hanging := make(chan struct{})
		f.received = func(string) { close(hanging) }
		client := f.Client(func(o *cip.Options) { o.RetryMaxAttempts = 1 })
		go func() {
			_, err := client.AdminGetUser(context.Background(), &cip.AdminGetUserInput{
				UserPoolId: aws.String(oldPool), Username: aws.String("alice"),
			})
			errc <- err
		}()
		// Return once the request is being handled; cleanup then closes the server.
		select {
		case <-hanging:
		case err := <-errc:
			t.Fatalf("AdminGetUser() returned early: %v", err)
		}
	})
	select {
	case err := <-errc:
		if err == nil {
			t.Error("AdminGetUser() on a hanging server succeeded, want an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hanging request not released by cleanup")
	}
}

func TestLatency(t *testing.T) {
	f := newFixture(t)
	f.SetLatency(50 * time.Millisecond)
	client := f.Client()

	start := time.Now()
	if _, err := client.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(oldPool), Username: aws.String("alice")}); err != nil {
		t.Fatalf("AdminGetUser() error = %v", err)
	}
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Errorf("AdminGetUser() took %v, want at least the 50ms latency", elapsed)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(oldPool), Username: aws.String("alice")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AdminGetUser() with a deadline under the latency error = %v, want context.DeadlineExceeded", err)
	}
}

func TestUnknownOperation(t *testing.T) {
	f := newFixture(t)
	_, err := f.Client().DeleteUserPool(t.Context(), &cip.DeleteUserPoolInput{UserPoolId: aws.String(oldPool)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnknownOperationException" {
		t.Errorf("DeleteUserPool() error = %v, want UnknownOperationException", err)
	}
}

func TestCallsRecorded(t *testing.T) {
	f := newFixture(t)
	if _, err := f.Client().AdminInitiateAuth(t.Context(), authInput(oldPool, plainClient, "alice", password)); err != nil {
		t.Fatalf("AdminInitiateAuth() error = %v", err)
	}
	calls := f.Calls()
	if len(calls) != 1 {
		t.Fatalf("Calls() = %d calls, want 1", len(calls))
	}
	c := calls[0]
	want := map[string]any{
		"UserPoolId":     oldPool,
		"ClientId":       plainClient,
		"AuthFlow":       "ADMIN_USER_PASSWORD_AUTH",
		"AuthParameters": map[string]any{"USERNAME": "alice", "PASSWORD": password},
	}
	if diff := cmp.Diff(want, c.Input); diff != "" {
		t.Errorf("Calls()[0].Input mismatch (-want +got):\n%s", diff)
	}
	if c.Operation != "AdminInitiateAuth" || c.Status != 200 {
		t.Errorf("Calls()[0] = %s status %d, want AdminInitiateAuth status 200", c.Operation, c.Status)
	}
	if got := c.Header.Get("X-Amz-Target"); got != "AWSCognitoIdentityProviderService.AdminInitiateAuth" {
		t.Errorf("X-Amz-Target = %q", got)
	}
	if got := c.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := c.Header.Get("Authorization"); !strings.Contains(got, "/eu-west-1/cognito-idp/aws4_request") {
		t.Errorf("Authorization = %q, want a SigV4 signature for cognito-idp in eu-west-1", got)
	}
	if c.End.Before(c.Start) {
		t.Errorf("call End %v before Start %v", c.End, c.Start)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	client := f.Client()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				_, err := client.AdminInitiateAuth(t.Context(), authInput(oldPool, plainClient, "alice", password))
				errs <- err
				return
			}
			f.SetLatency(time.Duration(i) * time.Microsecond)
			_, err := client.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(oldPool), Username: aws.String("alice")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent call error = %v", err)
		}
	}
	if got := len(f.Calls()); got != n {
		t.Errorf("len(Calls()) = %d, want %d", got, n)
	}
}

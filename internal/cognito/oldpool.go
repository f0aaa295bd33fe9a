// Package cognito is the only package that calls the cognito-idp API. It
// turns the old pool's answers and error codes into the migrate package's
// outcomes.
package cognito

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// OldPoolAPI is the part of the cognito-idp client the old pool needs.
type OldPoolAPI interface {
	AdminInitiateAuth(ctx context.Context, in *cip.AdminInitiateAuthInput, optFns ...func(*cip.Options)) (*cip.AdminInitiateAuthOutput, error)
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	AdminListGroupsForUser(ctx context.Context, in *cip.AdminListGroupsForUserInput, optFns ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error)
}

// OldPool is the old user pool, reached through one app client.
type OldPool struct {
	api      OldPoolAPI
	poolID   string
	clientID string
	secret   []byte // the app client's secret; nil when it has none
	// readGroups: GetUser reads the user's groups too (WithGroups).
	readGroups bool
}

// NewOldPool returns the old pool poolID, signing users in through the app
// client clientID. clientSecret is that client's secret, or "" when it has
// none.
func NewOldPool(api OldPoolAPI, poolID, clientID, clientSecret string) *OldPool {
	p := &OldPool{api: api, poolID: poolID, clientID: clientID}
	if clientSecret != "" {
		p.secret = []byte(clientSecret)
	}
	return p
}

var _ migrate.OldPool = (*OldPool)(nil)

// SignIn checks username and password with AdminInitiateAuth
// (ADMIN_USER_PASSWORD_AUTH). The tokens a successful sign-in returns are
// dropped here and never leave this function.
func (p *OldPool) SignIn(ctx context.Context, username, password string) (migrate.SignIn, error) {
	params := map[string]string{"USERNAME": username, "PASSWORD": password}
	if p.secret != nil {
		params["SECRET_HASH"] = SecretHash(p.secret, username, p.clientID)
	}
	out, err := p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId:     aws.String(p.poolID),
		ClientId:       aws.String(p.clientID),
		AuthFlow:       types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: params,
	})
	if err != nil {
		return migrate.SignIn{}, fmt.Errorf("admin initiate auth: %w", outcome("cognito-idp:AdminInitiateAuth", err))
	}
	switch {
	case out.ChallengeName != "":
		return migrate.SignIn{Challenge: string(out.ChallengeName), Username: out.ChallengeParameters["USER_ID_FOR_SRP"]}, nil
	case out.AuthenticationResult != nil:
		return migrate.SignIn{Username: tokenUsername(out.AuthenticationResult)}, nil
	}
	// Neither tokens nor a challenge: nothing is proven.
	return migrate.SignIn{}, errors.New("admin initiate auth: answer has neither tokens nor a challenge")
}

// tokenUsername is the real username in the tokens of a sign-in (the ID
// token's cognito:username, else the access token's username), or "" when
// neither says. The tokens came from the old pool in answer to this very
// call, so their signatures need no check; nothing else is read from them,
// and a token that does not parse is not quoted anywhere.
func tokenUsername(r *types.AuthenticationResultType) string {
	claim := func(token, name string) string {
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			return ""
		}
		payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
		if err != nil {
			return ""
		}
		var claims map[string]any
		if json.Unmarshal(payload, &claims) != nil {
			return ""
		}
		v, _ := claims[name].(string)
		return v
	}
	if u := claim(aws.ToString(r.IdToken), "cognito:username"); u != "" {
		return u
	}
	return claim(aws.ToString(r.AccessToken), "username")
}

// GetUser reads a user with AdminGetUser, and their groups too when asked
// to (WithGroups). username may be an alias.
func (p *OldPool) GetUser(ctx context.Context, username string) (migrate.User, error) {
	return p.getUser(ctx, username, p.readGroups)
}

// getUser reads a user, with their groups when withGroups.
func (p *OldPool) getUser(ctx context.Context, username string, withGroups bool) (migrate.User, error) {
	var groups <-chan groupsResult
	if withGroups {
		ctx2, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx, groups = ctx2, p.startGroups(ctx2, username)
	}
	out, err := p.api.AdminGetUser(ctx, &cip.AdminGetUserInput{
		UserPoolId: aws.String(p.poolID),
		Username:   aws.String(username),
	})
	if err != nil {
		return migrate.User{}, fmt.Errorf("admin get user: %w", outcome("cognito-idp:AdminGetUser", err))
	}
	attrs := make(map[string]string, len(out.UserAttributes))
	for _, a := range out.UserAttributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	mfa := out.UserMFASettingList
	if len(mfa) == 0 {
		// Users who set up SMS MFA through the deprecated API have only
		// MFAOptions.
		for _, o := range out.MFAOptions {
			if o.DeliveryMedium == types.DeliveryMediumTypeSms {
				mfa = []string{"SMS_MFA"}
			}
		}
	}
	u := migrate.User{
		Username:   aws.ToString(out.Username),
		Enabled:    out.Enabled,
		Status:     string(out.UserStatus),
		Attributes: attrs,
		MFA:        mfa,
	}
	if groups != nil {
		if u.Groups, err = p.awaitGroups(ctx, groups, username, u.Username); err != nil {
			return migrate.User{}, err
		}
	}
	return u, nil
}

// SecretHash is Cognito's SECRET_HASH for an app client with a secret:
// Base64(HMAC-SHA256(key = client secret, message = username + client id)),
// where username is exactly the USERNAME sent in the same request.
func SecretHash(secret []byte, username, clientID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(username))
	m.Write([]byte(clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// refusal is an old-pool answer that means "not proven": it unwraps to one of
// migrate's Err* outcomes and keeps the service's message (which never holds
// the password) for the log.
type refusal struct {
	outcome error
	message string
}

func (r *refusal) Error() string { return r.outcome.Error() + ": " + r.message }
func (r *refusal) Unwrap() error { return r.outcome }

// outcome maps a cognito-idp error of action onto migrate's outcomes.
// Errors that are not about the user (throttling, network, configuration)
// come back as classified faults (*migrate.Fault).
func outcome(action string, err error) error {
	var (
		notAuthorized *types.NotAuthorizedException
		notFound      *types.UserNotFoundException
		resetRequired *types.PasswordResetRequiredException
		notConfirmed  *types.UserNotConfirmedException
		apiErr        smithy.APIError
	)
	switch {
	case errors.As(err, &notAuthorized):
		msg := notAuthorized.ErrorMessage()
		if secretProblem(msg) {
			return &migrate.Fault{Kind: migrate.FaultConfiguration, Err: awserr.Wrap("cognito-idp:AdminInitiateAuth", "", err)}
		}
		return &refusal{migrate.ErrBadCredentials, msg}
	case errors.As(err, &notFound):
		return &refusal{migrate.ErrUserNotFound, notFound.ErrorMessage()}
	case errors.As(err, &resetRequired):
		return &refusal{migrate.ErrPasswordResetRequired, resetRequired.ErrorMessage()}
	case errors.As(err, &notConfirmed):
		return &refusal{migrate.ErrUserNotConfirmed, notConfirmed.ErrorMessage()}
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidPasswordException":
		// Not an AdminInitiateAuth error in Cognito's model (so the SDK
		// gives it no type), but it is about the password whoever sends it
		// (cognito-local answers every wrong password with it,
		// jagregory/cognito-local#314): refusing migrates nobody.
		return &refusal{migrate.ErrBadCredentials, apiErr.ErrorMessage()}
	}
	return awserr.Fault(awserr.Wrap(action, "", err))
}

// secretProblem reports whether a NotAuthorizedException is about the app
// client's secret rather than the user. Cognito gives both the same code, so
// this is the one place that reads a message: a misconfigured secret must
// raise an alarm, not quietly decline every user. If the wording changes, the
// answer falls back to a decline, which migrates nobody.
func secretProblem(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "secret hash") || strings.Contains(m, "secret_hash") ||
		strings.Contains(m, "configured for secret") || strings.Contains(m, "configured with secret")
}

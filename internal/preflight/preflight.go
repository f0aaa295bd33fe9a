// Package preflight is the findings engine of `cognito-migrate check`: from
// plain descriptions of both pools, their app clients, the function's
// settings and its resource policy, it lists what would stop users from
// migrating, or make them migrate differently than expected.
//
// It makes no call and prints nothing: the command gathers the data and
// shows the findings. Every finding has a stable ID, a severity, what was
// seen, and the fix (a command or a setting). Secrets (client secrets) are
// never part of a finding.
package preflight

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// Severity of a finding.
type Severity string

// Severities. An error means users will fail to migrate (or something is
// unsafe) until it is fixed; a warning, that some users will, or will
// migrate differently than expected; info, a difference worth knowing.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Finding is one result of the check.
type Finding struct {
	// ID is stable: scripts and docs refer to it.
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Detail says what was seen and what users will experience.
	Detail string `json:"detail"`
	// Fix is the exact command or setting that resolves it.
	Fix string `json:"fix"`
}

// Finding IDs, a public contract, in the order findings are reported.
const (
	OldClientAdminAuth     = "old-client-admin-auth"
	OldClientSecret        = "old-client-secret"
	NewClientPasswordAuth  = "new-client-password-auth"
	NewClientUserExistence = "new-client-user-existence"
	TriggerNotAttached     = "trigger-not-attached"
	InvokePermission       = "invoke-permission"
	SchemaMissingAttribute = "schema-missing-attribute"
	SchemaRequired         = "schema-required-attribute"
	LegacySubAttribute     = "legacy-sub-attribute"
	SignInType             = "sign-in-type"
	UsernameCase           = "username-case"
	UsernameEmailFormat    = "username-email-format"
	MFA                    = "mfa"
	PasswordPolicy         = "password-policy"
	AlreadyPresent         = "already-present"
)

// IDs lists every finding ID in report order.
func IDs() []string {
	return append([]string{OldClientAdminAuth, OldClientSecret, NewClientPasswordAuth, NewClientUserExistence,
		TriggerNotAttached, InvokePermission, SchemaMissingAttribute, SchemaRequired, LegacySubAttribute,
		SignInType, UsernameCase, UsernameEmailFormat, MFA, PasswordPolicy, AlreadyPresent}, companionIDs()...)
}

// Settings are the function's settings, as plain values (the function's
// environment, or the command's overrides).
type Settings struct {
	OldUserPoolID string // OLD_USER_POOL_ID
	OldClientID   string // OLD_CLIENT_ID
	// ClientSecretConfigured: OLD_CLIENT_SECRET_ARN or OLD_CLIENT_SECRET is set.
	ClientSecretConfigured bool
	Rename                 map[string]string // ATTRIBUTE_MAP
	Exclude                []string          // EXCLUDE_ATTRIBUTES
	LegacySub              string            // LEGACY_SUB_ATTRIBUTE
	// MFAPolicy is MFA_POLICY: "deny" (also when empty, the default) or "migrate".
	MFAPolicy             string
	EnforcePasswordPolicy bool   // ENFORCE_PASSWORD_POLICY
	LegacyGroups          string // LEGACY_GROUPS_ATTRIBUTE
	SignupGuard           bool   // SIGNUP_GUARD=true
}

// SampleUser is an old-pool user as ListUsers shows it.
type SampleUser struct {
	Username   string
	Attributes map[string]string
}

// Input is everything the check looks at. Only NewPool is required; a check
// whose input is missing (nil) is skipped.
type Input struct {
	// NewPool is the new pool's DescribeUserPool; its LambdaConfig.UserMigration
	// is the trigger attached.
	NewPool *types.UserPoolType
	// NewClients are the new pool's app clients (DescribeUserPoolClient each).
	NewClients []types.UserPoolClientType
	// OldPool and OldClient are the old pool's and OLD_CLIENT_ID's descriptions.
	OldPool   *types.UserPoolType
	OldClient *types.UserPoolClientType
	// OldMFA is the old pool's GetUserPoolMfaConfig.
	OldMFA   *cip.GetUserPoolMfaConfigOutput
	Settings Settings
	// FunctionARN is the function the settings belong to (--function-arn),
	// "" when they were read from the attached trigger.
	FunctionARN string
	// FunctionPolicy is the function's resource policy (Lambda GetPolicy's
	// Policy); "" when it has none. PolicyError, when set, says why it could
	// not be read; the permission is then not judged.
	FunctionPolicy string
	PolicyError    string
	// Sample is a sample of old users (or all of them).
	Sample []SampleUser
	// AlreadyPresent are usernames found in both pools that were not
	// migrated (their new-pool user was not made by the trigger).
	AlreadyPresent []string
}

// ErrNoNewPool: Check needs at least the new pool's description.
var ErrNoNewPool = errors.New("preflight: the new pool's description is missing")

// Check returns the findings for in, ordered by IDs() and, within an ID,
// by what they are about (client id, attribute name).
func Check(in Input) ([]Finding, error) {
	if in.NewPool == nil {
		return nil, ErrNoNewPool
	}
	c := &checker{in: in, newID: aws.ToString(in.NewPool.Id)}
	c.newRegion = regionOf(c.newID)
	if in.OldPool != nil && aws.ToString(in.OldPool.Id) != "" {
		c.oldID = aws.ToString(in.OldPool.Id)
	} else {
		c.oldID = in.Settings.OldUserPoolID
	}
	c.oldRegion = regionOf(c.oldID)
	for _, check := range []func(){
		c.oldClientAdminAuth, c.oldClientSecret, c.newClientPasswordAuth, c.newClientUserExistence,
		c.triggerNotAttached, c.invokePermission, c.schemaMissing, c.schemaRequired, c.legacySub,
		c.signInType, c.usernameCase, c.usernameEmailFormat, c.mfa, c.passwordPolicy, c.alreadyPresent,
		c.companions,
	} {
		check()
	}
	return c.findings, nil
}

// Counts are the number of findings of each severity.
type Counts struct {
	Error   int `json:"error"`
	Warning int `json:"warning"`
	Info    int `json:"info"`
}

// Count counts findings by severity.
func Count(findings []Finding) Counts {
	var n Counts
	for _, f := range findings {
		switch f.Severity {
		case Error:
			n.Error++
		case Warning:
			n.Warning++
		case Info:
			n.Info++
		}
	}
	return n
}

type checker struct {
	in               Input
	newID, newRegion string
	oldID, oldRegion string
	findings         []Finding
}

func (c *checker) add(id string, sev Severity, fix, format string, args ...any) {
	c.findings = append(c.findings, Finding{ID: id, Severity: sev, Detail: fmt.Sprintf(format, args...), Fix: fix})
}

// regionOf is a pool id's region: "eu-west-1_AbC" -> "eu-west-1".
func regionOf(poolID string) string {
	region, _, _ := strings.Cut(poolID, "_")
	return region
}

func or(s, placeholder string) string {
	if s == "" {
		return placeholder
	}
	return s
}

// flows returns a client's ExplicitAuthFlows, with Cognito's default when
// the list is empty: ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_SRP_AUTH and
// ALLOW_CUSTOM_AUTH (API reference, CreateUserPoolClient ExplicitAuthFlows).
func flows(c types.UserPoolClientType) []types.ExplicitAuthFlowsType {
	if len(c.ExplicitAuthFlows) == 0 {
		return []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
			types.ExplicitAuthFlowsTypeAllowUserSrpAuth, types.ExplicitAuthFlowsTypeAllowCustomAuth}
	}
	return c.ExplicitAuthFlows
}

func hasFlow(c types.UserPoolClientType, want ...types.ExplicitAuthFlowsType) bool {
	for _, f := range flows(c) {
		if slices.Contains(want, f) {
			return true
		}
	}
	return false
}

func flowNames(c types.UserPoolClientType) string {
	var names []string
	for _, f := range flows(c) {
		names = append(names, string(f))
	}
	if len(c.ExplicitAuthFlows) == 0 {
		return strings.Join(names, ", ") + " (Cognito's default for an empty list)"
	}
	return strings.Join(names, ", ")
}

// oldClientAdminAuth: the function signs in to the old pool with
// ADMIN_USER_PASSWORD_AUTH, which the old client must allow.
func (c *checker) oldClientAdminAuth() {
	oc := c.in.OldClient
	if oc == nil || hasFlow(*oc, types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAdminNoSrpAuth) {
		return
	}
	c.add(OldClientAdminAuth, Error,
		fmt.Sprintf("add ALLOW_ADMIN_USER_PASSWORD_AUTH to app client %s (console: app client, Edit, Authentication flows; the AWS CLI's update-user-pool-client resets every setting it is not given), or give the function a client of its own: aws cognito-idp create-user-pool-client --region %s --user-pool-id %s --client-name cognito-migrate --explicit-auth-flows ALLOW_ADMIN_USER_PASSWORD_AUTH ALLOW_REFRESH_TOKEN_AUTH --prevent-user-existence-errors ENABLED, then set OLD_CLIENT_ID to its ClientId",
			aws.ToString(oc.ClientId), or(c.oldRegion, "OLD_REGION"), or(c.oldID, "OLD_POOL_ID")),
		"the old pool's app client %s (OLD_CLIENT_ID) allows %s but not ALLOW_ADMIN_USER_PASSWORD_AUTH: the old pool refuses the function's sign-in (\"Auth flow not enabled for this client\"), so no user migrates by signing in",
		aws.ToString(oc.ClientId), flowNames(*oc))
}

// oldClientSecret: a client with a secret needs SECRET_HASH, so the
// function needs the secret. The secret itself is never shown.
func (c *checker) oldClientSecret() {
	oc := c.in.OldClient
	if oc == nil {
		return
	}
	hasSecret := aws.ToString(oc.ClientSecret) != ""
	switch {
	case hasSecret && !c.in.Settings.ClientSecretConfigured:
		c.add(OldClientSecret, Error,
			fmt.Sprintf("store the client's secret in Secrets Manager (aws secretsmanager create-secret --region %s --name cognito-migrate/old-client-secret --secret-string file://secret.txt) and set OLD_CLIENT_SECRET_ARN to the secret's ARN; or set OLD_CLIENT_ID to a client without a secret",
				or(c.functionRegion(), "REGION")),
			"the old pool's app client %s has a client secret and the function is given none (OLD_CLIENT_SECRET_ARN is not set): the old pool refuses every sign-in (\"SECRET_HASH was not received\") and nobody migrates by signing in",
			aws.ToString(oc.ClientId))
	case !hasSecret && c.in.Settings.ClientSecretConfigured:
		c.add(OldClientSecret, Warning,
			"remove OLD_CLIENT_SECRET_ARN (and OLD_CLIENT_SECRET) from the function's settings",
			"the function is given a client secret but the old pool's app client %s has none: the secret is unused, and a SECRET_HASH sent to a client without a secret may be refused",
			aws.ToString(oc.ClientId))
	}
}

// passwordClient reports whether an app client can send a password, which
// is what makes Cognito call the trigger: USER_PASSWORD_AUTH,
// ADMIN_USER_PASSWORD_AUTH, or choice-based USER_AUTH with the PASSWORD
// first factor. SRP never sends it
// (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-migrate-user.html).
func (c *checker) passwordClient(cl types.UserPoolClientType) bool {
	if hasFlow(cl, types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeUserPasswordAuth,
		types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAdminNoSrpAuth) {
		return true
	}
	if !hasFlow(cl, types.ExplicitAuthFlowsTypeAllowUserAuth) {
		return false
	}
	p := c.in.NewPool.Policies
	if p == nil || p.SignInPolicy == nil || len(p.SignInPolicy.AllowedFirstAuthFactors) == 0 {
		return true // PASSWORD is the default first factor
	}
	return slices.Contains(p.SignInPolicy.AllowedFirstAuthFactors, types.AuthFactorTypePassword)
}

func (c *checker) sortedClients() []types.UserPoolClientType {
	cls := slices.Clone(c.in.NewClients)
	slices.SortFunc(cls, func(a, b types.UserPoolClientType) int {
		return strings.Compare(aws.ToString(a.ClientId), aws.ToString(b.ClientId))
	})
	return cls
}

func (c *checker) newClientPasswordAuth() {
	clients := c.sortedClients()
	someCan := slices.ContainsFunc(clients, c.passwordClient)
	for _, cl := range clients {
		if c.passwordClient(cl) {
			continue
		}
		sev, also := Warning, "other clients of the pool can send passwords, so only this client's users are affected"
		if !someCan {
			sev, also = Error, "no client of the new pool can send a password, so nobody migrates by signing in"
		}
		c.add(NewClientPasswordAuth, sev,
			fmt.Sprintf("cognito-migrate enable-password-auth --region %s --user-pool-id %s --client-id %s (and make the app sign in with USER_PASSWORD_AUTH until the migration ends)",
				c.newRegion, c.newID, aws.ToString(cl.ClientId)),
			"app client %s of the new pool allows %s and no password flow: its sign-ins (SRP, Amplify's default) never reach the Migrate user trigger, so its old users get \"Incorrect username or password.\"; %s",
			clientLabel(cl), flowNames(cl), also)
	}
}

// clientLabel is a client's id, with its name when it has one.
func clientLabel(cl types.UserPoolClientType) string {
	if name := aws.ToString(cl.ClientName); name != "" {
		return fmt.Sprintf("%s (%q)", aws.ToString(cl.ClientId), name)
	}
	return aws.ToString(cl.ClientId)
}

func (c *checker) newClientUserExistence() {
	for _, cl := range c.sortedClients() {
		if cl.PreventUserExistenceErrors == types.PreventUserExistenceErrorTypesEnabled {
			continue
		}
		c.add(NewClientUserExistence, Warning,
			fmt.Sprintf("set PreventUserExistenceErrors to ENABLED on app client %s (console: app client, Edit, Advanced security configurations, Prevent user existence errors); aws cognito-idp update-user-pool-client --region %s --user-pool-id %s --client-id %s --prevent-user-existence-errors ENABLED resets every setting it is not given, so pass the client's current settings with it",
				aws.ToString(cl.ClientId), c.newRegion, c.newID, aws.ToString(cl.ClientId)),
			"app client %s of the new pool has PreventUserExistenceErrors %s: a user the trigger declines and a wrong password get different errors, so anyone can find out which usernames exist in the old pool",
			aws.ToString(cl.ClientId), or(string(cl.PreventUserExistenceErrors), "LEGACY (the default)"))
	}
}

// functionRegion is the region of the function (where its secret lives).
func (c *checker) functionRegion() string {
	if a, err := arn.Parse(or(c.in.FunctionARN, c.attached())); err == nil {
		return a.Region
	}
	return c.newRegion
}

// attached is the new pool's Migrate user trigger.
func (c *checker) attached() string {
	if lc := c.in.NewPool.LambdaConfig; lc != nil {
		return aws.ToString(lc.UserMigration)
	}
	return ""
}

func (c *checker) triggerNotAttached() {
	got, fn := c.attached(), c.in.FunctionARN
	fix := fmt.Sprintf("cognito-migrate attach-trigger --region %s --user-pool-id %s --function-arn %s", c.newRegion, c.newID, or(fn, "FUNCTION_ARN"))
	switch {
	case got == "":
		c.add(TriggerNotAttached, Error, fix,
			"the new pool %s has no Migrate user trigger (LambdaConfig.UserMigration is empty): Cognito migrates nobody", c.newID)
	case fn != "" && got != fn:
		c.add(TriggerNotAttached, Error, fix,
			"the new pool's Migrate user trigger is %s, not the function checked (%s): Cognito calls the other one", got, fn)
	}
}

// invokePermission judges the function's resource policy with the same
// evaluation attach-trigger uses.
func (c *checker) invokePermission() {
	fn := or(c.in.FunctionARN, c.attached())
	if fn == "" {
		return // trigger-not-attached says it all
	}
	poolARN := aws.ToString(c.in.NewPool.Arn)
	account := ""
	if a, err := arn.Parse(poolARN); err == nil {
		account = a.AccountID
	}
	g := grant(fn, poolARN, account, c.newID)
	if c.in.PolicyError != "" {
		c.add(InvokePermission, Warning,
			"grant the caller lambda:GetPolicy on the function (with credentials of the function's account when it is in another one) and run check again",
			"the function's resource policy could not be read (%s), so whether Cognito may invoke %s for this pool is unknown", c.in.PolicyError, fn)
		return
	}
	st, err := evaluate(c.in.FunctionPolicy, g)
	switch {
	case err != nil:
		c.add(InvokePermission, Error, g.CLICommand(),
			"the function's resource policy cannot be read as a policy (%v): Cognito may not be allowed to invoke %s, and then every migration fails (\"Exception migrating user in app client\")", err, fn)
	case !st.Allowed:
		c.add(InvokePermission, Error, g.CLICommand(),
			"no statement of %s's resource policy lets cognito-idp.amazonaws.com invoke it for %s: Cognito cannot call the trigger and every migration fails with \"Exception migrating user in app client\"", fn, poolARN)
	default:
		wide, hasAccount := statementScope(c.in.FunctionPolicy, st.StatementID)
		if (st.Unscoped || wide) && !hasAccount {
			c.add(InvokePermission, Warning,
				fmt.Sprintf("aws lambda remove-permission --function-name %s --statement-id %s, then %s", fn, st.StatementID, g.CLICommand()),
				"statement %q of %s's resource policy lets cognito-idp.amazonaws.com invoke it with a SourceArn that is absent or a wildcard, and no SourceAccount: any user pool, in any account, may invoke the function", st.StatementID, fn)
		}
	}
}

func (c *checker) alreadyPresent() {
	names := c.in.AlreadyPresent
	if len(names) == 0 {
		return
	}
	c.add(AlreadyPresent, Warning,
		fmt.Sprintf("for each such user whose new-pool account nobody uses (made by sign-up or a test before the migration), delete it so that the trigger migrates them: aws cognito-idp admin-delete-user --region %s --user-pool-id %s --username NAME", c.newRegion, c.newID),
		"%d user(s) exist in both pools but were not migrated (%s): Cognito calls the trigger only for users the new pool does not know, so these sign in with their new-pool password and their old account is never copied",
		len(names), examples(names))
}

// examples quotes up to three names.
func examples(names []string) string {
	const n = 3
	var q []string
	for _, s := range names[:min(n, len(names))] {
		q = append(q, fmt.Sprintf("%q", s))
	}
	out := "e.g. " + strings.Join(q, ", ")
	if len(names) > n {
		out += fmt.Sprintf(" and %d more", len(names)-n)
	}
	return out
}

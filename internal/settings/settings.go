// Package settings reads the function's configuration from its environment,
// once, at start-up. Every problem is reported with the variable's name and
// how to fix it.
package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Names of the environment variables: a public contract, documented in the
// README's configuration table.
const (
	EnvOldUserPoolID       = "OLD_USER_POOL_ID"
	EnvOldClientID         = "OLD_CLIENT_ID"
	EnvOldUserPoolRegion   = "OLD_USER_POOL_REGION"
	EnvOldUserPoolEndpoint = "OLD_USER_POOL_ENDPOINT"
	EnvOldRoleARN          = "OLD_ROLE_ARN"
	EnvOldExternalID       = "OLD_EXTERNAL_ID"
	EnvOldClientSecretARN  = "OLD_CLIENT_SECRET_ARN"
	EnvOldClientSecret     = "OLD_CLIENT_SECRET"
	EnvAttributeMap        = "ATTRIBUTE_MAP"
	EnvExcludeAttributes   = "EXCLUDE_ATTRIBUTES"
	EnvLegacySubAttribute  = migrate.SettingLegacySub
	EnvMFAPolicy           = "MFA_POLICY"
	EnvEnforcePassword     = "ENFORCE_PASSWORD_POLICY"
	EnvTrustEmail          = "TRUST_EMAIL"
	EnvMigrateOnly         = "MIGRATE_ONLY"
	EnvDeclineResponse     = "DECLINE_RESPONSE"
	EnvOldPoolLookup       = "OLD_POOL_LOOKUP"
	EnvNewUserPoolID       = "NEW_USER_POOL_ID"
	EnvLogLevel            = "LOG_LEVEL"
	EnvGroupsAttribute     = migrate.SettingGroupsAttribute
	EnvCreateMissingGroups = "CREATE_MISSING_GROUPS"
	EnvSignUpGuard         = migrate.SettingSignUpGuard
	EnvSignUpGuardMessage  = "SIGNUP_GUARD_MESSAGE"
)

// Names lists every environment variable the function reads, in the order
// of the README's configuration table. Templates and docs are tested
// against it.
func Names() []string {
	return []string{
		EnvOldUserPoolID, EnvOldClientID, EnvOldUserPoolRegion, EnvOldUserPoolEndpoint,
		EnvOldRoleARN, EnvOldExternalID, EnvOldClientSecretARN, EnvOldClientSecret, EnvOldRoute,
		EnvAttributeMap, EnvExcludeAttributes, EnvLegacySubAttribute, EnvMFAPolicy, EnvEnforcePassword, EnvTrustEmail,
		EnvMigrateOnly, EnvDeclineResponse, EnvOldPoolLookup, EnvNewUserPoolID, EnvLogLevel,
		EnvGroupsAttribute, EnvCreateMissingGroups, EnvSignUpGuard, EnvSignUpGuardMessage,
	}
}

// Settings is the validated configuration.
type Settings struct {
	// NewUserPoolID is the pool whose trigger the function is, when known:
	// its description is read during start-up (NEW_USER_POOL_ID).
	NewUserPoolID string
	OldUserPoolID string
	OldClientID   string
	// OldRegion is where old-pool calls go and how they are signed.
	OldRegion string
	// OldEndpoint overrides the old pool's endpoint URL (emulators, VPC
	// endpoints); empty means the AWS endpoint of OldRegion.
	OldEndpoint string
	// OldRoleARN, when set, is assumed (STS AssumeRole) for every old-pool
	// call, with OldExternalID when that is set.
	OldRoleARN    string
	OldExternalID string
	// OldClientSecretARN is a Secrets Manager secret holding the old app
	// client's secret; OldClientSecret is the secret itself (local use).
	// At most one is set.
	OldClientSecretARN string
	OldClientSecret    Secret
	// OldRoute is the first pool's route in a merge (OLD_ROUTE).
	OldRoute migrate.Route
	// OtherPools are the old pools after the first (OLD_2_*, ...): the
	// function merges them all. OldPools lists every pool.
	OtherPools []OldPool
	// Rules shape the migrated user (ATTRIBUTE_MAP, EXCLUDE_ATTRIBUTES,
	// LEGACY_SUB_ATTRIBUTE, MFA_POLICY, ENFORCE_PASSWORD_POLICY, TRUST_EMAIL,
	// MIGRATE_ONLY).
	Rules   migrate.Rules
	Decline migrate.DeclineMode
	// Lookup is when a sign-in reads the user from the old pool
	// (OLD_POOL_LOOKUP).
	Lookup   migrate.LookupMode
	LogLevel slog.Level
	// Companions enable the pre token generation and pre sign-up triggers
	// (companions.go).
	Companions Companions
}

// Secret is a value that must not be printed: fmt and log/slog show it as
// [REDACTED]. Reveal returns it.
type Secret string

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// The values' shapes are checked with plain loops rather than regular
// expressions: compiling them at start-up costs every cold start.

// word reports whether s is non-empty and every byte is an ASCII letter, a
// digit, _ or one of extra (regexp: [\w<extra>]+).
func word(s, extra string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// poolRegion returns the region of a user pool id "<region>_<id>" (API
// pattern [\w-]+_[0-9a-zA-Z]+), and whether id has that shape.
func poolRegion(id string) (string, bool) {
	i := strings.LastIndexByte(id, '_')
	if i < 0 {
		return "", false
	}
	region, rest := id[:i], id[i+1:]
	if !word(region, "-") || !word(rest, "") || strings.IndexByte(rest, '_') >= 0 {
		return "", false
	}
	return region, true
}

// validRegion: [a-z]{2,}(-[a-z0-9]+)*, e.g. eu-west-1.
func validRegion(s string) bool {
	parts := strings.Split(s, "-")
	for i, p := range parts {
		if p == "" || (i == 0 && len(p) < 2) {
			return false
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			if !('a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
				return false
			}
		}
	}
	return true
}

// validAccount: twelve digits.
func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// roleARN reports whether s is an IAM role ARN.
func roleARN(s string) bool {
	a, err := arn.Parse(s)
	// IAM role paths and names: letters, digits and _+=,.@-, paths with /.
	name, isRole := strings.CutPrefix(a.Resource, "role/")
	return err == nil && a.Service == "iam" && a.Region == "" && validAccount(a.AccountID) && isRole && word(name, "+=,.@/-")
}

// secretARN reports whether s is a Secrets Manager secret ARN.
func secretARN(s string) bool {
	a, err := arn.Parse(s)
	return err == nil && a.Service == "secretsmanager" && validRegion(a.Region) &&
		validAccount(a.AccountID) && strings.HasPrefix(a.Resource, "secret:") && len(a.Resource) > len("secret:")
}

// Load reads the settings through getenv (os.Getenv in main). All problems
// are reported together, one per line.
func Load(getenv func(string) string) (Settings, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	s := Settings{
		OldUserPoolID:      get(EnvOldUserPoolID),
		OldClientID:        get(EnvOldClientID),
		OldRegion:          get(EnvOldUserPoolRegion),
		OldEndpoint:        get(EnvOldUserPoolEndpoint),
		OldRoleARN:         get(EnvOldRoleARN),
		OldExternalID:      get(EnvOldExternalID),
		OldClientSecretARN: get(EnvOldClientSecretARN),
		OldClientSecret:    Secret(getenv(EnvOldClientSecret)), // a secret is taken as it is, spaces included
		Decline:            migrate.DeclineMode(strings.ToLower(get(EnvDeclineResponse))),
	}

	s.NewUserPoolID = get(EnvNewUserPoolID)
	if _, ok := poolRegion(s.NewUserPoolID); s.NewUserPoolID != "" && (!ok || len(s.NewUserPoolID) > 55) {
		bad(EnvNewUserPoolID, "%q is not a user pool id: expected <region>_<id>, e.g. eu-west-1_NeWpOoL12 (or leave it unset)", s.NewUserPoolID)
	}

	region, isPoolID := poolRegion(s.OldUserPoolID)
	switch {
	case s.OldUserPoolID == "":
		bad(EnvOldUserPoolID, "is required: set it to the old user pool's id, e.g. eu-west-1_AbCdEf123")
	case !isPoolID || len(s.OldUserPoolID) > 55:
		bad(EnvOldUserPoolID, "%q is not a user pool id: expected <region>_<id>, e.g. eu-west-1_AbCdEf123", s.OldUserPoolID)
	}

	switch {
	case s.OldClientID == "":
		bad(EnvOldClientID, "is required: set it to the id of an app client of the old pool that allows ALLOW_ADMIN_USER_PASSWORD_AUTH")
	case !word(s.OldClientID, "+") || len(s.OldClientID) > 128:
		bad(EnvOldClientID, "%q is not an app client id (letters, digits, _ and +, at most 128)", s.OldClientID)
	}

	switch {
	case s.OldRegion == "":
		s.OldRegion = region
	case !validRegion(s.OldRegion):
		bad(EnvOldUserPoolRegion, "%q is not a region name, e.g. eu-west-1 (leave it unset to use the pool id's prefix)", s.OldRegion)
	}

	if s.OldEndpoint != "" {
		u, err := url.Parse(s.OldEndpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(EnvOldUserPoolEndpoint, "%q is not an absolute http(s) URL, e.g. https://cognito-idp.eu-west-1.amazonaws.com (leave it unset for the AWS endpoint)", s.OldEndpoint)
		}
	}

	switch {
	case s.OldRoleARN == "":
		if s.OldExternalID != "" {
			bad(EnvOldExternalID, "is set but %s is not: an external id is only sent when assuming a role", EnvOldRoleARN)
		}
	case !roleARN(s.OldRoleARN) || len(s.OldRoleARN) > 2048:
		bad(EnvOldRoleARN, "%q is not an IAM role ARN, e.g. arn:aws:iam::111111111111:role/cognito-migrate-old-pool", s.OldRoleARN)
	}
	if s.OldExternalID != "" && (!word(s.OldExternalID, "+=,.@:/-") || len(s.OldExternalID) < 2 || len(s.OldExternalID) > 1224) {
		bad(EnvOldExternalID, "must be 2 to 1224 letters, digits or _+=,.@:/- (no spaces)")
	}

	switch {
	case s.OldClientSecretARN != "" && s.OldClientSecret != "":
		bad(EnvOldClientSecret, "and %s are both set: set only one (the ARN in AWS, the literal only for local use)", EnvOldClientSecretARN)
	case s.OldClientSecretARN != "" && !secretARN(s.OldClientSecretARN):
		bad(EnvOldClientSecretARN, "%q is not a Secrets Manager secret ARN, e.g. arn:aws:secretsmanager:eu-west-1:222222222222:secret:old-client-AbCdEf", s.OldClientSecretARN)
	}

	s.OldRoute, s.OtherPools = loadOtherPools(get, getenv, bad)
	duplicatePools(s, bad)

	s.Rules = loadRules(get, bad)
	s.Companions = loadCompanions(getenv, get, bad, s.Rules)
	if len(s.OtherPools) > 0 {
		// Groups and the sign-up guard read one old pool; with several they
		// would read the wrong one for some users.
		if s.Companions.GroupsAttribute != "" {
			bad(EnvGroupsAttribute, "works with one old pool only; unset it, or the OLD_2_* settings")
		}
		if s.Companions.SignUpGuard {
			bad(EnvSignUpGuard, "works with one old pool only; unset it, or the OLD_2_* settings")
		}
	}

	switch s.Decline {
	case "":
		s.Decline = migrate.DeclineEmpty
	case migrate.DeclineEmpty, migrate.DeclineError:
	default:
		bad(EnvDeclineResponse, "%q is not one of %q (default) or %q", s.Decline, migrate.DeclineEmpty, migrate.DeclineError)
	}

	switch v := migrate.LookupMode(strings.ToLower(get(EnvOldPoolLookup))); v {
	case "":
		s.Lookup = migrate.LookupParallel
	case migrate.LookupParallel, migrate.LookupAfterSignIn:
		s.Lookup = v
	default:
		bad(EnvOldPoolLookup, "%q is not one of %q (default: sign-in and lookup together, one round trip) or %q (look up only after a proven password)",
			v, migrate.LookupParallel, migrate.LookupAfterSignIn)
	}

	switch level := strings.ToUpper(get(EnvLogLevel)); level {
	case "", "INFO":
		s.LogLevel = slog.LevelInfo
	case "DEBUG":
		s.LogLevel = slog.LevelDebug
	case "WARN":
		s.LogLevel = slog.LevelWarn
	case "ERROR":
		s.LogLevel = slog.LevelError
	default:
		bad(EnvLogLevel, "%q is not one of DEBUG, INFO (default), WARN, ERROR", level)
	}

	if len(errs) > 0 {
		return Settings{}, fmt.Errorf("configuration:\n%w", errors.Join(errs...))
	}
	return s, nil
}

// attributeName is Cognito's attribute name pattern; names are at most 32
// characters ("custom:" and 20 for custom attributes). Lengths are checked
// apart: a bounded repeat of Unicode classes costs milliseconds to compile
// on every cold start.
func attributeName(name string) bool {
	for _, r := range name {
		if !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P) {
			return false
		}
	}
	return name != ""
}

func validAttribute(name string) bool {
	if utf8.RuneCountInString(name) > 32 || !attributeName(name) {
		return false
	}
	if rest, ok := strings.CutPrefix(name, "custom:"); ok {
		return rest != "" && len(rest) <= 20
	}
	return true
}

// loadRules reads the settings that shape a migrated user.
func loadRules(get func(string) string, bad func(name, format string, args ...any)) migrate.Rules {
	var r migrate.Rules
	if v := get(EnvAttributeMap); v != "" {
		r.Rename = map[string]string{}
		targets := map[string]string{}
		for _, pair := range strings.Split(v, ",") {
			from, to, ok := strings.Cut(strings.TrimSpace(pair), "=")
			from, to = strings.TrimSpace(from), strings.TrimSpace(to)
			switch {
			case !ok || from == "" || to == "":
				bad(EnvAttributeMap, "%q is not old=new; write pairs like custom:tenant=custom:org_id,given_name=name", pair)
			case !validAttribute(from) || !validAttribute(to):
				bad(EnvAttributeMap, "%q: attribute names are at most 32 characters (custom: and 20), without spaces", pair)
			case from == "sub":
				bad(EnvAttributeMap, "%q: to keep the old sub, set %s instead", pair, EnvLegacySubAttribute)
			case !migrate.Writable(from) || !migrate.Writable(to):
				bad(EnvAttributeMap, "%q: sub, identities, username and cognito:* cannot be copied or written", pair)
			case r.Rename[from] != "":
				bad(EnvAttributeMap, "%s is mapped twice", from)
			case targets[to] != "":
				bad(EnvAttributeMap, "%s and %s both map to %s", targets[to], from, to)
			default:
				r.Rename[from] = to
				targets[to] = from
			}
		}
	}
	if v := get(EnvExcludeAttributes); v != "" {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if !validAttribute(name) {
				bad(EnvExcludeAttributes, "%q is not an attribute name; write a comma-separated list like custom:internal_flag,nickname", name)
				continue
			}
			r.Exclude = append(r.Exclude, name)
		}
	}
	if v := get(EnvLegacySubAttribute); v != "" {
		if !strings.HasPrefix(v, "custom:") || !validAttribute(v) {
			bad(EnvLegacySubAttribute, "%q must be a custom attribute of the new pool, e.g. custom:legacy_sub (custom: and at most 20 characters)", v)
		}
		if _, renamed := r.Rename[v]; renamed {
			bad(EnvLegacySubAttribute, "%s is also a source in %s", v, EnvAttributeMap)
		}
		r.LegacySub = v
	}
	switch v := strings.ToLower(get(EnvMFAPolicy)); migrate.MFAPolicy(v) {
	case "", migrate.MFADeny:
		r.MFA = migrate.MFADeny
	case migrate.MFAMigrate:
		r.MFA = migrate.MFAMigrate
	default:
		bad(EnvMFAPolicy, "%q is not one of %q (default) or %q", v, migrate.MFADeny, migrate.MFAMigrate)
	}
	r.EnforcePasswordPolicy = boolean(get, bad, EnvEnforcePassword)
	r.TrustEmail = boolean(get, bad, EnvTrustEmail)
	scope, err := migrate.ParseScope(get(EnvMigrateOnly), validAttribute)
	if err != nil {
		bad(EnvMigrateOnly, "%v (leave it unset to migrate every user)", err)
	}
	r.Scope = scope
	return r
}

func boolean(get func(string) string, bad func(name, format string, args ...any), name string) bool {
	v := get(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		bad(name, "%q is not true or false", v)
	}
	return b
}

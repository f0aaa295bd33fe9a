// Package settings reads the function's configuration from its environment,
// once, at start-up. Every problem is reported with the variable's name and
// how to fix it.
package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
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
	EnvDeclineResponse     = "DECLINE_RESPONSE"
	EnvLogLevel            = "LOG_LEVEL"
)

// Names lists every environment variable the function reads, in the order
// of the README's configuration table. Templates and docs are tested
// against it.
func Names() []string {
	return []string{
		EnvOldUserPoolID, EnvOldClientID, EnvOldUserPoolRegion, EnvOldUserPoolEndpoint,
		EnvOldRoleARN, EnvOldExternalID, EnvOldClientSecretARN, EnvOldClientSecret,
		EnvDeclineResponse, EnvLogLevel,
	}
}

// Settings is the validated configuration.
type Settings struct {
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
	Decline            trigger.DeclineMode
	LogLevel           string
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

var (
	// User pool ids are "<region>_<id>" (API pattern [\w-]+_[0-9a-zA-Z]+).
	poolIDPattern = regexp.MustCompile(`^([\w-]+)_[0-9a-zA-Z]+$`)
	// App client ids: API pattern [\w+]+, at most 128 characters.
	clientIDPattern = regexp.MustCompile(`^[\w+]{1,128}$`)
	regionPattern   = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)*$`)
	roleARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	// STS ExternalId: 2 to 1224 of letters, digits and _+=,.@:/-
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	secretARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$`)
)

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
		Decline:            trigger.DeclineMode(strings.ToLower(get(EnvDeclineResponse))),
		LogLevel:           strings.ToUpper(get(EnvLogLevel)),
	}

	var poolRegion string
	switch m := poolIDPattern.FindStringSubmatch(s.OldUserPoolID); {
	case s.OldUserPoolID == "":
		bad(EnvOldUserPoolID, "is required: set it to the old user pool's id, e.g. eu-west-1_AbCdEf123")
	case m == nil || len(s.OldUserPoolID) > 55:
		bad(EnvOldUserPoolID, "%q is not a user pool id: expected <region>_<id>, e.g. eu-west-1_AbCdEf123", s.OldUserPoolID)
	default:
		poolRegion = m[1]
	}

	switch {
	case s.OldClientID == "":
		bad(EnvOldClientID, "is required: set it to the id of an app client of the old pool that allows ALLOW_ADMIN_USER_PASSWORD_AUTH")
	case !clientIDPattern.MatchString(s.OldClientID):
		bad(EnvOldClientID, "%q is not an app client id (letters, digits, _ and +, at most 128)", s.OldClientID)
	}

	switch {
	case s.OldRegion == "":
		s.OldRegion = poolRegion
	case !regionPattern.MatchString(s.OldRegion):
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
	case !roleARNPattern.MatchString(s.OldRoleARN):
		bad(EnvOldRoleARN, "%q is not an IAM role ARN, e.g. arn:aws:iam::111111111111:role/cognito-migrate-old-pool", s.OldRoleARN)
	}
	if s.OldExternalID != "" && (!externalIDPattern.MatchString(s.OldExternalID) || len(s.OldExternalID) < 2 || len(s.OldExternalID) > 1224) {
		bad(EnvOldExternalID, "must be 2 to 1224 letters, digits or _+=,.@:/- (no spaces)")
	}

	switch {
	case s.OldClientSecretARN != "" && s.OldClientSecret != "":
		bad(EnvOldClientSecret, "and %s are both set: set only one (the ARN in AWS, the literal only for local use)", EnvOldClientSecretARN)
	case s.OldClientSecretARN != "" && !secretARNPattern.MatchString(s.OldClientSecretARN):
		bad(EnvOldClientSecretARN, "%q is not a Secrets Manager secret ARN, e.g. arn:aws:secretsmanager:eu-west-1:222222222222:secret:old-client-AbCdEf", s.OldClientSecretARN)
	}

	switch s.Decline {
	case "":
		s.Decline = trigger.DeclineEmpty
	case trigger.DeclineEmpty, trigger.DeclineError:
	default:
		bad(EnvDeclineResponse, "%q is not one of %q (default) or %q", s.Decline, trigger.DeclineEmpty, trigger.DeclineError)
	}

	switch s.LogLevel {
	case "":
		s.LogLevel = "INFO"
	case "DEBUG", "INFO", "WARN", "ERROR":
	default:
		bad(EnvLogLevel, "%q is not one of DEBUG, INFO (default), WARN, ERROR", s.LogLevel)
	}

	if len(errs) > 0 {
		return Settings{}, fmt.Errorf("configuration:\n%w", errors.Join(errs...))
	}
	return s, nil
}

// SecretRegion is the region in a Secrets Manager secret ARN.
func SecretRegion(arn string) string {
	if m := secretARNPattern.FindStringSubmatch(arn); m != nil {
		return m[1]
	}
	return ""
}

// Package settings reads the function's configuration from its environment,
// once, at start-up. Every problem is reported with the variable's name and
// how to fix it.
package settings

import (
	"errors"
	"fmt"
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
	EnvDeclineResponse     = "DECLINE_RESPONSE"
	EnvLogLevel            = "LOG_LEVEL"
)

// Settings is the validated configuration.
type Settings struct {
	OldUserPoolID string
	OldClientID   string
	// OldRegion is where old-pool calls go and how they are signed.
	OldRegion string
	// OldEndpoint overrides the old pool's endpoint URL (emulators, VPC
	// endpoints); empty means the AWS endpoint of OldRegion.
	OldEndpoint string
	Decline     trigger.DeclineMode
	LogLevel    string
}

var (
	// User pool ids are "<region>_<id>" (API pattern [\w-]+_[0-9a-zA-Z]+).
	poolIDPattern = regexp.MustCompile(`^([\w-]+)_[0-9a-zA-Z]+$`)
	// App client ids: API pattern [\w+]+, at most 128 characters.
	clientIDPattern = regexp.MustCompile(`^[\w+]{1,128}$`)
	regionPattern   = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)*$`)
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
		OldUserPoolID: get(EnvOldUserPoolID),
		OldClientID:   get(EnvOldClientID),
		OldRegion:     get(EnvOldUserPoolRegion),
		OldEndpoint:   get(EnvOldUserPoolEndpoint),
		Decline:       trigger.DeclineMode(strings.ToLower(get(EnvDeclineResponse))),
		LogLevel:      strings.ToUpper(get(EnvLogLevel)),
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

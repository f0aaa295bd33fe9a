package migrate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// PoolConfig is what the decision needs to know about the NEW pool.
type PoolConfig struct {
	// Attributes are the names the pool's schema accepts ("email",
	// "custom:tenant", ...), with whether each is required.
	Attributes map[string]AttributeSpec
	// AliasAttributes: username pools that also sign in by these
	// ("email", "phone_number", "preferred_username").
	AliasAttributes []string
	// UsernameAttributes: pools that sign in by email or phone number
	// instead of a username.
	UsernameAttributes []string
	// CaseSensitive usernames (and, when false, case-insensitive email and
	// preferred_username aliases too).
	CaseSensitive bool
	Password      PasswordPolicy
	// MFA is the pool's MfaConfiguration: "OFF", "ON" or "OPTIONAL".
	MFA string
}

// AttributeSpec describes one attribute of a pool's schema.
type AttributeSpec struct {
	Required bool
	// Immutable attributes cannot change after the user is created.
	Immutable bool
	// MaxLength is a string attribute's most characters; 0 when the pool
	// does not say.
	MaxLength int
}

// PasswordPolicy is a pool's password policy.
type PasswordPolicy struct {
	MinimumLength                                                      int
	RequireUppercase, RequireLowercase, RequireNumbers, RequireSymbols bool
}

// symbols are the characters Cognito counts as special characters.
// https://docs.aws.amazon.com/cognito/latest/developerguide/managing-users-passwords.html
const symbols = "^$*.[]{}()?-\"!@#%&/\\,><':;|_~`+= "

// Unmet lists the rules of p that password does not meet ("minimum_length",
// "uppercase", "lowercase", "numbers", "symbols"). Letters and digits are
// ASCII only: stricter than Cognito could be means a password is at worst
// sent to a reset, never let through.
func (p PasswordPolicy) Unmet(password string) []string {
	var upper, lower, digit, symbol bool
	for _, r := range password {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(symbols, r):
			symbol = true
		}
	}
	var unmet []string
	if utf8.RuneCountInString(password) < p.MinimumLength {
		unmet = append(unmet, "minimum_length")
	}
	for _, c := range []struct {
		required, met bool
		name          string
	}{
		{p.RequireUppercase, upper, "uppercase"},
		{p.RequireLowercase, lower, "lowercase"},
		{p.RequireNumbers, digit, "numbers"},
		{p.RequireSymbols, symbol, "symbols"},
	} {
		if c.required && !c.met {
			unmet = append(unmet, c.name)
		}
	}
	return unmet
}

// NewPool is the new user pool's configuration, as the decision needs it.
type NewPool interface {
	// Config describes the pool poolID (the event's userPoolId).
	Config(ctx context.Context, poolID string) (PoolConfig, error)
}

// MFAPolicy says what to do when the old pool answers a correct password
// with a second-factor challenge.
type MFAPolicy string

const (
	// MFADeny declines the user: they can still reset their password
	// through the new pool. The default.
	MFADeny MFAPolicy = "deny"
	// MFAMigrate migrates them as CONFIRMED: the password was proven, the
	// second factor skipped once, and the new pool's MFA settings apply from
	// then on.
	MFAMigrate MFAPolicy = "migrate"
)

// Rules are the operator's choices about what a migrated user looks like.
type Rules struct {
	// Rename maps old attribute names to new ones (ATTRIBUTE_MAP).
	Rename map[string]string
	// Exclude lists old attribute names never copied (EXCLUDE_ATTRIBUTES).
	Exclude []string
	// LegacySub is the new pool's attribute that receives the old user's
	// sub (LEGACY_SUB_ATTRIBUTE), e.g. "custom:legacy_sub"; empty for none.
	LegacySub string
	MFA       MFAPolicy
	// EnforcePasswordPolicy sends users whose typed password fails the new
	// pool's policy to a reset (ENFORCE_PASSWORD_POLICY).
	EnforcePasswordPolicy bool
	// TrustEmail marks an unverified email verified (TRUST_EMAIL). Risky:
	// a reset code may then go to an address nobody proved they own.
	TrustEmail bool
}

// ConfigError is a problem with the operator's configuration that shows
// only against the new pool (e.g. LEGACY_SUB_ATTRIBUTE not in its schema).
// Every event then fails, so the alarm fires; nobody is migrated wrongly.
type ConfigError struct {
	Setting string
	Problem string
}

func (e *ConfigError) Error() string { return e.Setting + ": " + e.Problem }

// Decline reasons from the new pool's rules.
const (
	// SignInNameNotUsable: what the user typed cannot identify them in the
	// new pool (e.g. their email, when the new pool has no email alias).
	SignInNameNotUsable Reason = "sign_in_name_not_usable"
	// UsernameCaseMismatch: the user typed their username in other case,
	// and the case-sensitive new pool would make it a different user.
	UsernameCaseMismatch Reason = "username_case_mismatch"
)

// Shape is what the new pool will store for a user who signs in as typed:
// the trigger's response and the bulk export are both built from it.
type Shape struct {
	// Username for the response's "username" key; empty leaves it out, so
	// the typed name becomes the username.
	Username   string
	Attributes map[string]string
	// Dropped names old attributes not copied because the new pool lacks
	// them; Missing names the new pool's required attributes the user lacks.
	Dropped, Missing []string
}

// Shape applies the rules and the new pool's schema and sign-in type to the
// old user u, who typed typed. A non-empty Reason is a decline: what the user
// typed cannot identify them in the new pool without risking a second
// account. An error is a configuration problem (*ConfigError).
func (r Rules) Shape(cfg PoolConfig, u User, typed string) (Shape, Reason, error) {
	if r.LegacySub != "" {
		if _, ok := cfg.Attributes[r.LegacySub]; !ok {
			return Shape{}, "", &ConfigError{Setting: "LEGACY_SUB_ATTRIBUTE",
				Problem: fmt.Sprintf("%q is not in the new pool's schema: add it as a custom attribute of the new pool (custom attributes can be added to an existing pool)", r.LegacySub)}
		}
	}

	attrs := Transferable(u.Attributes)
	if r.TrustEmail && attrs["email"] != "" {
		attrs["email_verified"] = "true"
	}
	for _, name := range r.Exclude {
		delete(attrs, name)
	}
	if len(r.Rename) > 0 {
		renamed := make(map[string]string, len(attrs))
		for name, value := range attrs {
			if to, ok := r.Rename[name]; ok {
				name = to
			}
			renamed[name] = value
		}
		attrs = renamed
	}
	if r.LegacySub != "" && u.Attributes["sub"] != "" {
		attrs[r.LegacySub] = u.Attributes["sub"]
	}

	s := Shape{Attributes: attrs}
	for name := range attrs {
		if _, ok := cfg.Attributes[name]; !ok {
			s.Dropped = append(s.Dropped, name)
			delete(attrs, name)
		}
	}
	slices.Sort(s.Dropped)

	username, reason := cfg.signInAs(u, typed, attrs)
	if reason != "" {
		return Shape{}, reason, nil
	}
	s.Username = username

	for name, spec := range cfg.Attributes {
		if spec.Required && name != "sub" && attrs[name] == "" {
			s.Missing = append(s.Missing, name)
		}
	}
	slices.Sort(s.Missing)
	return s, "", nil
}

// signInAs decides the new user's username and, when the user typed an
// alias, puts the typed value into that alias attribute, as Cognito requires
// (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-migrate-user.html).
// It returns the value of the response's "username" key ("" to leave it
// out, which makes the typed name the username), or a decline reason.
func (cfg PoolConfig) signInAs(u User, typed string, attrs map[string]string) (string, Reason) {
	kind := typedKind(u, typed)
	// Old pools that sign in by email or phone give users their sub as
	// username; such users never type it.
	opaqueUsername := u.Username != "" && u.Username == u.Attributes["sub"]

	if len(cfg.UsernameAttributes) > 0 {
		// Email or phone as username: Cognito names the user itself; the
		// typed value must be the attribute it signs in with.
		if !slices.Contains(cfg.UsernameAttributes, kind) {
			return "", SignInNameNotUsable
		}
		attrs[kind] = typed
		return "", ""
	}
	switch kind {
	case "username":
		return typed, ""
	case "username_case":
		if cfg.CaseSensitive {
			return "", UsernameCaseMismatch
		}
		return "", "" // the typed spelling becomes the username
	case "email", "phone_number", "preferred_username":
		switch {
		case slices.Contains(cfg.AliasAttributes, kind):
			attrs[kind] = typed
			return u.Username, ""
		case opaqueUsername:
			// From an email-as-username pool to a username pool: the email
			// (or phone) the user always types becomes their username.
			attrs[kind] = typed
			return "", ""
		}
	}
	return "", SignInNameNotUsable
}

// typedKind says what the user typed: "username", "username_case" (the
// username in other case), an alias attribute's name, or "".
func typedKind(u User, typed string) string {
	switch {
	case typed == u.Username:
		return "username"
	case strings.EqualFold(typed, u.Username):
		return "username_case"
	}
	for _, attr := range []string{"email", "phone_number", "preferred_username"} {
		v := u.Attributes[attr]
		if v == "" {
			continue
		}
		if v == typed || (attr != "phone_number" && strings.EqualFold(v, typed)) {
			return attr
		}
	}
	return ""
}

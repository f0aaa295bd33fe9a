package migrate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
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
	// Recovery names the pool's account recovery mechanisms
	// (AccountRecoverySetting, in priority order: "verified_email",
	// "verified_phone_number", "admin_only"); nil when the pool has no such
	// setting.
	Recovery []string
}

// verified reports whether attrs hold the contact ("email" or
// "phone_number") and mark it verified.
func verified(attrs map[string]string, contact string) bool {
	return attrs[contact] != "" && asciiEqualFold(attrs[contact+"_verified"], "true")
}

// Reachable reports whether the pool can send a user with attrs a password
// reset code: a verified email or phone number that its account recovery
// setting uses. Without a setting (the legacy behaviour) either will do;
// "admin_only" reaches nobody.
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AccountRecoverySettingType.html
func (cfg PoolConfig) Reachable(attrs map[string]string) bool {
	email, phone := verified(attrs, "email"), verified(attrs, "phone_number")
	if len(cfg.Recovery) == 0 {
		return email || phone
	}
	for _, m := range cfg.Recovery {
		if (m == "verified_email" && email) || (m == "verified_phone_number" && phone) {
			return true
		}
	}
	return false
}

// AttributeSpec describes one attribute of a pool's schema
// (SchemaAttributeType in DescribeUserPool's answer).
type AttributeSpec struct {
	Required bool
	// Type is the AttributeDataType: "String" (also when empty), "Number",
	// "Boolean" or "DateTime".
	Type string
	// MinLength and MaxLength bound a String value (StringAttributeConstraints);
	// MaxLength 0 means Cognito's default, DefaultMaxLength.
	MinLength, MaxLength int
	// MinValue and MaxValue bound a Number value (NumberAttributeConstraints);
	// nil for no bound.
	MinValue, MaxValue *int64
	// DeveloperOnly attributes (dev:custom:...) can only be written with
	// developer credentials, never by a migration response.
	DeveloperOnly bool
	// Mutable attributes can change after the user is created. Immutable ones
	// can still be set when the user is created, so a migration writes them.
	Mutable bool
}

// DefaultMaxLength is the length limit of a String attribute whose schema
// sets none.
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_StringAttributeConstraintsType.html
const DefaultMaxLength = 2048

// Accepts reports whether the new pool would take value for the attribute
// name this spec describes. Where Cognito's exact rule is not documented it
// errs towards refusing: a value dropped and logged costs one attribute, a
// value refused by Cognito costs the whole sign-in.
func (s AttributeSpec) Accepts(name, value string) bool {
	if s.DeveloperOnly || strings.HasPrefix(name, "dev:") {
		return false
	}
	switch s.Type {
	case "Number":
		// Cognito's numbers are integers.
		n, err := strconv.ParseInt(value, 10, 64)
		return err == nil && (s.MinValue == nil || n >= *s.MinValue) && (s.MaxValue == nil || n <= *s.MaxValue)
	case "Boolean":
		return asciiEqualFold(value, "true") || asciiEqualFold(value, "false")
	case "DateTime":
		_, err := time.Parse(time.RFC3339, value)
		return err == nil
	}
	// Length in characters at least MinLength, in bytes at most MaxLength:
	// whichever way Cognito counts, a value that passes both fits.
	maxLen := s.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}
	return utf8.RuneCountInString(value) >= s.MinLength && len(value) <= maxLen
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
	// MFADeny declines the user, at sign-in (the challenge is owed) and at
	// forgot password (a reset code proves less than two factors). The
	// default.
	MFADeny MFAPolicy = "deny"
	// MFAMigrate migrates them (at sign-in as CONFIRMED: the password was
	// proven), the second factor skipped once; SMS MFA is kept when the new
	// pool allows it, TOTP and email OTP cannot move (users enrol again), and
	// the new pool's MFA settings apply from then on.
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
	// Scope says which old users may migrate at all (MIGRATE_ONLY); the
	// zero value lets everyone in.
	Scope Scope
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
	// AliasCaseMismatch: the user typed their email, preferred_username or
	// sign-in email in other case than the old pool stores, and the
	// case-sensitive new pool would keep the two spellings apart.
	AliasCaseMismatch Reason = "alias_case_mismatch"
	// UsernameIsEmail: the user's username in the new pool would be in email
	// format, which a pool with an email alias refuses ("Username cannot be of
	// email format since user pool is configured for email alias").
	UsernameIsEmail Reason = "username_is_email"
)

// Shape is what the new pool will store for a user who signs in as typed:
// the trigger's response and the bulk export are both built from it.
type Shape struct {
	// Username for the response's "username" key; empty leaves it out, so
	// the typed name becomes the username.
	Username   string
	Attributes map[string]string
	// Dropped names old attributes not copied because the new pool lacks
	// them, and *_verified flags whose attribute is not sent or holds
	// another address than the flag was set for; Invalid names
	// attributes whose values the new pool's schema refuses (length, type,
	// developer-only); Overwritten names attributes whose own value gave way
	// to an ATTRIBUTE_MAP or LEGACY_SUB_ATTRIBUTE value; Missing names the new
	// pool's required attributes the user lacks. Names only, for the log.
	Dropped, Invalid, Overwritten, Missing []string
}

// Shape applies the rules and the new pool's schema and sign-in type to the
// old user u, who typed typed. A non-empty Reason is a decline: the user is
// outside MIGRATE_ONLY (OutOfScope), or what they typed cannot identify them
// in the new pool without risking a second account. An error is a
// configuration problem (*ConfigError).
func (r Rules) Shape(cfg PoolConfig, u User, typed string) (Shape, Reason, error) {
	if !r.InScope(u) {
		return Shape{}, OutOfScope, nil
	}
	if r.LegacySub != "" {
		if _, ok := cfg.Attributes[r.LegacySub]; !ok {
			return Shape{}, "", &ConfigError{Setting: SettingLegacySub,
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
	var s Shape
	if len(r.Rename) > 0 {
		// Names that are not renamed first, then the renamed values: a
		// target the user also has under its own name always gets the
		// renamed value, whatever the map's order.
		renamed := make(map[string]string, len(attrs))
		for name, value := range attrs {
			if _, ok := r.Rename[name]; !ok {
				renamed[name] = value
			}
		}
		for _, from := range slices.Sorted(maps.Keys(r.Rename)) {
			value, ok := attrs[from]
			if !ok {
				continue
			}
			to := r.Rename[from]
			if _, had := renamed[to]; had {
				s.Overwritten = append(s.Overwritten, to)
			}
			renamed[to] = value
		}
		attrs = renamed
	}
	if r.LegacySub != "" && u.Attributes["sub"] != "" {
		if _, had := attrs[r.LegacySub]; had {
			s.Overwritten = append(s.Overwritten, r.LegacySub)
		}
		attrs[r.LegacySub] = u.Attributes["sub"]
	}

	s.Attributes = attrs
	for name, value := range attrs {
		spec, ok := cfg.Attributes[name]
		switch {
		case !ok:
			s.Dropped = append(s.Dropped, name)
			delete(attrs, name)
		case !spec.Accepts(name, value):
			s.Invalid = append(s.Invalid, name)
			delete(attrs, name)
		}
	}
	// A verified flag says something about an address: never send it alone.
	for _, contact := range []string{"email", "phone_number"} {
		flag := contact + "_verified"
		if _, ok := attrs[flag]; ok && attrs[contact] == "" {
			s.Dropped = append(s.Dropped, flag)
			delete(attrs, flag)
		}
	}
	slices.Sort(s.Dropped)
	slices.Sort(s.Invalid)
	slices.Sort(s.Overwritten)

	username, reason := cfg.signInAs(u, typed, attrs)
	if reason != "" {
		return Shape{}, reason, nil
	}
	s.Username = username
	// Nor with another address than the one it was set for: a value that
	// ATTRIBUTE_MAP or LEGACY_SUB_ATTRIBUTE put there was never verified
	// (unless TRUST_EMAIL says to trust any email).
	for _, contact := range []string{"email", "phone_number"} {
		flag := contact + "_verified"
		if _, ok := attrs[flag]; !ok || (contact == "email" && r.TrustEmail) {
			continue
		}
		if old := u.Attributes[contact]; attrs[contact] != old && (contact == "phone_number" || !asciiEqualFold(attrs[contact], old)) {
			s.Dropped = append(s.Dropped, flag)
			delete(attrs, flag)
			slices.Sort(s.Dropped)
		}
	}

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
	kind, exact := typedKind(u, typed)
	// Old pools that sign in by email or phone give users their sub as
	// username; such users never type it.
	opaqueUsername := u.Username != "" && u.Username == u.Attributes["sub"]

	if len(cfg.UsernameAttributes) > 0 {
		// Email or phone as username: Cognito names the user itself; the
		// typed value must be the attribute it signs in with. An old
		// username that is also the user's email (people often chose their
		// address as username) counts as that email.
		kind, exact = typedAttribute(u, typed, cfg.UsernameAttributes)
		if kind == "" {
			return "", SignInNameNotUsable
		}
		if !exact && cfg.CaseSensitive {
			return "", AliasCaseMismatch
		}
		attrs[kind] = typed
		return "", ""
	}
	var username string
	switch kind {
	case "username":
		if !exact && cfg.CaseSensitive {
			return "", UsernameCaseMismatch
		}
		// In a case-insensitive pool the typed spelling becomes the
		// username; sending it keeps the response's attributes non-empty
		// (an empty response is Cognito's "no such user").
		username = typed
	case "email", "phone_number", "preferred_username":
		alias := slices.Contains(cfg.AliasAttributes, kind)
		if !alias && !opaqueUsername {
			return "", SignInNameNotUsable
		}
		if !exact && cfg.CaseSensitive {
			// The new user would keep the typed spelling while the old
			// pool keeps its own: two spellings, two sign-in names.
			return "", AliasCaseMismatch
		}
		attrs[kind] = typed
		if alias {
			username = u.Username
		}
		// Otherwise the user comes from an email-as-username pool to a
		// username pool: the email (or phone) they always type becomes
		// their username.
	default:
		return "", SignInNameNotUsable
	}
	final := username
	if final == "" {
		final = typed
	}
	// A pool with an email alias refuses usernames in email format (see
	// aliases in https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html).
	// Any "@" counts: a wrong guess at Cognito's test declines, never errors.
	if slices.Contains(cfg.AliasAttributes, "email") && strings.Contains(final, "@") {
		return "", UsernameIsEmail
	}
	return username, ""
}

// typedKind says what the user typed: "username" or an alias attribute's
// name ("" for none), and whether it matched exactly or only in another
// (ASCII) case. Exact matches win over case-folded ones.
func typedKind(u User, typed string) (kind string, exact bool) {
	aliases := []string{"email", "phone_number", "preferred_username"}
	if typed == u.Username && typed != "" {
		return "username", true
	}
	for _, attr := range aliases {
		if v := u.Attributes[attr]; v != "" && v == typed {
			return attr, true
		}
	}
	if asciiEqualFold(typed, u.Username) && typed != "" {
		return "username", false
	}
	for _, attr := range aliases {
		// Phone numbers have no case.
		if v := u.Attributes[attr]; v != "" && attr != "phone_number" && asciiEqualFold(v, typed) {
			return attr, false
		}
	}
	return "", false
}

// typedAttribute is typedKind limited to the attributes attrs: which of
// them holds what the user typed ("" for none), and whether exactly.
func typedAttribute(u User, typed string, attrs []string) (kind string, exact bool) {
	for _, attr := range attrs {
		if v := u.Attributes[attr]; v != "" && v == typed {
			return attr, true
		}
	}
	for _, attr := range attrs {
		if v := u.Attributes[attr]; v != "" && attr != "phone_number" && asciiEqualFold(v, typed) {
			return attr, false
		}
	}
	return "", false
}

// FoldASCII maps ASCII upper-case letters to lower case and leaves every
// other character alone: the case folding of Cognito's case-insensitive
// user pools, which treat "É" and "é" as different.
func FoldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// asciiEqualFold is strings.EqualFold for ASCII letters only: other
// characters must be equal byte for byte. Unicode folding would match the
// Kelvin sign U+212A with "k", and a pool that does not fold it the same
// way would then hold two users for one person.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

package bulk

import (
	"fmt"
	"slices"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// SkipReason says why an old user is not in the export. The names are a
// public contract: they appear in DIR/skipped.jsonl, in DIR/export.json and
// in the command's summary.
//
//   - unconfirmed: the old user never confirmed their sign-up (UNCONFIRMED).
//   - force_change_password: the old user still has a temporary password
//     (FORCE_CHANGE_PASSWORD); the trigger moves them when they sign in.
//   - reset_required: the old user must reset their password (RESET_REQUIRED).
//   - external_provider: a federated user (EXTERNAL_PROVIDER), who signs in
//     through their identity provider, not with a password.
//   - unsupported_status: any other status (ARCHIVED, COMPROMISED, UNKNOWN...).
//   - no_verified_contact: the user, as the new pool would store them, has
//     neither a verified email nor a verified phone number; an imported user
//     must reset their password, which needs one.
//   - already_in_new_pool: the new pool already has the user (the trigger
//     moved them, or an earlier import did).
//   - duplicate_username: an earlier user of this export has the same new
//     username (ignoring case when the new pool does); importing both would
//     make one person's steps apply to another's account.
//   - invalid_username: the new username is empty or holds a space or tab.
//   - unrepresentable_value: a value Cognito's CSV dialect cannot carry
//     unchanged (see EncodeValue); the detail names the column.
//   - attribute_not_in_header: the shaped user has an attribute the new pool's
//     header lacks.
//   - row_too_long: the row exceeds Cognito's 16,000 characters or the file
//     size limit.
//   - Any reason a Shaper returns (the trigger's own decline reasons, such as
//     sign_in_name_not_usable), unchanged.
type SkipReason string

// Skip reasons of the export; see SkipReason.
const (
	SkipUnconfirmed          SkipReason = "unconfirmed"
	SkipForceChangePassword  SkipReason = "force_change_password"
	SkipResetRequired        SkipReason = "reset_required"
	SkipExternalProvider     SkipReason = "external_provider"
	SkipUnsupportedStatus    SkipReason = "unsupported_status"
	SkipNoVerifiedContact    SkipReason = "no_verified_contact"
	SkipAlreadyInNewPool     SkipReason = "already_in_new_pool"
	SkipDuplicateUsername    SkipReason = "duplicate_username"
	SkipInvalidUsername      SkipReason = "invalid_username"
	SkipUnrepresentable      SkipReason = "unrepresentable_value"
	SkipAttributeNotInHeader SkipReason = "attribute_not_in_header"
	SkipRowTooLong           SkipReason = "row_too_long"
)

// Old-pool statuses the export knows besides migrate's.
const statusExternalProvider = "EXTERNAL_PROVIDER"

// Row is one user as the new pool should receive them: the value of
// cognito:username and the attributes, already shaped by the trigger's rules.
type Row struct {
	Username   string
	Attributes map[string]string
}

// Shaper turns an old user into the row the trigger would have produced for
// them, or says why it would not migrate them (a non-empty SkipReason; the
// Row is then ignored). The export command plugs in migrate's shaping, so a
// bulk-imported user looks exactly like one the trigger moved.
type Shaper func(migrate.User) (Row, SkipReason)

// statusSkip is who is exported, by old status: CONFIRMED users, enabled or
// not (disabled ones are disabled again after the import). The others are
// skipped unless ExportOptions.AllowStatuses lists them.
func statusSkip(status string, allowed []string) SkipReason {
	if slices.Contains(allowed, status) {
		return ""
	}
	switch status {
	case migrate.StatusUnconfirmed:
		return SkipUnconfirmed
	case migrate.StatusForceChangePassword:
		return SkipForceChangePassword
	case migrate.StatusResetRequired:
		return SkipResetRequired
	case statusExternalProvider:
		return SkipExternalProvider
	}
	return SkipUnsupportedStatus
}

// hasVerifiedContact: an imported user must reset their password, which
// needs a verified email or phone number, and Cognito fails a row without
// one ("The User Record does not set any of the auto verified attributes to
// true").
// It is the trigger's rule for a pool without an account recovery setting
// (the export checks the new pool's own setting before this).
func hasVerifiedContact(attrs map[string]string) bool {
	return migrate.PoolConfig{}.Reachable(attrs)
}

// MFA configurations of a pool (MfaConfiguration).
const (
	MFAOff      = "OFF"
	MFAOn       = "ON"
	MFAOptional = "OPTIONAL"
)

// mfaValue is the cognito:mfa_enabled value the new pool's MFA configuration
// requires: true for every row when MFA is ON, false when OFF, and when
// OPTIONAL true only for users who had SMS MFA set up (with a phone number to
// send it to). The column only means SMS MFA: authenticator-app (TOTP)
// secrets cannot be exported, so those users enrol again. ListUsers does not
// return a user's MFA settings: for an OPTIONAL pool the caller must fill
// migrate.User.MFA (AdminGetUser), or SMS MFA users arrive without it.
func mfaValue(poolMFA string, u migrate.User, row Row) string {
	switch poolMFA {
	case MFAOn:
		return "true"
	case MFAOptional:
		if slices.Contains(u.MFA, "SMS_MFA") && row.Attributes["phone_number"] != "" {
			return "true"
		}
	}
	return "false"
}

func checkPoolMFA(mfa string) error {
	switch mfa {
	case MFAOff, MFAOn, MFAOptional:
		return nil
	}
	return fmt.Errorf("new pool MFA configuration %q: want OFF, ON or OPTIONAL (DescribeUserPool's MfaConfiguration)", mfa)
}

// usernameKey is the key under which duplicate new usernames are found:
// ASCII-folded when the new pool ignores case, as Cognito folds only ASCII.
func usernameKey(name string, caseSensitive bool) string {
	if caseSensitive {
		return name
	}
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

package migrate

import (
	"context"
	"fmt"
	"time"
)

// Who wrote the carried groups? Any app client that lists the attribute in
// its WriteAttributes lets a user write it too (at SignUp, or with
// UpdateUserAttributes once signed in), and the pre token generation
// trigger would then add them to the groups they named. So the attribute is
// honoured only on a user the migration has just created: the first tokens
// of a migrating sign-in come within a second or two of the user's
// creation, with no change to the user in between. Cognito does not document
// how precisely it keeps UserCreateDate and UserLastModifiedDate, so every
// doubt refuses: a refused carrier costs the user their old groups (logged
// and counted), an honoured forgery costs the pool its authorisation.
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminGetUser.html
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html

// GroupsRefused: the carried groups were refused, because the user was not
// created by a migration moments ago (see VouchCarrier); the attribute is
// deleted and the tokens keep the groups the request has.
const GroupsRefused Reason = "groups_refused"

const (
	// CarrierMaxAge is how long after the user's creation the carried
	// groups are honoured. A migrating sign-in reaches its first tokens in
	// seconds (a little more with an MFA challenge); the margin covers the
	// clocks of the function and of Cognito.
	CarrierMaxAge = 2 * time.Minute
	// CarrierUnmodified is how far apart the user's creation and last
	// modification may be: Cognito stamps both when it creates the user,
	// and any later write (UpdateUserAttributes, a password change) moves
	// the modification.
	CarrierUnmodified = 2 * time.Second
)

// UserTimes is when a user of the new pool was created and last modified
// (AdminGetUser's UserCreateDate and UserLastModifiedDate; zero when the
// answer lacks one).
type UserTimes struct {
	Created, LastModified time.Time
}

// CarrierRefusedError is a carried attribute that the migration may not have
// written. Why holds durations only, never a user's data.
type CarrierRefusedError struct{ Why string }

func (e *CarrierRefusedError) Error() string { return "carried groups refused: " + e.Why }

// VouchCarrier returns nil when a user with times t, read at now, can carry
// groups written by a migration, and a *CarrierRefusedError otherwise.
func VouchCarrier(t UserTimes, now time.Time) error {
	refuse := func(format string, args ...any) error {
		return &CarrierRefusedError{Why: fmt.Sprintf(format, args...)}
	}
	switch {
	case t.Created.IsZero() || t.LastModified.IsZero():
		return refuse("the new pool did not say when the user was created and last modified")
	case t.LastModified.Sub(t.Created) > CarrierUnmodified:
		return refuse("the user was modified %s after it was created, more than %s: the attribute may not be the migration's",
			t.LastModified.Sub(t.Created).Round(time.Second), CarrierUnmodified)
	case t.Created.Sub(t.LastModified) > CarrierUnmodified:
		return refuse("the user's last modification is %s before its creation", t.Created.Sub(t.LastModified).Round(time.Second))
	case now.Sub(t.Created) > CarrierMaxAge:
		return refuse("the user was created %s ago, more than %s: only a migration's first tokens apply carried groups",
			now.Sub(t.Created).Round(time.Second), CarrierMaxAge)
	case t.Created.Sub(now) > CarrierMaxAge:
		return refuse("the user's creation is %s in the future", t.Created.Sub(now).Round(time.Second))
	}
	return nil
}

// Vouch reads when username was created and last modified and returns
// VouchCarrier's answer: nil, a *CarrierRefusedError, or the fault of the
// read (the sign-in then fails and the attribute stays for the next one).
func (a *GroupApplier) Vouch(ctx context.Context, poolID, username string) error {
	t, err := a.pool.UserTimes(ctx, poolID, username)
	if err != nil {
		return fmt.Errorf("read the user's creation time: %w", err)
	}
	return VouchCarrier(t, a.now())
}

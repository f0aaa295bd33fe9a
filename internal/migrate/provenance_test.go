package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Carried groups are honoured only on a user created moments ago and not
// modified since; every doubt refuses.
func TestVouchCarrier(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		times   migrate.UserTimes
		refused string // "" when honoured; else a part of the reason
	}{
		{"a migration's first tokens", migrate.UserTimes{Created: now.Add(-time.Second), LastModified: now.Add(-time.Second)}, ""},
		{"stamped a moment apart", migrate.UserTimes{Created: now.Add(-3 * time.Second), LastModified: now.Add(-1500 * time.Millisecond)}, ""},
		{"after an MFA challenge", migrate.UserTimes{Created: now.Add(-90 * time.Second), LastModified: now.Add(-90 * time.Second)}, ""},
		{"clocks a little apart", migrate.UserTimes{Created: now.Add(5 * time.Second), LastModified: now.Add(5 * time.Second)}, ""},
		{"written after the creation (UpdateUserAttributes)", migrate.UserTimes{Created: now.Add(-30 * time.Second), LastModified: now.Add(-10 * time.Second)}, "modified 20s after"},
		{"an old user who wrote it", migrate.UserTimes{Created: now.Add(-48 * time.Hour), LastModified: now.Add(-time.Minute)}, "modified"},
		{"created long ago, never modified", migrate.UserTimes{Created: now.Add(-10 * time.Minute), LastModified: now.Add(-10 * time.Minute)}, "created 10m0s ago"},
		{"no creation time", migrate.UserTimes{LastModified: now}, "did not say"},
		{"no modification time", migrate.UserTimes{Created: now}, "did not say"},
		{"modified before created", migrate.UserTimes{Created: now, LastModified: now.Add(-time.Minute)}, "before its creation"},
		{"created in the future", migrate.UserTimes{Created: now.Add(time.Hour), LastModified: now.Add(time.Hour)}, "in the future"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := migrate.VouchCarrier(tt.times, now)
			var refused *migrate.CarrierRefusedError
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("VouchCarrier(%+v) = %v, want honoured", tt.times, err)
			case tt.refused != "" && (!errors.As(err, &refused) || !strings.Contains(refused.Why, tt.refused)):
				t.Errorf("VouchCarrier(%+v) = %v, want refused with %q", tt.times, err, tt.refused)
			}
		})
	}
}

// Vouch reads the user's times from the new pool.
func TestVouchReadsTheNewUser(t *testing.T) {
	pool := &fakeGroupPool{times: migrate.UserTimes{Created: time.Now().Add(-time.Hour), LastModified: time.Now()}}
	a := migrate.NewGroupApplier(pool, &fakeLister{}, "custom:legacy_groups", false)
	var refused *migrate.CarrierRefusedError
	if err := a.Vouch(context.Background(), "p", "alice"); !errors.As(err, &refused) {
		t.Errorf("Vouch() = %v, want refused", err)
	}
	if len(pool.calls) != 1 || pool.calls[0] != "times alice" {
		t.Errorf("calls = %v, want the user's times read once", pool.calls)
	}
	pool.times = migrate.UserTimes{Created: time.Now(), LastModified: time.Now()}
	if err := a.Vouch(context.Background(), "p", "alice"); err != nil {
		t.Errorf("Vouch() = %v, want honoured", err)
	}
}

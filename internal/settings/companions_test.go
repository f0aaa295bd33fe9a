package settings_test

import (
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

func TestCompanions(t *testing.T) {
	base := map[string]string{"OLD_USER_POOL_ID": "eu-west-1_AbC", "OLD_CLIENT_ID": "abc"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	got, err := settings.Load(env(with("LEGACY_GROUPS_ATTRIBUTE", "custom:legacy_groups", "CREATE_MISSING_GROUPS", "true",
		"SIGNUP_GUARD", "true", "SIGNUP_GUARD_MESSAGE", "  Please sign in instead.  ")))
	if err != nil {
		t.Fatal(err)
	}
	want := settings.Companions{GroupsAttribute: "custom:legacy_groups", CreateMissingGroups: true, SignUpGuard: true, SignUpGuardMessage: "Please sign in instead."}
	if got.Companions != want {
		t.Errorf("Companions = %+v, want %+v", got.Companions, want)
	}
	if off, err := settings.Load(env(base)); err != nil || off.Companions != (settings.Companions{}) {
		t.Errorf("without settings: %+v, %v; want every companion off", off.Companions, err)
	}

	for name, tt := range map[string]struct {
		env  map[string]string
		want string
	}{
		"not a custom attribute":    {with("LEGACY_GROUPS_ATTRIBUTE", "groups"), "LEGACY_GROUPS_ATTRIBUTE: \"groups\" must be a custom attribute"},
		"same as the legacy sub":    {with("LEGACY_GROUPS_ATTRIBUTE", "custom:legacy", "LEGACY_SUB_ATTRIBUTE", "custom:legacy"), "LEGACY_GROUPS_ATTRIBUTE: custom:legacy is also LEGACY_SUB_ATTRIBUTE"},
		"a rename target":           {with("LEGACY_GROUPS_ATTRIBUTE", "custom:g", "ATTRIBUTE_MAP", "custom:a=custom:g"), "LEGACY_GROUPS_ATTRIBUTE: custom:g also appears in ATTRIBUTE_MAP"},
		"create without attribute":  {with("CREATE_MISSING_GROUPS", "true"), "CREATE_MISSING_GROUPS: is true but LEGACY_GROUPS_ATTRIBUTE is not set"},
		"create not a boolean":      {with("LEGACY_GROUPS_ATTRIBUTE", "custom:g", "CREATE_MISSING_GROUPS", "yes please"), "CREATE_MISSING_GROUPS: \"yes please\" is not true or false"},
		"guard not a boolean":       {with("SIGNUP_GUARD", "on"), "SIGNUP_GUARD: \"on\" is not true or false"},
		"message without the guard": {with("SIGNUP_GUARD_MESSAGE", "hi"), "SIGNUP_GUARD_MESSAGE: is set but SIGNUP_GUARD is not true"},
		"message on two lines":      {with("SIGNUP_GUARD", "true", "SIGNUP_GUARD_MESSAGE", "a\nb"), "SIGNUP_GUARD_MESSAGE: must be one line"},
		"message too long":          {with("SIGNUP_GUARD", "true", "SIGNUP_GUARD_MESSAGE", strings.Repeat("x", 501)), "SIGNUP_GUARD_MESSAGE: must be one line of at most 500"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := settings.Load(env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() error = %v, want %q", err, tt.want)
			}
		})
	}
}

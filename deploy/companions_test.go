package deploy_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
)

// companionCalls are the cognito-idp actions a companion trigger's settings
// add, on each pool.
type companionCalls struct{ old, new []string }

var (
	// LEGACY_GROUPS_ATTRIBUTE: groups listed at the migration, applied at
	// the first tokens of a user the migration just created (AdminGetUser
	// on the new pool vouches for the attribute).
	groupCalls = companionCalls{old: []string{"cognito-idp:AdminListGroupsForUser"},
		new: []string{"cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminDeleteUserAttributes", "cognito-idp:AdminGetUser"}}
	// CREATE_MISSING_GROUPS: the old group read, the new one checked and created.
	createCalls = companionCalls{old: []string{"cognito-idp:GetGroup"}, new: []string{"cognito-idp:CreateGroup", "cognito-idp:GetGroup"}}
	// SIGNUP_GUARD: old users found by email or phone (AdminGetUser is granted anyway).
	guardCalls = companionCalls{old: []string{"cognito-idp:ListUsers"}}
)

// enabledCalls are the calls a deployment's parameters enable: those of
// new-account.yaml (LegacyGroupsAttribute, CreateMissingGroups,
// SignupGuard) or old-account.yaml (LegacyGroups, CreateMissingGroups,
// SignupGuard).
func enabledCalls(params map[string]string) companionCalls {
	var c companionCalls
	add := func(more companionCalls) {
		c.old = append(c.old, more.old...)
		c.new = append(c.new, more.new...)
	}
	groups := params["LegacyGroupsAttribute"] != "" || params["LegacyGroups"] == "true"
	if groups {
		add(groupCalls)
	} else if params["MigrateOnly"] != "" {
		add(companionCalls{old: []string{groupRead}})
	}
	if groups && params["CreateMissingGroups"] == "true" {
		add(createCalls)
	}
	if params["SignupGuard"] == "true" {
		add(guardCalls)
	}
	return c
}

// The companion calls are exactly what the code can call through the
// interfaces it reaches them by.
func TestCompanionCallsFollowTheCode(t *testing.T) {
	all := enabledCalls(map[string]string{"LegacyGroupsAttribute": "custom:g", "CreateMissingGroups": "true", "SignupGuard": "true"})
	for name, tt := range map[string]struct {
		listed []string
		iface  reflect.Type
	}{
		"old pool": {all.old, reflect.TypeFor[cognito.OldDirectoryAPI]()},
		"new pool": {all.new, reflect.TypeFor[cognito.NewGroupsAPI]()},
	} {
		got := slices.Compact(slices.Sorted(slices.Values(tt.listed)))
		if diff := cmp.Diff(methodActions(tt.iface), got); diff != "" {
			t.Errorf("%s: companion calls (-the code's interface +listed here):\n%s", name, diff)
		}
	}
}

// The example policies of the companion triggers grant exactly their calls,
// each on one user pool.
func TestCompanionPolicies(t *testing.T) {
	for name, want := range map[string]companionCalls{
		"groups-policy.json":       {old: append(slices.Clone(groupCalls.old), createCalls.old...), new: append(slices.Clone(groupCalls.new), createCalls.new...)},
		"signup-guard-policy.json": guardCalls,
	} {
		t.Run(name, func(t *testing.T) {
			var got companionCalls
			for _, s := range load(t, name).Statement {
				for _, r := range list(s.Resource) {
					if !strings.HasPrefix(r, "arn:aws:cognito-idp:") || strings.Contains(r, "*") {
						t.Errorf("%s: resource %q, want one user pool's ARN", s.Sid, r)
					}
					switch {
					case strings.HasSuffix(r, ":userpool/NEW_USER_POOL_ID"):
						got.new = append(got.new, list(s.Action)...)
					case strings.HasSuffix(r, ":userpool/OLD_USER_POOL_ID"):
						got.old = append(got.old, list(s.Action)...)
					default:
						t.Errorf("%s: resource %q is neither pool", s.Sid, r)
					}
				}
			}
			for _, l := range [][]string{got.old, got.new, want.old, want.new} {
				slices.Sort(l)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(companionCalls{})); diff != "" {
				t.Errorf("actions (-want +granted):\n%s", diff)
			}
		})
	}
}

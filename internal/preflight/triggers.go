package preflight

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// The companion triggers' wiring: pre token generation applies the groups a
// migration carries in LEGACY_GROUPS_ATTRIBUTE, pre sign-up is the sign-up
// guard (SIGNUP_GUARD). docs/triggers.md.

// Finding IDs of the companion triggers, a public contract.
const (
	// PreTokenUnconfigured: pre token generation is attached to the function,
	// which has no LEGACY_GROUPS_ATTRIBUTE: every sign-in fails.
	PreTokenUnconfigured = "pre-token-generation-unconfigured"
	// PreTokenNotAttached: LEGACY_GROUPS_ATTRIBUTE is set but pre token
	// generation is not the function: the groups are never applied.
	PreTokenNotAttached = "pre-token-generation-not-attached"
	// PreTokenVersionPlan: V2_0 or V3_0 events on a Lite pool.
	PreTokenVersionPlan = "pre-token-generation-version"
	// GroupsAttributeSchema: LEGACY_GROUPS_ATTRIBUTE is missing from the new
	// schema, immutable, or shorter than 2048.
	GroupsAttributeSchema = "groups-attribute-schema"
	// GroupsAttributeWritable: an app client may write LEGACY_GROUPS_ATTRIBUTE.
	GroupsAttributeWritable = "groups-attribute-writable"
	// PreSignUpUnconfigured: pre sign-up is attached to the function, which
	// lacks SIGNUP_GUARD=true.
	PreSignUpUnconfigured = "pre-signup-unconfigured"
	// PreSignUpNotAttached: SIGNUP_GUARD=true but pre sign-up is not the
	// function.
	PreSignUpNotAttached = "pre-signup-not-attached"
)

// companionIDs lists the companion triggers' finding IDs in report order.
func companionIDs() []string {
	return []string{PreTokenUnconfigured, PreTokenNotAttached, PreTokenVersionPlan, GroupsAttributeSchema,
		GroupsAttributeWritable, PreSignUpUnconfigured, PreSignUpNotAttached}
}

// companions adds the companion triggers' findings, in companionIDs order.
func (c *checker) companions() {
	c.preTokenAttachment()
	c.preTokenVersion()
	c.groupsAttributeSchema()
	c.groupsAttributeWritable()
	c.preSignUpAttachment()
}

// function is the function checked: --function-arn, else the Migrate user
// trigger; "" when neither is known.
func (c *checker) function() string { return or(c.in.FunctionARN, c.attached()) }

// preTokenTrigger is the new pool's pre token generation function and
// event version: PreTokenGenerationConfig's, else the legacy field's (V1_0).
func (c *checker) preTokenTrigger() (fn, version string) {
	lc := c.in.NewPool.LambdaConfig
	if lc == nil {
		return "", ""
	}
	if cfg := lc.PreTokenGenerationConfig; cfg != nil && aws.ToString(cfg.LambdaArn) != "" {
		return aws.ToString(cfg.LambdaArn), string(cfg.LambdaVersion)
	}
	if fn := aws.ToString(lc.PreTokenGeneration); fn != "" {
		return fn, string(types.PreTokenGenerationLambdaVersionTypeV10)
	}
	return "", ""
}

func (c *checker) preSignUpTrigger() string {
	if lc := c.in.NewPool.LambdaConfig; lc != nil {
		return aws.ToString(lc.PreSignUp)
	}
	return ""
}

// sameFunction reports whether two function ARNs name one function,
// perhaps as different versions or aliases.
func sameFunction(a, b string) bool {
	unqualified := func(s string) string {
		p, err := arn.Parse(s)
		if err != nil {
			return s
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(p.Resource, "function:"), ":")
		return strings.Join([]string{p.Partition, p.Region, p.AccountID, name}, ":")
	}
	return a != "" && b != "" && unqualified(a) == unqualified(b)
}

func (c *checker) attachFix(trigger string) string {
	return fmt.Sprintf("cognito-migrate attach-trigger --region %s --user-pool-id %s --function-arn %s --trigger %s",
		c.newRegion, c.newID, or(c.function(), "FUNCTION_ARN"), trigger)
}

func (c *checker) detachFix(trigger string) string {
	return fmt.Sprintf("cognito-migrate detach-trigger --region %s --user-pool-id %s --trigger %s", c.newRegion, c.newID, trigger)
}

func (c *checker) preTokenAttachment() {
	fn := c.function()
	attached, _ := c.preTokenTrigger()
	ours := sameFunction(attached, fn)
	switch {
	case ours && c.in.Settings.LegacyGroups == "":
		c.add(PreTokenUnconfigured, Error,
			fmt.Sprintf("set LEGACY_GROUPS_ATTRIBUTE on the function (e.g. custom:legacy_groups, a mutable custom attribute of the new pool), or %s", c.detachFix("PreTokenGeneration")),
			"the new pool's pre token generation trigger is the function %s, which has no LEGACY_GROUPS_ATTRIBUTE: it fails every pre token generation event, so Cognito issues no tokens and every sign-in of the new pool fails, migrated users included", attached)
	case !ours && c.in.Settings.LegacyGroups != "" && fn != "":
		seen := "the new pool has no pre token generation trigger"
		fix := c.attachFix("PreTokenGeneration")
		if attached != "" {
			seen = fmt.Sprintf("the new pool's pre token generation trigger is another function (%s)", attached)
			fix = "Cognito allows one pre token generation function: apply the groups from it, or detach it and attach this function (" + fix + "); or unset LEGACY_GROUPS_ATTRIBUTE"
		}
		c.add(PreTokenNotAttached, Warning, fix,
			"LEGACY_GROUPS_ATTRIBUTE is %s but %s: migrations write the old groups into the attribute and nothing applies them, so migrated users arrive without their groups", c.in.Settings.LegacyGroups, seen)
	}
}

// preTokenVersion: V2_0 and V3_0 events need the Essentials or Plus plan.
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
func (c *checker) preTokenVersion() {
	attached, version := c.preTokenTrigger()
	if attached == "" || version == "" || version == string(types.PreTokenGenerationLambdaVersionTypeV10) ||
		c.in.NewPool.UserPoolTier != types.UserPoolTierTypeLite {
		return
	}
	c.add(PreTokenVersionPlan, Error,
		fmt.Sprintf("use V1_0, which works on every plan and carries the groups in both tokens: cognito-migrate detach-trigger --region %s --user-pool-id %s --trigger PreTokenGeneration, then %s --pre-token-version V1_0; or move the pool to the Essentials or Plus plan",
			c.newRegion, c.newID, c.attachFix("PreTokenGeneration")),
		"the new pool's pre token generation trigger (%s) gets %s events, which need the Essentials or Plus feature plan, and the pool is on Lite", attached, version)
}

// groupsAttributeSchema: the attribute must be a mutable custom string of
// the new pool that holds 2048 characters (migrate.DefaultMaxLength), or
// migrations fail (missing, immutable) or fall back on reading the old pool
// at the first tokens (shorter).
func (c *checker) groupsAttributeSchema() {
	name := c.in.Settings.LegacyGroups
	if name == "" {
		return
	}
	custom, isCustom := strings.CutPrefix(name, "custom:")
	if !isCustom {
		custom = "legacy_groups"
	}
	fix := fmt.Sprintf("aws cognito-idp add-custom-attributes --region %s --user-pool-id %s --custom-attributes Name=%s,AttributeDataType=String,Mutable=true,StringAttributeConstraints={MaxLength=%d}, then set LEGACY_GROUPS_ATTRIBUTE=custom:%s (custom attributes cannot be changed or removed once added: pick a new name if this one is taken)",
		c.newRegion, c.newID, custom, migrate.DefaultMaxLength, custom)
	a, ok := schema(c.in.NewPool)[name]
	switch {
	case !ok:
		c.add(GroupsAttributeSchema, Error, fix,
			"LEGACY_GROUPS_ATTRIBUTE is %s, which the new pool's schema does not have: every migration of a user with groups fails with a configuration error", name)
	case a.AttributeDataType != "" && a.AttributeDataType != types.AttributeDataTypeString:
		c.add(GroupsAttributeSchema, Error, fix,
			"LEGACY_GROUPS_ATTRIBUTE is %s, a %s attribute: the groups are a JSON string, so every migration of a user with groups fails", name, a.AttributeDataType)
	case !aws.ToBool(a.Mutable):
		c.add(GroupsAttributeSchema, Error, fix,
			"LEGACY_GROUPS_ATTRIBUTE is %s, which is immutable: it could not be deleted once the groups are applied, so every migration of a user with groups fails", name)
	case a.StringAttributeConstraints != nil && a.StringAttributeConstraints.MaxLength != nil && shorterThan(*a.StringAttributeConstraints.MaxLength, migrate.DefaultMaxLength):
		c.add(GroupsAttributeSchema, Error, fix,
			"LEGACY_GROUPS_ATTRIBUTE is %s, whose MaxLength %s is under %d: users whose group names do not fit depend on the old pool at their first tokens, and a migration fails when even that reference does not fit", name, *a.StringAttributeConstraints.MaxLength, migrate.DefaultMaxLength)
	}
}

// shorterThan reports whether a MaxLength (a decimal string in the API) is
// under n; one that is not a number is not judged.
func shorterThan(maxLength string, n int) bool {
	v, err := strconv.Atoi(maxLength)
	return err == nil && v < n
}

// groupsAttributeWritable: a client that may write the attribute lets its
// users name their own groups. Without WriteAttributes a client writes
// standard attributes only.
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html
func (c *checker) groupsAttributeWritable() {
	name := c.in.Settings.LegacyGroups
	if name == "" {
		return
	}
	for _, cl := range c.sortedClients() {
		if !slices.Contains(cl.WriteAttributes, name) {
			continue
		}
		c.add(GroupsAttributeWritable, Error,
			fmt.Sprintf("remove %s from app client %s's WriteAttributes (console: app client, Attribute permissions, uncheck it for writing); aws cognito-idp update-user-pool-client resets every setting it is not given, so pass the client's current settings with it", name, aws.ToString(cl.ClientId)),
			"app client %s of the new pool may write %s (WriteAttributes): its users can set it at sign-up or with UpdateUserAttributes and name groups to be added to, such as an administrators group. The function honours the attribute only on users a migration just created, which narrows but does not close this",
			clientLabel(cl), name)
	}
}

func (c *checker) preSignUpAttachment() {
	fn := c.function()
	attached := c.preSignUpTrigger()
	ours := sameFunction(attached, fn)
	switch {
	case ours && !c.in.Settings.SignupGuard:
		c.add(PreSignUpUnconfigured, Warning,
			fmt.Sprintf("set SIGNUP_GUARD=true on the function, or %s", c.detachFix("PreSignUp")),
			"the new pool's pre sign-up trigger is the function %s, which lacks SIGNUP_GUARD=true: it fails every pre sign-up event, so nobody can sign up or be created by an administrator", attached)
	case !ours && c.in.Settings.SignupGuard && fn != "":
		seen := "the new pool has no pre sign-up trigger"
		fix := c.attachFix("PreSignUp")
		if attached != "" {
			seen = fmt.Sprintf("the new pool's pre sign-up trigger is another function (%s)", attached)
			fix = "Cognito allows one pre sign-up function: call the guard's logic from it (docs/triggers.md), or detach it and attach this function (" + fix + ")"
		}
		c.add(PreSignUpNotAttached, Warning, fix,
			"SIGNUP_GUARD is true but %s: people who have not migrated yet can sign up again with their email, and then never migrate", seen)
	}
}

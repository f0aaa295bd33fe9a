package preflight

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// legacySubLength is the length of a sub, a UUID.
const legacySubLength = 36

func schema(p *types.UserPoolType) map[string]types.SchemaAttributeType {
	m := map[string]types.SchemaAttributeType{}
	if p != nil {
		for _, a := range p.SchemaAttributes {
			m[aws.ToString(a.Name)] = a
		}
	}
	return m
}

// copied reports whether the function copies an old attribute at all:
// sub, identities and cognito:* never move (migrate.Writable), nor do
// EXCLUDE_ATTRIBUTES.
func (c *checker) copied(name string) bool {
	return migrate.Writable(name) && !slices.Contains(c.in.Settings.Exclude, name)
}

// renamed is the new pool's name of an old attribute (ATTRIBUTE_MAP).
func (c *checker) renamed(name string) string {
	if to, ok := c.in.Settings.Rename[name]; ok {
		return to
	}
	return name
}

// schemaMissing: attributes old users carry (by the old schema's custom
// and developer attributes, and by the sample) that the new pool lacks; the
// function drops them.
func (c *checker) schemaMissing() {
	newSchema := schema(c.in.NewPool)
	oldSchema := schema(c.in.OldPool)
	carriers := map[string]int{}
	for name := range oldSchema {
		// Custom and developer attributes count even if no sampled user
		// has one; standard ones, which every pool lists, only when carried.
		if strings.Contains(name, ":") {
			carriers[name] = 0
		}
	}
	for _, u := range c.in.Sample {
		for name, v := range u.Attributes {
			if v != "" {
				carriers[name]++
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(carriers)) {
		if !c.copied(name) {
			continue
		}
		to := c.renamed(name)
		if _, ok := newSchema[to]; ok || to == c.in.Settings.LegacySub {
			continue
		}
		seen := "the old pool's schema has it"
		if n := carriers[name]; n > 0 {
			seen = fmt.Sprintf("%d of %d sampled old users carry it", n, len(c.in.Sample))
		}
		target := name
		if to != name {
			target = fmt.Sprintf("%s (ATTRIBUTE_MAP renames %s to %s)", to, name, to)
		}
		fix := fmt.Sprintf("keep it out deliberately with EXCLUDE_ATTRIBUTES=%s, or map it to an attribute the new pool has with ATTRIBUTE_MAP", name)
		if custom, ok := strings.CutPrefix(to, "custom:"); ok {
			dataType := "String"
			if a, ok := oldSchema[name]; ok && a.AttributeDataType != "" {
				dataType = string(a.AttributeDataType)
			}
			fix = fmt.Sprintf("aws cognito-idp add-custom-attributes --region %s --user-pool-id %s --custom-attributes Name=%s,AttributeDataType=%s,Mutable=true; or %s",
				c.newRegion, c.newID, custom, dataType, fix)
		}
		c.add(SchemaMissingAttribute, Warning, fix,
			"the new pool's schema has no attribute %s; %s: the function drops it, so migrated users lose it", target, seen)
	}
}

// sources are the old attributes that fill the new attribute name.
func (c *checker) sources(name string) []string {
	var out []string
	for from, to := range c.in.Settings.Rename {
		if to == name && c.copied(from) {
			out = append(out, from)
		}
	}
	if _, away := c.in.Settings.Rename[name]; !away && c.copied(name) {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// schemaRequired: the new pool's required attributes that old users may
// lack; Cognito then refuses to create them.
func (c *checker) schemaRequired() {
	newSchema := schema(c.in.NewPool)
	oldSchema := schema(c.in.OldPool)
	for _, name := range slices.Sorted(maps.Keys(newSchema)) {
		if !aws.ToBool(newSchema[name].Required) || name == "sub" || name == c.in.Settings.LegacySub {
			continue
		}
		src := c.sources(name)
		guaranteed := false
		for _, s := range src {
			if a, ok := oldSchema[s]; ok && aws.ToBool(a.Required) {
				guaranteed = true
			}
		}
		if guaranteed {
			continue
		}
		lacking := 0
		for _, u := range c.in.Sample {
			has := false
			for _, s := range src {
				has = has || u.Attributes[s] != ""
			}
			if !has {
				lacking++
			}
		}
		attr := name
		if len(src) > 0 {
			attr = src[0]
		}
		fix := fmt.Sprintf("give those users a %s in the old pool before they migrate (aws cognito-idp admin-update-user-attributes --region %s --user-pool-id %s --username NAME --user-attributes Name=%s,Value=VALUE), or fill it from another attribute with ATTRIBUTE_MAP; Required cannot be changed on an existing pool",
			attr, or(c.oldRegion, "OLD_REGION"), or(c.oldID, "OLD_POOL_ID"), attr)
		if lacking > 0 {
			c.add(SchemaRequired, Error, fix,
				"the new pool requires %s, and %d of %d sampled old users have none: Cognito refuses to create them, so they cannot migrate", name, lacking, len(c.in.Sample))
			continue
		}
		c.add(SchemaRequired, Warning, fix,
			"the new pool requires %s and the old pool does not: old users without it cannot migrate (none in the sample of %d)", name, len(c.in.Sample))
	}
}

// legacySub: LEGACY_SUB_ATTRIBUTE must be a string attribute of the new
// pool that can hold a sub, or every migration fails.
func (c *checker) legacySub() {
	name := c.in.Settings.LegacySub
	addFix := fmt.Sprintf("aws cognito-idp add-custom-attributes --region %s --user-pool-id %s --custom-attributes Name=legacy_sub,AttributeDataType=String,Mutable=false, then set LEGACY_SUB_ATTRIBUTE=custom:legacy_sub",
		c.newRegion, c.newID)
	if name == "" {
		c.add(LegacySubAttribute, Info, addFix,
			"LEGACY_SUB_ATTRIBUTE is not set: migrated users get a new sub and keep no trace of the old one, so data keyed by the old sub cannot be found again, and status matches users by sign-in name only")
		return
	}
	a, ok := schema(c.in.NewPool)[name]
	switch {
	case !ok:
		c.add(LegacySubAttribute, Error, addFix,
			"LEGACY_SUB_ATTRIBUTE is %s, which the new pool's schema does not have: every migration fails with a configuration error", name)
	case a.AttributeDataType != "" && a.AttributeDataType != types.AttributeDataTypeString:
		c.add(LegacySubAttribute, Error, addFix,
			"LEGACY_SUB_ATTRIBUTE is %s, a %s attribute: a sub is a string, so every migration fails", name, a.AttributeDataType)
	case a.StringAttributeConstraints != nil && a.StringAttributeConstraints.MaxLength != nil && tooShort(*a.StringAttributeConstraints.MaxLength):
		c.add(LegacySubAttribute, Error, addFix,
			"LEGACY_SUB_ATTRIBUTE is %s, whose MaxLength %s is shorter than a sub (%d characters): every migration fails", name, *a.StringAttributeConstraints.MaxLength, legacySubLength)
	}
}

// tooShort reports whether a MaxLength (a decimal string in the API) cannot
// hold a sub; one that is not a number is not judged.
func tooShort(maxLength string) bool {
	n, err := strconv.Atoi(maxLength)
	return err == nil && n < legacySubLength
}

package preflight

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// oldMFA is the old pool's MFA: its MfaConfiguration and enabled factors.
func (c *checker) oldMFA() (config types.UserPoolMfaType, factors []string) {
	if m := c.in.OldMFA; m != nil {
		config = m.MfaConfiguration
		if m.SmsMfaConfiguration != nil {
			factors = append(factors, "SMS")
		}
		if m.SoftwareTokenMfaConfiguration != nil && m.SoftwareTokenMfaConfiguration.Enabled {
			factors = append(factors, "TOTP")
		}
		if m.EmailMfaConfiguration != nil {
			factors = append(factors, "email")
		}
	}
	if config == "" && c.in.OldPool != nil {
		config = c.in.OldPool.MfaConfiguration
	}
	return config, factors
}

// mfa: the old pool challenges users with a second factor, which the
// function declines unless MFA_POLICY=migrate.
func (c *checker) mfa() {
	config, factors := c.oldMFA()
	if config == "" || config == types.UserPoolMfaTypeOff {
		return
	}
	with := ""
	if len(factors) > 0 {
		with = " (" + strings.Join(factors, ", ") + ")"
	}
	policy := c.in.Settings.MFAPolicy
	if policy == "" || policy == "deny" {
		sev, who := Warning, "users who set up a second factor"
		if config == types.UserPoolMfaTypeOn {
			sev, who = Error, "every user (MFA is required)"
		}
		c.add(MFA, sev,
			"set MFA_POLICY=migrate (the password is proven; the second factor is skipped once and the new pool's MFA applies from then on), or let these users migrate through forgot password",
			"the old pool's MFA is %s%s and MFA_POLICY is deny: %s get a challenge from the old pool, so the function declines them at sign-in (%s); only forgot password migrates them",
			config, with, who, migrate.ChallengeRequired)
		return
	}
	newMFA := c.in.NewPool.MfaConfiguration
	switch {
	case newMFA == "" || newMFA == types.UserPoolMfaTypeOff:
		c.add(MFA, Warning,
			fmt.Sprintf("turn MFA on in the new pool (aws cognito-idp set-user-pool-mfa-config --region %s --user-pool-id %s --mfa-configuration OPTIONAL --software-token-mfa-configuration Enabled=true), or accept that migrated users lose it", c.newRegion, c.newID),
			"the old pool's MFA is %s%s, MFA_POLICY is migrate and the new pool's MFA is OFF: migrated users lose their second factor", config, with)
	case strings.Contains(with, "TOTP"):
		c.add(MFA, Info, "tell users with an authenticator app to set it up again after their first sign-in to the new pool",
			"the old pool allows TOTP: authenticator secrets cannot be exported, so migrated users must enrol their app again")
	}
}

// passwordPolicy: a stricter new policy is not applied to a migrated
// password unless ENFORCE_PASSWORD_POLICY sends such users to a reset.
func (c *checker) passwordPolicy() {
	if c.in.OldPool == nil || c.in.OldPool.Policies == nil || c.in.NewPool.Policies == nil {
		return
	}
	o, n := c.in.OldPool.Policies.PasswordPolicy, c.in.NewPool.Policies.PasswordPolicy
	if o == nil || n == nil {
		return
	}
	var stricter []string
	if ol, nl := aws.ToInt32(o.MinimumLength), aws.ToInt32(n.MinimumLength); nl > ol {
		stricter = append(stricter, fmt.Sprintf("minimum length %d instead of %d", nl, ol))
	}
	for _, r := range []struct {
		name     string
		old, new bool
	}{
		{"uppercase", o.RequireUppercase, n.RequireUppercase},
		{"lowercase", o.RequireLowercase, n.RequireLowercase},
		{"numbers", o.RequireNumbers, n.RequireNumbers},
		{"symbols", o.RequireSymbols, n.RequireSymbols},
	} {
		if r.new && !r.old {
			stricter = append(stricter, "requires "+r.name)
		}
	}
	if len(stricter) == 0 {
		return
	}
	if c.in.Settings.EnforcePasswordPolicy {
		c.add(PasswordPolicy, Info, "nothing to do",
			"the new pool's password policy is stricter (%s); ENFORCE_PASSWORD_POLICY is on, so users whose password falls short migrate in RESET_REQUIRED and choose a new one", strings.Join(stricter, ", "))
		return
	}
	c.add(PasswordPolicy, Warning,
		"set ENFORCE_PASSWORD_POLICY=true to send those users to a password reset when they migrate",
		"the new pool's password policy is stricter (%s) and ENFORCE_PASSWORD_POLICY is off: migrated users keep old passwords the new policy would refuse", strings.Join(stricter, ", "))
}

package cli

import (
	"flag"
	"net/url"
	"regexp"
	"strings"
)

// poolOptions are the flags every command that works on the new pool
// shares. Each command registers them once, with the same names and help.
type poolOptions struct {
	PoolID      string
	DryRun      bool
	Output      string
	Region      string
	Profile     string
	EndpointURL string
}

// register adds the shared flags to fs.
func (o *poolOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.PoolID, "user-pool-id", "", "the new user pool's `ID`, e.g. eu-west-1_AbCdEf123 (required)")
	fs.StringVar(&o.Output, "output", "text", "the result's `FORMAT` on stdout: text (default) or json")
	fs.StringVar(&o.Region, "region", "", "the new pool's `REGION` (default: the pool ID's prefix)")
	fs.StringVar(&o.Profile, "profile", "", "the AWS `PROFILE` for the new pool and the function (default: the SDK's: AWS_PROFILE, AWS_ACCESS_KEY_ID, ...)")
	fs.StringVar(&o.EndpointURL, "endpoint-url", "", "the new pool's cognito-idp endpoint `URL` (default: AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, else AWS's)")
}

// registerDryRun adds --dry-run, for the commands that change something.
func (o *poolOptions) registerDryRun(fs *flag.FlagSet) {
	fs.BoolVar(&o.DryRun, "dry-run", false, "print what would change; change nothing")
}

// validate checks the shared flags; cmd names the command in the message.
func (o *poolOptions) validate(cmd string) error {
	if o.PoolID == "" {
		return usagef(cmd, "--user-pool-id is required")
	}
	if o.Output != "text" && o.Output != "json" {
		return usagef(cmd, "--output must be text or json, not %q", o.Output)
	}
	if o.Region != "" && !regionName.MatchString(o.Region) {
		return usagef(cmd, "--region %q is not a region name, e.g. eu-west-1", o.Region)
	}
	if err := checkURL(o.EndpointURL); err != nil {
		return usagef(cmd, "--endpoint-url %s", err)
	}
	return nil
}

// region is --region, else the pool ID's prefix ("eu-west-1" of
// "eu-west-1_AbCdEf123"), else "".
func (o *poolOptions) region() string {
	if o.Region != "" {
		return o.Region
	}
	return poolRegion(o.PoolID)
}

var regionName = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)*$`)

// poolRegion is the region a user pool ID starts with, or "".
func poolRegion(poolID string) string {
	if prefix, _, ok := strings.Cut(poolID, "_"); ok && regionName.MatchString(prefix) {
		return prefix
	}
	return ""
}

// checkURL accepts "" and absolute http(s) URLs.
func checkURL(s string) error {
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return failf("%q is not an absolute http(s) URL, e.g. https://cognito-idp.eu-west-1.amazonaws.com", s)
	}
	return nil
}

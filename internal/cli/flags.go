package cli

import "flag"

// poolOptions are the flags every command that works on the new pool
// shares. Each command registers them once, with the same names and help.
type poolOptions struct {
	PoolID string
	DryRun bool
	Output string
	Region string
}

// register adds the shared flags to fs.
func (o *poolOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.PoolID, "user-pool-id", "", "the new user pool's `ID`, e.g. eu-west-1_AbCdEf123 (required)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "print what would change; change nothing")
	fs.StringVar(&o.Output, "output", "text", "the result's `FORMAT` on stdout: text (default) or json")
	fs.StringVar(&o.Region, "region", "", "the pool's `REGION` (default: the AWS SDK's, e.g. AWS_REGION or the profile's)")
}

// validate checks the shared flags; cmd names the command in the message.
func (o *poolOptions) validate(cmd string) error {
	if o.PoolID == "" {
		return usagef(cmd, "--user-pool-id is required")
	}
	if o.Output != "text" && o.Output != "json" {
		return usagef(cmd, "--output must be text or json, not %q", o.Output)
	}
	return nil
}

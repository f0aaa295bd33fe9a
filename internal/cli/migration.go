package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awsconfig"
	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

// migrationOptions are the flags of the commands that look at both pools
// (check, explain, status): where the function's settings come from, how
// to override each, and how to reach the old pool.
type migrationOptions struct {
	FunctionARN    string
	OldProfile     string
	OldRegion      string
	OldEndpointURL string
	// overrides holds the value of each setting's flag, by setting name
	// (OLD_CLIENT_ID -> --old-client-id).
	overrides map[string]*string
	fs        *flag.FlagSet
	// noFlag names settings the command gives no flag of their own: a flag
	// of the command has the name (import's --create-missing-groups).
	noFlag []string
}

// twoPoolOptions are the flags of a command that reads both pools (check,
// explain, status): the new pool's shared flags and the old pool's. Such a
// command registers them on its flag set, then validates and resolves them:
//
//	opts := &twoPoolOptions{}
//	fs := flag.NewFlagSet("check", flag.ContinueOnError)
//	opts.register(fs)
//	c.run = func(ctx context.Context) error {
//		if err := opts.validate(c.name); err != nil {
//			return err
//		}
//		m, err := a.resolveMigration(ctx, c.name, opts)
//		...
//	}
type twoPoolOptions struct {
	poolOptions
	migrationOptions
}

func (o *twoPoolOptions) register(fs *flag.FlagSet) {
	o.poolOptions.register(fs)
	o.migrationOptions.register(fs)
}

func (o *twoPoolOptions) validate(cmd string) error {
	if err := o.poolOptions.validate(cmd); err != nil {
		return err
	}
	return o.migrationOptions.validate(cmd)
}

// settingFlag is the flag that overrides a setting: its name in lower
// case, with dashes ("OLD_CLIENT_ID" -> "old-client-id").
func settingFlag(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, "_", "-"))
}

// register adds the flags to fs, one per setting in settings.Names().
func (o *migrationOptions) register(fs *flag.FlagSet) {
	o.fs = fs
	fs.StringVar(&o.FunctionARN, "function-arn", "", "the migration function whose settings to use, an `ARN` (default: the new pool's UserMigration trigger)")
	fs.StringVar(&o.OldProfile, "old-profile", "", "the AWS `PROFILE` for the old pool (default: --profile's credentials)")
	fs.StringVar(&o.OldRegion, "old-region", "", "the old pool's `REGION` (default: OLD_USER_POOL_REGION, else the old pool ID's prefix)")
	fs.StringVar(&o.OldEndpointURL, "old-endpoint-url", "", "the old pool's cognito-idp endpoint `URL` (default: the OLD_USER_POOL_ENDPOINT environment variable, else AWS's)")
	o.overrides = map[string]*string{}
	for _, name := range settings.Names() {
		if slices.Contains(o.noFlag, name) {
			continue
		}
		v := new(string)
		o.overrides[name] = v
		usage := "overrides the function's " + name + " `VALUE`"
		if name == settings.EnvOldClientSecret {
			usage += " (a command line is visible to other users of the machine: prefer --old-client-secret-arn)"
		}
		fs.StringVar(v, settingFlag(name), "", usage)
	}
}

// given returns the setting flags given on the command line, by setting
// name: an empty value given clears the function's setting.
func (o *migrationOptions) given() map[string]string {
	out := map[string]string{}
	byFlag := map[string]string{}
	for name := range o.overrides {
		byFlag[settingFlag(name)] = name
	}
	o.fs.Visit(func(f *flag.Flag) {
		if name, ok := byFlag[f.Name]; ok {
			out[name] = *o.overrides[name]
		}
	})
	return out
}

func (o *migrationOptions) validate(cmd string) error {
	if o.FunctionARN != "" {
		if _, err := lambdaapi.ParseFunctionARN(o.FunctionARN); err != nil {
			return usagef(cmd, "--function-arn: %v", err)
		}
	}
	if o.OldRegion != "" && !regionName.MatchString(o.OldRegion) {
		return usagef(cmd, "--old-region %q is not a region name, e.g. eu-west-1", o.OldRegion)
	}
	if err := checkURL(o.OldEndpointURL); err != nil {
		return usagef(cmd, "--old-endpoint-url %s", err)
	}
	return nil
}

// Where the function's settings came from.
const (
	SettingsFromTrigger = "trigger"        // the function attached to the new pool
	SettingsFromFlag    = "--function-arn" // the function named on the command line
	SettingsFromNone    = "flags"          // no function: the setting flags only
)

// migration is what a two-pool command works on: the new pool, the
// function's settings (with the command line's overrides, validated by
// settings.Load as the function validates them) and a client for the old
// pool built by awsconfig as the function builds its own.
type migration struct {
	// NewRegion is the new pool's region, NewPool its description and New
	// its client.
	NewRegion string
	NewPool   *types.UserPoolType
	New       *cip.Client
	// FunctionARN is the function whose settings were read ("" with
	// SettingsFromNone); From says how it was found.
	FunctionARN string
	From        string
	// Overridden lists the settings a flag overrode, sorted.
	Overridden []string
	Settings   settings.Settings
	// Old is the old pool's client, reaching it as OldPool says.
	Old     *cip.Client
	OldPool awsconfig.OldPool
	// OldConfig is the configuration Old was built from (for
	// awsconfig.ClientSecret).
	OldConfig aws.Config
	// Olds are every old pool of the settings, in their order: the first
	// (reached by Old), then OLD_2_* ... of a merge.
	Olds []oldSource
}

// oldSource is one old pool of the settings and its client.
type oldSource struct {
	settings.OldPool
	// API reaches the pool as Reach says.
	API   *cip.Client
	Reach awsconfig.OldPool
}

// resolveMigration reads the new pool, finds the function and its
// settings, applies the overrides, and builds the old pool's client. It
// makes no call to the old pool.
func (a *app) resolveMigration(ctx context.Context, cmd string, opts *twoPoolOptions) (*migration, error) {
	p, o := &opts.poolOptions, &opts.migrationOptions
	m := &migration{}
	var err error
	m.New, m.NewRegion, err = a.newPoolClient(ctx, cmd, p)
	if err != nil {
		return nil, err
	}
	m.NewPool, err = cognito.NewAdmin(m.New).UserPool(ctx, p.PoolID)
	if err != nil {
		return nil, poolNotFoundHint(err, p.PoolID, m.NewRegion)
	}

	m.FunctionARN, m.From = o.FunctionARN, SettingsFromFlag
	if m.FunctionARN == "" {
		m.FunctionARN, m.From = cognito.UserMigration(m.NewPool), SettingsFromTrigger
	}
	values := map[string]string{}
	if m.FunctionARN == "" {
		m.From = SettingsFromNone
	} else {
		fn, err := lambdaapi.ParseFunctionARN(m.FunctionARN)
		if err != nil {
			return nil, failf("the pool's UserMigration trigger is %q: %v; pass --function-arn", m.FunctionARN, err)
		}
		api, err := a.lambdaClient(ctx, p, fn.Region)
		if err != nil {
			return nil, err
		}
		values, err = lambdaapi.Environment(ctx, api, m.FunctionARN)
		if err != nil {
			return nil, settingsHint(err, m.FunctionARN)
		}
	}
	given := o.given()
	maps.Copy(values, given)
	m.Overridden = slices.Sorted(maps.Keys(given))
	m.Settings, err = settings.Load(func(name string) string { return values[name] })
	if err != nil {
		return nil, settingsError(err, m)
	}

	old := awsconfig.OldPool{
		Region:          m.Settings.OldRegion,
		RoleARN:         m.Settings.OldRoleARN,
		ExternalID:      m.Settings.OldExternalID,
		ClientSecretARN: m.Settings.OldClientSecretARN,
		ClientSecret:    m.Settings.OldClientSecret.Reveal(),
	}
	if o.OldRegion != "" {
		old.Region = o.OldRegion
	}
	// The function's OLD_USER_POOL_ENDPOINT is where the function reaches
	// the old pool from (a VPC endpoint, an emulator next to it); this
	// command runs elsewhere, so only its own settings count.
	old.Endpoint = o.OldEndpointURL
	if old.Endpoint == "" && a.getenv != nil {
		old.Endpoint = a.getenv(settings.EnvOldUserPoolEndpoint)
		if err := checkURL(old.Endpoint); err != nil {
			return nil, failf("the %s environment variable: %v", settings.EnvOldUserPoolEndpoint, err)
		}
	}
	m.OldPool = old
	profile := p.Profile
	if o.OldProfile != "" {
		profile = o.OldProfile
	}
	m.OldConfig, err = a.awsConfig(ctx, profile)
	if err != nil {
		return nil, err
	}
	// STS (for OLD_ROLE_ARN) is called in the new pool's region, as the
	// function calls it in its own; with --old-profile, in the old pool's.
	m.OldConfig.Region = m.NewRegion
	if o.OldProfile != "" {
		m.OldConfig.Region = old.Region
	}
	m.Old = awsconfig.OldPoolClient(m.OldConfig, old, awsconfig.OldPoolCredentials(m.OldConfig, old))
	for i, p := range m.Settings.OldPools() {
		if i == 0 {
			p.Region = old.Region
			m.Olds = append(m.Olds, oldSource{OldPool: p, API: m.Old, Reach: old})
			continue
		}
		reach := awsconfig.OldPool{Region: p.Region, RoleARN: p.RoleARN, ExternalID: p.ExternalID,
			ClientSecretARN: p.ClientSecretARN, ClientSecret: p.ClientSecret.Reveal()}
		// As for the first pool, the function's endpoint is not this
		// command's: OLD_<n>_USER_POOL_ENDPOINT of this process, else the
		// first pool's (an emulator holds every pool).
		name := settings.PoolName(i+1, "USER_POOL_ENDPOINT")
		if a.getenv != nil {
			reach.Endpoint = a.getenv(name)
		}
		if err := checkURL(reach.Endpoint); err != nil {
			return nil, failf("the %s environment variable: %v", name, err)
		}
		if reach.Endpoint == "" {
			reach.Endpoint = old.Endpoint
		}
		api := awsconfig.OldPoolClient(m.OldConfig, reach, awsconfig.OldPoolCredentials(m.OldConfig, reach))
		m.Olds = append(m.Olds, oldSource{OldPool: p, API: api, Reach: reach})
	}
	return m, nil
}

// settingsHint explains a function whose settings could not be read.
func settingsHint(err error, functionARN string) error {
	if errors.Is(err, awserr.ErrAccessDenied) {
		return withHint(err, "Grant lambda:GetFunctionConfiguration on %s, or pass every setting as a flag (--old-user-pool-id, --old-client-id, ...) with --function-arn unset and no trigger attached.", functionARN)
	}
	return err
}

// settingsError says where the invalid settings came from, and which flag
// overrides each. The settings' messages never quote a secret.
func settingsError(err error, m *migration) error {
	var from string
	switch m.From {
	case SettingsFromNone:
		from = "No function is attached to the new pool's UserMigration trigger and --function-arn is not given, so the settings come from the flags only."
	default:
		from = fmt.Sprintf("The settings are the environment of %s (%s)", m.FunctionARN, m.From)
		if len(m.Overridden) > 0 {
			from += ", with flags for " + strings.Join(m.Overridden, ", ")
		}
		from += "."
	}
	var flags []string
	for _, name := range settings.Names() {
		if strings.Contains(err.Error(), name+":") || strings.Contains(err.Error(), name+" ") {
			flags = append(flags, name+": --"+settingFlag(name))
		}
	}
	return withHint(err, "%s Override a setting with its flag (%s).", from, strings.Join(flags, ", "))
}

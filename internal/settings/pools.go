package settings

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Several old pools (a merge) are configured with the first pool's names
// and a number after OLD_: OLD_2_USER_POOL_ID, OLD_2_CLIENT_ID, ... for the
// second, up to MaxOldPools. One plain setting per value keeps a template
// readable (one parameter each) and keeps secrets out of a JSON blob.

// MaxOldPools is how many old pools one function can merge.
const MaxOldPools = 5

// EnvOldRoute is the first pool's route in a merge (migrate.ParseRoute).
const EnvOldRoute = "OLD_ROUTE"

// Suffixes of an old pool's settings: OLD_<suffix> for the first pool,
// OLD_<n>_<suffix> for pool n.
var poolSuffixes = []string{"USER_POOL_ID", "CLIENT_ID", "USER_POOL_REGION", "USER_POOL_ENDPOINT",
	"ROLE_ARN", "EXTERNAL_ID", "CLIENT_SECRET_ARN", "CLIENT_SECRET", "ROUTE"}

// PoolName is the name of old pool n's setting suffix ("USER_POOL_ID"...):
// OLD_USER_POOL_ID for n = 1, OLD_2_USER_POOL_ID for n = 2.
func PoolName(n int, suffix string) string {
	if n == 1 {
		return "OLD_" + suffix
	}
	return "OLD_" + strconv.Itoa(n) + "_" + suffix
}

// PoolNames lists old pool n's settings (n >= 2), in the order of the
// first pool's.
func PoolNames(n int) []string {
	out := make([]string, len(poolSuffixes))
	for i, s := range poolSuffixes {
		out[i] = PoolName(n, s)
	}
	return out
}

// OldPool is how one old pool is reached.
type OldPool struct {
	// Name is the pool's number in logs: "1", "2", ...
	Name            string
	UserPoolID      string
	ClientID        string
	Region          string
	Endpoint        string
	RoleARN         string
	ExternalID      string
	ClientSecretARN string
	ClientSecret    Secret
	// Route says which typed names the pool owns in a merge.
	Route migrate.Route
}

// OldPools lists every old pool: the first (OLD_*), then OLD_2_* ... in
// order. The trigger merges them when there is more than one; status,
// export and check can walk them.
func (s Settings) OldPools() []OldPool {
	first := OldPool{Name: "1", UserPoolID: s.OldUserPoolID, ClientID: s.OldClientID, Region: s.OldRegion,
		Endpoint: s.OldEndpoint, RoleARN: s.OldRoleARN, ExternalID: s.OldExternalID,
		ClientSecretARN: s.OldClientSecretARN, ClientSecret: s.OldClientSecret, Route: s.OldRoute}
	return append([]OldPool{first}, s.OtherPools...)
}

// loadOtherPools reads OLD_2_* to OLD_<MaxOldPools>_*, and OLD_ROUTE. Pools
// are numbered without gaps; a route is only meaningful in a merge.
func loadOtherPools(get func(string) string, getRaw func(string) string, bad func(name, format string, args ...any)) (migrate.Route, []OldPool) {
	var pools []OldPool
	last := 1
	for n := 2; n <= MaxOldPools+1; n++ {
		var set []string
		for _, name := range PoolNames(n) {
			if get(name) != "" {
				set = append(set, name)
			}
		}
		if len(set) == 0 {
			continue
		}
		if n > MaxOldPools {
			bad(set[0], "at most %d old pools can be merged", MaxOldPools)
			continue
		}
		if n != last+1 {
			bad(set[0], "is set but %s is not: number the old pools 2, 3, ... without gaps", PoolName(last+1, "USER_POOL_ID"))
		}
		last = n
		pools = append(pools, loadPool(n, get, getRaw, bad))
	}
	var route migrate.Route
	if v := get(EnvOldRoute); v != "" {
		if len(pools) == 0 {
			bad(EnvOldRoute, "is set but there is only one old pool: a route chooses between old pools (%s...)", PoolName(2, "USER_POOL_ID"))
		}
		r, err := migrate.ParseRoute(v)
		if err != nil {
			bad(EnvOldRoute, "%v", err)
		}
		route = r
	}
	return route, pools
}

// loadPool reads and checks old pool n's settings with the first pool's
// rules.
func loadPool(n int, get func(string) string, getRaw func(string) string, bad func(name, format string, args ...any)) OldPool {
	name := func(suffix string) string { return PoolName(n, suffix) }
	p := OldPool{
		Name:            strconv.Itoa(n),
		UserPoolID:      get(name("USER_POOL_ID")),
		ClientID:        get(name("CLIENT_ID")),
		Region:          get(name("USER_POOL_REGION")),
		Endpoint:        get(name("USER_POOL_ENDPOINT")),
		RoleARN:         get(name("ROLE_ARN")),
		ExternalID:      get(name("EXTERNAL_ID")),
		ClientSecretARN: get(name("CLIENT_SECRET_ARN")),
		ClientSecret:    Secret(getRaw(name("CLIENT_SECRET"))),
	}
	region, isPoolID := poolRegion(p.UserPoolID)
	switch {
	case p.UserPoolID == "":
		bad(name("USER_POOL_ID"), "is required for old pool %d: set it to that pool's id, e.g. eu-west-1_AbCdEf123", n)
	case !isPoolID || len(p.UserPoolID) > 55:
		bad(name("USER_POOL_ID"), "%q is not a user pool id: expected <region>_<id>, e.g. eu-west-1_AbCdEf123", p.UserPoolID)
	}
	switch {
	case p.ClientID == "":
		bad(name("CLIENT_ID"), "is required for old pool %d: an app client of that pool that allows ALLOW_ADMIN_USER_PASSWORD_AUTH", n)
	case !word(p.ClientID, "+") || len(p.ClientID) > 128:
		bad(name("CLIENT_ID"), "%q is not an app client id (letters, digits, _ and +, at most 128)", p.ClientID)
	}
	switch {
	case p.Region == "":
		p.Region = region
	case !validRegion(p.Region):
		bad(name("USER_POOL_REGION"), "%q is not a region name, e.g. eu-west-1 (leave it unset to use the pool id's prefix)", p.Region)
	}
	if p.Endpoint != "" {
		u, err := url.Parse(p.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(name("USER_POOL_ENDPOINT"), "%q is not an absolute http(s) URL (leave it unset for the AWS endpoint)", p.Endpoint)
		}
	}
	switch {
	case p.RoleARN == "":
		if p.ExternalID != "" {
			bad(name("EXTERNAL_ID"), "is set but %s is not: an external id is only sent when assuming a role", name("ROLE_ARN"))
		}
	case !roleARN(p.RoleARN) || len(p.RoleARN) > 2048:
		bad(name("ROLE_ARN"), "%q is not an IAM role ARN, e.g. arn:aws:iam::333333333333:role/cognito-migrate-old-pool", p.RoleARN)
	}
	if p.ExternalID != "" && (!word(p.ExternalID, "+=,.@:/-") || len(p.ExternalID) < 2 || len(p.ExternalID) > 1224) {
		bad(name("EXTERNAL_ID"), "must be 2 to 1224 letters, digits or _+=,.@:/- (no spaces)")
	}
	switch {
	case p.ClientSecretARN != "" && p.ClientSecret != "":
		bad(name("CLIENT_SECRET"), "and %s are both set: set only one", name("CLIENT_SECRET_ARN"))
	case p.ClientSecretARN != "" && !secretARN(p.ClientSecretARN):
		bad(name("CLIENT_SECRET_ARN"), "%q is not a Secrets Manager secret ARN", p.ClientSecretARN)
	}
	if v := get(name("ROUTE")); v != "" {
		r, err := migrate.ParseRoute(v)
		if err != nil {
			bad(name("ROUTE"), "%v", err)
		}
		p.Route = r
	}
	return p
}

// duplicatePools reports the same pool listed twice.
func duplicatePools(s Settings, bad func(name, format string, args ...any)) {
	seen := map[string]string{}
	for i, p := range s.OldPools() {
		if p.UserPoolID == "" {
			continue
		}
		key := strings.ToLower(p.Region + "/" + p.UserPoolID)
		if first, ok := seen[key]; ok {
			bad(PoolName(i+1, "USER_POOL_ID"), "is old pool %s again: list each old pool once", first)
			continue
		}
		seen[key] = p.Name
	}
}

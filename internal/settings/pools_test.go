package settings_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

func TestLoadSeveralOldPools(t *testing.T) {
	got, err := settings.Load(env(map[string]string{
		"OLD_USER_POOL_ID": "eu-west-1_AcmeOld", "OLD_CLIENT_ID": "acmeclient", "OLD_ROUTE": "email@acme.com",
		"OLD_2_USER_POOL_ID": "us-east-1_GlobexOld", "OLD_2_CLIENT_ID": "globexclient",
		"OLD_2_ROLE_ARN": "arn:aws:iam::333333333333:role/cognito-migrate-old-pool", "OLD_2_EXTERNAL_ID": "globex-ext",
		"OLD_2_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:333333333333:secret:globex-AbCdEf",
		"OLD_2_ROUTE":             "email@globex.com,globex.org",
		"OLD_3_USER_POOL_ID":      "eu-west-1_InitechOld", "OLD_3_CLIENT_ID": "initech", "OLD_3_USER_POOL_REGION": "eu-west-2",
		"OLD_3_USER_POOL_ENDPOINT": "http://127.0.0.1:9229", "OLD_3_CLIENT_SECRET": " s3cret ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []settings.OldPool{
		{Name: "1", UserPoolID: "eu-west-1_AcmeOld", ClientID: "acmeclient", Region: "eu-west-1",
			Route: migrate.Route{Domains: []string{"acme.com"}}},
		{Name: "2", UserPoolID: "us-east-1_GlobexOld", ClientID: "globexclient", Region: "us-east-1",
			RoleARN: "arn:aws:iam::333333333333:role/cognito-migrate-old-pool", ExternalID: "globex-ext",
			ClientSecretARN: "arn:aws:secretsmanager:us-east-1:333333333333:secret:globex-AbCdEf",
			Route:           migrate.Route{Domains: []string{"globex.com", "globex.org"}}},
		{Name: "3", UserPoolID: "eu-west-1_InitechOld", ClientID: "initech", Region: "eu-west-2",
			Endpoint: "http://127.0.0.1:9229", ClientSecret: " s3cret "},
	}
	if diff := cmp.Diff(want, got.OldPools()); diff != "" {
		t.Errorf("OldPools() (-want +got):\n%s", diff)
	}
	one, err := settings.Load(env(map[string]string{"OLD_USER_POOL_ID": "eu-west-1_AcmeOld", "OLD_CLIENT_ID": "acmeclient"}))
	if err != nil || len(one.OldPools()) != 1 || one.OtherPools != nil {
		t.Errorf("one pool: OldPools() = %+v, %v", one.OldPools(), err)
	}
}

func TestOldPoolErrorsNameTheSetting(t *testing.T) {
	valid := map[string]string{"OLD_USER_POOL_ID": "eu-west-1_AbCdEf123", "OLD_CLIENT_ID": "abc"}
	second := map[string]string{"OLD_2_USER_POOL_ID": "eu-west-1_Second2", "OLD_2_CLIENT_ID": "second"}
	tests := []struct {
		name    string
		set     []map[string]string
		wantErr []string
	}{
		{"client id missing", []map[string]string{{"OLD_2_USER_POOL_ID": "eu-west-1_Second2"}}, []string{"OLD_2_CLIENT_ID: is required"}},
		{"pool id missing", []map[string]string{{"OLD_2_CLIENT_ID": "second"}}, []string{"OLD_2_USER_POOL_ID: is required"}},
		{"a gap", []map[string]string{{"OLD_3_USER_POOL_ID": "eu-west-1_Third3", "OLD_3_CLIENT_ID": "third"}}, []string{"OLD_3_", "OLD_2_USER_POOL_ID is not"}},
		{"too many", []map[string]string{second, {"OLD_6_USER_POOL_ID": "eu-west-1_Sixth6"}}, []string{"OLD_6_USER_POOL_ID: at most 5"}},
		{"bad role", []map[string]string{second, {"OLD_2_ROLE_ARN": "role/x"}}, []string{"OLD_2_ROLE_ARN:"}},
		{"external id alone", []map[string]string{second, {"OLD_2_EXTERNAL_ID": "abc"}}, []string{"OLD_2_EXTERNAL_ID: is set but OLD_2_ROLE_ARN"}},
		{"both secrets", []map[string]string{second, {"OLD_2_CLIENT_SECRET": "x", "OLD_2_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:222222222222:secret:a-AbC"}}, []string{"OLD_2_CLIENT_SECRET:"}},
		{"bad route", []map[string]string{second, {"OLD_2_ROUTE": "globex.com"}}, []string{"OLD_2_ROUTE:"}},
		{"route with one pool", []map[string]string{{"OLD_ROUTE": "email@acme.com"}}, []string{"OLD_ROUTE: is set but there is only one old pool"}},
		{"the same pool twice", []map[string]string{{"OLD_2_USER_POOL_ID": "eu-west-1_AbCdEf123", "OLD_2_CLIENT_ID": "other"}}, []string{"OLD_2_USER_POOL_ID: is old pool 1 again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{}
			for _, m := range append([]map[string]string{valid}, tt.set...) {
				for k, v := range m {
					e[k] = v
				}
			}
			_, err := settings.Load(env(e))
			if err == nil {
				t.Fatalf("Load() succeeded, want an error naming %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestPoolNames(t *testing.T) {
	got := settings.PoolNames(2)
	if got[0] != "OLD_2_USER_POOL_ID" || got[len(got)-1] != "OLD_2_ROUTE" {
		t.Errorf("PoolNames(2) = %v", got)
	}
	// Pool 1's names are the documented OLD_* settings.
	for _, suffix := range []string{"USER_POOL_ID", "CLIENT_ID", "USER_POOL_REGION", "USER_POOL_ENDPOINT", "ROLE_ARN", "EXTERNAL_ID", "CLIENT_SECRET_ARN", "CLIENT_SECRET", "ROUTE"} {
		name := settings.PoolName(1, suffix)
		found := false
		for _, n := range settings.Names() {
			found = found || n == name
		}
		if !found {
			t.Errorf("%s is not in Names()", name)
		}
	}
}

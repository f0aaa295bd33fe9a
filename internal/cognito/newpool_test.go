package cognito

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// describeServer answers DescribeUserPool with pool (Cognito's JSON 1.1
// wire format) and counts the calls.
func describeServer(t *testing.T, pool map[string]any) (*cip.Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Amz-Target"); got != "AWSCognitoIdentityProviderService.DescribeUserPool" {
			w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
			w.WriteHeader(400)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"UserPool": pool})
	}))
	t.Cleanup(srv.Close)
	return cip.New(cip.Options{
		Region: "eu-west-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	}), &calls
}

func schemaAttr(name string, required bool) map[string]any {
	return map[string]any{"Name": name, "AttributeDataType": "String", "Mutable": true, "Required": required}
}

func TestNewPoolConfig(t *testing.T) {
	tests := []struct {
		name string
		pool map[string]any
		want migrate.PoolConfig
	}{
		{
			name: "alias pool, case-insensitive, MFA optional, strict password policy",
			pool: map[string]any{
				"Id": "eu-west-2_New", "MfaConfiguration": "OPTIONAL",
				"AliasAttributes":       []string{"email", "preferred_username"},
				"UsernameConfiguration": map[string]any{"CaseSensitive": false},
				"SchemaAttributes":      []any{schemaAttr("sub", true), schemaAttr("email", true), schemaAttr("custom:legacy_sub", false)},
				"Policies": map[string]any{"PasswordPolicy": map[string]any{
					"MinimumLength": 12, "RequireUppercase": true, "RequireLowercase": true, "RequireNumbers": true, "RequireSymbols": false,
				}},
			},
			want: migrate.PoolConfig{
				Attributes: map[string]migrate.AttributeSpec{
					"sub":               {Required: true, Type: "String", Mutable: true},
					"email":             {Required: true, Type: "String", Mutable: true},
					"custom:legacy_sub": {Type: "String", Mutable: true},
				},
				AliasAttributes: []string{"email", "preferred_username"},
				CaseSensitive:   false, MFA: "OPTIONAL",
				Password: migrate.PasswordPolicy{MinimumLength: 12, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true},
			},
		},
		{
			name: "email as username; no case setting means case sensitive",
			pool: map[string]any{
				"Id": "eu-west-2_New", "MfaConfiguration": "OFF", "UsernameAttributes": []string{"email"},
				"SchemaAttributes": []any{schemaAttr("email", false)},
			},
			want: migrate.PoolConfig{
				Attributes:         map[string]migrate.AttributeSpec{"email": {Type: "String", Mutable: true}},
				UsernameAttributes: []string{"email"}, CaseSensitive: true, MFA: "OFF",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, calls := describeServer(t, tt.pool)
			p := NewNewPool(client)
			for i := 0; i < 3; i++ {
				got, err := p.Config(context.Background(), "eu-west-2_New")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Fatalf("Config() mismatch (-want +got):\n%s", diff)
				}
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("DescribeUserPool calls = %d, want 1 (cached)", n)
			}
		})
	}
}

func TestNewPoolConfigSchemaConstraints(t *testing.T) {
	// DescribeUserPool's schema as Cognito writes it: constraints are strings.
	client, _ := describeServer(t, map[string]any{"Id": "p", "SchemaAttributes": []any{
		map[string]any{"Name": "sub", "AttributeDataType": "String", "Mutable": false, "Required": true,
			"StringAttributeConstraints": map[string]any{"MinLength": "1", "MaxLength": "2048"}},
		map[string]any{"Name": "updated_at", "AttributeDataType": "Number", "Mutable": true,
			"NumberAttributeConstraints": map[string]any{"MinValue": "0"}},
		map[string]any{"Name": "custom:age", "AttributeDataType": "Number", "Mutable": true,
			"NumberAttributeConstraints": map[string]any{"MinValue": "0", "MaxValue": "150"}},
		map[string]any{"Name": "email_verified", "AttributeDataType": "Boolean", "Mutable": true},
		map[string]any{"Name": "custom:since", "AttributeDataType": "DateTime", "Mutable": false},
		map[string]any{"Name": "custom:code", "AttributeDataType": "String", "Mutable": true,
			"StringAttributeConstraints": map[string]any{"MinLength": "3", "MaxLength": "8"}},
		map[string]any{"Name": "dev:custom:note", "AttributeDataType": "String", "DeveloperOnlyAttribute": true, "Mutable": true},
	}})
	got, err := NewNewPool(client).Config(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	n := func(v int64) *int64 { return &v }
	want := map[string]migrate.AttributeSpec{
		"sub":             {Required: true, Type: "String", MinLength: 1, MaxLength: 2048},
		"updated_at":      {Type: "Number", MinValue: n(0), Mutable: true},
		"custom:age":      {Type: "Number", MinValue: n(0), MaxValue: n(150), Mutable: true},
		"email_verified":  {Type: "Boolean", Mutable: true},
		"custom:since":    {Type: "DateTime"},
		"custom:code":     {Type: "String", MinLength: 3, MaxLength: 8, Mutable: true},
		"dev:custom:note": {Type: "String", DeveloperOnly: true, Mutable: true},
	}
	if diff := cmp.Diff(want, got.Attributes); diff != "" {
		t.Errorf("Config().Attributes mismatch (-want +got):\n%s", diff)
	}
	// The decision refuses what this schema refuses.
	for _, c := range []struct {
		attr, value string
		want        bool
	}{
		{"custom:code", "ab", false}, {"custom:code", "abc", true}, {"custom:code", "abcdefghi", false},
		{"custom:age", "151", false}, {"custom:age", "-1", false}, {"custom:age", "30", true},
		{"dev:custom:note", "x", false},
	} {
		if got := got.Attributes[c.attr].Accepts(c.attr, c.value); got != c.want {
			t.Errorf("Accepts(%q, %q) = %v, want %v", c.attr, c.value, got, c.want)
		}
	}
}

func TestNewPoolConfigExpires(t *testing.T) {
	client, calls := describeServer(t, map[string]any{"Id": "p", "SchemaAttributes": []any{schemaAttr("email", false)}})
	p := NewNewPool(client)
	now := time.Now()
	p.now = func() time.Time { return now }
	for _, step := range []struct {
		after time.Duration
		want  int32
	}{{0, 1}, {ConfigTTL - time.Second, 1}, {ConfigTTL + time.Second, 2}} {
		now = now.Add(step.after)
		if _, err := p.Config(context.Background(), "p"); err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != step.want {
			t.Errorf("after %v: DescribeUserPool calls = %d, want %d", step.after, n, step.want)
		}
	}
}

func TestNewPoolConfigError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"message":"not authorized to perform cognito-idp:DescribeUserPool"}`))
	}))
	defer srv.Close()
	client := cip.New(cip.Options{Region: "eu-west-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	_, err := NewNewPool(client).Config(context.Background(), "p")
	if k := migrate.KindOf(err); k != migrate.FaultConfiguration {
		t.Errorf("Kind(%v) = %q, want %q", err, k, migrate.FaultConfiguration)
	}
}

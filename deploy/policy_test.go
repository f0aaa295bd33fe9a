// Package deploy_test checks the IAM policies we ship against the calls the
// code makes: least privilege, no wildcards, nothing missing.
package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
)

type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

type policy struct {
	Version   string
	Statement []statement
}

func load(t *testing.T, name string) policy {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("iam", name))
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p.Version != "2012-10-17" || len(p.Statement) == 0 {
		t.Fatalf("%s: version %q, %d statements", name, p.Version, len(p.Statement))
	}
	return p
}

func list(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, s := range v {
			out[i], _ = s.(string)
		}
		return out
	}
	return nil
}

// calledCognitoActions are the cognito-idp actions the function can call on
// the old pool: the methods of the only interface through which it reaches
// it.
func calledCognitoActions() []string {
	return slices.DeleteFunc(methodActions(reflect.TypeFor[cognito.OldPoolAPI]()), func(a string) bool { return a == groupRead })
}

// groupRead is the old-pool call made only when the function reads users'
// groups: MIGRATE_ONLY's group: rules, or groups copied to the new pool.
const groupRead = "cognito-idp:AdminListGroupsForUser"

// calledNewPoolActions are the cognito-idp actions the function calls on
// the new pool, in its own account.
func calledNewPoolActions() []string {
	return methodActions(reflect.TypeFor[cognito.NewPoolAPI]())
}

func methodActions(typ reflect.Type) []string {
	var out []string
	for i := 0; i < typ.NumMethod(); i++ {
		out = append(out, "cognito-idp:"+typ.Method(i).Name)
	}
	slices.Sort(out)
	return out
}

func TestPoliciesGrantExactlyWhatTheCodeCalls(t *testing.T) {
	tests := map[string][]string{
		"old-account-role-policy.json":      calledCognitoActions(),
		"function-policy-same-account.json": calledCognitoActions(),
		"function-policy-new-pool.json":     calledNewPoolActions(),
	}
	for name, called := range tests {
		t.Run(name, func(t *testing.T) {
			var granted []string
			for _, s := range load(t, name).Statement {
				for _, a := range list(s.Action) {
					if strings.HasPrefix(a, "cognito-idp:") {
						granted = append(granted, a)
						for _, r := range list(s.Resource) {
							if !strings.HasPrefix(r, "arn:aws:cognito-idp:") || !strings.Contains(r, ":userpool/") || strings.Contains(r, "*") {
								t.Errorf("%s granted on %q, want one user pool's ARN", a, r)
							}
						}
					}
				}
			}
			slices.Sort(granted)
			if diff := cmp.Diff(called, granted); diff != "" {
				t.Errorf("cognito-idp actions (-called by the code +granted):\n%s", diff)
			}
		})
	}
}

func TestNoWildcards(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("iam", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no policies: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		for _, s := range load(t, name).Statement {
			if s.Effect != "Allow" {
				t.Errorf("%s %s: effect %q", name, s.Sid, s.Effect)
			}
			for _, a := range list(s.Action) {
				if strings.Contains(a, "*") {
					t.Errorf("%s %s: wildcard action %q", name, s.Sid, a)
				}
			}
			for _, r := range list(s.Resource) {
				// Log streams and the secret's random suffix are the only
				// patterns, and both stay inside one named resource.
				if r == "*" || (strings.Contains(r, "*") && !strings.HasSuffix(r, ":log-group:/aws/lambda/FUNCTION_NAME:*")) {
					t.Errorf("%s %s: wildcard resource %q", name, s.Sid, r)
				}
			}
		}
	}
}

func TestCrossAccountRoleTrust(t *testing.T) {
	p := load(t, "old-account-role-trust-policy.json")
	if len(p.Statement) != 1 {
		t.Fatalf("%d statements, want 1", len(p.Statement))
	}
	s := p.Statement[0]
	principal, _ := s.Principal.(map[string]any)
	aws := list(principal["AWS"])
	if len(aws) != 1 || !strings.Contains(aws[0], ":role/") || strings.HasSuffix(aws[0], ":root") {
		t.Errorf("trusted principal %v, want only the function's execution role", s.Principal)
	}
	if got := list(s.Action); !cmp.Equal(got, []string{"sts:AssumeRole"}) {
		t.Errorf("actions %v, want sts:AssumeRole", got)
	}
	if s.Condition["StringEquals"]["sts:ExternalId"] == nil {
		t.Errorf("no sts:ExternalId condition: %v", s.Condition)
	}
}

func TestFunctionPolicies(t *testing.T) {
	tests := map[string][]string{
		"function-policy-cross-account.json": {"logs:CreateLogStream", "logs:PutLogEvents", "sts:AssumeRole"},
		"function-policy-client-secret.json": {"secretsmanager:GetSecretValue"},
		"function-policy-new-pool.json":      calledNewPoolActions(),
		"function-policy-same-account.json":  append(calledCognitoActions(), "logs:CreateLogStream", "logs:PutLogEvents"),
	}
	for name, want := range tests {
		var got []string
		for _, s := range load(t, name).Statement {
			got = append(got, list(s.Action)...)
			if slices.Contains(list(s.Action), "sts:AssumeRole") {
				if r := list(s.Resource); len(r) != 1 || !strings.Contains(r[0], ":role/") {
					t.Errorf("%s: sts:AssumeRole on %v, want the one old-account role", name, r)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s actions (-want +got):\n%s", name, diff)
		}
	}
}

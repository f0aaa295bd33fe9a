package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/preflight"
)

// The pools of the two-pool command tests, both in the one fake.
const (
	twoNewID  = "eu-west-1_NewPool2"
	twoNewARN = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_NewPool2"
	twoOldID  = "eu-west-1_OldPool2"
	twoOldCl  = "oldfnclient"
)

// goodStatement lets the new pool, and only it, invoke the function.
const goodStatement = `{"Sid":"cognito-migrate-eu-west-1_NewPool2","Effect":"Allow","Principal":{"Service":"cognito-idp.amazonaws.com"},
  "Action":"lambda:InvokeFunction","Resource":"` + functionARN + `",
  "Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333"},"ArnLike":{"AWS:SourceArn":"` + twoNewARN + `"}}}`

// twoPoolSetup describes a correct pair of pools; tests plant problems in it.
type twoPoolSetup struct {
	newPool, oldPool, oldClient, oldMFA string
	newClients                          []string
	statement                           string
	fnEnv                               map[string]string
	oldUsers, newUsers                  []cognitotest.User
}

func correctSetup() *twoPoolSetup {
	newSchema := `[{"Name":"sub","AttributeDataType":"String","Required":true,"Mutable":false},
	  {"Name":"email","AttributeDataType":"String","Mutable":true},{"Name":"email_verified","AttributeDataType":"Boolean","Mutable":true},
	  {"Name":"custom:legacy_sub","AttributeDataType":"String","Mutable":false},{"Name":"custom:tenant","AttributeDataType":"String","Mutable":true}]`
	schema := `[{"Name":"sub","AttributeDataType":"String","Required":true,"Mutable":false},
	  {"Name":"email","AttributeDataType":"String","Mutable":true},{"Name":"email_verified","AttributeDataType":"Boolean","Mutable":true},
	  {"Name":"custom:tenant","AttributeDataType":"String","Mutable":true}]`
	return &twoPoolSetup{
		newPool: `{"Id":"` + twoNewID + `","Arn":"` + twoNewARN + `","AliasAttributes":["email"],"MfaConfiguration":"OFF",
		  "UsernameConfiguration":{"CaseSensitive":false},"SchemaAttributes":` + newSchema + `,
		  "LambdaConfig":{"UserMigration":"` + functionARN + `"}}`,
		newClients: []string{`{"UserPoolId":"` + twoNewID + `","ClientId":"web","ClientName":"web",
		  "ExplicitAuthFlows":["ALLOW_USER_PASSWORD_AUTH","ALLOW_REFRESH_TOKEN_AUTH"],"PreventUserExistenceErrors":"ENABLED"}`},
		oldPool: `{"Id":"` + twoOldID + `","AliasAttributes":["email"],"MfaConfiguration":"OFF",
		  "UsernameConfiguration":{"CaseSensitive":false},"SchemaAttributes":` + schema + `}`,
		oldClient: `{"UserPoolId":"` + twoOldID + `","ClientId":"` + twoOldCl + `","ExplicitAuthFlows":["ALLOW_ADMIN_USER_PASSWORD_AUTH"]}`,
		oldMFA:    `{"MfaConfiguration":"OFF"}`,
		statement: goodStatement,
		fnEnv:     map[string]string{"OLD_USER_POOL_ID": twoOldID, "OLD_CLIENT_ID": twoOldCl, "LEGACY_SUB_ATTRIBUTE": "custom:legacy_sub"},
		oldUsers: []cognitotest.User{
			{Username: "ann", Enabled: true, Attributes: map[string]string{"sub": "old-sub-ann", "email": "ann@example.com", "email_verified": "true", "custom:tenant": "t1"}},
			{Username: "bob", Enabled: true, Attributes: map[string]string{"email": "bob@example.com", "email_verified": "true"}},
		},
		newUsers: []cognitotest.User{
			// Migrated by the trigger: she carries her old sub.
			{Username: "ann", Enabled: true, Attributes: map[string]string{"email": "ann@example.com", "email_verified": "true", "custom:tenant": "t1", "custom:legacy_sub": "old-sub-ann"}},
		},
	}
}

// world builds the setup in a fresh env: one cognito fake holds both pools,
// reached by the old side through OLD_USER_POOL_ENDPOINT.
func (s *twoPoolSetup) world(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.cognito.PutUserPool([]byte(s.newPool))
	for _, c := range s.newClients {
		e.cognito.PutUserPoolClient([]byte(c))
	}
	// The fake resolves aliases and case as its Pool says; the description
	// is what DescribeUserPool answers.
	e.cognito.AddPool(cognitotest.Pool{ID: twoOldID, AliasAttributes: []string{"email"}, CaseInsensitive: true})
	e.cognito.PutUserPool([]byte(s.oldPool))
	e.cognito.PutUserPoolClient([]byte(s.oldClient))
	e.cognito.PutUserPoolMfaConfig(twoOldID, []byte(s.oldMFA))
	if s.statement != "" {
		e.lambda.PutStatement(functionARN, s.statement)
	}
	e.lambda.SetEnvironment(functionARN, s.fnEnv)
	for _, u := range s.oldUsers {
		e.cognito.AddUser(twoOldID, u)
	}
	for _, u := range s.newUsers {
		e.cognito.AddUser(twoNewID, u)
	}
	e.vars = map[string]string{"OLD_USER_POOL_ENDPOINT": e.cognito.URL}
	return e
}

type checkJSON struct {
	Findings []preflight.Finding `json:"findings"`
	Counts   preflight.Counts    `json:"counts"`
	Error    *errorResult        `json:"error"`
}

func decodeCheck(t *testing.T, stdout string) checkJSON {
	t.Helper()
	var out checkJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("check --output json: %v\n%s", err, stdout)
	}
	return out
}

func findingIDs(fs []preflight.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+" "+string(f.Severity))
	}
	return out
}

func TestCheckOnACorrectSetupFindsNothing(t *testing.T) {
	e := correctSetup().world(t)
	r := e.run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	out := decodeCheck(t, r.stdout)
	if len(out.Findings) != 0 || out.Counts != (preflight.Counts{}) || out.Findings == nil {
		t.Errorf("findings = %+v, counts %+v; want an empty list and zero counts", out.Findings, out.Counts)
	}
	// The settings came from the attached function; its policy was read.
	if !slices.Equal(r.lambdaOps, []string{"GetFunctionConfiguration", "GetPolicy"}) {
		t.Errorf("lambda calls = %v, want GetFunctionConfiguration, GetPolicy", r.lambdaOps)
	}
	text := e.run(t, "check", "--user-pool-id", twoNewID)
	if text.code != ExitOK || !strings.Contains(text.stdout, "0 error(s), 0 warning(s), 0 info") {
		t.Errorf("text: exit %d, stdout %q", text.code, text.stdout)
	}
}

func TestCheckReportsEachPlantedProblemAndNothingElse(t *testing.T) {
	const secret = "old-client-secret-never-printed-81c4"
	s := correctSetup()
	// An Amplify client: SRP only, existence errors LEGACY.
	s.newClients = append(s.newClients, `{"UserPoolId":"`+twoNewID+`","ClientId":"amplify","ClientName":"amplify",
	  "ExplicitAuthFlows":["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"],"PreventUserExistenceErrors":"LEGACY"}`)
	// A secret the function is not given.
	s.oldClient = `{"UserPoolId":"` + twoOldID + `","ClientId":"` + twoOldCl + `","ClientSecret":"` + secret + `","ExplicitAuthFlows":["ALLOW_ADMIN_USER_PASSWORD_AUTH"]}`
	// Old users have custom:plan, which the new schema lacks.
	s.oldPool = strings.Replace(s.oldPool, `{"Name":"custom:tenant"`, `{"Name":"custom:plan","AttributeDataType":"String","Mutable":true},{"Name":"custom:tenant"`, 1)
	s.oldUsers[1].Attributes["custom:plan"] = "gold"
	// Optional TOTP in the old pool, MFA_POLICY deny (the default).
	s.oldPool = strings.Replace(s.oldPool, `"MfaConfiguration":"OFF"`, `"MfaConfiguration":"OPTIONAL"`, 1)
	s.oldMFA = `{"MfaConfiguration":"OPTIONAL","SoftwareTokenMfaConfiguration":{"Enabled":true}}`
	// No statement lets Cognito invoke the function.
	s.statement = ""
	// bob was created in the new pool by an administrator before the migration.
	s.newUsers = append(s.newUsers, cognitotest.User{Username: "bob", Enabled: true, Status: "FORCE_CHANGE_PASSWORD"})

	e := s.world(t)
	r := e.run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitFindings {
		t.Errorf("exit %d, want %d (error findings)", r.code, ExitFindings)
	}
	out := decodeCheck(t, r.stdout)
	want := []string{
		"old-client-secret error", "new-client-password-auth warning", "new-client-user-existence warning",
		"invoke-permission error", "schema-missing-attribute warning", "mfa warning", "already-present warning",
	}
	if diff := cmp.Diff(want, findingIDs(out.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if out.Counts != (preflight.Counts{Error: 2, Warning: 5}) || out.Error != nil {
		t.Errorf("counts = %+v, error %+v; want 2 errors, 5 warnings, no error object", out.Counts, out.Error)
	}
	for _, f := range out.Findings {
		if f.ID == preflight.AlreadyPresent && !strings.Contains(f.Detail, `"bob"`) {
			t.Errorf("already-present does not name bob: %s", f.Detail)
		}
	}
	if !strings.Contains(r.stderr, "2 error finding(s)") {
		t.Errorf("stderr %q does not say how many errors", r.stderr)
	}
	text := e.run(t, "check", "--user-pool-id", twoNewID)
	for _, run := range []runResult{r, text} {
		if strings.Contains(run.stdout+run.stderr, secret) {
			t.Errorf("the old client's secret is printed")
		}
	}
	if text.code != ExitFindings || !strings.Contains(text.stdout, "ERROR   invoke-permission") || !strings.Contains(text.stdout, "2 error(s), 5 warning(s), 0 info") {
		t.Errorf("text: exit %d, stdout %q", text.code, text.stdout)
	}
}

func TestCheckAlreadyPresent(t *testing.T) {
	tests := []struct {
		name     string
		legacy   bool
		newUsers []cognitotest.User
	}{
		{
			name: "LEGACY_SUB_ATTRIBUTE set: bob lacks it", legacy: true,
			newUsers: []cognitotest.User{{Username: "bob", Enabled: true}, {Username: "newcomer", Enabled: true}},
		},
		{
			name: "no LEGACY_SUB_ATTRIBUTE: bob's status is not the trigger's",
			newUsers: []cognitotest.User{
				{Username: "ann", Enabled: true}, // CONFIRMED: may be the trigger's
				{Username: "bob", Enabled: true, Status: "UNCONFIRMED"},
				{Username: "newcomer", Enabled: true, Status: "FORCE_CHANGE_PASSWORD"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := correctSetup()
			s.newUsers = append(s.newUsers[:1:1], tt.newUsers...)
			if !tt.legacy {
				delete(s.fnEnv, "LEGACY_SUB_ATTRIBUTE")
				s.newUsers = s.newUsers[1:]
			}
			r := s.world(t).run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
			out := decodeCheck(t, r.stdout)
			var got []preflight.Finding
			for _, f := range out.Findings {
				if f.ID == preflight.AlreadyPresent {
					got = append(got, f)
				}
			}
			if len(got) != 1 || !strings.Contains(got[0].Detail, "1 user(s)") || !strings.Contains(got[0].Detail, `"bob"`) || r.code != ExitOK {
				t.Errorf("exit %d, already-present findings %+v; want one, naming bob alone", r.code, got)
			}
		})
	}
}

func TestCheckCannotRun(t *testing.T) {
	s := correctSetup()
	s.fnEnv["OLD_CLIENT_ID"] = "noSuchClient"
	r := s.world(t).run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitFailure {
		t.Errorf("exit %d, want %d", r.code, ExitFailure)
	}
	out := decodeCheck(t, r.stdout)
	if !strings.Contains(r.stdout, `"findings": []`) {
		t.Errorf("stdout %s: want an empty findings list", r.stdout)
	}
	if out.Error == nil || !strings.Contains(out.Error.Message, "OLD_CLIENT_ID noSuchClient is not an app client of the old pool") || len(out.Findings) != 0 {
		t.Errorf("output = %+v, want the error naming OLD_CLIENT_ID and no findings", out)
	}
	if r := correctSetup().world(t).run(t, "check", "--user-pool-id", twoNewID, "--sample", "-1"); r.code != ExitUsage {
		t.Errorf("--sample -1: exit %d, want %d", r.code, ExitUsage)
	}
}

func TestCheckSampleBoundsTheListing(t *testing.T) {
	s := correctSetup()
	for i := range 150 {
		s.oldUsers = append(s.oldUsers, cognitotest.User{Username: "user" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Enabled: true})
	}
	e := s.world(t)
	r := e.run(t, "check", "--user-pool-id", twoNewID, "--sample", "60", "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d", r.code)
	}
	// One page of the old pool, one of the new.
	if n := countOps(r.cognitoOps, "ListUsers"); n != 2 {
		t.Errorf("ListUsers calls = %d, want 2 with --sample 60", n)
	}
	r = e.run(t, "check", "--user-pool-id", twoNewID, "--sample", "0", "--output", "json")
	if n := countOps(r.cognitoOps, "ListUsers"); n != 4 {
		t.Errorf("ListUsers calls = %d, want 4 with --sample 0 (152 old users: 3 pages, 1 new user: 1 page)", n)
	}
}

func countOps(ops []string, op string) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}

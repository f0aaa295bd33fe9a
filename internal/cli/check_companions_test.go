package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// check reads LEGACY_GROUPS_ATTRIBUTE and SIGNUP_GUARD from the function
// and reports the companion triggers' wiring: here pre token generation is
// attached but an app client may write the groups attribute, and the guard
// is on without the pre sign-up trigger.
func TestCheckCompanionTriggers(t *testing.T) {
	s := correctSetup()
	s.newPool = strings.Replace(s.newPool, `{"Name":"custom:tenant"`,
		`{"Name":"custom:legacy_groups","AttributeDataType":"String","Mutable":true,"StringAttributeConstraints":{"MaxLength":"2048"}},{"Name":"custom:tenant"`, 1)
	s.newPool = strings.Replace(s.newPool, `"LambdaConfig":{"UserMigration":"`+functionARN+`"}`,
		`"LambdaConfig":{"UserMigration":"`+functionARN+`","PreTokenGeneration":"`+functionARN+`"}`, 1)
	s.newClients = append(s.newClients, `{"UserPoolId":"`+twoNewID+`","ClientId":"profile","ClientName":"profile",
	  "ExplicitAuthFlows":["ALLOW_USER_PASSWORD_AUTH"],"PreventUserExistenceErrors":"ENABLED","WriteAttributes":["name","custom:legacy_groups"]}`)
	s.fnEnv["LEGACY_GROUPS_ATTRIBUTE"] = "custom:legacy_groups"
	s.fnEnv["SIGNUP_GUARD"] = "true"

	e := s.world(t)
	r := e.run(t, "check", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitFindings {
		t.Errorf("exit %d, want %d", r.code, ExitFindings)
	}
	out := decodeCheck(t, r.stdout)
	if diff := cmp.Diff([]string{"groups-attribute-writable error", "pre-signup-not-attached warning"}, findingIDs(out.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	// Without the settings, the attached pre token generation fails every
	// sign-in.
	delete(s.fnEnv, "LEGACY_GROUPS_ATTRIBUTE")
	delete(s.fnEnv, "SIGNUP_GUARD")
	e = s.world(t)
	out = decodeCheck(t, e.run(t, "check", "--user-pool-id", twoNewID, "--output", "json").stdout)
	if diff := cmp.Diff([]string{"pre-token-generation-unconfigured error"}, findingIDs(out.Findings)); diff != "" {
		t.Errorf("findings without the settings (-want +got):\n%s", diff)
	}
}

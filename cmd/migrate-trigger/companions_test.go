package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics/emftest"
)

const (
	newPoolID   = "eu-west-2_NewPool1"
	newClientID = "newclient"
)

// companionPools is one wire fake holding the old pool (alice, in
// "admins", "editors" and 70 "team-NN" groups, more than one page) and the
// new pool (a schema with custom:legacy_groups; "admins" and the team
// groups exist, "editors" does not).
func companionPools(t *testing.T) *cognitotest.Fake {
	t.Helper()
	f := cognitotest.New(t)
	f.AddPool(cognitotest.Pool{ID: oldPoolID})
	f.AddClient(cognitotest.AppClient{PoolID: oldPoolID, ID: oldClientID, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser(oldPoolID, cognitotest.User{Username: "alice", Password: password, Enabled: true,
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}})
	f.AddUser(oldPoolID, cognitotest.User{Username: "carol", Password: password, Enabled: true, Status: "UNCONFIRMED",
		Attributes: map[string]string{"email": "carol@example.com"}})
	f.PutGroup(oldPoolID, cognitotest.GroupSpec{Name: "admins", Members: []string{"alice"}})
	f.PutGroup(oldPoolID, cognitotest.GroupSpec{Name: "editors", Description: "People who edit", Precedence: aws.Int64(5), Members: []string{"alice"}})
	pool := standardNewPool()
	pool["SchemaAttributes"] = append(pool["SchemaAttributes"].([]any), map[string]any{"Name": "custom:legacy_groups",
		"AttributeDataType": "String", "Mutable": true, "StringAttributeConstraints": map[string]any{"MaxLength": "2048"}})
	pool["AliasAttributes"] = []any{"email"}
	desc, _ := json.Marshal(pool)
	f.PutUserPool(desc)
	f.AddClient(cognitotest.AppClient{PoolID: newPoolID, ID: newClientID, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddGroup(newPoolID, "admins")
	for i := range 70 {
		name := fmt.Sprintf("team-%02d", i)
		f.PutGroup(oldPoolID, cognitotest.GroupSpec{Name: name, Members: []string{"alice"}})
		f.AddGroup(newPoolID, name)
	}
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", f.URL)
	return f
}

// oldCalls counts the calls made on the old pool since call index from.
func oldCalls(f *cognitotest.Fake, from int) []string {
	var ops []string
	for _, c := range f.Calls()[from:] {
		if c.Input["UserPoolId"] == oldPoolID {
			ops = append(ops, c.Operation)
		}
	}
	return ops
}

func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func groupsIn(c map[string]any) []string {
	var out []string
	list, _ := c["cognito:groups"].([]any)
	for _, g := range list {
		out = append(out, g.(string))
	}
	slices.Sort(out)
	return out
}

// The first tokens carry the old groups: the migration hands them to the
// new user, the pre token generation trigger adds the memberships and
// returns them in groupOverrideDetails with the request's groups, against
// a wire fake that honours the override as Cognito documents (V1_0 and
// V2_0 events). Later sign-ins call neither the old pool nor the groups.
func TestFirstTokensCarryTheGroups(t *testing.T) {
	teams := make([]string, 0, 70)
	for i := range 70 {
		teams = append(teams, fmt.Sprintf("team-%02d", i))
	}
	for _, tt := range []struct {
		version string
		create  bool
	}{{"1", false}, {"2", true}} {
		t.Run(fmt.Sprintf("version %s, CREATE_MISSING_GROUPS=%v", tt.version, tt.create), func(t *testing.T) {
			awsEnv(t)
			f := companionPools(t)
			env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
				"LEGACY_GROUPS_ATTRIBUTE": "custom:legacy_groups", "CREATE_MISSING_GROUPS": fmt.Sprint(tt.create)}
			out := &syncBuffer{}
			ctx := context.Background()
			h, _, err := newHandler(ctx, func(k string) string { return env[k] }, out)
			if err != nil {
				t.Fatal(err)
			}

			// The migrating sign-in: the "Migrate user" event, then the new
			// pool creates the user from the answer, as Cognito does.
			answer, err := h.Invoke(ctx, []byte(event("UserMigration_Authentication", "alice", password)))
			if err != nil {
				t.Fatalf("migrate user: %v", err)
			}
			var migrated struct {
				Response struct{ UserAttributes map[string]string } `json:"response"`
			}
			if err := json.Unmarshal(answer, &migrated); err != nil {
				t.Fatal(err)
			}
			carried := migrated.Response.UserAttributes["custom:legacy_groups"]
			if !strings.Contains(carried, `"editors"`) || !strings.Contains(carried, `"team-69"`) {
				t.Fatalf("custom:legacy_groups = %q, want every old group (two pages of them)", carried)
			}
			f.AddUser(newPoolID, cognitotest.User{Username: "alice", Password: password, Enabled: true, Attributes: migrated.Response.UserAttributes})
			f.SetPreTokenGeneration(newPoolID, tt.version, func(ev []byte) ([]byte, error) { return h.Invoke(ctx, ev) })

			client := cip.NewFromConfig(aws.Config{Region: "eu-west-2", Credentials: aws.AnonymousCredentials{}},
				func(o *cip.Options) { o.BaseEndpoint = aws.String(f.URL) })
			signIn := func() (id, access map[string]any) {
				t.Helper()
				res, err := client.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(newPoolID), ClientId: aws.String(newClientID),
					AuthFlow: "ADMIN_USER_PASSWORD_AUTH", AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password}})
				if err != nil {
					t.Fatalf("sign in to the new pool: %v\n%s", err, out)
				}
				return claimsOf(t, aws.ToString(res.AuthenticationResult.IdToken)), claimsOf(t, aws.ToString(res.AuthenticationResult.AccessToken))
			}

			want := append([]string{"admins"}, teams...)
			if tt.create {
				want = append(want, "editors")
			}
			slices.Sort(want)
			before := len(f.Calls())
			id, access := signIn()
			if got := groupsIn(id); !slices.Equal(got, want) {
				t.Errorf("first ID token cognito:groups = %v, want %v", got, want)
			}
			if got := groupsIn(access); !slices.Equal(got, want) {
				t.Errorf("first access token cognito:groups = %v, want %v", got, want)
			}
			if v, ok := id["custom:legacy_groups"]; ok {
				t.Errorf("first ID token has custom:legacy_groups = %v; it is suppressed", v)
			}
			if ops := oldCalls(f, before); len(ops) != 0 && !tt.create {
				t.Errorf("old-pool calls at the first tokens = %v, want none", ops)
			}
			if v, ok := f.UserAttributes(newPoolID, "alice")["custom:legacy_groups"]; ok {
				t.Errorf("custom:legacy_groups = %q after the first tokens; it is deleted once applied", v)
			}
			editors, exists := f.GroupSpecOf(newPoolID, "editors")
			switch {
			case tt.create && (!exists || editors.Description != "People who edit" || aws.ToInt64(editors.Precedence) != 5):
				t.Errorf("editors in the new pool = %+v, %v; want it created as the old pool has it", editors, exists)
			case !tt.create && exists:
				t.Errorf("editors was created without CREATE_MISSING_GROUPS")
			}
			if !tt.create && !strings.Contains(out.String(), `"groupsMissing":["editors"]`) {
				t.Errorf("the skipped group is not logged:\n%s", out)
			}

			before = len(f.Calls())
			id, _ = signIn()
			if got := groupsIn(id); !slices.Equal(got, want) {
				t.Errorf("second ID token cognito:groups = %v, want %v", got, want)
			}
			for _, c := range f.Calls()[before:] {
				if c.Operation != "AdminInitiateAuth" {
					t.Errorf("the second sign-in called %s; later sign-ins make no call", c.Operation)
				}
			}
			recs, _ := emftest.Split(t, out.String())
			if last := recs[len(recs)-1]; last["Outcome"] != "allowed" || last["TriggerSource"] != "TokenGeneration_Authentication" {
				t.Errorf("last metric = %v, want allowed for TokenGeneration_Authentication", last)
			}
		})
	}
}

// An event of a trigger the function was not configured for gets the
// unavailable error, and the log and metric name the setting's problem.
func TestCompanionNotConfigured(t *testing.T) {
	awsEnv(t)
	f := companionPools(t)
	env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL}
	for source, setting := range map[string]string{"TokenGeneration_Authentication": "LEGACY_GROUPS_ATTRIBUTE", "PreSignUp_SignUp": "SIGNUP_GUARD"} {
		t.Run(source, func(t *testing.T) {
			out := &syncBuffer{}
			h, _, err := newHandler(context.Background(), func(k string) string { return env[k] }, out)
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.Invoke(context.Background(), []byte(strings.Replace(event("UserMigration_Authentication", "alice", password), "UserMigration_Authentication", source, 1)))
			var ie messages.InvokeResponse_Error
			if !errors.As(err, &ie) || ie.Message != "Sign-in is temporarily unavailable. Please try again." {
				t.Errorf("Invoke() error = %#v, want the unavailable function error", err)
			}
			recs, lines := emftest.Split(t, out.String())
			if len(recs) != 1 || recs[0]["Reason"] != "configuration" || recs[0]["TriggerSource"] != source {
				t.Errorf("metrics = %v, want one configuration error for %s", recs, source)
			}
			if got := strings.Join(lines, "\n"); !strings.Contains(got, setting+" is not set") {
				t.Errorf("log does not name %s:\n%s", setting, got)
			}
		})
	}
}

func signUpEvent(source, username string, attrs map[string]string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "1", "triggerSource": source, "region": "eu-west-2", "userPoolId": newPoolID,
		"userName": username, "callerContext": map[string]string{"clientId": newClientID},
		"request":  map[string]any{"userAttributes": attrs, "validationData": nil},
		"response": map[string]any{"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false},
	})
	return string(b)
}

// The sign-up guard against the wire fake: what it refuses, what it lets
// through untouched, and that an old-pool fault lets the sign-up through.
func TestSignUpGuardDecisions(t *testing.T) {
	awsEnv(t)
	f := companionPools(t)
	const message = "You already have an account."
	env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"SIGNUP_GUARD": "true", "SIGNUP_GUARD_MESSAGE": message, "LEGACY_SUB_ATTRIBUTE": "custom:tenant"}
	out := &syncBuffer{}
	h, _, err := newHandler(context.Background(), func(k string) string { return env[k] }, out)
	if err != nil {
		t.Fatal(err)
	}
	aliceSub := f.UserAttributes(oldPoolID, "alice")["sub"]
	for _, tt := range []struct {
		name, event string
		fault       string // operation that fails
		refused     bool
	}{
		{"alice's email", signUpEvent("PreSignUp_SignUp", "mallory", map[string]string{"email": "alice@example.com"}), "", true},
		{"alice's username", signUpEvent("PreSignUp_SignUp", "alice", map[string]string{"email": "new@example.com"}), "", true},
		{"alice's email with a quote trick", signUpEvent("PreSignUp_SignUp", "mallory", map[string]string{"email": `alice@example.com" or email ^= "`}), "", false},
		{"an unconfirmed old user's email", signUpEvent("PreSignUp_SignUp", "carol2", map[string]string{"email": "carol@example.com"}), "", false},
		{"a new person", signUpEvent("PreSignUp_SignUp", "dave", map[string]string{"email": "dave@example.com"}), "", false},
		{"created by an administrator", signUpEvent("PreSignUp_AdminCreateUser", "alice", map[string]string{"email": "alice@example.com"}), "", false},
		{"a federated first sign-in", signUpEvent("PreSignUp_ExternalProvider", "Google_1", map[string]string{"email": "alice@example.com"}), "", false},
		{"an unknown source", signUpEvent("PreSignUp_Something", "alice", map[string]string{"email": "alice@example.com"}), "", false},
		{"the migration creating alice", signUpEvent("PreSignUp_SignUp", "alice", map[string]string{"email": "alice@example.com", "custom:tenant": aliceSub}), "", false},
		{"old pool throttled", signUpEvent("PreSignUp_SignUp", "mallory", map[string]string{"email": "alice@example.com"}), "ListUsers", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != "" {
				f.SetFault(tt.fault, cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"})
				f.SetFault("AdminGetUser", cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"})
				defer f.ClearFault(tt.fault)
				defer f.ClearFault("AdminGetUser")
			}
			answer, err := h.Invoke(context.Background(), []byte(tt.event))
			var ie messages.InvokeResponse_Error
			switch {
			case tt.refused && (!errors.As(err, &ie) || ie.Message != message || ie.Type != "SignUpRefused"):
				t.Errorf("Invoke() = %s, %v; want refused with the message", answer, err)
			case !tt.refused && err != nil:
				t.Errorf("Invoke() error = %v; want the sign-up let through", err)
			case !tt.refused:
				var got, sent map[string]any
				_ = json.Unmarshal(answer, &got)
				_ = json.Unmarshal([]byte(tt.event), &sent)
				if fmt.Sprint(got) != fmt.Sprint(sent) {
					t.Errorf("answer = %s, want the event untouched", answer)
				}
			}
		})
	}
	if strings.Contains(out.String(), "alice@example.com") || strings.Contains(out.String(), "dave@example.com") {
		t.Errorf("the log holds an email address:\n%s", out)
	}
}

// A user who writes the carrier attribute themselves (through an app client
// that lists it in WriteAttributes) gets nothing from it: the list form and
// the listFrom form (someone else's old username) are both refused at the
// next sign-in, the attribute is deleted, and the tokens keep the user's own
// groups. Against the wire fake: bob migrated an hour ago; the value is set
// on him directly, as UpdateUserAttributes would.
func TestForgedCarrierIsRefused(t *testing.T) {
	for name, value := range map[string]string{
		"list":     `["admins","team-01"]`,
		"listFrom": `{"listFrom":"alice"}`,
	} {
		t.Run(name, func(t *testing.T) {
			awsEnv(t)
			f := companionPools(t)
			env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
				"LEGACY_GROUPS_ATTRIBUTE": "custom:legacy_groups"}
			out := &syncBuffer{}
			ctx := context.Background()
			h, _, err := newHandler(ctx, func(k string) string { return env[k] }, out)
			if err != nil {
				t.Fatal(err)
			}
			migratedAt := time.Now().Add(-time.Hour)
			f.AddUser(newPoolID, cognitotest.User{Username: "bob", Password: password, Enabled: true, Created: migratedAt, LastModified: time.Now(),
				Attributes: map[string]string{"email": "bob@example.com", "custom:legacy_groups": value}})
			f.SetPreTokenGeneration(newPoolID, "1", func(ev []byte) ([]byte, error) { return h.Invoke(ctx, ev) })

			client := cip.NewFromConfig(aws.Config{Region: "eu-west-2", Credentials: aws.AnonymousCredentials{}},
				func(o *cip.Options) { o.BaseEndpoint = aws.String(f.URL) })
			before := len(f.Calls())
			res, err := client.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(newPoolID), ClientId: aws.String(newClientID),
				AuthFlow: "ADMIN_USER_PASSWORD_AUTH", AuthParameters: map[string]string{"USERNAME": "bob", "PASSWORD": password}})
			if err != nil {
				t.Fatalf("sign in: %v\n%s", err, out)
			}
			if got := groupsIn(claimsOf(t, aws.ToString(res.AuthenticationResult.IdToken))); len(got) != 0 {
				t.Errorf("ID token cognito:groups = %v, want none", got)
			}
			if got := groupsIn(claimsOf(t, aws.ToString(res.AuthenticationResult.AccessToken))); len(got) != 0 {
				t.Errorf("access token cognito:groups = %v, want none", got)
			}
			for _, c := range f.Calls()[before:] {
				if c.Operation == "AdminAddUserToGroup" || c.Input["UserPoolId"] == oldPoolID {
					t.Errorf("the forged value led to %s on %v", c.Operation, c.Input["UserPoolId"])
				}
			}
			if members, _ := f.GroupMembers(newPoolID, "admins"); slices.Contains(members, "bob") {
				t.Errorf("bob is in admins: %v", members)
			}
			if v, ok := f.UserAttributes(newPoolID, "bob")["custom:legacy_groups"]; ok {
				t.Errorf("custom:legacy_groups = %q after the refusal; it is deleted", v)
			}
			recs, lines := emftest.Split(t, out.String())
			if len(recs) != 1 || recs[0]["Outcome"] != "refused" || recs[0]["Reason"] != "groups_refused" {
				t.Errorf("metrics = %v, want one refused/groups_refused", recs)
			}
			if got := strings.Join(lines, "\n"); !strings.Contains(got, `"groupsRefused"`) {
				t.Errorf("log has no groupsRefused:\n%s", got)
			}
		})
	}
}

// With both group features on (LEGACY_GROUPS_ATTRIBUTE and a group condition
// in MIGRATE_ONLY), a migration lists the user's old groups once, every
// page of it, in both flows and both OLD_POOL_LOOKUP modes; a wrong password
// under after-sign-in lists nothing.
func TestOneGroupListingPerMigration(t *testing.T) {
	for _, lookup := range []string{"parallel", "after-sign-in"} {
		for _, source := range []string{"UserMigration_Authentication", "UserMigration_ForgotPassword"} {
			t.Run(lookup+" "+source, func(t *testing.T) {
				awsEnv(t)
				f := companionPools(t)
				tr := startTrigger(t, map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID,
					"OLD_USER_POOL_ENDPOINT": f.URL, "LEGACY_GROUPS_ATTRIBUTE": "custom:legacy_groups",
					"MIGRATE_ONLY": "group:admins", "OLD_POOL_LOOKUP": lookup})
				pw := password
				if source == "UserMigration_ForgotPassword" {
					pw = ""
				}
				_, out := tr.invoke(t, event(source, "alice", pw))
				_, attrs := responseOf(t, out)
				if carried, _ := attrs["custom:legacy_groups"].(string); !strings.Contains(carried, `"team-69"`) {
					t.Fatalf("custom:legacy_groups = %q, want every old group; decision %v", carried, lastDecision(t, tr.stdout.String()))
				}
				listings, pages := 0, 0
				for _, c := range operationsOf(f, "AdminListGroupsForUser") {
					pages++
					if _, ok := c.Input["NextToken"]; !ok {
						listings++
					}
				}
				if listings != 1 || pages != 2 {
					t.Errorf("AdminListGroupsForUser: %d listings in %d calls, want 1 listing of 2 pages (72 groups)", listings, pages)
				}
				if lookup == "after-sign-in" && source == "UserMigration_Authentication" {
					before := len(operationsOf(f, "AdminListGroupsForUser"))
					if got, reason := migratedBy(t, tr, source, "alice", "wrong-password"); got || reason != "bad_credentials" {
						t.Errorf("wrong password: migrated = %v, reason %v", got, reason)
					}
					if n := len(operationsOf(f, "AdminListGroupsForUser")) - before; n != 0 {
						t.Errorf("a wrong password listed groups %d times under after-sign-in", n)
					}
				}
			})
		}
	}
}

// The sign-up guard reads old users without their groups, even when the
// migrations read them (LEGACY_GROUPS_ATTRIBUTE): a sign-up lists no group,
// and a username no Cognito user can have is not looked up at all.
func TestSignUpGuardListsNoGroups(t *testing.T) {
	awsEnv(t)
	f := companionPools(t)
	env := map[string]string{"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"SIGNUP_GUARD": "true", "LEGACY_GROUPS_ATTRIBUTE": "custom:legacy_groups"}
	h, _, err := newHandler(context.Background(), func(k string) string { return env[k] }, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.Calls())
	if _, err := h.Invoke(context.Background(), []byte(signUpEvent("PreSignUp_SignUp", "alice", map[string]string{"email": "new@example.com"}))); err == nil {
		t.Fatal("alice's username: let through, want refused")
	}
	if ops := oldCalls(f, before); !slices.Contains(ops, "AdminGetUser") || slices.Contains(ops, "AdminListGroupsForUser") {
		t.Errorf("old-pool calls for a sign-up = %v, want AdminGetUser and no group listing", ops)
	}
	before = len(f.Calls())
	if _, err := h.Invoke(context.Background(), []byte(signUpEvent("PreSignUp_SignUp", "two words", map[string]string{"email": "new@example.com"}))); err != nil {
		t.Fatalf("a new person: %v", err)
	}
	if ops := oldCalls(f, before); slices.Contains(ops, "AdminGetUser") {
		t.Errorf("old-pool calls for an unacceptable username = %v, want no AdminGetUser", ops)
	}
}

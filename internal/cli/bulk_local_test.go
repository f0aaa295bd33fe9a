package cli

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

// Export from an old pool in cognito-local (faithful for listing,
// attributes, AdminDisableUser and groups) and import into the wire fake
// (cognito-local has no import jobs): the users arrive as the function,
// reading the same cognito-local pool, would make them.
func TestExportImportFromCognitoLocal(t *testing.T) {
	ctx := context.Background()
	local := cognitolocal.StartTB(t, cognitolocal.Options{})
	lc := local.Client()
	pool, err := lc.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("old"), UsernameAttributes: []types.UsernameAttributeType{},
		Schema: []types.SchemaAttributeType{{Name: aws.String("org"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	oldPoolID := aws.ToString(pool.UserPool.Id)
	create := func(name string, confirmed bool, attrs ...string) string {
		t.Helper()
		var as []types.AttributeType
		for i := 0; i+1 < len(attrs); i += 2 {
			as = append(as, types.AttributeType{Name: aws.String(attrs[i]), Value: aws.String(attrs[i+1])})
		}
		if _, err := lc.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(oldPoolID), Username: aws.String(name),
			UserAttributes: as, MessageAction: types.MessageActionTypeSuppress, TemporaryPassword: aws.String("Temp-Pass-9")}); err != nil {
			t.Fatalf("AdminCreateUser %s: %v", name, err)
		}
		if confirmed {
			if _, err := lc.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(oldPoolID), Username: aws.String(name),
				Password: aws.String("Correct-Horse-9"), Permanent: true}); err != nil {
				t.Fatalf("AdminSetUserPassword %s: %v", name, err)
			}
		}
		u, err := lc.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(oldPoolID), Username: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range u.UserAttributes {
			if aws.ToString(a.Name) == "sub" {
				return aws.ToString(a.Value)
			}
		}
		t.Fatalf("%s has no sub", name)
		return ""
	}
	subs := map[string]string{
		"alice": create("alice", true, "email", "alice@example.com", "email_verified", "true", "name", "Smith, Alice", "custom:org", "acme", "phone_number", "+0044123"),
		"bob":   create("bob", true, "email", "bob@example.com", "email_verified", "true", "locale", "fr"),
		"dave":  create("dave", true, "email", "dave@example.com", "email_verified", "true"),
		"ivan":  create("ivan", false, "email", "ivan@example.com", "email_verified", "true"),
	}
	if _, err := lc.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(oldPoolID), Username: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	for g, members := range map[string][]string{"staff": {"alice", "bob", "dave"}, "admins": {"alice"}} {
		if _, err := lc.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(oldPoolID), GroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if _, err := lc.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(oldPoolID), GroupName: aws.String(g), Username: aws.String(m)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	vars := map[string]string{
		settings.EnvOldUserPoolID:      oldPoolID,
		settings.EnvOldUserPoolRegion:  "us-east-1",
		settings.EnvOldClientID:        "unused",
		settings.EnvLegacySubAttribute: "custom:legacy_sub",
		settings.EnvAttributeMap:       "custom:org=custom:tenant",
		settings.EnvMFAPolicy:          "migrate",
	}
	e := newEnv(t)
	e.cognito.AddPool(cognitotest.Pool{ID: bulkNewPool, AliasAttributes: []string{"email"}})
	e.cognito.PutUserPool([]byte(bulkPool))
	e.cognito.AddUser(bulkNewPool, cognitotest.User{Username: "dave", Enabled: true, Attributes: map[string]string{
		"email": "dave@example.com", "email_verified": "true", "custom:legacy_sub": subs["dave"]}})
	e.cognito.AddGroup(bulkNewPool, "staff")
	e.lambda.SetEnvironment(functionARN, vars)
	e.vars = map[string]string{settings.EnvOldUserPoolEndpoint: local.URL}
	be := &bulkEnv{env: e, clients: &bulkClients{testClients: e.clients}}

	dir := filepath.Join(t.TempDir(), "export")
	r := be.run(t, exportArgs(dir)...)
	if r.code != ExitOK {
		t.Fatalf("export: exit %d", r.code)
	}
	exp := readJSON[exportResult](t, r.stdout)
	wantSkipped := map[bulk.SkipReason]int{bulk.SkipAlreadyInNewPool: 1, bulk.SkipForceChangePassword: 1}
	if exp.Exported != 2 || !cmp.Equal(wantSkipped, exp.Skipped) {
		t.Errorf("exported %d, skipped %v; want 2 and %v", exp.Exported, exp.Skipped, wantSkipped)
	}
	if r := be.run(t, importArgs(dir, "--yes", "--create-missing-groups")...); r.code != ExitOK {
		t.Fatalf("import: exit %d", r.code)
	}

	s, err := settings.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	old, newPool := cognito.NewOldPool(lc, oldPoolID, "unused", ""), cognito.NewNewPool(e.cognito.Client())
	cfg, err := newPool.Config(ctx, bulkNewPool)
	if err != nil {
		t.Fatal(err)
	}
	state := newPoolState(e.cognito)
	for _, name := range []string{"alice", "bob"} {
		// The function's own shaping of the user it reads from cognito-local
		// (bob, disabled, is shaped as the function would once enabled).
		u, err := old.GetUser(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "alice" {
			d, err := migrate.New(old, newPool, s.Rules).ForgotPassword(ctx, migrate.Request{NewPoolID: bulkNewPool, Username: name})
			if err != nil || !d.Migrate {
				t.Fatalf("the function declines alice: %+v, %v", d, err)
			}
		}
		shape, reason, err := s.Rules.Shape(cfg, u, name)
		if err != nil || reason != "" {
			t.Fatalf("Shape(%s) = %v, %v", name, reason, err)
		}
		got := state.Users[name]
		if diff := cmp.Diff(shape.Attributes, got.Attrs); diff != "" {
			t.Errorf("%s (-function +import):\n%s", name, diff)
		}
		if got.Status != "RESET_REQUIRED" || got.Enabled != (name == "alice") {
			t.Errorf("%s: %s, enabled %v", name, got.Status, got.Enabled)
		}
	}
	if state.Users["alice"].Attrs["custom:legacy_sub"] != subs["alice"] || state.Users["alice"].Attrs["custom:tenant"] != "acme" {
		t.Errorf("alice: %v", state.Users["alice"].Attrs)
	}
	wantGroups := map[string][]string{"staff": {"alice", "bob"}, "admins": {"alice"}}
	if diff := cmp.Diff(wantGroups, state.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

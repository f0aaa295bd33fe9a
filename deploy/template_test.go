package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

// The templates are checked by functions that return their problems, so
// that TestChecksCatchBrokenTemplates can show each check failing on a
// broken copy.
type check func(*cfnTemplate) []string

// codeCalls are the cognito-idp actions the function calls: the methods of
// the interfaces through which it reaches each pool.
type codeCalls struct{ oldPool, newPool []string }

var calls = codeCalls{oldPool: calledCognitoActions(), newPool: calledNewPoolActions()}

// omittedSetting is the one setting the new-account template leaves out on
// purpose (a literal secret has no place in a template); the template says
// so in a comment.
const omittedSetting = settings.EnvOldClientSecret

const (
	newAccountFile = "new-account.yaml"
	oldAccountFile = "old-account.yaml"
	snippetFile    = "new-pool-snippet.yaml"
)

// Example values, as in the README.
const (
	newPoolID   = "eu-central-1_NewPool9"
	oldPoolID   = "eu-west-1_AbCdEf123"
	oldRoleARN  = "arn:aws:iam::111111111111:role/cognito-migrate-old-pool"
	externalID  = "cognito-migrate-4f1c"
	secretARN   = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:old-client-AbCdEf"
	keyARN      = "arn:aws:kms:eu-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	topicARN    = "arn:aws:sns:eu-central-1:222222222222:cognito-migrate-alarms"
	execRoleARN = "arn:aws:iam::222222222222:role/cognito-migrate-ExecutionRole-AbC123"
	functionARN = "arn:aws:lambda:eu-central-1:222222222222:function:cognito-migrate"
	newPoolARN  = "arn:aws:cognito-idp:eu-central-1:222222222222:userpool/" + newPoolID
	oldPoolARN  = "arn:aws:cognito-idp:eu-west-1:222222222222:userpool/" + oldPoolID // same account
	// A second old pool (a merge), in this account or behind its own account's role.
	secondPoolID  = "us-east-1_GlobexOld2"
	secondPoolARN = "arn:aws:cognito-idp:us-east-1:222222222222:userpool/" + secondPoolID
	secondRoleARN = "arn:aws:iam::333333333333:role/cognito-migrate-old-pool"
	secondSecret  = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:second-client-AbCdEf"
	logStreamARN  = "arn:aws:logs:eu-central-1:222222222222:log-group:/aws/lambda/cognito-migrate:*"
)

type scenario struct {
	name   string
	params map[string]string
}

func with(base map[string]string, more ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(more); i += 2 {
		out[more[i]] = more[i+1]
	}
	return out
}

var (
	newAccountRequired = map[string]string{"NewUserPoolId": newPoolID, "OldUserPoolId": oldPoolID, "OldClientId": "1ab23kqn9j6ncsimddqs13sgok"}
	oldAccountRequired = map[string]string{"OldUserPoolId": "eu-central-1_OldPool1"}

	// scenarios are the deployments each template is checked in.
	scenarios = map[string][]scenario{
		newAccountFile: {
			{"same account", newAccountRequired},
			{"same account, client secret", with(newAccountRequired, "OldClientSecretArn", secretARN)},
			{"cross account", with(newAccountRequired, "OldRoleArn", oldRoleARN, "OldExternalId", externalID)},
			{"cross account, client secret under a customer-managed key", with(newAccountRequired,
				"OldRoleArn", oldRoleARN, "OldExternalId", externalID, "OldClientSecretArn", secretARN, "OldClientSecretKmsKeyArn", keyARN)},
			{"merge, second pool in this account", with(newAccountRequired, "Old2UserPoolId", secondPoolID, "Old2ClientId", "second",
				"OldRoute", "email@acme.com", "Old2Route", "email@globex.com")},
			{"merge, both pools cross account, second with a secret", with(newAccountRequired,
				"OldRoleArn", oldRoleARN, "OldExternalId", externalID, "Old2UserPoolId", secondPoolID, "Old2ClientId", "second",
				"Old2RoleArn", secondRoleARN, "Old2ExternalId", "globex-ext", "Old2ClientSecretArn", secondSecret)},
			{"every setting", with(newAccountRequired, "Architecture", "x86_64", "OldUserPoolRegion", "eu-west-1",
				"OldUserPoolEndpoint", "https://cognito-idp.eu-west-1.amazonaws.com", "AttributeMap", "custom:tenant=custom:org_id",
				"ExcludeAttributes", "nickname", "LegacySubAttribute", "custom:legacy_sub", "MfaPolicy", "migrate",
				"EnforcePasswordPolicy", "true", "TrustEmail", "false", "DeclineResponse", "empty", "OldPoolLookup", "after-sign-in", "LogLevel", "DEBUG",
				"LogRetentionInDays", "365", "AlarmTopicArn", topicARN, "LegacyGroupsAttribute", "custom:legacy_groups",
				"CreateMissingGroups", "false", "SignupGuard", "true", "SignupGuardMessage", "Please sign in with your existing account.")},
			{"same account, groups follow the user", with(newAccountRequired, "LegacyGroupsAttribute", "custom:legacy_groups")},
			{"same account, scoped to a group", with(newAccountRequired, "MigrateOnly", "group:staff")},
			{"same account, missing groups created, sign-up guard", with(newAccountRequired, "LegacyGroupsAttribute", "custom:legacy_groups",
				"CreateMissingGroups", "true", "SignupGuard", "true")},
			{"cross account, missing groups created, sign-up guard", with(newAccountRequired, "OldRoleArn", oldRoleARN, "OldExternalId", externalID,
				"LegacyGroupsAttribute", "custom:legacy_groups", "CreateMissingGroups", "true", "SignupGuard", "true")},
		},
		oldAccountFile: {
			{"client only", oldAccountRequired},
			{"client with a secret", with(oldAccountRequired, "GenerateSecret", "true")},
			{"cross-account role", with(oldAccountRequired, "ExecutionRoleArn", execRoleARN, "ExternalId", externalID)},
			{"cross-account role, groups", with(oldAccountRequired, "ExecutionRoleArn", execRoleARN, "ExternalId", externalID, "LegacyGroups", "true")},
			{"cross-account role, groups created, sign-up guard", with(oldAccountRequired, "ExecutionRoleArn", execRoleARN, "ExternalId", externalID,
				"LegacyGroups", "true", "CreateMissingGroups", "true", "SignupGuard", "true")},
		},
		snippetFile: {
			{"pool stack", map[string]string{"MigrationFunctionArn": functionARN}},
			{"pool stack, three triggers", map[string]string{"MigrationFunctionArn": functionARN, "PreTokenGeneration": "true", "PreSignUp": "true"}},
		},
	}
)

// deployAll deploys t in each of its scenarios and calls f with the stack.
func deployAll(t *cfnTemplate, f func(sc scenario, s *stack) []string) []string {
	var problems []string
	for _, sc := range scenarios[t.name] {
		s, err := t.deploy(sc.params)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", sc.name, err))
			continue
		}
		for _, p := range f(sc, s) {
			problems = append(problems, sc.name+": "+p)
		}
	}
	return problems
}

// checks lists, for each template, what is checked.
var checks = map[string]map[string]check{
	newAccountFile: {
		"structure":         checkStructure,
		"no wildcards":      checkNoWildcards,
		"function policy":   checkFunctionPolicy(calls),
		"environment":       checkEnvironment,
		"invoke permission": checkInvokePermission,
		"function":          checkFunction,
		"alarms":            checkAlarms,
		"metric alarms":     checkMetricAlarms,
		"dashboard":         checkDashboard,
	},
	oldAccountFile: {
		"structure":    checkStructure,
		"no wildcards": checkNoWildcards,
		"role":         checkOldAccountRole(calls),
		"client":       checkOldAccountClient,
	},
	snippetFile: {
		"structure":         checkStructure,
		"invoke permission": checkInvokePermission,
		"trigger":           checkSnippetTrigger,
	},
}

func TestTemplates(t *testing.T) {
	files := []string{newAccountFile, oldAccountFile, snippetFile}
	all, _ := filepath.Glob("*.yaml")
	if !cmp.Equal(all, slices.Sorted(slices.Values(files))) {
		t.Errorf("templates in deploy/: %v; checked: %v (add the new one to the checks)", all, files)
	}
	for _, file := range files {
		tmpl, err := loadTemplate(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedKeys(checks[file]) {
			t.Run(file+"/"+name, func(t *testing.T) {
				for _, p := range checks[file][name](tmpl) {
					t.Error(p)
				}
			})
		}
	}
}

// checkStructure: a description for the template, each parameter and each
// output; every Ref, Fn::Sub variable, Fn::GetAtt and condition names
// something that exists; every parameter and condition is used.
func checkStructure(t *cfnTemplate) []string {
	var problems []string
	if d, _ := t.root["Description"].(string); d == "" {
		problems = append(problems, "no Description")
	}
	for _, name := range sortedKeys(t.parameters()) {
		p, _ := t.parameters()[name].(map[string]any)
		if d, _ := p["Description"].(string); len(strings.TrimSpace(d)) < 10 {
			problems = append(problems, fmt.Sprintf("parameter %s: no Description", name))
		}
		if p["Type"] == nil {
			problems = append(problems, fmt.Sprintf("parameter %s: no Type", name))
		}
		if pat, ok := p["AllowedPattern"].(string); ok {
			if _, err := regexp.Compile(pat); err != nil {
				problems = append(problems, fmt.Sprintf("parameter %s: AllowedPattern: %v", name, err))
			}
		}
	}
	for name, o := range t.section("Outputs") {
		if o, _ := o.(map[string]any); o["Description"] == nil || o["Value"] == nil {
			problems = append(problems, fmt.Sprintf("output %s: no Description or Value", name))
		}
	}

	refs, conds := map[string]bool{}, map[string]bool{}
	for _, section := range []string{"Rules", "Conditions", "Resources", "Outputs"} {
		references(t.root[section], refs, conds)
	}
	for _, name := range sortedKeys(refs) {
		_, param := t.parameters()[name]
		_, pseudo := pseudoParameters[name]
		if !param && !pseudo && t.resource(name) == nil {
			problems = append(problems, fmt.Sprintf("%s is referred to but is no parameter or resource", name))
		}
	}
	for _, name := range sortedKeys(t.parameters()) {
		if !refs[name] {
			problems = append(problems, fmt.Sprintf("parameter %s is never used", name))
		}
	}
	for _, name := range sortedKeys(conds) {
		if _, ok := t.section("Conditions")[name]; !ok {
			problems = append(problems, fmt.Sprintf("condition %s is used but not defined", name))
		}
	}
	for _, name := range sortedKeys(t.section("Conditions")) {
		if !conds[name] {
			problems = append(problems, fmt.Sprintf("condition %s is never used", name))
		}
	}
	return problems
}

// policyStatement is one statement of an IAM policy, evaluated.
type policyStatement struct {
	where string
	m     map[string]any
}

func strings1(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// identityStatements are the statements of every identity policy in the
// stack: the inline policies of each role, and AWS::IAM::Policy and
// AWS::IAM::ManagedPolicy resources. (Which role they belong to is checked
// by the callers; these templates have at most one role each.)
func identityStatements(s *stack) ([]policyStatement, []string) {
	var out []policyStatement
	var problems []string
	add := func(where string, doc any) {
		d, _ := doc.(map[string]any)
		if d["Version"] != "2012-10-17" {
			problems = append(problems, fmt.Sprintf("%s: policy version %v, want 2012-10-17", where, d["Version"]))
		}
		for _, st := range asList(d["Statement"]) {
			m, _ := st.(map[string]any)
			out = append(out, policyStatement{where, m})
		}
	}
	for _, name := range s.t.resourcesOfType("AWS::IAM::Role") {
		props, err := s.properties(name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if props == nil {
			continue
		}
		if props["ManagedPolicyArns"] != nil {
			problems = append(problems, fmt.Sprintf("%s: managed policies %v: grant only what the code calls, inline", name, props["ManagedPolicyArns"]))
		}
		for _, p := range asList(props["Policies"]) {
			p, _ := p.(map[string]any)
			add(fmt.Sprintf("%s/%v", name, p["PolicyName"]), p["PolicyDocument"])
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"} {
		for _, name := range s.t.resourcesOfType(typ) {
			props, err := s.properties(name)
			if err != nil {
				problems = append(problems, err.Error())
			} else if props != nil {
				add(name, props["PolicyDocument"])
			}
		}
	}
	return out, problems
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// grants maps each allowed action to the resources it is allowed on.
func grants(statements []policyStatement) (map[string][]string, []string) {
	out := map[string][]string{}
	var problems []string
	for _, st := range statements {
		for _, k := range []string{"NotAction", "NotResource", "Principal", "NotPrincipal"} {
			if st.m[k] != nil {
				problems = append(problems, fmt.Sprintf("%s %v: %s in an identity policy", st.where, st.m["Sid"], k))
			}
		}
		if st.m["Effect"] != "Allow" {
			problems = append(problems, fmt.Sprintf("%s %v: effect %v", st.where, st.m["Sid"], st.m["Effect"]))
			continue
		}
		for _, a := range strings1(st.m["Action"]) {
			for _, r := range strings1(st.m["Resource"]) {
				if !slices.Contains(out[a], r) {
					out[a] = append(out[a], r)
				}
			}
		}
	}
	for _, rs := range out {
		slices.Sort(rs)
	}
	return out, problems
}

// checkNoWildcards: no wildcard action, no Resource "*", a wildcard in a
// resource only for the log streams of one named log group; trust policies
// name a principal, never "*".
func checkNoWildcards(t *cfnTemplate) []string {
	logStreams := regexp.MustCompile(`^arn:aws:logs:[a-z0-9-]+:\d{12}:log-group:[^*]+:\*$`)
	return deployAll(t, func(_ scenario, s *stack) []string {
		statements, problems := identityStatements(s)
		for _, st := range statements {
			for _, a := range strings1(st.m["Action"]) {
				if strings.ContainsAny(a, "*?") {
					problems = append(problems, fmt.Sprintf("%s %v: wildcard action %q", st.where, st.m["Sid"], a))
				}
			}
			rs := strings1(st.m["Resource"])
			if len(rs) == 0 {
				problems = append(problems, fmt.Sprintf("%s %v: no Resource", st.where, st.m["Sid"]))
			}
			for _, r := range rs {
				if strings.ContainsAny(r, "*?") && !logStreams.MatchString(r) {
					problems = append(problems, fmt.Sprintf("%s %v: wildcard resource %q", st.where, st.m["Sid"], r))
				}
			}
		}
		for _, name := range s.t.resourcesOfType("AWS::IAM::Role") {
			props, _ := s.properties(name)
			trust, _ := props["AssumeRolePolicyDocument"].(map[string]any)
			for _, st := range asList(trust["Statement"]) {
				st, _ := st.(map[string]any)
				if fmt.Sprint(st["Principal"]) == "*" || strings.Contains(fmt.Sprint(st["Principal"]), "AWS:*") {
					problems = append(problems, fmt.Sprintf("%s: trusts any principal", name))
				}
			}
		}
		return problems
	})
}

// checkFunctionPolicy: the function's execution role may do exactly what
// the code calls, on exactly the resources it calls it on, in every
// scenario; and only Lambda may assume it.
func checkFunctionPolicy(calls codeCalls) check {
	return func(t *cfnTemplate) []string {
		return deployAll(t, func(sc scenario, s *stack) []string {
			functions := t.resourcesOfType("AWS::Lambda::Function")
			if len(functions) != 1 {
				return []string{fmt.Sprintf("functions %v, want one", functions)}
			}
			fn := t.resource(functions[0])["Properties"].(map[string]any)
			roleMap, _ := fn["Role"].(map[string]any)
			roleRef, _ := roleMap["Fn::GetAtt"].([]any)
			roles := t.resourcesOfType("AWS::IAM::Role")
			if len(roleRef) != 2 || len(roles) != 1 || roleRef[0] != roles[0] {
				return []string{fmt.Sprintf("function role %v, roles %v: want the template's one role", fn["Role"], roles)}
			}

			statements, problems := identityStatements(s)
			got, more := grants(statements)
			problems = append(problems, more...)

			want := map[string][]string{
				"logs:CreateLogStream": {logStreamARN},
				"logs:PutLogEvents":    {logStreamARN},
			}
			companions := enabledCalls(sc.params)
			for _, a := range append(slices.Clone(calls.newPool), companions.new...) {
				want[a] = append(want[a], newPoolARN)
			}
			if role := sc.params["OldRoleArn"]; role != "" {
				want["sts:AssumeRole"] = []string{role}
			} else {
				for _, a := range append(slices.Clone(calls.oldPool), companions.old...) {
					want[a] = append(want[a], oldPoolARN)
				}
			}
			if secret := sc.params["OldClientSecretArn"]; secret != "" {
				want["secretsmanager:GetSecretValue"] = []string{secret}
			}
			if second := sc.params["Old2UserPoolId"]; second != "" {
				if role := sc.params["Old2RoleArn"]; role != "" {
					want["sts:AssumeRole"] = append(want["sts:AssumeRole"], role)
				} else {
					for _, a := range calls.oldPool {
						want[a] = append(want[a], secondPoolARN)
					}
					if sc.params["MigrateOnly"] != "" {
						want[groupRead] = append(want[groupRead], secondPoolARN)
					}
				}
				if secret := sc.params["Old2ClientSecretArn"]; secret != "" {
					want["secretsmanager:GetSecretValue"] = append(want["secretsmanager:GetSecretValue"], secret)
				}
			}
			if key := sc.params["OldClientSecretKmsKeyArn"]; key != "" {
				want["kms:Decrypt"] = []string{key}
			}
			for _, rs := range want {
				slices.Sort(rs)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				problems = append(problems, "execution role's grants (-what the code calls +granted):\n"+diff)
			}
			for _, st := range statements {
				if slices.Contains(strings1(st.m["Action"]), "kms:Decrypt") {
					cond, _ := st.m["Condition"].(map[string]any)
					like, _ := cond["StringLike"].(map[string]any)
					if like["kms:ViaService"] != "secretsmanager.*.amazonaws.com" {
						problems = append(problems, fmt.Sprintf("kms:Decrypt without the kms:ViaService condition: %v", st.m["Condition"]))
					}
				}
			}

			props, _ := s.properties(roles[0])
			trust, _ := props["AssumeRolePolicyDocument"].(map[string]any)
			wantTrust := []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}
			if diff := cmp.Diff(wantTrust, trust["Statement"]); diff != "" {
				problems = append(problems, "execution role's trust (-want +got):\n"+diff)
			}
			return problems
		})
	}
}

// checkEnvironment: the function gets every setting the code reads (but the
// documented omission), each from the parameter of the same name in
// UpperCamelCase, and the defaults make a configuration the function
// accepts.
func checkEnvironment(t *cfnTemplate) []string {
	var problems []string
	// The template offers a second old pool (a merge), without its literal secret either.
	all := append(slices.Clone(settings.Names()), settings.PoolNames(2)...)
	want := slices.DeleteFunc(all, func(n string) bool { return n == omittedSetting || n == settings.PoolName(2, "CLIENT_SECRET") })
	slices.Sort(want)

	fn := t.resource("Function")
	props, _ := fn["Properties"].(map[string]any)
	envSection, _ := props["Environment"].(map[string]any)
	vars, _ := envSection["Variables"].(map[string]any)
	if diff := cmp.Diff(want, sortedKeys(vars)); diff != "" {
		problems = append(problems, "environment variables (-settings.Names() +template):\n"+diff)
	}
	for _, name := range sortedKeys(vars) {
		param := camel(name)
		if !cmp.Equal(vars[name], map[string]any{"Ref": param}) {
			problems = append(problems, fmt.Sprintf("%s = %v, want !Ref %s", name, vars[name], param))
			continue
		}
		p, _ := t.parameters()[param].(map[string]any)
		if p == nil {
			problems = append(problems, fmt.Sprintf("%s: no parameter %s", name, param))
			continue
		}
		if d, hasDefault := p["Default"]; hasDefault && d != "" {
			problems = append(problems, fmt.Sprintf("parameter %s: default %q, want empty (the function's own default applies)", param, d))
		}
		if d, _ := p["Description"].(string); !strings.HasPrefix(d, name+".") {
			problems = append(problems, fmt.Sprintf("parameter %s: description should start with %s.", param, name))
		}
	}
	if !regexp.MustCompile(`(?m)^\s*#.*\b` + omittedSetting + `\b.*left out`).MatchString(t.text) {
		problems = append(problems, fmt.Sprintf("no comment says why %s is left out", omittedSetting))
	}

	problems = append(problems, deployAll(t, func(_ scenario, s *stack) []string {
		props, err := s.properties("Function")
		if err != nil {
			return []string{err.Error()}
		}
		env := map[string]string{}
		vars, _ := props["Environment"].(map[string]any)["Variables"].(map[string]any)
		for k, v := range vars {
			env[k] = fmt.Sprint(v)
		}
		if _, err := settings.Load(func(k string) string { return env[k] }); err != nil {
			return []string{fmt.Sprintf("the function would refuse its environment: %v", err)}
		}
		return nil
	})...)
	return problems
}

// camel turns OLD_USER_POOL_ID into OldUserPoolId.
func camel(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(name), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// checkInvokePermission: Cognito may invoke the function, but only for the
// new pool (SourceArn) in this account (SourceAccount).
func checkInvokePermission(t *cfnTemplate) []string {
	perms := t.resourcesOfType("AWS::Lambda::Permission")
	if len(perms) == 0 {
		return []string{"no AWS::Lambda::Permission"}
	}
	return deployAll(t, func(_ scenario, s *stack) []string {
		wantPool, wantFunction := newPoolARN, functionARN
		if pools := t.resourcesOfType("AWS::Cognito::UserPool"); len(pools) == 1 {
			wantPool, _ = s.getAtt(pools[0], "Arn")
		}
		var problems []string
		for _, name := range perms {
			p, err := s.properties(name)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			want := map[string]any{
				"Action": "lambda:InvokeFunction", "FunctionName": wantFunction, "Principal": "cognito-idp.amazonaws.com",
				"SourceArn": wantPool, "SourceAccount": testAccount,
			}
			if diff := cmp.Diff(want, p); diff != "" {
				problems = append(problems, fmt.Sprintf("%s (-want +got):\n%s", name, diff))
			}
		}
		return problems
	})
}

// checkFunction: the runtime, the package, Cognito's 5-second budget and
// the log group.
func checkFunction(t *cfnTemplate) []string {
	return deployAll(t, func(sc scenario, s *stack) []string {
		var problems []string
		props, err := s.properties("Function")
		if err != nil {
			return []string{err.Error()}
		}
		arch := "arm64"
		if a := sc.params["Architecture"]; a != "" {
			arch = a
		}
		want := map[string]any{
			"Runtime": "provided.al2023", "Handler": "bootstrap", "Architectures": []any{arch},
			"Code": "../dist/function.zip", "Timeout": "5", "MemorySize": "256",
		}
		for k, v := range want {
			if !cmp.Equal(props[k], v) {
				problems = append(problems, fmt.Sprintf("Function %s = %v, want %v", k, props[k], v))
			}
		}
		logs, err := s.properties("LogGroup")
		if err != nil {
			return append(problems, err.Error())
		}
		wantLogs := map[string]any{"LogGroupName": "/aws/lambda/" + s.params["FunctionName"], "RetentionInDays": s.params["LogRetentionInDays"]}
		if diff := cmp.Diff(wantLogs, logs); diff != "" {
			problems = append(problems, "LogGroup (-want +got):\n"+diff)
		}
		if lc, _ := props["LoggingConfig"].(map[string]any); lc["LogGroup"] != logs["LogGroupName"] {
			problems = append(problems, fmt.Sprintf("the function logs to %v, not to the template's log group", props["LoggingConfig"]))
		}
		return problems
	})
}

// checkAlarms: errors, throttles and a duration close to the budget, on
// this function, notifying the topic when one is given.
func checkAlarms(t *cfnTemplate) []string {
	return deployAll(t, func(sc scenario, s *stack) []string {
		var problems []string
		found := map[string]bool{}
		for _, name := range t.resourcesOfType("AWS::CloudWatch::Alarm") {
			a, err := s.properties(name)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if a["Namespace"] == metrics.Namespace || a["Metrics"] != nil {
				continue // the function's own metrics: checkMetricAlarms
			}
			dims := fmt.Sprint(a["Dimensions"])
			if a["Namespace"] != "AWS/Lambda" || dims != fmt.Sprint([]any{map[string]any{"Name": "FunctionName", "Value": s.params["FunctionName"]}}) {
				problems = append(problems, fmt.Sprintf("%s watches %v %s, not the function", name, a["Namespace"], dims))
				continue
			}
			metric := fmt.Sprint(a["MetricName"])
			found[metric] = true
			if a["ComparisonOperator"] != "GreaterThanThreshold" {
				problems = append(problems, fmt.Sprintf("%s: %v", name, a["ComparisonOperator"]))
			}
			switch metric {
			case "Errors", "Throttles":
				if a["Threshold"] != "0" || a["Statistic"] != "Sum" {
					problems = append(problems, fmt.Sprintf("%s: %v of %s above %v, want Sum above 0", name, a["Statistic"], metric, a["Threshold"]))
				}
			case "Duration":
				var ms int
				fmt.Sscan(fmt.Sprint(a["Threshold"]), &ms)
				stat := fmt.Sprint(a["ExtendedStatistic"], a["Statistic"])
				if ms <= 0 || ms >= 3000 || !strings.Contains(stat, "p99") && !strings.Contains(stat, "Maximum") {
					problems = append(problems, fmt.Sprintf("%s: %s above %v ms, want p99 or Maximum under the 3 s budget", name, stat, a["Threshold"]))
				}
			}
			var wantActions any
			if topic := sc.params["AlarmTopicArn"]; topic != "" {
				wantActions = []any{topic}
			}
			if !cmp.Equal(a["AlarmActions"], wantActions) || !cmp.Equal(a["OKActions"], wantActions) {
				problems = append(problems, fmt.Sprintf("%s: actions %v / %v, want %v", name, a["AlarmActions"], a["OKActions"], wantActions))
			}
		}
		for _, m := range []string{"Errors", "Throttles", "Duration"} {
			if !found[m] {
				problems = append(problems, "no alarm on "+m)
			}
		}
		return problems
	})
}

// checkOldAccountRole: trusted by the execution role only, with the
// external id; allowed exactly the old-pool calls on the old pool; created
// only when the execution role is given.
func checkOldAccountRole(calls codeCalls) check {
	return func(t *cfnTemplate) []string {
		return deployAll(t, func(sc scenario, s *stack) []string {
			var problems []string
			roles := t.resourcesOfType("AWS::IAM::Role")
			if len(roles) != 1 {
				return []string{fmt.Sprintf("roles %v, want one", roles)}
			}
			props, err := s.properties(roles[0])
			if err != nil {
				return []string{err.Error()}
			}
			exec := sc.params["ExecutionRoleArn"]
			if exec == "" {
				if props != nil {
					problems = append(problems, "a role is created without ExecutionRoleArn")
				}
				return problems
			}
			if props == nil {
				return []string{"no role created for ExecutionRoleArn"}
			}
			trust, _ := props["AssumeRolePolicyDocument"].(map[string]any)
			statements := asList(trust["Statement"])
			if len(statements) != 1 {
				return []string{fmt.Sprintf("trust policy has %d statements, want 1", len(statements))}
			}
			st, _ := statements[0].(map[string]any)
			principal, _ := st["Principal"].(map[string]any)
			if len(principal) != 1 || !cmp.Equal(strings1(principal["AWS"]), []string{exec}) {
				problems = append(problems, fmt.Sprintf("trusted principal %v, want only %s", st["Principal"], exec))
			}
			if !cmp.Equal(strings1(st["Action"]), []string{"sts:AssumeRole"}) || st["Effect"] != "Allow" {
				problems = append(problems, fmt.Sprintf("trust allows %v %v, want Allow sts:AssumeRole", st["Effect"], st["Action"]))
			}
			wantCond := map[string]any{"StringEquals": map[string]any{"sts:ExternalId": sc.params["ExternalId"]}}
			if diff := cmp.Diff(wantCond, st["Condition"]); diff != "" {
				problems = append(problems, "trust condition (-want +got):\n"+diff)
			}

			statementsOf, more := identityStatements(s)
			problems = append(problems, more...)
			got, more := grants(statementsOf)
			problems = append(problems, more...)
			pool := "arn:aws:cognito-idp:" + testRegion + ":" + testAccount + ":userpool/" + sc.params["OldUserPoolId"]
			want := map[string][]string{}
			for _, a := range append(slices.Clone(calls.oldPool), enabledCalls(sc.params).old...) {
				want[a] = []string{pool}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				problems = append(problems, "old-account role's grants (-what the code calls +granted):\n"+diff)
			}
			return problems
		})
	}
}

// checkOldAccountClient: a client on the old pool that allows exactly the
// admin password flow (and refresh), a secret when asked, and the outputs
// the new-account stack needs.
func checkOldAccountClient(t *cfnTemplate) []string {
	return deployAll(t, func(sc scenario, s *stack) []string {
		var problems []string
		clients := t.resourcesOfType("AWS::Cognito::UserPoolClient")
		if len(clients) != 1 {
			return []string{fmt.Sprintf("clients %v, want one", clients)}
		}
		c, err := s.properties(clients[0])
		if err != nil {
			return []string{err.Error()}
		}
		flows := strings1(c["ExplicitAuthFlows"])
		slices.Sort(flows)
		if want := []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}; !cmp.Equal(flows, want) {
			problems = append(problems, fmt.Sprintf("ExplicitAuthFlows %v, want %v", flows, want))
		}
		if c["UserPoolId"] != sc.params["OldUserPoolId"] {
			problems = append(problems, fmt.Sprintf("client on %v, want the old pool %s", c["UserPoolId"], sc.params["OldUserPoolId"]))
		}
		wantSecret := "false"
		if sc.params["GenerateSecret"] == "true" {
			wantSecret = "true"
		}
		if c["GenerateSecret"] != wantSecret {
			problems = append(problems, fmt.Sprintf("GenerateSecret %v, want %s", c["GenerateSecret"], wantSecret))
		}

		outputs := t.section("Outputs")
		if o, _ := outputs["ClientId"].(map[string]any); !cmp.Equal(o["Value"], map[string]any{"Ref": clients[0]}) {
			problems = append(problems, "no ClientId output with the client's id")
		}
		role, _ := outputs["RoleArn"].(map[string]any)
		if roles := t.resourcesOfType("AWS::IAM::Role"); len(roles) != 1 ||
			!cmp.Equal(role["Value"], map[string]any{"Fn::GetAtt": []any{roles[0], "Arn"}}) || !cmp.Equal(role["Condition"], t.resource(roles[0])["Condition"]) {
			problems = append(problems, "no RoleArn output with the role's ARN, under the role's condition")
		}
		return problems
	})
}

// checkSnippetTrigger: the pool's LambdaConfig.UserMigration is the
// function.
func checkSnippetTrigger(t *cfnTemplate) []string {
	return deployAll(t, func(sc scenario, s *stack) []string {
		pools := t.resourcesOfType("AWS::Cognito::UserPool")
		if len(pools) != 1 {
			return []string{fmt.Sprintf("user pools %v, want one", pools)}
		}
		p, err := s.properties(pools[0])
		if err != nil {
			return []string{err.Error()}
		}
		lc, _ := p["LambdaConfig"].(map[string]any)
		if lc["UserMigration"] != sc.params["MigrationFunctionArn"] {
			return []string{fmt.Sprintf("LambdaConfig %v, want UserMigration = the function", p["LambdaConfig"])}
		}
		var problems []string
		for _, trigger := range []string{"PreTokenGeneration", "PreSignUp"} {
			want := any(nil)
			if sc.params[trigger] == "true" {
				want = sc.params["MigrationFunctionArn"]
			}
			if lc[trigger] != want {
				problems = append(problems, fmt.Sprintf("LambdaConfig.%s = %v, want %v", trigger, lc[trigger], want))
			}
		}
		return problems
	})
}

// TestDocsDescribeEveryParameter wants each parameter of each template in
// docs/deploy.md, as `Name`.
func TestDocsDescribeEveryParameter(t *testing.T) {
	doc, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{newAccountFile, oldAccountFile, snippetFile} {
		tmpl, err := loadTemplate(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedKeys(tmpl.parameters()) {
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/deploy.md does not describe %s's parameter %s", file, name)
			}
		}
	}
}

// TestParametersAcceptTheREADMEExamples guards the AllowedPatterns, which
// would otherwise reject valid settings only at deployment.
func TestParametersAcceptTheREADMEExamples(t *testing.T) {
	tmpl, err := loadTemplate(newAccountFile)
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string][]string{
		"OldUserPoolId":       {"eu-west-1_AbCdEf123", "us-gov-west-1_Ab1"},
		"OldClientId":         {"1ab23kqn9j6ncsimddqs13sgok"},
		"OldUserPoolEndpoint": {"https://cognito-idp.eu-west-1.amazonaws.com", "http://127.0.0.1:9229"},
		"OldRoleArn":          {oldRoleARN, "arn:aws-cn:iam::111111111111:role/path/name"},
		"OldClientSecretArn":  {secretARN, "arn:aws:secretsmanager:eu-central-1:222222222222:secret:cognito-migrate/old-client-AbCdEf"},
		"LegacySubAttribute":  {"custom:legacy_sub"},
	}
	for param, values := range examples {
		for _, v := range values {
			if _, err := tmpl.deploy(with(newAccountRequired, param, v)); err != nil {
				t.Errorf("%s = %q: %v", param, v, err)
			}
		}
	}
}

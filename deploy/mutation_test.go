package deploy_test

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestChecksCatchBrokenTemplates breaks each template in the ways that
// matter and wants the named check to notice: a check that cannot fail
// proves nothing.
func TestChecksCatchBrokenTemplates(t *testing.T) {
	tests := []struct {
		name, file, check string
		from, to          string
	}{
		// The execution role.
		{"old-pool action missing", newAccountFile, "function policy",
			"Action: [cognito-idp:AdminGetUser, cognito-idp:AdminInitiateAuth]", "Action: [cognito-idp:AdminInitiateAuth]"},
		{"new-pool action missing", newAccountFile, "function policy",
			"Action: cognito-idp:DescribeUserPool", "Action: cognito-idp:DescribeUserPoolClient"},
		{"an action the code never calls", newAccountFile, "function policy",
			"Action: [cognito-idp:AdminGetUser, cognito-idp:AdminInitiateAuth]", "Action: [cognito-idp:AdminGetUser, cognito-idp:AdminInitiateAuth, cognito-idp:ListUsers]"},
		{"CreateLogGroup", newAccountFile, "function policy",
			"Action: [logs:CreateLogStream, logs:PutLogEvents]", "Action: [logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents]"},
		{"old-pool actions in cross-account mode", newAccountFile, "function policy",
			"- OldPoolInThisAccount\n                - Sid: Verify", "- OldPoolInAnotherAccount\n                - Sid: Verify"},
		{"secret readable without a secret", newAccountFile, "function policy",
			"Resource: !Ref OldClientSecretArn", "Resource: !Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:x-AbCdEf"},
		{"old pool in the wrong region", newAccountFile, "function policy",
			"cognito-idp:${OldRegion}:${AWS::AccountId}", "cognito-idp:${AWS::Region}:${AWS::AccountId}"},
		{"kms:Decrypt without ViaService", newAccountFile, "function policy",
			"kms:ViaService: secretsmanager.*.amazonaws.com", "kms:CallerAccount: \"222222222222\""},
		{"managed policy", newAccountFile, "function policy",
			"      Policies:\n        - PolicyName: cognito-migrate\n          PolicyDocument:\n            Version: \"2012-10-17\"\n            Statement:\n              - Sid: WriteItsOwnLogs",
			"      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]\n      Policies:\n        - PolicyName: cognito-migrate\n          PolicyDocument:\n            Version: \"2012-10-17\"\n            Statement:\n              - Sid: WriteItsOwnLogs"},
		{"execution role trusts more than Lambda", newAccountFile, "function policy",
			"Principal: {Service: lambda.amazonaws.com}", "Principal: {Service: [lambda.amazonaws.com, edgelambda.amazonaws.com]}"},
		{"wildcard cognito-idp action", newAccountFile, "no wildcards",
			"Action: [cognito-idp:AdminGetUser, cognito-idp:AdminInitiateAuth]", "Action: cognito-idp:Admin*"},
		{"any cognito-idp action", newAccountFile, "no wildcards",
			"Action: cognito-idp:DescribeUserPool", "Action: cognito-idp:*"},
		{"Resource *", newAccountFile, "no wildcards",
			"Resource: !Ref OldRoleArn", "Resource: \"*\""},
		{"any pool", newAccountFile, "no wildcards",
			"userpool/${NewUserPoolId}\n              - !If", "userpool/*\n              - !If"},
		{"any log group", newAccountFile, "no wildcards",
			"log-group:${LogGroup}:*", "log-group:*"},

		// The function's settings.
		{"setting missing", newAccountFile, "environment", "          LOG_LEVEL: !Ref LogLevel\n", ""},
		{"setting from the wrong parameter", newAccountFile, "environment",
			"OLD_CLIENT_ID: !Ref OldClientId", "OLD_CLIENT_ID: !Ref OldUserPoolId"},
		{"literal secret in the template", newAccountFile, "environment",
			"          DECLINE_RESPONSE: !Ref DeclineResponse", "          OLD_CLIENT_SECRET: !Ref OldClientId\n          DECLINE_RESPONSE: !Ref DeclineResponse"},
		{"a default the function refuses", newAccountFile, "environment",
			"Default: \"\"\n    AllowedValues: [\"\", DEBUG, INFO, WARN, ERROR]", "Default: TRACE\n    AllowedValues: [\"\", DEBUG, INFO, WARN, ERROR, TRACE]"},

		// The invoke permission.
		{"no SourceAccount", newAccountFile, "invoke permission", "      SourceAccount: !Ref AWS::AccountId\n", ""},
		{"any pool may invoke", newAccountFile, "invoke permission",
			"userpool/${NewUserPoolId}\n      SourceAccount", "userpool/*\n      SourceAccount"},
		{"another principal", newAccountFile, "invoke permission",
			"Principal: cognito-idp.amazonaws.com", "Principal: cognito-identity.amazonaws.com"},
		{"snippet: no SourceArn", snippetFile, "invoke permission", "      SourceArn: !GetAtt UserPool.Arn\n", ""},

		// The function itself.
		{"timeout beyond Cognito's 5 s", newAccountFile, "function", "Timeout: 5", "Timeout: 30"},
		{"another runtime", newAccountFile, "function", "Runtime: provided.al2023", "Runtime: provided.al2"},
		{"another package", newAccountFile, "function", "Code: ../dist/function.zip", "Code: ../function.zip"},
		{"logs elsewhere", newAccountFile, "function", "        LogGroup: !Ref LogGroup", "        LogGroup: /aws/lambda/other"},
		{"no retention", newAccountFile, "function", "      RetentionInDays: !Ref LogRetentionInDays\n", ""},

		// Alarms.
		{"no throttles alarm", newAccountFile, "alarms", "MetricName: Throttles", "MetricName: Invocations"},
		{"duration alarm past the budget", newAccountFile, "alarms",
			"DatapointsToAlarm: 3\n      ComparisonOperator: GreaterThanThreshold\n      Threshold: 2500", "DatapointsToAlarm: 3\n      ComparisonOperator: GreaterThanThreshold\n      Threshold: 6000"},
		{"errors alarm on another function", newAccountFile, "alarms",
			"      MetricName: Errors\n      Dimensions: [{Name: FunctionName, Value: !Ref Function}]",
			"      MetricName: Errors\n      Dimensions: [{Name: FunctionName, Value: other}]"},

		// Structure.
		{"undocumented parameter", newAccountFile, "structure",
			"    Description: >-\n      SNS topic", "    Summary: >-\n      SNS topic"},
		{"unknown parameter", newAccountFile, "structure",
			"RetentionInDays: !Ref LogRetentionInDays", "RetentionInDays: !Ref LogRetention"},
		{"unused parameter", newAccountFile, "structure", "          LOG_LEVEL: !Ref LogLevel\n", ""},
		{"unknown condition", oldAccountFile, "structure", "    Condition: CreateRole\n    Properties:", "    Condition: MakeRole\n    Properties:"},

		// The old account.
		{"role trusts the whole account", oldAccountFile, "role",
			"Principal: {AWS: !Ref ExecutionRoleArn}", "Principal: {AWS: !Sub \"arn:aws:iam::${AWS::AccountId}:root\"}"},
		{"no external id", oldAccountFile, "role",
			"            Condition:\n              StringEquals:\n                sts:ExternalId: !Ref ExternalId\n", ""},
		{"old-account action missing", oldAccountFile, "role",
			"Action: [cognito-idp:AdminGetUser, cognito-idp:AdminInitiateAuth]", "Action: [cognito-idp:AdminInitiateAuth]"},
		{"old-account extra action", oldAccountFile, "role",
			"Action: [cognito-idp:AdminGetUser, cognito-idp:AdminInitiateAuth]", "Action: [cognito-idp:AdminGetUser, cognito-idp:AdminInitiateAuth, cognito-idp:ListUsers]"},
		{"role without ExecutionRoleArn", oldAccountFile, "role", "    Condition: CreateRole\n    Properties:", "    Properties:"},
		{"groups created without CreateMissingGroups", newAccountFile, "function policy",
			`CreatesGroups: !And [!Condition CopiesGroups, !Equals [!Ref CreateMissingGroups, "true"]]`, "CreatesGroups: !Condition CopiesGroups"},
		{"ListUsers without the guard", newAccountFile, "function policy",
			`GuardsSignUpsInThisAccount: !And [!Condition GuardsSignUps, !Condition OldPoolInThisAccount]`, "GuardsSignUpsInThisAccount: !Condition OldPoolInThisAccount"},
		{"old role lists users without the guard", oldAccountFile, "role", `FindsUsers: !Equals [!Ref SignupGuard, "true"]`, "FindsUsers: !Condition CreateRole"},
		{"old role reads groups without them", oldAccountFile, "role", `ReadsGroups: !Equals [!Ref LegacyGroups, "true"]`, "ReadsGroups: !Condition CreateRole"},
		{"old-account wildcard pool", oldAccountFile, "no wildcards", "userpool/${OldUserPoolId}", "userpool/*"},
		{"user password flow on the old client", oldAccountFile, "client",
			"ExplicitAuthFlows: [ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]", "ExplicitAuthFlows: [ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_PASSWORD_AUTH]"},
		{"secret ignores its parameter", oldAccountFile, "client", "GenerateSecret: !Ref GenerateSecret", "GenerateSecret: \"true\""},
		{"no ClientId output", oldAccountFile, "client", "  ClientId:\n", "  AppClientId:\n"},

		// The snippet.
		{"snippet: another trigger", snippetFile, "trigger",
			"        UserMigration: !Ref MigrationFunctionArn", "        PreAuthentication: !Ref MigrationFunctionArn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), tt.from); n != 1 {
				t.Fatalf("%q occurs %d times in %s, want once", tt.from, n, tt.file)
			}
			broken, err := parseTemplate(tt.file, []byte(strings.Replace(string(b), tt.from, tt.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if problems := checks[tt.file][tt.check](broken); len(problems) == 0 {
				t.Errorf("check %q passes %s broken by %q", tt.check, tt.file, tt.name)
			} else {
				t.Logf("%s: %s", tt.check, problems[0])
			}
		})
	}
}

// TestPolicyChecksFollowTheCode: when the code calls one more action, the
// policy checks fail until the templates grant it.
func TestPolicyChecksFollowTheCode(t *testing.T) {
	more := codeCalls{
		oldPool: append(slices.Clone(calls.oldPool), "cognito-idp:ListUsers"),
		newPool: append(slices.Clone(calls.newPool), "cognito-idp:DescribeUserPoolClient"),
	}
	for file, c := range map[string]check{newAccountFile: checkFunctionPolicy(more), oldAccountFile: checkOldAccountRole(more)} {
		tmpl, err := loadTemplate(file)
		if err != nil {
			t.Fatal(err)
		}
		if problems := c(tmpl); len(problems) == 0 {
			t.Errorf("%s: the policy check passes though the code calls actions the template does not grant", file)
		}
	}
}

package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// The function's metric vocabulary, from the code that writes it: the
// dashboard and the alarms may name nothing else.
var (
	metricNames = []string{metrics.Invocations, metrics.Latency}
	// lambdaMetrics are the AWS/Lambda metrics of the function itself.
	lambdaMetrics = []string{"Errors", "Throttles", "Duration", "Invocations", "ConcurrentExecutions"}
)

// reasonsOf are the Reason values an outcome can have.
func reasonsOf(o string) []string {
	var out []string
	switch migrate.Outcome(o) {
	case migrate.OutcomeMigrated:
		out = []string{string(migrate.Migrated)}
	case migrate.OutcomeDeclined:
		for _, r := range migrate.Reasons() {
			if r != migrate.Migrated {
				out = append(out, string(r))
			}
		}
	case migrate.OutcomeError:
		for _, k := range migrate.FaultKinds() {
			out = append(out, string(k))
		}
	default:
		for _, r := range migrate.CompanionReasons(migrate.Outcome(o)) {
			out = append(out, string(r))
		}
	}
	return out
}

func outcomes() []string {
	var out []string
	for _, o := range migrate.Outcomes() {
		out = append(out, string(o))
	}
	return out
}

// metricRef is one metric a dashboard widget or an alarm names.
type metricRef struct {
	namespace, name string
	dims            map[string]string
}

func (m metricRef) String() string { return fmt.Sprintf("%s/%s %v", m.namespace, m.name, m.dims) }

// checkMetric returns what is wrong with a metric the template names: a
// namespace, metric, dimension set or value the function never writes.
func checkMetric(m metricRef, function string) []string {
	var problems []string
	switch m.namespace {
	case metrics.Namespace:
		if !slices.Contains(metricNames, m.name) {
			problems = append(problems, fmt.Sprintf("%v: the function writes no metric %q (only %v)", m, m.name, metricNames))
		}
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range m.dims {
				if !yield(k) {
					return
				}
			}
		})
		known := slices.ContainsFunc(metrics.DimensionSets(), func(set []string) bool { return slices.Equal(slices.Sorted(slices.Values(set)), names) })
		if !known {
			problems = append(problems, fmt.Sprintf("%v: dimensions %v are not a set the function writes (%v)", m, names, metrics.DimensionSets()))
		}
		if o, ok := m.dims[metrics.Outcome]; ok && !slices.Contains(outcomes(), o) {
			problems = append(problems, fmt.Sprintf("%v: Outcome %q is not one of %v", m, o, outcomes()))
		}
		if r, ok := m.dims[metrics.Reason]; ok && !slices.Contains(reasonsOf(m.dims[metrics.Outcome]), r) {
			problems = append(problems, fmt.Sprintf("%v: Reason %q is not one the function gives with Outcome %q (%v)", m, r, m.dims[metrics.Outcome], reasonsOf(m.dims[metrics.Outcome])))
		}
		if s, ok := m.dims[metrics.TriggerSource]; ok && !slices.Contains(append(migrate.Sources(), metrics.Unknown), s) {
			problems = append(problems, fmt.Sprintf("%v: TriggerSource %q is not one of %v", m, s, append(migrate.Sources(), metrics.Unknown)))
		}
	case "AWS/Lambda":
		if !slices.Contains(lambdaMetrics, m.name) || !cmp.Equal(m.dims, map[string]string{"FunctionName": function}) {
			problems = append(problems, fmt.Sprintf("%v: not a Lambda metric of the function %s", m, function))
		}
	default:
		problems = append(problems, fmt.Sprintf("%v: a namespace the function does not write", m))
	}
	return problems
}

// dashboardMetrics reads the metrics of a dashboard body's metric widgets:
// [namespace, name, dim, value, ..., {options}]. The "." shorthand is not
// used, so that each line says everything.
func dashboardMetrics(body string) (refs []metricRef, widgets []map[string]any, err error) {
	var d struct {
		Widgets []map[string]any `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return nil, nil, fmt.Errorf("DashboardBody is not JSON: %w", err)
	}
	for _, w := range d.Widgets {
		props, _ := w["properties"].(map[string]any)
		lines, _ := props["metrics"].([]any)
		for _, l := range lines {
			items, _ := l.([]any)
			var s []string
			for _, it := range items {
				if str, ok := it.(string); ok {
					s = append(s, str)
				}
			}
			if len(s) < 2 || len(s)%2 != 0 || slices.Contains(s, ".") || slices.Contains(s, "...") {
				return nil, nil, fmt.Errorf("widget %v: metric %v is not [namespace, name, dimension, value, ...]", props["title"], l)
			}
			m := metricRef{namespace: s[0], name: s[1], dims: map[string]string{}}
			for i := 2; i < len(s); i += 2 {
				m.dims[s[i]] = s[i+1]
			}
			refs = append(refs, m)
		}
	}
	return refs, d.Widgets, nil
}

// checkDashboard: the dashboard names only metrics the function writes, and
// shows all of them: migrations by outcome, every decline reason, every
// error kind, latency against the 5 s budget, every trigger source, and
// every alarm of the template.
func checkDashboard(t *cfnTemplate) []string {
	return deployAll(t, func(sc scenario, s *stack) []string {
		var problems []string
		names := t.resourcesOfType("AWS::CloudWatch::Dashboard")
		if len(names) != 1 {
			return []string{fmt.Sprintf("%d dashboards, want 1", len(names))}
		}
		props, err := s.properties(names[0])
		if err != nil {
			return []string{err.Error()}
		}
		refs, widgets, err := dashboardMetrics(fmt.Sprint(props["DashboardBody"]))
		if err != nil {
			return []string{err.Error()}
		}
		shown := map[string][]string{} // what is shown: "Outcome", "declined", "error", "TriggerSource"
		for _, m := range refs {
			problems = append(problems, checkMetric(m, s.params["FunctionName"])...)
			if m.namespace != metrics.Namespace || m.name != metrics.Invocations {
				continue
			}
			switch {
			case len(m.dims) == 1 && m.dims[metrics.Outcome] != "":
				shown["Outcome"] = append(shown["Outcome"], m.dims[metrics.Outcome])
			case len(m.dims) == 2:
				shown[m.dims[metrics.Outcome]] = append(shown[m.dims[metrics.Outcome]], m.dims[metrics.Reason])
			case m.dims[metrics.TriggerSource] != "":
				shown["TriggerSource"] = append(shown["TriggerSource"], m.dims[metrics.TriggerSource])
			}
		}
		for what, want := range map[string][]string{
			"Outcome": outcomes(), "declined": reasonsOf("declined"), "error": reasonsOf("error"), "TriggerSource": migrate.Sources(),
			"allowed": reasonsOf("allowed"), "refused": reasonsOf("refused"), "groups_applied": reasonsOf("groups_applied"),
		} {
			for _, v := range want {
				if !slices.Contains(shown[what], v) {
					problems = append(problems, fmt.Sprintf("the dashboard does not show Invocations for %s %s", what, v))
				}
			}
		}
		latency, budget := false, false
		var alarms []string
		for _, w := range widgets {
			p, _ := w["properties"].(map[string]any)
			for _, a := range asList(p["alarms"]) {
				alarms = append(alarms, fmt.Sprint(a))
			}
			b, _ := json.Marshal(p)
			if strings.Contains(string(b), `"`+metrics.Latency+`"`) {
				latency = true
				budget = strings.Contains(string(b), `"value":5000`)
			}
		}
		if !latency || !budget {
			problems = append(problems, "no Latency widget with the 5 s budget (an annotation at 5000 ms)")
		}
		for _, name := range t.resourcesOfType("AWS::CloudWatch::Alarm") {
			id, _ := s.ref(name)
			arn := fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", testPartition, testRegion, testAccount, id)
			if !slices.Contains(alarms, arn) {
				problems = append(problems, fmt.Sprintf("the dashboard's alarm widget lacks %s (%s)", name, arn))
			}
		}
		return problems
	})
}

// checkMetricAlarms: the alarms of docs/operations.md exist, on metrics the
// function writes, and notify the topic when one is given.
func checkMetricAlarms(t *cfnTemplate) []string {
	return deployAll(t, func(sc scenario, s *stack) []string {
		var problems []string
		found := map[string]bool{}
		for _, name := range t.resourcesOfType("AWS::CloudWatch::Alarm") {
			a, err := s.properties(name)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			var refs []metricRef
			if a["Namespace"] != nil {
				refs = append(refs, alarmMetric(a))
			}
			expression := ""
			for _, q := range asList(a["Metrics"]) {
				q, _ := q.(map[string]any)
				if e, ok := q["Expression"].(string); ok {
					expression = e
					continue
				}
				stat, _ := q["MetricStat"].(map[string]any)
				m, _ := stat["Metric"].(map[string]any)
				refs = append(refs, alarmMetric(m))
			}
			if len(refs) == 0 || refs[0].namespace != metrics.Namespace {
				continue // the AWS/Lambda alarms, checked by checkAlarms
			}
			for _, m := range refs {
				problems = append(problems, checkMetric(m, s.params["FunctionName"])...)
			}
			m := refs[0]
			switch {
			case expression != "":
				found["error rate"] = strings.Contains(expression, "errors") && len(refs) == 2 && refs[1].name == metrics.Invocations && len(refs[1].dims) == 0
			case m.name == metrics.Latency:
				var ms int
				fmt.Sscan(fmt.Sprint(a["Threshold"]), &ms)
				found["latency"] = a["ExtendedStatistic"] == "p99" && ms > 0 && ms < 3000
			case m.dims[metrics.Reason] != "":
				found[m.dims[metrics.Reason]] = true
			case m.dims[metrics.Outcome] == string(migrate.OutcomeError):
				found["errors"] = true
			}
			var wantActions any
			if topic := sc.params["AlarmTopicArn"]; topic != "" {
				wantActions = []any{topic}
			}
			if !cmp.Equal(a["AlarmActions"], wantActions) || !cmp.Equal(a["OKActions"], wantActions) {
				problems = append(problems, fmt.Sprintf("%s: actions %v / %v, want %v", name, a["AlarmActions"], a["OKActions"], wantActions))
			}
			if a["TreatMissingData"] != "notBreaching" {
				problems = append(problems, fmt.Sprintf("%s: TreatMissingData %v, want notBreaching (a dimension value has no data while nothing happens)", name, a["TreatMissingData"]))
			}
		}
		for _, want := range []string{string(migrate.FaultConfiguration), string(migrate.FaultThrottled), "errors", "error rate", "latency"} {
			if !found[want] {
				problems = append(problems, "no alarm on the function's metrics for "+want)
			}
		}
		return problems
	})
}

func alarmMetric(a map[string]any) metricRef {
	m := metricRef{namespace: fmt.Sprint(a["Namespace"]), name: fmt.Sprint(a["MetricName"]), dims: map[string]string{}}
	for _, d := range asList(a["Dimensions"]) {
		d, _ := d.(map[string]any)
		m.dims[fmt.Sprint(d["Name"])] = fmt.Sprint(d["Value"])
	}
	return m
}

// TestDashboardChecksCatchMistakes breaks the dashboard and the alarms in
// the ways that matter and wants the checks to notice.
func TestDashboardChecksCatchMistakes(t *testing.T) {
	tests := []struct {
		name, check, from, to string
	}{
		{"a reason the function never gives", "dashboard", `"Reason", "bad_credentials"`, `"Reason", "wrong_password"`},
		{"a decline reason missing", "dashboard",
			"\n                  [\"CognitoMigrate\", \"Invocations\", \"Outcome\", \"declined\", \"Reason\", \"user_disabled\", {\"label\": \"user_disabled\"}],", ""},
		{"an error kind missing", "dashboard",
			"\n                  [\"CognitoMigrate\", \"Invocations\", \"Outcome\", \"error\", \"Reason\", \"encode\", {\"label\": \"encode\"}],", ""},
		{"an error kind under declined", "dashboard", `"Outcome", "error", "Reason", "timeout"`, `"Outcome", "declined", "Reason", "timeout"`},
		{"a dimension set the function does not write", "dashboard",
			`["CognitoMigrate", "Invocations", "TriggerSource", "UserMigration_Authentication"`, `["CognitoMigrate", "Invocations", "Outcome", "migrated", "TriggerSource", "UserMigration_Authentication"`},
		{"a metric the function does not write", "dashboard", `["CognitoMigrate", "Latency", {"stat": "p99"`, `["CognitoMigrate", "Duration", {"stat": "p99"`},
		{"another namespace", "dashboard", `["CognitoMigrate", "Latency", {"stat": "p50"`, `["CognitoMigrateV2", "Latency", {"stat": "p50"`},
		{"no 5 s budget", "dashboard", `"value": 5000`, `"value": 6000`},
		{"an alarm missing from the dashboard", "dashboard",
			"\n                  \"arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${FaultsAlarm}\",", ""},
		{"a Lambda metric of another function", "dashboard", `"FunctionName", "${Function}", {"label": "Errors"}`, `"FunctionName", "other", {"label": "Errors"}`},
		{"alarm on a reason the function never gives", "metric alarms", "{Name: Reason, Value: configuration}", "{Name: Reason, Value: config}"},
		{"alarm on a dimension set the function does not write", "metric alarms",
			"Dimensions: [{Name: Outcome, Value: error}, {Name: Reason, Value: throttled}]", "Dimensions: [{Name: Reason, Value: throttled}]"},
		{"no latency alarm under the budget", "metric alarms", "      Threshold: 2500\n      TreatMissingData: notBreaching\n      AlarmActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]\n      OKActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]\n\n  # One page",
			"      Threshold: 4000\n      TreatMissingData: notBreaching\n      AlarmActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]\n      OKActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]\n\n  # One page"},
		{"error rate on a metric the function does not write", "metric alarms", "              MetricName: Invocations\n            Period: 300\n            Stat: Sum\n        - Id: rate",
			"              MetricName: Requests\n            Period: 300\n            Stat: Sum\n        - Id: rate"},
	}
	b, err := os.ReadFile(newAccountFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := strings.Count(string(b), tt.from); n != 1 {
				t.Fatalf("%q occurs %d times in %s, want once", tt.from, n, newAccountFile)
			}
			broken, err := parseTemplate(newAccountFile, []byte(strings.Replace(string(b), tt.from, tt.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if problems := checks[newAccountFile][tt.check](broken); len(problems) == 0 {
				t.Errorf("check %q passes the template broken by %q", tt.check, tt.name)
			} else {
				t.Logf("%s: %s", tt.check, problems[0])
			}
		})
	}
}

// TestCfnLint runs cfn-lint, AWS's CloudFormation linter, on every template.
// It is not a Go module: install it with "pip install cfn-lint". In CI
// (CI=true) a missing cfn-lint fails the run; elsewhere the test is skipped.
func TestCfnLint(t *testing.T) {
	path, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cfn-lint is not installed, and CI=true: install it (pip install cfn-lint) so the templates are linted")
		}
		t.Skip("cfn-lint is not installed (pip install cfn-lint); CI=true makes this a failure")
	}
	templates := []string{newAccountFile, oldAccountFile, snippetFile}
	// W3002: Code is a local path on purpose, for "sam deploy" and
	// "aws cloudformation package" to upload (the template's header).
	cmd := exec.CommandContext(t.Context(), path, append([]string{"--ignore-checks", "W3002", "--"}, templates...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint %s: %v\n%s", strings.Join(templates, " "), err, out)
	}
}

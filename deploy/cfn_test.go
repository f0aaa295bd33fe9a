package deploy_test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file reads CloudFormation templates written in YAML and evaluates
// them for given parameter values: just enough of CloudFormation for the
// tests to see the policies, permissions and settings a stack would get.

// cfnTemplate is a parsed template. Short-form tags (!Ref, !Sub, !If...) are
// turned into their long forms ({"Ref": ...}, {"Fn::Sub": ...}), so a value
// is a string, a []any or a map[string]any, as in a JSON template.
type cfnTemplate struct {
	name string
	text string
	root map[string]any
}

func loadTemplate(name string) (*cfnTemplate, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseTemplate(name, b)
}

func parseTemplate(name string, b []byte) (*cfnTemplate, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v, err := fromNode(&doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", name)
	}
	return &cfnTemplate{name: name, text: string(b), root: root}, nil
}

// shortForms are CloudFormation's YAML tags, by the long form's name.
var shortForms = map[string]string{
	"Ref": "Ref", "Condition": "Condition", "GetAtt": "Fn::GetAtt", "Base64": "Fn::Base64", "Cidr": "Fn::Cidr",
	"FindInMap": "Fn::FindInMap", "GetAZs": "Fn::GetAZs", "ImportValue": "Fn::ImportValue", "Join": "Fn::Join",
	"Select": "Fn::Select", "Split": "Fn::Split", "Sub": "Fn::Sub", "Transform": "Fn::Transform",
	"And": "Fn::And", "Equals": "Fn::Equals", "If": "Fn::If", "Not": "Fn::Not", "Or": "Fn::Or",
	"Length": "Fn::Length", "ToJsonString": "Fn::ToJsonString",
}

func fromNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return fromNode(n.Content[0])
	case yaml.AliasNode:
		return fromNode(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.ScalarNode:
		v = n.Value
	case yaml.SequenceNode:
		list := []any{}
		for _, c := range n.Content {
			x, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			list = append(list, x)
		}
		v = list
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: key %q twice", n.Content[i].Line, k)
			}
			x, err := fromNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = x
		}
		v = m
	}
	if n.Tag == "" || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	long, ok := shortForms[strings.TrimPrefix(n.Tag, "!")]
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	if s, isString := v.(string); long == "Fn::GetAtt" && isString {
		res, attr, _ := strings.Cut(s, ".")
		v = []any{res, attr}
	}
	return map[string]any{long: v}, nil
}

func (t *cfnTemplate) section(name string) map[string]any {
	m, _ := t.root[name].(map[string]any)
	return m
}

func (t *cfnTemplate) parameters() map[string]any { return t.section("Parameters") }
func (t *cfnTemplate) resources() map[string]any  { return t.section("Resources") }

func (t *cfnTemplate) resource(name string) map[string]any {
	r, _ := t.resources()[name].(map[string]any)
	return r
}

// resourcesOfType lists the logical ids of the resources of type typ, sorted.
func (t *cfnTemplate) resourcesOfType(typ string) []string {
	var out []string
	for name, r := range t.resources() {
		if r, _ := r.(map[string]any); r["Type"] == typ {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// The account, region and partition the tests deploy to.
const (
	testAccount   = "222222222222"
	testRegion    = "eu-central-1"
	testPartition = "aws"
)

var pseudoParameters = map[string]string{
	"AWS::AccountId": testAccount, "AWS::Region": testRegion, "AWS::Partition": testPartition,
	"AWS::StackName": "test-stack", "AWS::StackId": "arn:aws:cloudformation:eu-central-1:222222222222:stack/test-stack/1",
	"AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": "",
}

// noValue is what AWS::NoValue evaluates to: the property or item is left out.
type noValueType struct{}

var noValue = noValueType{}

// stack is a template with parameter values: what CloudFormation would
// create from it.
type stack struct {
	t      *cfnTemplate
	params map[string]string
	conds  map[string]bool
}

// deploy resolves every parameter (given, or its default) and checks it
// against its AllowedPattern and AllowedValues, as CloudFormation does.
func (t *cfnTemplate) deploy(given map[string]string) (*stack, error) {
	s := &stack{t: t, params: map[string]string{}, conds: map[string]bool{}}
	for name := range given {
		if _, ok := t.parameters()[name]; !ok {
			return nil, fmt.Errorf("no parameter %s", name)
		}
	}
	for name, p := range t.parameters() {
		p, _ := p.(map[string]any)
		v, ok := given[name]
		if !ok {
			d, hasDefault := p["Default"].(string)
			if !hasDefault {
				return nil, fmt.Errorf("parameter %s is required", name)
			}
			v = d
		}
		if pat, ok := p["AllowedPattern"].(string); ok {
			re, err := regexp.Compile(`^(?:` + pat + `)$`)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: AllowedPattern: %w", name, err)
			}
			if !re.MatchString(v) {
				return nil, fmt.Errorf("parameter %s: %q does not match %s", name, v, pat)
			}
		}
		if allowed, ok := p["AllowedValues"].([]any); ok && !slices.Contains(allowed, any(v)) {
			return nil, fmt.Errorf("parameter %s: %q is not one of %v", name, v, allowed)
		}
		s.params[name] = v
	}
	for name := range t.section("Conditions") {
		if _, err := s.condition(name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *stack) condition(name string) (bool, error) {
	if v, ok := s.conds[name]; ok {
		return v, nil
	}
	def, ok := s.t.section("Conditions")[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	v, err := s.eval(def)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is %v, not a boolean", name, v)
	}
	s.conds[name] = b
	return b, nil
}

// exists reports whether the resource (or output) def is created: it has no
// Condition, or its condition holds.
func (s *stack) exists(def map[string]any) bool {
	c, ok := def["Condition"].(string)
	if !ok {
		return true
	}
	v, err := s.condition(c)
	return err == nil && v
}

// properties evaluates a resource's properties; nil when it is not created.
func (s *stack) properties(name string) (map[string]any, error) {
	r := s.t.resource(name)
	if r == nil {
		return nil, fmt.Errorf("no resource %s", name)
	}
	if !s.exists(r) {
		return nil, nil
	}
	v, err := s.eval(r["Properties"])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// ref is what Ref returns for a resource: its physical name.
func (s *stack) ref(name string) (string, error) {
	r := s.t.resource(name)
	if r == nil {
		return "", fmt.Errorf("Ref %s: no such parameter or resource", name)
	}
	nameProperty := map[string]string{
		"AWS::Logs::LogGroup": "LogGroupName", "AWS::Lambda::Function": "FunctionName", "AWS::IAM::Role": "RoleName",
	}[fmt.Sprint(r["Type"])]
	if props, _ := r["Properties"].(map[string]any); props != nil && props[nameProperty] != nil {
		v, err := s.eval(props[nameProperty])
		if err != nil {
			return "", err
		}
		return fmt.Sprint(v), nil
	}
	if r["Type"] == "AWS::Cognito::UserPool" {
		return testRegion + "_" + name, nil
	}
	return "generated-" + name, nil
}

func (s *stack) getAtt(name, attr string) (string, error) {
	id, err := s.ref(name)
	if err != nil {
		return "", err
	}
	if attr != "Arn" {
		return "", fmt.Errorf("GetAtt %s.%s: only Arn is known to the tests", name, attr)
	}
	arn := "arn:" + testPartition + ":"
	switch s.t.resource(name)["Type"] {
	case "AWS::Lambda::Function":
		return arn + "lambda:" + testRegion + ":" + testAccount + ":function:" + id, nil
	case "AWS::IAM::Role":
		return arn + "iam::" + testAccount + ":role/" + id, nil
	case "AWS::Logs::LogGroup":
		return arn + "logs:" + testRegion + ":" + testAccount + ":log-group:" + id + ":*", nil
	case "AWS::Cognito::UserPool":
		return arn + "cognito-idp:" + testRegion + ":" + testAccount + ":userpool/" + id, nil
	}
	return "", fmt.Errorf("GetAtt %s.Arn: unknown to the tests", name)
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// eval evaluates intrinsic functions in v. Only the branch Fn::If takes is
// evaluated, as in CloudFormation.
func (s *stack) eval(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []any:
		out := []any{}
		for _, x := range v {
			y, err := s.eval(x)
			if err != nil {
				return nil, err
			}
			if y != noValue {
				out = append(out, y)
			}
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for fn, arg := range v {
				if fn == "Ref" || fn == "Condition" || strings.HasPrefix(fn, "Fn::") {
					return s.call(fn, arg)
				}
			}
		}
		out := map[string]any{}
		for k, x := range v {
			y, err := s.eval(x)
			if err != nil {
				return nil, err
			}
			if y != noValue {
				out[k] = y
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

func (s *stack) call(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	str := func(x any) (string, error) {
		y, err := s.eval(x)
		if err != nil {
			return "", err
		}
		out, ok := y.(string)
		if !ok {
			return "", fmt.Errorf("%s: %v is not a string", fn, y)
		}
		return out, nil
	}
	boolean := func(x any) (bool, error) {
		y, err := s.eval(x)
		b, ok := y.(bool)
		if err == nil && !ok {
			err = fmt.Errorf("%s: %v is not a condition", fn, y)
		}
		return b, err
	}
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		if name == "AWS::NoValue" {
			return noValue, nil
		}
		if v, ok := pseudoParameters[name]; ok {
			return v, nil
		}
		if v, ok := s.params[name]; ok {
			return v, nil
		}
		return s.ref(name)
	case "Condition":
		name, _ := arg.(string)
		return s.condition(name)
	case "Fn::GetAtt":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt %v", arg)
		}
		return s.getAtt(fmt.Sprint(args[0]), fmt.Sprint(args[1]))
	case "Fn::If":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::If %v: want [condition, then, else]", arg)
		}
		c, err := s.condition(fmt.Sprint(args[0]))
		if err != nil {
			return nil, err
		}
		if c {
			return s.eval(args[1])
		}
		return s.eval(args[2])
	case "Fn::Equals":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Equals %v", arg)
		}
		a, err := str(args[0])
		if err != nil {
			return nil, err
		}
		b, err := str(args[1])
		return a == b, err
	case "Fn::Not":
		if len(args) != 1 {
			return nil, fmt.Errorf("Fn::Not %v", arg)
		}
		b, err := boolean(args[0])
		return !b, err
	case "Fn::And", "Fn::Or":
		all := fn == "Fn::And"
		for _, x := range args {
			b, err := boolean(x)
			if err != nil {
				return nil, err
			}
			if b != all {
				return !all, nil
			}
		}
		return all, nil
	case "Fn::Split":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Split %v", arg)
		}
		sep, err := str(args[0])
		if err != nil {
			return nil, err
		}
		whole, err := str(args[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(whole, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select %v", arg)
		}
		i, err := str(args[0])
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(i)
		if err != nil {
			return nil, err
		}
		l, err := s.eval(args[1])
		if err != nil {
			return nil, err
		}
		list, _ := l.([]any)
		if n < 0 || n >= len(list) {
			return nil, fmt.Errorf("Fn::Select: no item %d in %v", n, list)
		}
		return list[n], nil
	case "Fn::Join":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join %v", arg)
		}
		sep, err := str(args[0])
		if err != nil {
			return nil, err
		}
		l, err := s.eval(args[1])
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, p := range l.([]any) {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, sep), nil
	case "Fn::Sub":
		format, vars := arg, map[string]any{}
		if len(args) == 2 {
			format = args[0]
			vars, _ = args[1].(map[string]any)
		}
		f, ok := format.(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub %v", arg)
		}
		var failed error
		out := subVariable.ReplaceAllStringFunc(f, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var v any = map[string]any{"Ref": name}
			if x, ok := vars[name]; ok {
				v = x
			} else if res, attr, isAtt := strings.Cut(name, "."); isAtt {
				v = map[string]any{"Fn::GetAtt": []any{res, attr}}
			}
			got, err := str(v)
			if err != nil && failed == nil {
				failed = err
			}
			return got
		})
		return out, failed
	}
	return nil, fmt.Errorf("%s: not known to the tests", fn)
}

// references lists what v refers to: parameters and resources (by Ref,
// Fn::Sub variables and Fn::GetAtt) and conditions (by Fn::If and
// Condition).
func references(v any, refs, conds map[string]bool) {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			references(x, refs, conds)
		}
	case map[string]any:
		for k, x := range v {
			switch k {
			case "Ref":
				refs[fmt.Sprint(x)] = true
			case "Condition":
				if name, ok := x.(string); ok {
					conds[name] = true
					continue
				}
			case "Fn::GetAtt":
				if l, ok := x.([]any); ok && len(l) > 0 {
					refs[fmt.Sprint(l[0])] = true
				}
			case "Fn::If":
				if l, ok := x.([]any); ok && len(l) > 0 {
					conds[fmt.Sprint(l[0])] = true
				}
			case "Fn::Sub":
				format, vars := x, map[string]any{}
				if l, ok := x.([]any); ok && len(l) == 2 {
					format = l[0]
					vars, _ = l[1].(map[string]any)
				}
				if f, ok := format.(string); ok {
					for _, m := range subVariable.FindAllStringSubmatch(f, -1) {
						name, _, _ := strings.Cut(m[1], ".")
						if _, local := vars[name]; !local && !strings.HasPrefix(name, "!") {
							refs[name] = true
						}
					}
				}
			}
			references(x, refs, conds)
		}
	}
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}

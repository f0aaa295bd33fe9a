package lambdaapi

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Evaluate reports whether the resource-based policy policyJSON (GetPolicy's
// Policy) has an Allow statement that lets CognitoPrincipal call
// InvokeAction for the grant's pool.
//
// It is deliberately conservative: a statement counts only when every one of
// its conditions is one it understands (StringEquals, StringLike,
// ArnEquals, ArnLike on AWS:SourceArn and AWS:SourceAccount) and is met by
// the pool. A statement it cannot judge does not count, so the worst case is
// one more, harmless, statement. Deny statements are not considered: Lambda's
// AddPermission never writes them.
func Evaluate(policyJSON string, g Grant) (Status, error) {
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(policyJSON), &doc); err != nil {
		return Status{}, fmt.Errorf("read policy: %w", err)
	}
	var statements []statement
	if err := oneOrMany(doc.Statement, &statements); err != nil {
		return Status{}, fmt.Errorf("read policy statements: %w", err)
	}
	var best Status
	for _, s := range statements {
		allowed, scoped := s.allows(g)
		switch {
		case allowed && scoped:
			return Status{Allowed: true, StatementID: s.Sid}, nil
		case allowed && !best.Allowed:
			best = Status{Allowed: true, StatementID: s.Sid, Unscoped: true}
		}
	}
	return best, nil
}

type statement struct {
	Sid       string
	Effect    string
	Principal json.RawMessage
	Action    json.RawMessage
	Condition map[string]map[string]json.RawMessage
}

// allows reports whether the statement lets Cognito invoke the function for
// the grant's pool, and whether it is scoped to that pool by AWS:SourceArn.
func (s statement) allows(g Grant) (allowed, scoped bool) {
	if s.Effect != "Allow" || !s.principalIsCognito() || !s.actionIsInvoke() {
		return false, false
	}
	request := map[string]string{
		"aws:sourcearn":     g.SourceARN,
		"aws:sourceaccount": g.SourceAccount,
	}
	for operator, keys := range s.Condition {
		for key, raw := range keys {
			value, known := request[strings.ToLower(key)]
			if !known {
				return false, false
			}
			var values []string
			if oneOrMany(raw, &values) != nil || !conditionMet(operator, value, values) {
				return false, false
			}
			if strings.EqualFold(key, "aws:SourceArn") {
				scoped = true
			}
		}
	}
	return true, scoped
}

func (s statement) principalIsCognito() bool {
	var wildcard string
	if json.Unmarshal(s.Principal, &wildcard) == nil {
		return wildcard == "*"
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(s.Principal, &p) != nil {
		return false
	}
	for kind, raw := range p {
		var names []string
		if oneOrMany(raw, &names) != nil {
			continue
		}
		for _, n := range names {
			if (kind == "Service" && n == CognitoPrincipal) || (kind == "AWS" && n == "*") {
				return true
			}
		}
	}
	return false
}

func (s statement) actionIsInvoke() bool {
	var actions []string
	if oneOrMany(s.Action, &actions) != nil {
		return false
	}
	for _, a := range actions {
		// IAM action names are case-insensitive and may use wildcards.
		if globMatch(strings.ToLower(a), strings.ToLower(InvokeAction)) {
			return true
		}
	}
	return false
}

// conditionMet evaluates one condition operator against the request's
// value: met when any of the condition's values matches.
func conditionMet(operator, value string, values []string) bool {
	for _, v := range values {
		switch operator {
		case "StringEquals", "ArnEquals":
			if v == value {
				return true
			}
		case "StringLike", "ArnLike":
			if globMatch(v, value) {
				return true
			}
		default:
			return false // not understood: do not count the statement
		}
	}
	return false
}

// globMatch is IAM's *Like matching: * is any run of characters (slashes
// included), ? any one character.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && globMatch(pattern[1:], s[1:])
}

// oneOrMany decodes a policy element that is a single value or a list.
func oneOrMany[T any](raw json.RawMessage, out *[]T) error {
	if len(raw) == 0 {
		*out = nil
		return nil
	}
	var one T
	if err := json.Unmarshal(raw, &one); err == nil {
		*out = []T{one}
		return nil
	}
	return json.Unmarshal(raw, out)
}

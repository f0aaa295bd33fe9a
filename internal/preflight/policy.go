package preflight

import (
	"encoding/json"
	"strings"

	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
)

// grant is the permission the pool needs, with the statement id
// attach-trigger uses.
func grant(fn, poolARN, account, poolID string) lambdaapi.Grant {
	return lambdaapi.Grant{FunctionARN: fn, SourceARN: poolARN, SourceAccount: account, StatementID: "cognito-migrate-" + poolID}
}

func evaluate(policy string, g lambdaapi.Grant) (lambdaapi.Status, error) {
	if policy == "" {
		return lambdaapi.Status{}, nil // a function without a policy allows nothing
	}
	return lambdaapi.Evaluate(policy, g)
}

// statementScope looks at the statements named sid: wide when a SourceArn
// condition value holds a wildcard (so it may match other pools),
// hasAccount when a condition names AWS:SourceAccount. With a SourceAccount,
// a wide SourceArn still stays within one account.
func statementScope(policy, sid string) (wide, hasAccount bool) {
	var doc struct{ Statement json.RawMessage }
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return false, false
	}
	var statements []struct {
		Sid       string
		Condition map[string]map[string]json.RawMessage
	}
	if json.Unmarshal(doc.Statement, &statements) != nil {
		var one struct {
			Sid       string
			Condition map[string]map[string]json.RawMessage
		}
		if json.Unmarshal(doc.Statement, &one) != nil {
			return false, false
		}
		statements = append(statements, one)
	}
	for _, s := range statements {
		if s.Sid != sid {
			continue
		}
		for _, keys := range s.Condition {
			for key, raw := range keys {
				switch strings.ToLower(key) {
				case "aws:sourceaccount":
					hasAccount = true
				case "aws:sourcearn":
					for _, v := range stringOrList(raw) {
						if strings.ContainsAny(v, "*?") {
							wide = true
						}
					}
				}
			}
		}
	}
	return wide, hasAccount
}

func stringOrList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

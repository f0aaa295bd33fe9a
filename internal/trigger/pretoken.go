package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// PreToken is the handler of the pre token generation trigger
// ("TokenGeneration_*", event versions V1_0 and V2_0). It applies the
// groups a migration carried in LEGACY_GROUPS_ATTRIBUTE: it adds the user
// to them, returns them with the groups the request already has in
// groupOverrideDetails, so the first tokens carry them, suppresses the
// attribute from the tokens and deletes it. Events without the attribute
// (every later sign-in and refresh) are returned as they came, with no call.
// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
type PreToken struct {
	groups *migrate.GroupApplier
	log    companionLog
	budget time.Duration
}

// NewPreToken returns the pre token generation handler.
func NewPreToken(groups *migrate.GroupApplier, log *slog.Logger, m *metrics.EMF) *PreToken {
	return &PreToken{groups: groups, log: companionLog{log: log, metrics: m}, budget: DefaultBudget}
}

// groupConfiguration is the request's groupConfiguration and the
// response's groupOverrideDetails (the same shape).
type groupConfiguration struct {
	GroupsToOverride   []string `json:"groupsToOverride"`
	IAMRolesToOverride []string `json:"iamRolesToOverride,omitempty"`
	PreferredRole      *string  `json:"preferredRole,omitempty"`
}

// tokenRequest is the part of the request read. Attribute values are read
// one by one, so a stray non-string value elsewhere fails nothing.
type tokenRequest struct {
	UserAttributes     map[string]json.RawMessage `json:"userAttributes"`
	GroupConfiguration groupConfiguration         `json:"groupConfiguration"`
}

// claimsOverride is V1_0's response.claimsOverrideDetails.
type claimsOverride struct {
	ClaimsToSuppress     []string           `json:"claimsToSuppress,omitempty"`
	GroupOverrideDetails groupConfiguration `json:"groupOverrideDetails"`
}

type tokenResponseV1 struct {
	ClaimsOverrideDetails claimsOverride `json:"claimsOverrideDetails"`
}

// tokenResponseV2 is V2_0's (and V3_0's) response.
type tokenResponseV2 struct {
	Details struct {
		IDToken struct {
			ClaimsToSuppress []string `json:"claimsToSuppress,omitempty"`
		} `json:"idTokenGeneration"`
		GroupOverrideDetails groupConfiguration `json:"groupOverrideDetails"`
	} `json:"claimsAndScopeOverrideDetails"`
}

// Invoke handles one pre token generation event.
func (p *PreToken) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req tokenRequest
	return p.log.invoke(ctx, "pre token generation", payload, &req, func(rec *companionRecord, h header, raw rawEvent) ([]byte, error) {
		return p.handle(ctx, rec, h, &req, raw)
	})
}

// handle decides one decoded event; Invoke logs rec.
func (p *PreToken) handle(ctx context.Context, rec *companionRecord, h header, req *tokenRequest, raw rawEvent) ([]byte, error) {
	rec.attrs = append(rec.attrs, slog.String("version", h.Version))

	attr := p.groups.Attribute()
	value, carried := stringAttribute(req.UserAttributes, attr)
	if !carried {
		rec.outcome, rec.reason = migrate.OutcomeAllowed, migrate.NoGroups
		return raw.withResponse(nil)
	}

	ctx, cancel := context.WithTimeout(ctx, within(ctx, p.budget))
	defer cancel()
	groups := req.GroupConfiguration
	list, derr := migrate.DecodeGroups(value)
	if derr != nil {
		// Not what a migration writes: apply nothing, and remove it so it
		// is not read again. The tokens keep the request's groups.
		rec.fail(migrate.FaultInvalidEvent, fmt.Errorf("%s: %w", attr, derr))
		if err := p.groups.Discard(ctx, h.UserPoolID, h.UserName); err != nil {
			rec.err = fmt.Errorf("%w; %w", rec.err, err)
		}
		return p.encode(raw, h, groups, attr, rec)
	}
	if err := p.groups.Vouch(ctx, h.UserPoolID, h.UserName); err != nil {
		var refused *migrate.CarrierRefusedError
		if !errors.As(err, &refused) {
			// Unsure who wrote it: no tokens this time; the attribute stays.
			rec.fail(migrate.KindOf(err), err)
			return nil, failure(ErrorTypeUnavailable, UnavailableMessage)
		}
		// Possibly written by the user (an app client that may write it):
		// apply nothing, and remove it. The tokens keep the request's groups.
		rec.outcome, rec.reason = migrate.OutcomeRefused, migrate.GroupsRefused
		rec.attrs = append(rec.attrs, slog.String("groupsRefused", refused.Why))
		if err := p.groups.Discard(ctx, h.UserPoolID, h.UserName); err != nil {
			rec.fail(migrate.KindOf(err), err)
		}
		return p.encode(raw, h, groups, attr, rec)
	}
	applied, err := p.groups.Apply(ctx, h.UserPoolID, h.UserName, list)
	if err != nil {
		// No tokens without the user's groups: the sign-in fails, and the
		// next one tries again (the attribute stays).
		rec.fail(migrate.KindOf(err), err)
		return nil, failure(ErrorTypeUnavailable, UnavailableMessage)
	}
	rec.outcome, rec.reason = migrate.OutcomeGroupsApplied, migrate.GroupsAppliedReason
	rec.attrs = append(rec.attrs, slog.Any("groups", nonNil(applied.Member)))
	if len(applied.Created) > 0 {
		rec.attrs = append(rec.attrs, slog.Any("groupsCreated", applied.Created))
	}
	if len(applied.Missing) > 0 {
		rec.attrs = append(rec.attrs, slog.Any("groupsMissing", applied.Missing),
			slog.String("groupsMissingWhy", "not in the new pool; create them, or set CREATE_MISSING_GROUPS=true"))
	}
	if applied.Listed {
		rec.attrs = append(rec.attrs, slog.Bool("groupsListedFromOldPool", true))
	}
	if applied.OldUserGone {
		rec.attrs = append(rec.attrs, slog.String("groupsLost", "the groups did not fit in the attribute, and the old pool no longer has the user to list them from"))
	}
	for _, g := range applied.Member {
		if !slices.Contains(groups.GroupsToOverride, g) {
			groups.GroupsToOverride = append(groups.GroupsToOverride, g)
		}
	}
	return p.encode(raw, h, groups, attr, rec)
}

// encode answers with groups as the tokens' groups and attr suppressed, in
// the response shape of the event's version.
func (p *PreToken) encode(raw rawEvent, h header, groups groupConfiguration, attr string, rec *companionRecord) ([]byte, error) {
	if groups.GroupsToOverride == nil {
		// An empty list means "no groups", which is what the request said.
		groups.GroupsToOverride = []string{}
	}
	var resp any
	switch h.Version {
	case "2", "3":
		var r tokenResponseV2
		r.Details.IDToken.ClaimsToSuppress = []string{attr}
		r.Details.GroupOverrideDetails = groups
		resp = r
	default:
		resp = tokenResponseV1{ClaimsOverrideDetails: claimsOverride{ClaimsToSuppress: []string{attr}, GroupOverrideDetails: groups}}
	}
	out, err := raw.withResponse(resp)
	if err != nil {
		rec.fail(migrate.FaultEncode, err)
		return nil, failure(ErrorTypeUnavailable, UnavailableMessage)
	}
	return out, nil
}

// stringAttribute returns the string value of attrs[name], if any.
func stringAttribute(attrs map[string]json.RawMessage, name string) (string, bool) {
	raw, ok := attrs[name]
	if !ok {
		return "", false
	}
	var v string
	if json.Unmarshal(raw, &v) != nil || v == "" {
		return "", false
	}
	return v, true
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

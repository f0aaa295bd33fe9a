// Package trigger turns Cognito's "Migrate user" events into migrate
// decisions and the decisions into what Cognito expects back.
package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Event is the part of a "Migrate user" event the function reads. The whole
// event is kept as it came, because Cognito wants it back with only the
// response filled in.
//
// aws-lambda-go's CognitoEventUserPoolsMigrateUser is not used: it has no
// enableSMSMFA, its response fields lack omitempty, and its typed request
// maps make a stray value elsewhere in the event fail the whole decode.
type Event struct {
	TriggerSource string `json:"triggerSource"`
	UserPoolID    string `json:"userPoolId"`
	UserName      string `json:"userName"`
	CallerContext struct {
		ClientID string `json:"clientId"`
	} `json:"callerContext"`
	Request struct {
		// Password is what the user typed. It lives only in this struct and
		// in the old-pool request; it is never logged or wrapped in an error.
		Password string `json:"password"`
	} `json:"request"`

	raw map[string]json.RawMessage
}

// Response is the "response" object Cognito reads back.
type Response struct {
	UserAttributes         map[string]string `json:"userAttributes"`
	FinalUserStatus        string            `json:"finalUserStatus,omitempty"`
	MessageAction          string            `json:"messageAction,omitempty"`
	DesiredDeliveryMediums []string          `json:"desiredDeliveryMediums,omitempty"`
	ForceAliasCreation     bool              `json:"forceAliasCreation,omitempty"`
	EnableSMSMFA           bool              `json:"enableSMSMFA,omitempty"`
}

// errInvalidEvent marks an event that cannot be decided on.
var errInvalidEvent = errors.New("invalid event")

// DecodeEvent reads a "Migrate user" event. Its errors name the problem (a
// field and the type it should have, or a byte offset) and never quote the
// event, which holds a password.
func DecodeEvent(payload []byte) (*Event, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, describe(err, "event")
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: event must be a JSON object", errInvalidEvent)
	}
	ev := &Event{raw: raw}
	if err := json.Unmarshal(payload, ev); err != nil {
		return nil, describe(err, "event")
	}
	if ev.TriggerSource == "" {
		return nil, fmt.Errorf("%w: triggerSource is missing", errInvalidEvent)
	}
	return ev, nil
}

// describe turns a JSON error into a message that holds no input bytes.
func describe(err error, what string) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: %s is not valid JSON (error at byte %d)", errInvalidEvent, what, syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Errorf("%w: %s must be a JSON object, not %s", errInvalidEvent, what, typ.Value)
		}
		return fmt.Errorf("%w: %s field %q must be %s, not %s", errInvalidEvent, what, field, jsonKind(typ.Type), typ.Value)
	}
	return fmt.Errorf("%w: %s cannot be read", errInvalidEvent, what)
}

// noResponse is the response Cognito sends: every field null. Returned as
// it is, it means "no such user".
var noResponse = json.RawMessage(`{"userAttributes":null,"forceAliasCreation":null,"enableSMSMFA":null,` +
	`"finalUserStatus":null,"messageAction":null,"desiredDeliveryMediums":null}`)

// jsonKind names the JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a " + t.String()
}

// Encode returns the event as it came, with its response replaced by resp.
func (e *Event) Encode(resp Response) ([]byte, error) {
	r, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return e.encode(r)
}

// EncodeDecline returns the event as it came with an empty (all-null)
// response, whatever response it arrived with.
func (e *Event) EncodeDecline() ([]byte, error) { return e.encode(noResponse) }

func (e *Event) encode(r json.RawMessage) ([]byte, error) { return rawEvent(e.raw).encode(r) }

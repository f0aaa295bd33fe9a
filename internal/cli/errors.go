package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
)

// hinted adds advice that only the command knows (the region it used, the
// command to run instead) to an error.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

func withHint(err error, format string, args ...any) error {
	return &hinted{err: err, hint: fmt.Sprintf(format, args...)}
}

// driftError: the update went through, but reading the configuration again
// shows settings other than the one asked for changed (or the one asked for
// did not).
type driftError struct {
	what   string // "user pool eu-west-1_X", "app client abc"
	fields []string
	before any // the description before the change
}

func (e *driftError) Error() string {
	was := map[string]any{}
	v := reflect.ValueOf(e.before).Elem()
	for _, f := range e.fields {
		if slices.Contains(sensitiveFields, f) {
			was[f] = "(not shown)"
			continue
		}
		was[f] = v.FieldByName(f).Interface()
	}
	b, _ := json.Marshal(was)
	return fmt.Sprintf("the update was sent, but reading the %s again shows these settings differ from what was written: %s. "+
		"Before the update they were: %s. Restore them (describe, change, update with every setting), "+
		"and please report this: Cognito changed something this command wrote back", e.what, strings.Join(e.fields, ", "), b)
}

// sensitiveFields are members of a description whose values are never
// printed, not even in a report of what changed.
var sensitiveFields = []string{"ClientSecret"}

// changedError: the configuration changed between the command's first read
// and its last read before writing, so nothing was written.
type changedError struct {
	what   string // "user pool eu-west-1_X", "app client abc"
	fields []string
}

func (e *changedError) Error() string {
	return fmt.Sprintf("the %s changed while this command ran (between its first read and the read just before writing): %s. "+
		"Nothing was written: someone or something else is changing it. Run the command again once they are done",
		e.what, strings.Join(e.fields, ", "))
}

// changedMembers compares two descriptions of the same thing (a pool, an
// app client) and names every member that differs, nested structs as
// Parent.Member, ignoring those in ignore (LastModifiedDate). Only names:
// never values, which may be secret.
func changedMembers(first, last any, ignore ...string) []string {
	var out []string
	var walk func(prefix string, a, b reflect.Value)
	walk = func(prefix string, a, b reflect.Value) {
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if !f.IsExported() || slices.Contains(ignore, f.Name) {
				continue
			}
			fa, fb := a.Field(i), b.Field(i)
			name := prefix + f.Name
			if fa.Kind() == reflect.Pointer && fa.Type().Elem().Kind() == reflect.Struct && !fa.IsNil() && !fb.IsNil() {
				walk(name+".", fa.Elem(), fb.Elem())
				continue
			}
			if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				out = append(out, name)
			}
		}
	}
	walk("", reflect.ValueOf(first).Elem(), reflect.ValueOf(last).Elem())
	return out
}

// explain says what went wrong and what to do about it, in one or a few
// lines.
func explain(err error) string {
	msg := describe(err)
	var h *hinted
	if errors.As(err, &h) {
		msg += "\n" + h.hint
	}
	return msg
}

func describe(err error) string {
	var (
		ce      *awserr.CallError
		drift   *driftError
		changed *changedError
		plain   *plainError
	)
	var (
		timeout *timeoutError
		creds   *credentialsError
		sso     *ssocreds.InvalidTokenError
	)
	switch {
	case errors.As(err, &plain):
		return plain.msg
	case errors.As(err, &timeout):
		return describeTimeout(err, timeout)
	case errors.As(err, &sso):
		return "the AWS SSO session has expired or is not signed in: run 'aws sso login' (with --profile PROFILE for a named profile), then run this command again"
	case errors.As(err, &creds):
		return describeNoCredentials(err, creds)
	case errors.As(err, &drift):
		return drift.Error()
	case errors.As(err, &changed):
		return changed.Error()
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &ce):
		return describeCall(ce)
	}
	return err.Error()
}

// describeCall explains a failed AWS call, by its kind and its service.
func describeCall(e *awserr.CallError) string {
	aws := ""
	if e.Message != "" {
		aws = fmt.Sprintf(" (AWS: %s: %s)", e.Code, e.Message)
	}
	lambda := strings.HasPrefix(e.Action, "lambda:")
	switch {
	case errors.Is(e, awserr.ErrAccessDenied) && lambda:
		return fmt.Sprintf("access denied: the caller needs %s on %s, to make sure Cognito may invoke the function%s", e.Action, e.Resource, aws)
	case errors.Is(e, awserr.ErrAccessDenied):
		return fmt.Sprintf("access denied: the caller needs %s on %s%s", e.Action, poolResource(e.Resource), aws)
	case errors.Is(e, awserr.ErrNotFound) && lambda:
		return fmt.Sprintf("function %s not found: check --function-arn (its region and account, and that the version or alias exists)%s", e.Resource, aws)
	case errors.Is(e, awserr.ErrNotFound):
		return fmt.Sprintf("%s: not found%s", e.Action, aws)
	case errors.Is(e, awserr.ErrConflict) && lambda:
		return fmt.Sprintf("the function's policy already has a statement with the id this command uses, and it does not let this pool invoke the function; "+
			"look at it with 'aws lambda get-policy --function-name %s', remove it with 'aws lambda remove-permission' if it is stale, and run again%s", e.Resource, aws)
	case errors.Is(e, awserr.ErrPreconditionFailed):
		return fmt.Sprintf("the function's policy changed while this command ran; run it again%s", aws)
	case errors.Is(e, awserr.ErrImportInProgress):
		return fmt.Sprintf("%s refused: a user import job is running on the pool, and the pool cannot change until it ends (aws cognito-idp list-user-import-jobs); nothing was changed%s", e.Action, aws)
	case errors.Is(e, awserr.ErrInvalidParameter):
		return fmt.Sprintf("Cognito refused the request (%s): %s; nothing was changed", e.Action, e.Message)
	case errors.Is(e, awserr.ErrCredentials) && lambda:
		return fmt.Sprintf("AWS did not accept the credentials for Lambda (%s): check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or renew an expired session", e.Code)
	case errors.Is(e, awserr.ErrCredentials):
		return fmt.Sprintf("AWS did not accept the credentials (%s): check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or renew an expired session (for example aws sso login)", e.Code)
	case errors.Is(e, awserr.ErrThrottled):
		return fmt.Sprintf("%s: Cognito throttled the requests even after retries; try again in a minute%s", e.Action, aws)
	}
	return e.Error()
}

// describeTimeout explains a call that got no answer.
func describeTimeout(err error, t *timeoutError) string {
	action := "an AWS call"
	var ce *awserr.CallError
	if errors.As(err, &ce) {
		action = ce.Action
		if ce.Resource != "" {
			action += " on " + ce.Resource
		}
	}
	return fmt.Sprintf("%s got no answer within %v: check the network and the endpoint (--endpoint-url, --old-endpoint-url, "+
		"AWS_ENDPOINT_URL_<SERVICE>, OLD_USER_POOL_ENDPOINT), then run the command again; nothing after this call was done", action, t.after)
}

// describeNoCredentials explains a call that could not be signed: no
// credentials were found, or they could not be refreshed.
func describeNoCredentials(err error, creds *credentialsError) string {
	action := "AWS"
	var ce *awserr.CallError
	if errors.As(err, &ce) {
		action = ce.Action
	}
	return fmt.Sprintf("no usable AWS credentials for %s: set AWS_PROFILE or pass --profile (or --old-profile for the old pool), "+
		"run 'aws sso login' if the profile uses SSO, or 'aws configure' to store keys. The AWS SDK said: %v", action, creds.err)
}

// poolResource names a pool for an IAM message: its ARN, or its ID.
func poolResource(r string) string {
	if strings.HasPrefix(r, "arn:") {
		return r
	}
	return "user pool " + r + " (arn:aws:cognito-idp:REGION:ACCOUNT:userpool/" + r + ")"
}

// plainError is a failure whose message already says what to do.
type plainError struct{ msg string }

func (e *plainError) Error() string { return e.msg }

func failf(format string, args ...any) error {
	return &plainError{msg: fmt.Sprintf(format, args...)}
}

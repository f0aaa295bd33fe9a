package logging_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/logging"
)

func TestRedact(t *testing.T) {
	const jwt = "eyJraWQiOiJhYmMiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelDebug)
	log.Info("test",
		"password", "hunter2-secret-value",
		"clientSecret", "s3cr3t-client-value",
		"SECRET_HASH", "hash-value-x",
		"accessToken", "token-value-x",
		"event", `{"request":{"password":"p4ss-in-event"}}`,
		"error", errors.New("failed with "+jwt+" inside"),
		slog.Group("req", "Password", "grouped-pw-value"),
		"userName", "alice",
	)
	out := buf.String()
	for _, leak := range []string{"hunter2-secret-value", "s3cr3t-client-value", "hash-value-x", "token-value-x", "p4ss-in-event", jwt, "grouped-pw-value"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q:\n%s", leak, out)
		}
	}
	for _, keep := range []string{`"userName":"alice"`, `"message":"test"`, `failed with [REDACTED] inside`} {
		if !strings.Contains(out, keep) {
			t.Errorf("log lacks %s:\n%s", keep, out)
		}
	}
}

func TestRedactKeepsValuesThatCannotHoldText(t *testing.T) {
	var buf bytes.Buffer
	logging.New(&buf, slog.LevelDebug).Info("ready",
		"enforcePasswordPolicy", true, "tokenCount", 3, "sessionSeconds", 1.5,
		"passwordHint", "p4ss-w0rd-text", "secretList", []string{"s3cr3t-in-list"})
	out := buf.String()
	for _, keep := range []string{`"enforcePasswordPolicy":true`, `"tokenCount":3`, `"sessionSeconds":1.5`} {
		if !strings.Contains(out, keep) {
			t.Errorf("log lacks %s:\n%s", keep, out)
		}
	}
	for _, leak := range []string{"p4ss-w0rd-text", "s3cr3t-in-list"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q:\n%s", leak, out)
		}
	}
}

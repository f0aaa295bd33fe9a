// Package logging builds the function's structured JSON logger, with a
// redacting filter as a second line of defence: the code never logs a
// password, secret or token, and if a change ever does, this filter still
// keeps it out of the log.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Redacted replaces a value the filter will not let through.
const Redacted = "[REDACTED]"

// New returns a JSON logger writing to w at level. Keys follow Lambda's
// JSON log format ("timestamp", "message", "level").
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			return lambdacontext.ReplaceAttr(groups, Redact(groups, a))
		},
	}))
}

// sensitiveKey reports whether an attribute name says its value must never
// be logged: any name holding pass (password, passwd), secret, token,
// authorization, credential or session, and the names event, request,
// payload and body, in any case. (Plain string checks: a regexp compiled at
// start-up costs every cold start.)
func sensitiveKey(key string) bool {
	k := strings.ToLower(key)
	for _, part := range []string{"pass", "secret", "token", "authorization", "credential", "session"} {
		if strings.Contains(k, part) {
			return true
		}
	}
	switch k {
	case "event", "request", "payload", "body":
		return true
	}
	return false
}

// jwtLike matches anything shaped like a JSON Web Token. It is compiled on
// first use: only text holding "eyJ" needs it.
var jwtLike = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
})

// sensitiveKeys caches sensitiveKey's verdict per key: log keys are a small
// fixed set, and matching each one on every line was most of a log line's
// cost.
var sensitiveKeys sync.Map // string -> bool

func sensitive(key string) bool {
	if v, ok := sensitiveKeys.Load(key); ok {
		return v.(bool)
	}
	v := sensitiveKey(key)
	sensitiveKeys.Store(key, v)
	return v
}

// canHoldText reports whether a value could carry a secret: a string, or
// anything written as text. Booleans, numbers, durations and times cannot,
// so "enforcePasswordPolicy": true stays readable.
func canHoldText(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindBool, slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindDuration, slog.KindTime:
		return false
	}
	return true
}

// Redact hides the value of an attribute whose key names a secret, and any
// token-shaped text in string values.
func Redact(_ []string, a slog.Attr) slog.Attr {
	if sensitive(a.Key) && canHoldText(a.Value) {
		return slog.String(a.Key, Redacted)
	}
	var s string
	switch a.Value.Kind() {
	case slog.KindString:
		s = a.Value.String()
	case slog.KindAny:
		// Errors and Stringers are written as their text: check that text.
		switch v := a.Value.Any().(type) {
		case error:
			s = v.Error()
		case fmt.Stringer:
			s = v.String()
		default:
			return a
		}
	default:
		return a
	}
	if strings.Contains(s, "eyJ") {
		return slog.String(a.Key, jwtLike().ReplaceAllString(s, Redacted))
	}
	return a
}

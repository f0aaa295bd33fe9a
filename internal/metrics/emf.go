// Package metrics writes one CloudWatch Embedded Metric Format (EMF) record
// per invocation: a JSON line on the function's stdout that CloudWatch Logs
// turns into metrics, with no API call, client or permission of its own.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
//
// The record is written apart from the log line, so LOG_LEVEL never filters
// it, and holds no username, password, secret or token: only the outcome,
// its reason, the trigger source, the latency and the request id.
package metrics

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "CognitoMigrate"

// Metric names.
const (
	// Invocations is 1 per invocation (unit Count): its Sum counts them.
	Invocations = "Invocations"
	// Latency is the invocation's time in the handler (unit Milliseconds),
	// from the event's arrival to the answer.
	Latency = "Latency"
)

// Dimension names.
const (
	// Outcome is "migrated", "declined" or "error".
	Outcome = "Outcome"
	// Reason is the decline reason ("bad_credentials", ...), the error kind
	// ("timeout", "throttled", ...), or "migrated".
	Reason = "Reason"
	// TriggerSource is "UserMigration_Authentication",
	// "UserMigration_ForgotPassword", or "unknown" for an event that did
	// not say or named another source.
	TriggerSource = "TriggerSource"
)

// Unknown stands for a dimension value that is missing or not one we know:
// dimension values come only from a short fixed list, because every
// distinct value is a separate, billed CloudWatch metric.
const Unknown = "unknown"

// DimensionSets returns the dimension combinations every metric is
// published under. Each set is a separate CloudWatch metric per distinct
// combination of values (and a custom metric is billed per month), so they
// are few: the total, by outcome, by outcome and reason, and by trigger
// source.
func DimensionSets() [][]string {
	return [][]string{{}, {Outcome}, {Outcome, Reason}, {TriggerSource}}
}

// Invocation is what one invocation reports.
type Invocation struct {
	// TriggerSource is the event's triggerSource ("" when unreadable).
	TriggerSource string
	Outcome       migrate.Outcome
	// Reason is the decline reason or the error kind.
	Reason string
	// Latency is the time the invocation took.
	Latency time.Duration
}

// EMF writes Invocation records in EMF, one JSON line each. It is safe for
// concurrent use (the -listen mode serves invocations in parallel): each
// record is one Write of one whole line.
type EMF struct {
	w   io.Writer
	now func() time.Time
	mu  sync.Mutex
}

// NewEMF returns an EMF writing to w, the function's stdout in Lambda.
func NewEMF(w io.Writer) *EMF {
	return &EMF{w: w, now: time.Now}
}

// record is one EMF document. Field order is fixed, so lines are stable.
type record struct {
	AWS           metadata `json:"_aws"`
	Outcome       string   `json:"Outcome"`
	Reason        string   `json:"Reason"`
	TriggerSource string   `json:"TriggerSource"`
	Invocations   int      `json:"Invocations"`
	Latency       float64  `json:"Latency"`
	// RequestID is a property, not a dimension: it ties the record to the
	// invocation's log line in Logs Insights without creating metrics.
	RequestID string `json:"requestId,omitempty"`
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

var directives = []directive{{
	Namespace:  Namespace,
	Dimensions: DimensionSets(),
	Metrics:    []definition{{Name: Invocations, Unit: "Count"}, {Name: Latency, Unit: "Milliseconds"}},
}}

// Record writes inv's record. A nil EMF records nothing. A failed write is
// dropped: stdout is where it would be reported.
func (e *EMF) Record(ctx context.Context, inv Invocation) {
	if e == nil {
		return
	}
	r := record{
		AWS:           metadata{Timestamp: e.now().UnixMilli(), CloudWatchMetrics: directives},
		Outcome:       outcome(inv.Outcome),
		Reason:        reason(inv.Reason),
		TriggerSource: source(inv.TriggerSource),
		Invocations:   1,
		Latency:       float64(inv.Latency.Microseconds()) / 1000,
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.RequestID = lc.AwsRequestID
	}
	line, err := json.Marshal(r)
	if err != nil {
		return // not reached: every field is a string or a number
	}
	line = append(line, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(line)
}

func outcome(o migrate.Outcome) string {
	if slices.Contains(migrate.Outcomes(), o) {
		return string(o)
	}
	return Unknown
}

func source(s string) string {
	if slices.Contains(migrate.Sources(), s) {
		return s
	}
	return Unknown
}

// reasonShape is what reasons and error kinds look like in the code. The
// check keeps any other text (which could come from outside) out of the
// dimensions.
func reason(s string) string {
	if reasonShape(s) {
		return s
	}
	return Unknown
}

// reasonShape reports whether s is [a-z][a-z0-9_]{0,63}.
func reasonShape(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

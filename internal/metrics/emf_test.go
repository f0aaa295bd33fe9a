package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics/emftest"
)

// lockedBuffer is a bytes.Buffer for concurrent writers that counts Writes.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRecordIsValidEMF(t *testing.T) {
	var out lockedBuffer
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	before := time.Now().UnixMilli()
	metrics.NewEMF(&out).Record(ctx, metrics.Invocation{
		TriggerSource: "UserMigration_Authentication", Outcome: "declined", Reason: "bad_credentials",
		Latency: 41234 * time.Microsecond,
	})
	after := time.Now().UnixMilli()

	if out.writes != 1 || !strings.HasSuffix(out.String(), "}\n") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("want one Write of one line, got %d writes: %q", out.writes, out.String())
	}
	rec, err := emftest.Check(bytes.TrimSuffix([]byte(out.String()), []byte("\n")))
	if err != nil {
		t.Fatalf("Check() = %v\n%s", err, out.String())
	}
	aws := rec["_aws"].(map[string]any)
	if ts, _ := aws["Timestamp"].(json.Number).Int64(); ts < before || ts > after {
		t.Errorf("Timestamp = %d, want between %d and %d", ts, before, after)
	}
	wantDirectives := []any{map[string]any{
		"Namespace":  "CognitoMigrate",
		"Dimensions": []any{[]any{}, []any{"Outcome"}, []any{"Outcome", "Reason"}, []any{"TriggerSource"}},
		"Metrics": []any{
			map[string]any{"Name": "Invocations", "Unit": "Count"},
			map[string]any{"Name": "Latency", "Unit": "Milliseconds"},
		},
	}}
	if diff := cmp.Diff(wantDirectives, aws["CloudWatchMetrics"]); diff != "" {
		t.Errorf("CloudWatchMetrics (-want +got):\n%s", diff)
	}
	delete(rec, "_aws")
	want := map[string]any{
		"Outcome": "declined", "Reason": "bad_credentials", "TriggerSource": "UserMigration_Authentication",
		"Invocations": json.Number("1"), "Latency": json.Number("41.234"), "requestId": "req-1",
	}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

// Dimension values come from short fixed lists: anything else (which could
// come from the event) would make new, billed metrics, or hold personal data.
func TestDimensionValuesAreBounded(t *testing.T) {
	tests := []struct {
		name string
		in   metrics.Invocation
		want [3]string // Outcome, Reason, TriggerSource
	}{
		{"migrated", metrics.Invocation{TriggerSource: "UserMigration_ForgotPassword", Outcome: "migrated", Reason: "migrated"},
			[3]string{"migrated", "migrated", "UserMigration_ForgotPassword"}},
		{"error kind", metrics.Invocation{TriggerSource: "UserMigration_Authentication", Outcome: "error", Reason: "timeout"},
			[3]string{"error", "timeout", "UserMigration_Authentication"}},
		{"unreadable event", metrics.Invocation{Outcome: "error", Reason: "invalid_event"},
			[3]string{"error", "invalid_event", "unknown"}},
		{"another trigger source", metrics.Invocation{TriggerSource: "PostConfirmation_ConfirmSignUp", Outcome: "error", Reason: "invalid_event"},
			[3]string{"error", "invalid_event", "unknown"}},
		{"a companion trigger's source", metrics.Invocation{TriggerSource: "PreSignUp_SignUp", Outcome: "refused", Reason: "old_user_exists"},
			[3]string{"refused", "old_user_exists", "PreSignUp_SignUp"}},
		{"a username where a reason belongs", metrics.Invocation{TriggerSource: "UserMigration_Authentication", Outcome: "declined", Reason: "alice@example.com"},
			[3]string{"declined", "unknown", "UserMigration_Authentication"}},
		{"free text", metrics.Invocation{Outcome: "Migrated!", Reason: "Bad Credentials"},
			[3]string{"unknown", "unknown", "unknown"}},
		{"empty", metrics.Invocation{}, [3]string{"unknown", "unknown", "unknown"}},
		{"too long", metrics.Invocation{Outcome: "error", Reason: strings.Repeat("a", 65)}, [3]string{"error", "unknown", "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			metrics.NewEMF(&out).Record(context.Background(), tt.in)
			recs, _ := emftest.Split(t, out.String())
			if len(recs) != 1 {
				t.Fatalf("got %d records, want 1", len(recs))
			}
			r := recs[0]
			if got := [3]string{r["Outcome"].(string), r["Reason"].(string), r["TriggerSource"].(string)}; got != tt.want {
				t.Errorf("Record(%+v) dimensions = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNilRecordsNothing(t *testing.T) {
	var e *metrics.EMF
	e.Record(context.Background(), metrics.Invocation{Outcome: "migrated"}) // must not panic
}

// In -listen mode invocations run in parallel and the log writes to the
// same stdout: every record must stay one whole line.
func TestConcurrentRecordsStayWholeLines(t *testing.T) {
	var out lockedBuffer
	e := metrics.NewEMF(&out)
	const goroutines, each = 16, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e.Record(context.Background(), metrics.Invocation{
					TriggerSource: "UserMigration_Authentication", Outcome: "migrated", Reason: "migrated",
					Latency: time.Duration(g*each+i) * time.Millisecond,
				})
			}
		})
	}
	wg.Wait()
	recs, others := emftest.Split(t, out.String())
	if len(recs) != goroutines*each || len(others) != 0 {
		t.Errorf("got %d records and %d other lines, want %d records", len(recs), len(others), goroutines*each)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r["Latency"].(json.Number).String()] = true
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct latencies, want %d: records were lost or mixed", len(seen), goroutines*each)
	}
}

// A failing writer does not panic or block the invocation.
func TestWriteErrorIsDropped(t *testing.T) {
	metrics.NewEMF(failingWriter{}).Record(context.Background(), metrics.Invocation{Outcome: "error", Reason: "panic"})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("stdout closed") }

func ExampleEMF_Record() {
	e := metrics.NewEMF(stdoutWithFixedTime{})
	e.Record(context.Background(), metrics.Invocation{
		TriggerSource: "UserMigration_Authentication", Outcome: "migrated", Reason: "migrated", Latency: 41200 * time.Microsecond,
	})
	// Output:
	// {"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"CognitoMigrate","Dimensions":[[],["Outcome"],["Outcome","Reason"],["TriggerSource"]],"Metrics":[{"Name":"Invocations","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"}]}]},"Outcome":"migrated","Reason":"migrated","TriggerSource":"UserMigration_Authentication","Invocations":1,"Latency":41.2}
}

// stdoutWithFixedTime writes to stdout with the timestamp pinned, so the
// example's output is stable.
type stdoutWithFixedTime struct{}

var timestamp = regexp.MustCompile(`"Timestamp":\d+`)

func (stdoutWithFixedTime) Write(p []byte) (int, error) {
	_, err := os.Stdout.Write(timestamp.ReplaceAll(p, []byte(`"Timestamp":1700000000000`)))
	return len(p), err
}

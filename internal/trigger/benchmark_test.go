package trigger_test

// Benchmarks of the per-event CPU path: what one invocation costs besides
// the old pool's round trip. `make bench` runs them (short -benchtime) and
// puts ns/op and allocs/op in its table; compare runs with benchstat.

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/logging"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// benchDecider answers every event with the same decision, at no cost.
type benchDecider struct{ decision migrate.Decision }

func (d benchDecider) Authenticate(context.Context, migrate.Request) (migrate.Decision, error) {
	return d.decision, nil
}

func (d benchDecider) ForgotPassword(context.Context, migrate.Request) (migrate.Decision, error) {
	return d.decision, nil
}

// benchMigrated is a typical migration: what AdminGetUser returns for a user
// with a handful of attributes.
var benchMigrated = migrate.Decision{
	Migrate: true, Reason: migrate.Migrated, Username: "alice",
	Attributes: map[string]string{
		"email": "alice@example.com", "email_verified": "true", "phone_number": "+447700900123",
		"phone_number_verified": "false", "given_name": "Alice", "family_name": "Liddell", "custom:tenant": "acme",
	},
	FinalStatus: migrate.FinalConfirmed,
}

func benchFixture(b *testing.B, name string) []byte {
	b.Helper()
	p, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkDecodeEvent(b *testing.B) {
	in := benchFixture(b, "authentication.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := trigger.DecodeEvent(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeResponse(b *testing.B) {
	ev, err := trigger.DecodeEvent(benchFixture(b, "authentication.json"))
	if err != nil {
		b.Fatal(err)
	}
	resp := trigger.Response{UserAttributes: benchMigrated.Attributes, FinalUserStatus: "CONFIRMED", MessageAction: "SUPPRESS"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ev.Encode(resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvoke is the whole handler, decode to encode and its log line,
// with a decider that costs nothing.
func BenchmarkInvoke(b *testing.B) {
	declined := migrate.Decision{Reason: migrate.BadCredentials}
	for _, bc := range []struct {
		name     string
		fixture  string
		decision migrate.Decision
		opts     []trigger.Option
		log      *slog.Logger
	}{
		// The JSON logger with its redacting filter, as in Lambda.
		{"migrated", "authentication.json", benchMigrated, nil, logging.New(io.Discard, slog.LevelInfo)},
		// The same without logging: the difference is the log line's cost.
		{"migrated-nolog", "authentication.json", benchMigrated, nil, slog.New(slog.DiscardHandler)},
		{"declined", "authentication.json", declined, nil, logging.New(io.Discard, slog.LevelInfo)},
		{"declined-error", "authentication.json", declined, []trigger.Option{trigger.WithDeclineMode(migrate.DeclineError)}, logging.New(io.Discard, slog.LevelInfo)},
		{"forgot-password", "forgot-password.json", migrate.Decision{
			Migrate: true, Reason: migrate.Migrated, Username: "alice", Attributes: benchMigrated.Attributes,
		}, nil, logging.New(io.Discard, slog.LevelInfo)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := trigger.NewHandler(benchDecider{bc.decision}, bc.log, bc.opts...)
			in := benchFixture(b, bc.fixture)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				out, err := h.Invoke(ctx, in)
				if out == nil && err == nil {
					b.Fatal("Invoke returned nothing")
				}
			}
		})
	}
}

// BenchmarkRouterOverhead is what the router adds to a migrate-user event:
// reading its triggerSource.
func BenchmarkRouterOverhead(b *testing.B) {
	h := trigger.NewHandler(benchDecider{benchMigrated}, slog.New(slog.DiscardHandler))
	in := benchFixture(b, "authentication.json")
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		h    interface {
			Invoke(context.Context, []byte) ([]byte, error)
		}
	}{{"handler", h}, {"router", trigger.NewRouter(h, slog.New(slog.DiscardHandler))}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.h.Invoke(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

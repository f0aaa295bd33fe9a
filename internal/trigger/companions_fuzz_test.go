package trigger_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics/emftest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// otherEvents stands for the migrate-user handler, which gets everything
// the router cannot place.
type otherEvents struct{}

func (otherEvents) Invoke(ctx context.Context, payload []byte) ([]byte, error) { return nil, nil }

// FuzzCompanions: whatever a pre token generation or pre sign-up event
// holds, the handlers never panic and write exactly one log line and one
// metric record.
func FuzzCompanions(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "pre-*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"triggerSource":"TokenGeneration_Authentication","request":{"userAttributes":{"custom:legacy_groups":"{\"listFrom\":\"\"}"}}}`))
	f.Add([]byte(`{"triggerSource":"TokenGeneration_Authentication","request":{"userAttributes":{"custom:legacy_groups":7}}}`))
	f.Add([]byte(`{"triggerSource":"PreSignUp_SignUp","request":null}`))
	f.Add([]byte(`{"triggerSource":"PreSignUp_SignUp","request":{"userAttributes":[]}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if !bytes.Contains(payload, []byte("TokenGeneration_")) && !bytes.Contains(payload, []byte("PreSignUp_")) {
			return // the migrate-user handler has its own fuzz test
		}
		var out bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&out, nil))
		emf := metrics.NewEMF(&out)
		old := &finder{users: []migrate.User{{Username: "alice", Status: migrate.StatusConfirmed, Attributes: map[string]string{"email": "alice@example.com"}}}}
		r := trigger.NewRouter(otherEvents{}, log,
			trigger.RouteTokens(trigger.NewPreToken(migrate.NewGroupApplier(&groupPool{}, noOldGroups{}, "custom:legacy_groups", false), log, emf)),
			trigger.RouteSignUps(trigger.NewPreSignUp(migrate.NewSignUpGuard(old, poolConfig{migrate.PoolConfig{AliasAttributes: []string{"email"}}}, ""), "", log, emf)),
			trigger.RouteMetrics(emf))
		_, _ = r.Invoke(context.Background(), payload)
		if peek := string(payload); !strings.Contains(peek, `"triggerSource"`) {
			return
		}
		recs, lines := emftest.Split(t, out.String())
		if len(recs) > 1 || len(lines) > 1 || len(recs) != len(lines) {
			t.Errorf("%d metric records and %d log lines, want at most one each, as many of both:\n%s", len(recs), len(lines), out.String())
		}
	})
}

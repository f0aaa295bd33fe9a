package migrate_test

// Benchmarks of the decision with an in-memory old pool: the CPU the
// decision itself adds to an invocation (the goroutine that sends the two
// old-pool calls at once included). `make bench` runs them.

import (
	"context"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// memPool answers at once, always the same, and records nothing.
type memPool struct {
	signIn    migrate.SignIn
	signInErr error
	user      migrate.User
}

func (p memPool) SignIn(context.Context, string, string) (migrate.SignIn, error) {
	return p.signIn, p.signInErr
}

func (p memPool) GetUser(context.Context, string) (migrate.User, error) {
	// A copy of what AdminGetUser's adapter builds for every call.
	u := p.user
	attrs := make(map[string]string, len(u.Attributes))
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	u.Attributes = attrs
	return u, nil
}

var benchUser = migrate.User{
	Username: "alice", Enabled: true, Status: migrate.StatusConfirmed,
	Attributes: map[string]string{
		"sub": "0b6f4c9e-0000-4000-8000-000000000001", "email": "alice@example.com", "email_verified": "true",
		"phone_number": "+447700900123", "phone_number_verified": "false", "given_name": "Alice",
		"family_name": "Liddell", "custom:tenant": "acme",
	},
}

// memNewPool is a username pool with the standard schema and custom:tenant.
type memNewPool struct{}

func (memNewPool) Config(context.Context, string) (migrate.PoolConfig, error) {
	return benchPoolConfig, nil
}

var benchPoolConfig = migrate.PoolConfig{Attributes: map[string]migrate.AttributeSpec{
	"sub": {Required: true}, "email": {}, "email_verified": {}, "given_name": {}, "family_name": {},
	"phone_number": {}, "phone_number_verified": {}, "custom:tenant": {},
}, CaseSensitive: true, MFA: "OFF"}

func BenchmarkAuthenticate(b *testing.B) {
	for _, bc := range []struct {
		name string
		pool memPool
		want migrate.Reason
	}{
		{"migrated", memPool{user: benchUser}, migrate.Migrated},
		{"bad-credentials", memPool{signInErr: migrate.ErrBadCredentials, user: benchUser}, migrate.BadCredentials},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := migrate.New(bc.pool, memNewPool{}, migrate.Rules{})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				d, err := m.Authenticate(ctx, migrate.Request{NewPoolID: "p", Username: "alice", Password: "Tr0ub4dor&3"})
				if err != nil || d.Reason != bc.want {
					b.Fatalf("Authenticate = %+v, %v; want %s", d, err, bc.want)
				}
			}
		})
	}
}

func BenchmarkForgotPassword(b *testing.B) {
	m := migrate.New(memPool{user: benchUser}, memNewPool{}, migrate.Rules{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d, err := m.ForgotPassword(ctx, migrate.Request{NewPoolID: "p", Username: "alice"}); err != nil || !d.Migrate {
			b.Fatalf("ForgotPassword = %+v, %v; want a migration", d, err)
		}
	}
}

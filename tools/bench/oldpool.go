package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// Pools and clients of the benchmark.
const (
	FakePoolID   = "eu-west-1_BenchOld1"
	FakeClientID = "bencholdclient0000000001"
	NewPoolID    = "eu-central-1_BenchNew1"
	NewClientID  = "benchnewclient0000000001"
)

// User is a user of the old pool.
type User struct {
	Username, Password string
	Attributes         map[string]string
}

// OldPool is the old user pool the function calls, with an injected
// round-trip delay.
type OldPool interface {
	// Name says what serves the pool, for the report.
	Name() string
	// Endpoint is the URL for OLD_USER_POOL_ENDPOINT.
	Endpoint() string
	PoolID() string
	ClientID() string
	SetDelay(time.Duration)
	// Calls are the requests received so far, timed by the pool.
	Calls() []Call
	// Conns is how many connections have been opened to it so far.
	Conns() int64
	AddUsers(ctx context.Context, users []User) error
	Close()
}

// FakePool is the SDK-level fake (internal/cognitotest): it answers in
// microseconds, so the injected delay is nearly all there is.
type FakePool struct {
	fake  *cognitotest.Fake
	stop  func()
	conns atomic.Int64
}

// NewFakePool starts the fake with one pool and one app client that allows
// ADMIN_USER_PASSWORD_AUTH.
func NewFakePool() *FakePool {
	p := &FakePool{}
	p.fake, p.stop = cognitotest.NewServer(cognitotest.ServerOptions{
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				p.conns.Add(1)
			}
		},
	})
	p.fake.AddPool(cognitotest.Pool{ID: FakePoolID})
	p.fake.AddClient(cognitotest.AppClient{PoolID: FakePoolID, ID: FakeClientID, Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	return p
}

func (p *FakePool) Name() string             { return "SDK-level fake" }
func (p *FakePool) Endpoint() string         { return p.fake.URL }
func (p *FakePool) PoolID() string           { return FakePoolID }
func (p *FakePool) ClientID() string         { return FakeClientID }
func (p *FakePool) SetDelay(d time.Duration) { p.fake.SetLatency(d) }
func (p *FakePool) Conns() int64             { return p.conns.Load() }
func (p *FakePool) Close()                   { p.stop() }

func (p *FakePool) Calls() []Call {
	var out []Call
	for _, c := range p.fake.Calls() {
		out = append(out, Call{Service: "old pool", Op: c.Operation, Status: c.Status, Start: c.Start, End: c.End})
	}
	return out
}

func (p *FakePool) AddUsers(_ context.Context, users []User) error {
	for _, u := range users {
		p.fake.AddUser(FakePoolID, cognitotest.User{Username: u.Username, Password: u.Password, Attributes: u.Attributes,
			Enabled: true, Status: "CONFIRMED"})
	}
	return nil
}

// LocalPool is cognito-local behind a delaying proxy: slower than the
// fake (Node.js, tokens signed with RSA, a JSON file for a database), and
// closer to a real service's own cost.
type LocalPool struct {
	inst     *cognitolocal.Instance
	proxy    *Endpoint
	client   *cip.Client
	poolID   string
	clientID string
}

// NewLocalPool starts cognito-local (installed by `make tools`) with one
// pool and one app client that allows ADMIN_USER_PASSWORD_AUTH.
func NewLocalPool(ctx context.Context) (*LocalPool, error) {
	inst, err := cognitolocal.Start(ctx, cognitolocal.Options{})
	if err != nil {
		return nil, err
	}
	p := &LocalPool{inst: inst, client: inst.Client()}
	if p.proxy, err = NewProxy("old pool", inst.URL); err != nil {
		p.Close()
		return nil, err
	}
	pool, err := p.client.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("bench-old-pool"),
		Schema: []types.SchemaAttributeType{{
			Name: aws.String("tenant"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true),
		}},
	})
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("cognito-local: create user pool: %w", err)
	}
	p.poolID = aws.ToString(pool.UserPool.Id)
	client, err := p.client.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(p.poolID), ClientName: aws.String("bench"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth},
	})
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("cognito-local: create app client: %w", err)
	}
	p.clientID = aws.ToString(client.UserPoolClient.ClientId)
	return p, nil
}

func (p *LocalPool) Name() string             { return "cognito-local" }
func (p *LocalPool) Endpoint() string         { return p.proxy.URL }
func (p *LocalPool) PoolID() string           { return p.poolID }
func (p *LocalPool) ClientID() string         { return p.clientID }
func (p *LocalPool) SetDelay(d time.Duration) { p.proxy.SetDelay(d) }
func (p *LocalPool) Calls() []Call            { return p.proxy.Calls() }
func (p *LocalPool) Conns() int64             { return p.proxy.Conns() }

func (p *LocalPool) Close() {
	if p.proxy != nil {
		p.proxy.Close()
	}
	_ = p.inst.Stop()
}

// AddUsers creates confirmed users with permanent passwords, directly (not
// through the proxy, so setting up is not delayed or recorded).
func (p *LocalPool) AddUsers(ctx context.Context, users []User) error {
	for _, u := range users {
		var attrs []types.AttributeType
		for k, v := range u.Attributes {
			attrs = append(attrs, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
		}
		if _, err := p.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(p.poolID), Username: aws.String(u.Username),
			UserAttributes: attrs, MessageAction: types.MessageActionTypeSuppress,
		}); err != nil {
			return fmt.Errorf("cognito-local: create %s: %w", u.Username, err)
		}
		if _, err := p.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
			UserPoolId: aws.String(p.poolID), Username: aws.String(u.Username),
			Password: aws.String(u.Password), Permanent: true,
		}); err != nil {
			return fmt.Errorf("cognito-local: set password of %s: %w", u.Username, err)
		}
	}
	return nil
}

// users makes n users named prefix-0001..., each with the attributes a
// typical account has.
func users(prefix string, n int) []User {
	out := make([]User, n)
	for i := range out {
		name := fmt.Sprintf("%s-%04d", prefix, i+1)
		out[i] = User{
			Username: name,
			Password: "Bench-Passw0rd!" + name,
			Attributes: map[string]string{
				"email": name + "@example.com", "email_verified": "true",
				"phone_number": fmt.Sprintf("+4477009%05d", i), "phone_number_verified": "false",
				"given_name": "Bench", "family_name": fmt.Sprintf("User %d", i+1), "custom:tenant": "acme",
			},
		}
	}
	return out
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
)

// The role the function assumes in the cold starts "with an assumed role".
const (
	RoleARN    = "arn:aws:iam::111111111111:role/cognito-migrate-old-pool"
	ExternalID = "bench-external-id"
)

// Harness runs the function against local services and measures it.
type Harness struct {
	// Bootstrap is the built function.
	Bootstrap string
	// Env is added to the function's environment (KEY=VALUE).
	Env []string
	// Own answers the calls the function makes in its own account (the new
	// pool's DescribeUserPool); STS answers AssumeRole. Both get the same
	// injected delay as the old pool.
	Own, STS *Endpoint
	// Invoker calls the function.
	Invoker *Invoker
	// Progress receives a line per step; nil discards.
	Progress io.Writer
}

// NewSTS starts awstest's fake STS, allowing RoleARN with ExternalID,
// behind a delaying Endpoint. stop stops both.
func NewSTS() (sts *Endpoint, stop func(), err error) {
	tb := &processTB{}
	s := awstest.NewSTS(tb)
	s.AllowRole(RoleARN, ExternalID)
	proxy, err := NewProxy("sts", s.URL)
	if err != nil {
		tb.close()
		return nil, nil, err
	}
	return proxy, func() { proxy.Close(); tb.close() }, nil
}

func (h *Harness) progress(format string, args ...any) {
	if h.Progress != nil {
		fmt.Fprintf(h.Progress, format+"\n", args...)
	}
}

// env is the function's whole environment: the old pool, fixed
// credentials and region, every AWS endpoint on loopback (nothing may
// leave the machine), and the role when asked for.
func (h *Harness) env(pool OldPool, role bool) []string {
	env := []string{
		"OLD_USER_POOL_ID=" + pool.PoolID(),
		"OLD_CLIENT_ID=" + pool.ClientID(),
		"OLD_USER_POOL_ENDPOINT=" + pool.Endpoint(),
		// As the template sets it: start-up reads the new pool.
		"NEW_USER_POOL_ID=" + NewPoolID,
		"AWS_ACCESS_KEY_ID=AKIDBENCHFUNCTION",
		"AWS_SECRET_ACCESS_KEY=bench-function-secret",
		"AWS_REGION=eu-central-1",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=" + h.Own.URL,
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + h.Own.URL,
		"AWS_ENDPOINT_URL_STS=" + h.STS.URL,
	}
	if role {
		env = append(env, "OLD_ROLE_ARN="+RoleARN, "OLD_EXTERNAL_ID="+ExternalID)
	}
	return append(env, h.Env...)
}

func (h *Harness) setDelay(pool OldPool, d time.Duration) {
	pool.SetDelay(d)
	h.Own.SetDelay(d)
	h.STS.SetDelay(d)
}

func (h *Harness) calls(pool OldPool) []Call {
	calls := pool.Calls()
	calls = append(calls, h.Own.Calls()...)
	return append(calls, h.STS.Calls()...)
}

// WarmResult is a warm process's migrations at one delay.
type WarmResult struct {
	OldPool string  `json:"oldPool"`
	DelayMs float64 `json:"delayMs"`
	// Migration is each measured migration, invoke to answer, as the
	// caller (Cognito) waits for it.
	Migration Stats `json:"migration"`
	// InFunction is the function's own durationMs for those migrations.
	InFunction Stats `json:"inFunction"`
	// Floor is a bare request (AdminInitiateAuth, no SDK, no function) to
	// the same old-pool endpoint at the same delay: one round trip.
	Floor Stats `json:"floor"`
	// NoCall is an invocation that needs no old-pool call (an empty
	// password): the invoke hop and the function's own work.
	NoCall Stats `json:"noCall"`
	// OverFloorP50 is Migration.P50 - Floor.P50.
	OverFloorP50 float64 `json:"overFloorP50Ms"`
	// Calls are the calls made during the measured migrations, and
	// NoCallCalls during the no-call invocations (0 expected).
	Calls       CallStats `json:"calls"`
	NoCallCalls CallStats `json:"noCallCalls"`
	// NewConnections is how many connections to the old pool were opened
	// during the measured migrations (after the warm-up).
	NewConnections int64 `json:"newConnections"`
	PeakRSSBytes   int64 `json:"peakRssBytes"`
	// Slowest are the slowest migrations and their calls.
	Slowest []Slow `json:"slowest"`
}

// Warm starts the function, migrates warmUp users, then measures one
// migration per user of measured, each interleaved with a bare floor
// request and a no-call invocation so that all three see the same machine.
// Invocations are sequential: this is latency, not throughput.
func (h *Harness) Warm(ctx context.Context, pool OldPool, delay time.Duration, warmUp, measured []User) (WarmResult, error) {
	res := WarmResult{OldPool: pool.Name(), DelayMs: ms(delay)}
	h.setDelay(pool, delay)
	fn, err := StartFunction(ctx, h.Bootstrap, h.env(pool, false))
	if err != nil {
		return res, err
	}
	defer fn.Stop()
	defer h.Invoker.CloseIdle()
	fail := func(err error) (WarmResult, error) {
		return res, fmt.Errorf("%w\nfunction output:\n%s", err, fn.Output())
	}

	for _, u := range warmUp {
		if _, err := h.migrate(ctx, fn.URL, u); err != nil {
			return fail(err)
		}
	}
	floor := newBareRequest(pool, warmUp[0])
	defer floor.close()
	if _, err := floor.do(ctx); err != nil { // opens its connection
		return fail(err)
	}
	conns := pool.Conns()

	var migrations, floors, noCalls []time.Duration
	var windows, noCallWindows []Window
	for i, u := range measured {
		if i%100 == 0 {
			h.progress("  %s, %v delay: %d/%d", pool.Name(), delay, i, len(measured))
		}
		d, err := floor.do(ctx)
		if err != nil {
			return fail(err)
		}
		floors = append(floors, d)

		start := time.Now()
		if _, err := h.Invoker.Invoke(ctx, fn.URL, event(u.Username, "")); err != nil {
			return fail(fmt.Errorf("no-call invocation: %w", err))
		}
		end := time.Now()
		noCalls = append(noCalls, end.Sub(start))
		noCallWindows = append(noCallWindows, Window{start, end})

		w, err := h.migrate(ctx, fn.URL, u)
		if err != nil {
			return fail(err)
		}
		migrations = append(migrations, w.End.Sub(w.Start))
		windows = append(windows, w)
	}
	res.NewConnections = pool.Conns() - conns
	if res.PeakRSSBytes, err = fn.PeakRSS(); err != nil {
		return fail(err)
	}
	fn.Stop() // and read its last log lines

	res.Migration = Summarize(migrations)
	res.Floor = Summarize(floors)
	res.NoCall = Summarize(noCalls)
	res.OverFloorP50 = res.Migration.P50 - res.Floor.P50
	calls := h.calls(pool)
	res.Calls = Attribute(windows, calls)
	res.NoCallCalls = Attribute(noCallWindows, calls)
	res.Slowest = Slowest(windows, calls, 3)
	durations := fn.Durations()
	var inFn []time.Duration
	for _, u := range measured {
		if d, ok := durations[u.Username]; ok {
			inFn = append(inFn, time.Duration(d*float64(time.Millisecond)))
		}
	}
	res.InFunction = Summarize(inFn)
	return res, nil
}

// migrate invokes a sign-in for u and checks that the answer migrates u.
func (h *Harness) migrate(ctx context.Context, url string, u User) (Window, error) {
	start := time.Now()
	out, err := h.Invoker.Invoke(ctx, url, event(u.Username, u.Password))
	end := time.Now()
	if err != nil {
		return Window{}, fmt.Errorf("migrate %s: %w", u.Username, err)
	}
	if err := checkMigrated(out, u); err != nil {
		return Window{}, err
	}
	return Window{start, end}, nil
}

// ColdResult is cold starts with one setting.
type ColdResult struct {
	DelayMs float64 `json:"delayMs"`
	Role    bool    `json:"assumedRole"`
	// Total is process start to the first migration answered; Init is
	// process start to listening (everything main does before serving);
	// First is the first invocation.
	Total Stats `json:"total"`
	Init  Stats `json:"init"`
	First Stats `json:"first"`
	// Calls are the calls made from process start to the answer.
	Calls   CallStats `json:"calls"`
	Slowest []Slow    `json:"slowest"`
	// RoundTrips is how many round trips a cold start needs at the least:
	// the old-pool calls (together), and AssumeRole before them.
	RoundTrips   int   `json:"roundTripsNeeded"`
	PeakRSSBytes int64 `json:"peakRssBytes"`
}

// Cold starts a fresh process for each user and migrates that user first.
func (h *Harness) Cold(ctx context.Context, pool OldPool, delay time.Duration, role bool, us []User) (ColdResult, error) {
	res := ColdResult{DelayMs: ms(delay), Role: role, RoundTrips: 1}
	if role {
		res.RoundTrips = 2
	}
	h.setDelay(pool, delay)
	var total, initd, first []time.Duration
	var windows []Window
	for _, u := range us {
		fn, err := StartFunction(ctx, h.Bootstrap, h.env(pool, role))
		if err != nil {
			return res, err
		}
		w, err := h.migrate(ctx, fn.URL, u)
		if err != nil {
			fn.Stop()
			return res, fmt.Errorf("%w\nfunction output:\n%s", err, fn.Output())
		}
		rss, err := fn.PeakRSS()
		fn.Stop()
		h.Invoker.CloseIdle()
		if err != nil {
			return res, err
		}
		res.PeakRSSBytes = max(res.PeakRSSBytes, rss)
		total = append(total, w.End.Sub(fn.Started))
		initd = append(initd, fn.Listening.Sub(fn.Started))
		first = append(first, w.End.Sub(w.Start))
		windows = append(windows, Window{fn.Started, w.End})
	}
	res.Total = Summarize(total)
	res.Init = Summarize(initd)
	res.First = Summarize(first)
	calls := h.calls(pool)
	res.Calls = Attribute(windows, calls)
	res.Slowest = Slowest(windows, calls, 2)
	return res, nil
}

// event is a UserMigration_Authentication event as Cognito sends it.
func event(username, password string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version":       "1",
		"triggerSource": "UserMigration_Authentication",
		"region":        "eu-central-1",
		"userPoolId":    NewPoolID,
		"userName":      username,
		"callerContext": map[string]any{"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": NewClientID},
		"request":       map[string]any{"password": password, "validationData": nil, "userAttributes": nil},
		"response": map[string]any{"userAttributes": nil, "forceAliasCreation": nil, "enableSMSMFA": nil,
			"finalUserStatus": nil, "messageAction": nil, "desiredDeliveryMediums": nil},
	})
	return b
}

// checkMigrated checks that a function's answer migrates u as CONFIRMED
// with u's email.
func checkMigrated(out []byte, u User) error {
	var ev struct {
		Response struct {
			UserAttributes  map[string]string `json:"userAttributes"`
			FinalUserStatus string            `json:"finalUserStatus"`
		} `json:"response"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		return fmt.Errorf("migrate %s: answer is not an event: %v", u.Username, err)
	}
	r := ev.Response
	if r.FinalUserStatus != "CONFIRMED" || r.UserAttributes["email"] != u.Attributes["email"] {
		return fmt.Errorf("migrate %s: not migrated as CONFIRMED with its email: %s", u.Username, out)
	}
	return nil
}

// bareRequest is one AdminInitiateAuth for a real user, sent with plain
// net/http over a kept-alive connection: no SDK, no signature, no function.
type bareRequest struct {
	client *http.Client
	url    string
	body   []byte
}

func newBareRequest(pool OldPool, u User) *bareRequest {
	body, _ := json.Marshal(map[string]any{
		"UserPoolId": pool.PoolID(), "ClientId": pool.ClientID(), "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
		"AuthParameters": map[string]string{"USERNAME": u.Username, "PASSWORD": u.Password},
	})
	return &bareRequest{
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}},
		url:    pool.Endpoint(),
		body:   body,
	}
}

func (b *bareRequest) do(ctx context.Context) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(b.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.AdminInitiateAuth")
	start := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bare request: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("bare request: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("AuthenticationResult")) {
		return 0, fmt.Errorf("bare request: HTTP %d: %.200s", resp.StatusCode, body)
	}
	return took, nil
}

func (b *bareRequest) close() { b.client.CloseIdleConnections() }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

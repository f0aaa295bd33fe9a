package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as a stand-in for bootstrap -listen, so the
// harness (process start, the "listening" line, Invoke API, log lines,
// VmHWM, call records) runs end to end in well under a second, without
// building the real function. It answers a sign-in the way the function
// does: AdminInitiateAuth and AdminGetUser sent together.
const standInEnv = "COGNITO_MIGRATE_BENCH_STAND_IN"

func TestMain(m *testing.M) {
	if os.Getenv(standInEnv) == "1" {
		os.Exit(standIn())
	}
	os.Exit(m.Run())
}

func standIn() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	logLine := func(v map[string]any) {
		b, _ := json.Marshal(v)
		mu.Lock()
		defer mu.Unlock()
		fmt.Println(string(b))
	}
	logLine(map[string]any{"message": "local invoke server listening", "url": "http://" + ln.Addr().String() + "/2015-03-31/functions/migrate-trigger/invocations"})
	oldPool := os.Getenv("OLD_USER_POOL_ENDPOINT")
	call := func(op string, in map[string]any) (map[string]any, error) {
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest(http.MethodPost, oldPool, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: HTTP %d %v", op, resp.StatusCode, out)
		}
		return out, nil
	}
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var ev map[string]any
		_ = json.NewDecoder(r.Body).Decode(&ev)
		user, _ := ev["userName"].(string)
		password, _ := ev["request"].(map[string]any)["password"].(string)
		if password == "" {
			logLine(map[string]any{"message": "user migration", "outcome": "declined", "userName": user, "durationMs": 0.1})
			_ = json.NewEncoder(w).Encode(ev)
			return
		}
		pool, client := os.Getenv("OLD_USER_POOL_ID"), os.Getenv("OLD_CLIENT_ID")
		var got map[string]any
		var getErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			got, getErr = call("AdminGetUser", map[string]any{"UserPoolId": pool, "Username": user})
		}()
		_, authErr := call("AdminInitiateAuth", map[string]any{"UserPoolId": pool, "ClientId": client,
			"AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "AuthParameters": map[string]string{"USERNAME": user, "PASSWORD": password}})
		<-done
		if authErr != nil || getErr != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			fmt.Fprintf(w, `{"errorMessage":%q}`, fmt.Sprint(authErr, getErr))
			return
		}
		attrs := map[string]string{}
		for _, a := range got["UserAttributes"].([]any) {
			a := a.(map[string]any)
			attrs[a["Name"].(string)] = a["Value"].(string)
		}
		ev["response"] = map[string]any{"userAttributes": attrs, "finalUserStatus": "CONFIRMED", "messageAction": "SUPPRESS"}
		_ = json.NewEncoder(w).Encode(ev)
		logLine(map[string]any{"message": "user migration", "outcome": "migrated", "userName": user,
			"durationMs": float64(time.Since(start).Microseconds()) / 1000})
	}))
	fmt.Fprintln(os.Stderr, err)
	return 1
}

func standInHarness(t *testing.T) (*Harness, *FakePool) {
	t.Helper()
	pool := NewFakePool()
	t.Cleanup(pool.Close)
	own := NewEndpoint("new pool", NewPoolHandler())
	t.Cleanup(own.Close)
	sts, stop, err := NewSTS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return &Harness{Bootstrap: os.Args[0], Env: []string{standInEnv + "=1"}, Own: own, STS: sts, Invoker: NewInvoker(10 * time.Second)}, pool
}

func TestWarmMeasuresEveryMigration(t *testing.T) {
	h, pool := standInHarness(t)
	warmUp, measured := users("up", 2), users("m", 5)
	if err := pool.AddUsers(context.Background(), append(warmUp, measured...)); err != nil {
		t.Fatal(err)
	}
	res, err := h.Warm(context.Background(), pool, 0, warmUp, measured)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]int{
		"migrations": res.Migration.N, "floors": res.Floor.N, "no-call invocations": res.NoCall.N,
		"in-function durations": res.InFunction.N, "migrations with calls": res.Calls.Invocations,
	} {
		if got != len(measured) {
			t.Errorf("%s measured = %d, want %d", name, got, len(measured))
		}
	}
	if res.Calls.Mean != 2 || res.Calls.ByOp["old pool AdminInitiateAuth"] != 1 || res.Calls.ByOp["old pool AdminGetUser"] != 1 {
		t.Errorf("calls per migration = %v %v, want AdminInitiateAuth 1 + AdminGetUser 1", res.Calls.Mean, res.Calls.ByOp)
	}
	if res.NoCallCalls.Max != 0 {
		t.Errorf("no-call invocations made calls: %v", res.NoCallCalls.ByOp)
	}
	if res.PeakRSSBytes <= 0 || res.OldPool != "SDK-level fake" {
		t.Errorf("result = %+v", res)
	}
}

func TestColdStartsAFreshProcessPerUser(t *testing.T) {
	h, pool := standInHarness(t)
	us := users("cold", 2)
	if err := pool.AddUsers(context.Background(), us); err != nil {
		t.Fatal(err)
	}
	res, err := h.Cold(context.Background(), pool, 0, true, us)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.N != 2 || res.Init.N != 2 || res.RoundTrips != 2 || res.Calls.Mean != 2 {
		t.Errorf("cold result = %+v", res)
	}
	if res.Init.Min <= 0 || res.Total.Min < res.Init.Min {
		t.Errorf("init %v, total %v: want 0 < init <= total", res.Init, res.Total)
	}
}

func TestWarmReportsAFunctionThatDoesNotMigrate(t *testing.T) {
	h, pool := standInHarness(t)
	us := users("nobody", 2) // not in the old pool: the stand-in fails
	_, err := h.Warm(context.Background(), pool, 0, us[:1], us[1:])
	if err == nil {
		t.Fatal("Warm succeeded for users the old pool does not have")
	}
}

func TestStartFunctionReportsAnEarlyExit(t *testing.T) {
	// The test binary without the stand-in variable runs its tests with
	// "-listen": an unknown flag, so it exits at once.
	_, err := StartFunction(context.Background(), os.Args[0], []string{"GOFLAGS="})
	if err == nil {
		t.Fatal("StartFunction succeeded for a process that exits")
	}
}

func TestEndpointRecordsAndForwards(t *testing.T) {
	var got []byte
	backend := NewEndpoint("backend", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer backend.Close()
	proxy, err := NewProxy("sts", backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()

	body := "Action=AssumeRole&RoleArn=x&Version=2011-06-15"
	resp, err := http.Post(proxy.URL, "application/x-www-form-urlencoded", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodPost, proxy.URL, bytes.NewBufferString("{}"))
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.AdminGetUser")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if string(got) != "{}" {
		t.Errorf("backend got %q, want the last body forwarded whole", got)
	}
	calls := proxy.Calls()
	if len(calls) != 2 || calls[0].Op != "AssumeRole" || calls[1].Op != "AdminGetUser" || calls[0].Service != "sts" {
		t.Errorf("calls = %+v, want AssumeRole then AdminGetUser", calls)
	}
	if proxy.Conns() < 1 || calls[0].End.Before(calls[0].Start) {
		t.Errorf("conns = %d, calls = %+v", proxy.Conns(), calls)
	}
}

func TestNewPoolHandler(t *testing.T) {
	e := NewEndpoint("new pool", NewPoolHandler())
	defer e.Close()
	for op, want := range map[string]int{"DescribeUserPool": http.StatusOK, "AdminCreateUser": http.StatusBadRequest} {
		req, _ := http.NewRequest(http.MethodPost, e.URL, bytes.NewBufferString("{}"))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Errorf("%s: answer is not JSON: %v", op, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: HTTP %d, want %d", op, resp.StatusCode, want)
		}
	}
}

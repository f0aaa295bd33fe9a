package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Endpoint is a loopback HTTP service for the function to call: it waits
// the injected delay before handling each request (the round trip to a
// remote region), records every call, and counts the connections opened to
// it.
type Endpoint struct {
	// URL is the endpoint's base URL.
	URL string

	service string
	srv     *httptest.Server
	delay   atomic.Int64 // nanoseconds
	conns   atomic.Int64

	mu    sync.Mutex
	calls []Call
}

// NewEndpoint serves h behind the delay, naming its calls service.
func NewEndpoint(service string, h http.Handler) *Endpoint {
	e := &Endpoint{service: service}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		op := operation(r)
		if d := time.Duration(e.delay.Load()); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		e.mu.Lock()
		e.calls = append(e.calls, Call{Service: service, Op: op, Status: sw.status, Start: start, End: time.Now()})
		e.mu.Unlock()
	}))
	e.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			e.conns.Add(1)
		}
	}
	e.srv.Start()
	e.URL = e.srv.URL
	return e
}

// statusWriter remembers the status sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets the reverse proxy flush through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// NewProxy is an Endpoint that forwards every request to target.
func NewProxy(service, target string) (*Endpoint, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("proxy to %q: %w", target, err)
	}
	return NewEndpoint(service, httputil.NewSingleHostReverseProxy(u)), nil
}

// SetDelay sets the delay added to every request from now on.
func (e *Endpoint) SetDelay(d time.Duration) { e.delay.Store(int64(d)) }

// Calls returns the calls recorded so far.
func (e *Endpoint) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// Conns is how many connections clients have opened so far.
func (e *Endpoint) Conns() int64 { return e.conns.Load() }

// Close stops the endpoint.
func (e *Endpoint) Close() { e.srv.Close() }

// operation names a request: the X-Amz-Target operation of JSON protocols,
// or the Action of query protocols (STS), whose body is put back.
func operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		_, op, _ := strings.Cut(t, ".")
		return op
	}
	if r.Body == nil {
		return r.Method + " " + r.URL.Path
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if q, err := url.ParseQuery(string(body)); err == nil && q.Get("Action") != "" {
		return q.Get("Action")
	}
	return r.Method + " " + r.URL.Path
}

// NewPoolHandler answers the calls the function makes in its own account:
// DescribeUserPool of the new pool (a username pool with the standard
// schema and custom:tenant, like the rehearsal's), and for anything else a
// modeled error, so an unexpected call shows in the records instead of
// leaving the machine.
func NewPoolHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if operation(r) == "DescribeUserPool" {
			_, _ = io.WriteString(w, describeUserPool)
			return
		}
		w.Header().Set("X-Amzn-Errortype", "UnknownOperationException")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"UnknownOperationException","message":"cognito-migrate bench: not served"}`)
	})
}

// describeUserPool is the new pool's description.
var describeUserPool = func() string {
	var attrs []string
	for _, n := range []string{"sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale",
		"phone_number", "phone_number_verified", "address", "updated_at", "custom:tenant"} {
		attrs = append(attrs, fmt.Sprintf(`{"Name":%q,"AttributeDataType":"String","Mutable":true,"Required":%t}`, n, n == "sub"))
	}
	return `{"UserPool":{"Id":"` + NewPoolID + `","Name":"new-pool","MfaConfiguration":"OFF",` +
		`"UsernameConfiguration":{"CaseSensitive":false},` +
		`"Policies":{"PasswordPolicy":{"MinimumLength":8,"RequireUppercase":true,"RequireLowercase":true,"RequireNumbers":true,"RequireSymbols":true}},` +
		`"SchemaAttributes":[` + strings.Join(attrs, ",") + `]}}`
}()

// processTB lets awstest's fakes, which take a testing.TB, run in a program:
// they call only Helper and Cleanup, and Fatalf on misuse. The embedded nil
// testing.TB supplies the unexported method; any other method panics.
type processTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
}

func (*processTB) Helper() {}

func (t *processTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (*processTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// close runs the cleanups, last first.
func (t *processTB) close() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

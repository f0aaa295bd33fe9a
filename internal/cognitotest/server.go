package cognitotest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// ServerOptions configure a Fake started outside a test with NewServer.
type ServerOptions struct {
	// ConnState, when set, is the server's http.Server.ConnState hook: a
	// benchmark counts the connections clients open with it.
	ConnState func(net.Conn, http.ConnState)
}

// NewServer starts a Fake outside a test, for benchmarks and local tools
// (cmd/bench). It behaves as New's does, except that misuse which would fail
// a test (a duplicate pool, a user of an unknown pool) panics. Call stop to
// shut it down; hanging handlers are released first.
func NewServer(opts ServerOptions) (f *Fake, stop func()) {
	f = &Fake{
		tb:      panicTB{},
		done:    make(chan struct{}),
		pools:   make(map[string]*poolState),
		clients: make(map[string]AppClient),
		faults:  make(map[string]*Fault),
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serveHTTP))
	f.srv.Config.ConnState = opts.ConnState
	f.srv.Start()
	f.URL = f.srv.URL
	return f, func() {
		close(f.done)
		f.srv.Close()
	}
}

// panicTB stands in for a test outside one: the Fake only calls Helper and
// Fatalf on it. The embedded nil testing.TB supplies the unexported method;
// any other method would panic, as Fatalf does.
type panicTB struct{ testing.TB }

func (panicTB) Helper() {}

func (panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

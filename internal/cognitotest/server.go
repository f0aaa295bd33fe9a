package cognitotest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
)

// ServerOptions configure a Fake started with Start or NewServer.
type ServerOptions struct {
	// ConnState, when set, is the server's http.Server.ConnState hook: a
	// benchmark counts the connections clients open with it.
	ConnState func(net.Conn, http.ConnState)
}

// Start starts a Fake on a local port (127.0.0.1, or [::1] where IPv4 is not
// available), for programs such as benchmarks and local tools; the caller
// stops it with Close. It behaves as New's does, except that misuse which
// would fail a test (a duplicate pool, a user of an unknown pool) panics.
func Start(opts ServerOptions) (*Fake, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			return nil, fmt.Errorf("start fake Cognito: listen on a local port: %w", err)
		}
	}
	f := &Fake{
		done:    make(chan struct{}),
		pools:   make(map[string]*poolState),
		clients: make(map[string]AppClient),
		faults:  make(map[string]*Fault),
		admin:   newAdminState(),
		list:    newListState(),
	}
	f.srv = &httptest.Server{
		Listener: l,
		Config:   &http.Server{Handler: http.HandlerFunc(f.serveHTTP), ConnState: opts.ConnState},
	}
	f.srv.Start()
	f.URL = f.srv.URL
	return f, nil
}

// NewServer is Start for callers that treat a failure to listen as fatal (it
// panics then, as httptest.NewServer does); stop is f.Close.
func NewServer(opts ServerOptions) (f *Fake, stop func()) {
	f, err := Start(opts)
	if err != nil {
		panic(err)
	}
	return f, f.Close
}

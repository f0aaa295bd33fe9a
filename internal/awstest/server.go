package awstest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// startServer starts an HTTP server for h on a local port (127.0.0.1, or
// [::1] where IPv4 is not available), as httptest.NewServer does, but
// returns an error rather than panicking when it cannot listen.
func startServer(what string, h http.Handler) (*httptest.Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			return nil, fmt.Errorf("start fake %s: listen on a local port: %w", what, err)
		}
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	return srv, nil
}

// misuse reports a wrong use of a fake's API: it fails the test of a fake
// made by a New function (tb != nil), and panics in one made by a Start
// function, where misuse is a bug in the program (as a bad pattern is for
// regexp.MustCompile).
func misuse(tb testing.TB, format string, args ...any) {
	if tb != nil {
		tb.Helper()
		tb.Fatalf(format, args...)
		return
	}
	panic(fmt.Sprintf(format, args...))
}

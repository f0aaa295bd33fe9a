package invoke_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-migrate/cognito-migrate/internal/invoke"
)

// echo answers its payload, fails on "fail", and reports the request id it saw.
type echo struct{ sawRequestID string }

func (e *echo) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		e.sawRequestID = lc.AwsRequestID
	}
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("no deadline")
	}
	switch string(payload) {
	case `"fail"`:
		return nil, messages.InvokeResponse_Error{Type: "UserMigrationDeclined", Message: "Incorrect username or password."}
	case `"plain"`:
		return nil, errors.New("plain error")
	}
	return payload, nil
}

func post(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestInvokeAPI(t *testing.T) {
	h := &echo{}
	srv := httptest.NewServer(invoke.Handler(h, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	url := srv.URL + "/2015-03-31/functions/migrate/invocations"

	t.Run("success", func(t *testing.T) {
		resp, body := post(t, url, `{"a":1}`)
		if resp.StatusCode != 200 || body != `{"a":1}` || resp.Header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
		if h.sawRequestID == "" || resp.Header.Get("X-Amzn-Requestid") != h.sawRequestID {
			t.Errorf("request id: handler saw %q, header %q", h.sawRequestID, resp.Header.Get("X-Amzn-Requestid"))
		}
	})
	t.Run("function error is HTTP 200 with X-Amz-Function-Error", func(t *testing.T) {
		resp, body := post(t, url, `"fail"`)
		if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "Unhandled" {
			t.Fatalf("got %d %v", resp.StatusCode, resp.Header)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"errorType": "UserMigrationDeclined", "errorMessage": "Incorrect username or password."}
		if len(e) != 2 || e["errorType"] != want["errorType"] || e["errorMessage"] != want["errorMessage"] {
			t.Errorf("body = %s, want %v", body, want)
		}
	})
	t.Run("plain error is named like the runtime names it", func(t *testing.T) {
		_, body := post(t, url, `"plain"`)
		if !strings.Contains(body, `"errorType":"errorString"`) {
			t.Errorf("body = %s", body)
		}
	})
	t.Run("keeps serving after errors", func(t *testing.T) {
		resp, body := post(t, url, `{"b":2}`)
		if resp.StatusCode != 200 || body != `{"b":2}` {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
	})
	t.Run("wrong path is a service error", func(t *testing.T) {
		resp, _ := post(t, srv.URL+"/2015-03-31/functions/", `{}`)
		if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" {
			t.Errorf("got %d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("GET is not invoke", func(t *testing.T) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("GET answered 200")
		}
	})
	t.Run("payload over 6 MB", func(t *testing.T) {
		resp, _ := post(t, url, `"`+strings.Repeat("x", invoke.MaxPayload)+`"`)
		if resp.StatusCode != 413 || resp.Header.Get("X-Amzn-Errortype") != "RequestTooLargeException" {
			t.Errorf("got %d %v", resp.StatusCode, resp.Header)
		}
	})
}

// The server has no authentication: a web page the operator visits must not
// reach it, neither directly (it sends Origin) nor through a DNS name that
// its attacker re-points at 127.0.0.1 (the Host is then that name).
func TestThisMachineOnly(t *testing.T) {
	srv := httptest.NewServer(invoke.Handler(&echo{}, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	path := "/2015-03-31/functions/migrate/invocations"

	tests := []struct {
		name       string
		host       string
		origin     string
		wantStatus int
	}{
		{"loopback IPv4", "127.0.0.1:" + port, "", 200},
		{"other loopback IPv4", "127.0.0.2:" + port, "", 200},
		{"loopback IPv6", "[::1]:" + port, "", 200},
		{"localhost", "localhost:" + port, "", 200},
		{"localhost in capitals, no port", "LOCALHOST", "", 200},
		{"a browser page on this machine", "127.0.0.1:" + port, "http://127.0.0.1:8080", 403},
		{"an empty Origin is still a browser", "127.0.0.1:" + port, "null", 403},
		{"DNS rebinding: a public name", "attacker.example:" + port, "", 403},
		{"a name ending in localhost", "evil.localhost.example:" + port, "", 403},
		{"a LAN address", "192.168.1.10:" + port, "", 403},
		{"an unspecified address", "0.0.0.0:" + port, "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(`{"a":1}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("Host %q Origin %q: status %d (%s), want %d", tt.host, tt.origin, resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantStatus == 403 {
				if resp.Header.Get("X-Amzn-Errortype") != "AccessDeniedException" || !strings.Contains(string(body), "this machine only") {
					t.Errorf("refusal = %v %s, want AccessDeniedException saying why", resp.Header, body)
				}
				if strings.Contains(string(body), "attacker") {
					t.Errorf("refusal echoes the Host: %s", body)
				}
			}
		})
	}

	t.Run("AllowAnyHost lets other hosts in, never browsers", func(t *testing.T) {
		anyHost := httptest.NewServer(invoke.Handler(&echo{}, slog.New(slog.DiscardHandler), invoke.AllowAnyHost()))
		defer anyHost.Close()
		for _, tt := range []struct {
			host, origin string
			want         int
		}{{"192.168.1.10:9000", "", 200}, {"trigger.internal", "", 200}, {"192.168.1.10:9000", "http://evil.example", 403}} {
			req, _ := http.NewRequest(http.MethodPost, anyHost.URL+path, strings.NewReader(`{}`))
			req.Host = tt.host
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("Host %q Origin %q: status %d, want %d", tt.host, tt.origin, resp.StatusCode, tt.want)
			}
		}
	})
}

func TestLoopbackAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9000": true, "127.0.0.1:0": true, "[::1]:9000": true, "localhost:9000": true, "LocalHost:1": true,
		":9000": false, "0.0.0.0:9000": false, "[::]:9000": false, "192.168.1.10:9000": false,
		"example.com:9000": false, "localhost.example.com:9000": false, "no-port": false,
	} {
		if got := invoke.IsLoopbackAddress(addr); got != want {
			t.Errorf("IsLoopbackAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}

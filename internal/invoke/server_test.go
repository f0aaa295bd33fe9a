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

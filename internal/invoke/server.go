// Package invoke serves the AWS Lambda Invoke API over plain HTTP, so a local
// Cognito emulator (or a person with curl) can call the very handler the
// Lambda runtime runs.
package invoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// MaxPayload is Lambda's limit for a synchronous invocation's request.
const MaxPayload = 6 << 20

// Timeout is how long one invocation may run, as Cognito would wait.
const Timeout = 5 * time.Second

// Option configures Handler.
type Option func(*options)

type options struct{ anyHost bool }

// AllowAnyHost lets requests in whatever their Host header says, for a
// server deliberately listening beyond this machine (-listen-any). Requests
// with an Origin header are still refused.
func AllowAnyHost() Option { return func(o *options) { o.anyHost = true } }

// Handler returns an http.Handler for
// POST /2015-03-31/functions/{name}/invocations.
//
// It serves this machine only: it refuses (HTTP 403) any request with an
// Origin header, which only browsers send, and unless AllowAnyHost is given
// any request whose Host is not a loopback address or "localhost". The
// server has no authentication, so without these checks any web page the
// operator opens could call it: directly, or through a DNS name its author
// re-points at 127.0.0.1 (DNS rebinding), which the Host then shows.
//
// As real Lambda does: success is HTTP 200 with the function's output; a
// function error is also HTTP 200, with header X-Amz-Function-Error and an
// {"errorMessage","errorType"} body. Service errors (bad path, payload too
// large) are non-2xx AWS JSON errors.
func Handler(h lambda.Handler, log *slog.Logger, opts ...Option) http.Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayload))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				serviceError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
				return
			}
			serviceError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the request body")
			return
		}
		requestID := newRequestID()
		ctx, cancel := context.WithTimeout(r.Context(), Timeout)
		defer cancel()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
			AwsRequestID:       requestID,
			InvokedFunctionArn: "arn:aws:lambda:local:000000000000:function:" + r.PathValue("name"),
		})

		out, err := h.Invoke(ctx, payload)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Requestid", requestID)
		if err != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_ = json.NewEncoder(w).Encode(functionError(err))
			return
		}
		// Invoke may return a buffer it reuses: write it before anything else
		// can run the handler on this goroutine.
		if _, err := w.Write(out); err != nil {
			log.Debug("write invoke response", "error", err)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serviceError(w, http.StatusNotFound, "ResourceNotFoundException", "only POST /2015-03-31/functions/{name}/invocations is served")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Neither the Origin nor the Host is echoed: they come from whoever
		// is calling.
		if _, ok := r.Header["Origin"]; ok {
			log.Warn("local invoke server refused a request with an Origin header (a browser)")
			serviceError(w, http.StatusForbidden, "AccessDeniedException",
				"the local invoke server serves this machine only and refuses browser requests (Origin header)")
			return
		}
		if !o.anyHost && !IsLoopbackAddress(r.Host) && !isLoopbackHost(r.Host) {
			log.Warn("local invoke server refused a request whose Host is not this machine")
			serviceError(w, http.StatusForbidden, "AccessDeniedException",
				"the local invoke server serves this machine only: the Host header must be localhost or a loopback address")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// IsLoopbackAddress reports whether addr, a host:port, names this machine
// only: "localhost" or a loopback IP (127.0.0.0/8, ::1).
func IsLoopbackAddress(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// functionError is the body the Lambda runtime reports for a handler error.
func functionError(err error) messages.InvokeResponse_Error {
	var ie messages.InvokeResponse_Error
	if errors.As(err, &ie) {
		return messages.InvokeResponse_Error{Message: ie.Message, Type: ie.Type}
	}
	// Same naming as the runtime: the error's (pointer element) type name.
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return messages.InvokeResponse_Error{Message: err.Error(), Type: t.Name()}
}

func serviceError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

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
	"net/http"
	"reflect"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// MaxPayload is Lambda's limit for a synchronous invocation's request.
const MaxPayload = 6 << 20

// Timeout is how long one invocation may run, as Cognito would wait.
const Timeout = 5 * time.Second

// Handler returns an http.Handler for
// POST /2015-03-31/functions/{name}/invocations.
//
// As real Lambda does: success is HTTP 200 with the function's output; a
// function error is also HTTP 200, with header X-Amz-Function-Error and an
// {"errorMessage","errorType"} body. Service errors (bad path, payload too
// large) are non-2xx AWS JSON errors.
func Handler(h lambda.Handler, log *slog.Logger) http.Handler {
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
	return mux
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

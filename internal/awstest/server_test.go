package awstest

import (
	"net/http"
	"strings"
	"testing"
)

// A program starts each fake without a test, uses it and stops it; misuse
// panics with the reason instead of failing a test.
func TestStartWithoutATest(t *testing.T) {
	l, err := StartLambda()
	if err != nil {
		t.Fatalf("StartLambda() error = %v", err)
	}
	m, err := StartSecretsManager()
	if err != nil {
		t.Fatalf("StartSecretsManager() error = %v", err)
	}
	s, err := StartSTS()
	if err != nil {
		t.Fatalf("StartSTS() error = %v", err)
	}
	l.AddFunction("arn:aws:lambda:eu-west-1:111122223333:function:f")
	m.Put("old-client", "{}")

	for _, tt := range []struct {
		name, want string
		misuse     func()
	}{
		{"Lambda.AddFunction twice", "function already exists", func() { l.AddFunction("arn:aws:lambda:eu-west-1:111122223333:function:f") }},
		{"SecretsManager.Put malformed ARN", "not a secret ARN", func() { m.Put("arn:aws:secretsmanager:eu-west-1:111122223333:secret:nosuffix", "{}") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tt.want) {
					t.Errorf("panic = %v, want one containing %q", r, tt.want)
				}
			}()
			tt.misuse()
		})
	}

	for _, c := range []interface{ Close() }{l, m, s} {
		c.Close()
		c.Close() // a second Close is harmless
	}
	for _, url := range []string{l.URL, m.URL, s.URL} {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			t.Errorf("GET %s after Close succeeded, want a connection error", url)
		}
	}
}

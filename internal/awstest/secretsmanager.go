package awstest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretsManagerTarget is the X-Amz-Target of the only operation the fake
// Secrets Manager answers.
const secretsManagerTarget = "secretsmanager.GetSecretValue"

// secretARN matches a secret ARN; Secrets Manager appends a hyphen and six
// random characters to the name.
var secretARN = regexp.MustCompile(`^arn:[^:]+:secretsmanager:[^:]*:[0-9]*:secret:(.+)-[A-Za-z0-9]{6}$`)

// SecretsManager is a fake AWS Secrets Manager that answers GetSecretValue
// over AWS JSON 1.1, the way the real service does, so the real
// secretsmanager.Client can be pointed at it. It is safe for concurrent use.
//
// A secret is found by its ARN, its name, or its partial ARN (the ARN without
// the random suffix); only its AWSCURRENT version exists. Requests must carry
// a SigV4 Authorization header scoped to service "secretsmanager"; the
// signature itself is not verified. Other operations get
// UnknownOperationException.
type SecretsManager struct {
	// URL is the base URL of the fake's HTTP server, for
	// secretsmanager.Options.BaseEndpoint or AWS_ENDPOINT_URL_SECRETS_MANAGER.
	URL string

	tb  testing.TB // nil for StartSecretsManager
	srv *httptest.Server

	mu      sync.Mutex
	secrets []*secret
	deny    bool
	calls   int
	version int
}

type secret struct {
	arn, name, value, versionID string
	created                     time.Time
}

// NewSecretsManager starts a fake Secrets Manager on a local httptest server
// for the test tb and closes it in tb.Cleanup. Misuse fails the test.
func NewSecretsManager(tb testing.TB) *SecretsManager {
	tb.Helper()
	m, err := StartSecretsManager()
	if err != nil {
		tb.Fatalf("awstest: %v", err)
	}
	m.tb = tb
	tb.Cleanup(m.Close)
	return m
}

// StartSecretsManager starts a fake Secrets Manager on a local port for a
// program; the caller stops it with Close. Misuse that would fail a test
// panics.
func StartSecretsManager() (*SecretsManager, error) {
	m := &SecretsManager{}
	srv, err := startServer("Secrets Manager", http.HandlerFunc(m.serveHTTP))
	if err != nil {
		return nil, err
	}
	m.srv, m.URL = srv, srv.URL
	return m, nil
}

// Close shuts the fake down. It may be called more than once.
func (m *SecretsManager) Close() { m.srv.Close() }

// Put stores secretString as the current value of the secret arn, replacing
// any earlier value with a new version. arn is a full secret ARN such as
// "arn:aws:secretsmanager:eu-west-1:111122223333:secret:old-client-AbCdEf";
// a plain name gets an ARN in region eu-west-1, account 000000000000. Put
// fails the test on a malformed ARN.
func (m *SecretsManager) Put(arn, secretString string) {
	if m.tb != nil {
		m.tb.Helper()
	}
	var name string
	if strings.HasPrefix(arn, "arn:") {
		match := secretARN.FindStringSubmatch(arn)
		if match == nil {
			misuse(m.tb, "awstest: SecretsManager.Put(%q): not a secret ARN ending in -XXXXXX", arn)
		}
		name = match[1]
	} else {
		name = arn
		arn = fmt.Sprintf("arn:aws:secretsmanager:eu-west-1:000000000000:secret:%s-%s", name, secretSuffix(name))
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.version++
	// Secrets Manager returns CreatedDate with millisecond precision.
	created := time.Now().UTC().Truncate(time.Millisecond)
	versionID := fmt.Sprintf("00000000-0000-4000-8000-%012d", m.version)
	for _, s := range m.secrets {
		if s.arn == arn {
			s.value, s.versionID, s.created = secretString, versionID, created
			return
		}
		if s.name == name {
			misuse(m.tb, "awstest: SecretsManager.Put(%q): secret %q already exists as %q", arn, name, s.arn)
		}
	}
	m.secrets = append(m.secrets, &secret{arn: arn, name: name, value: secretString, versionID: versionID, created: created})
}

// Deny makes every following call fail with AccessDeniedException while on
// is true, as when the caller's role lacks secretsmanager:GetSecretValue.
func (m *SecretsManager) Deny(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deny = on
}

// Calls returns how many requests the fake has received, including failed
// and denied ones.
func (m *SecretsManager) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// secretSuffix is a stable stand-in for the six random characters Secrets
// Manager appends to a secret's name in its ARN.
func secretSuffix(name string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(name))
	b := make([]byte, 6)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

type getSecretValueInput struct {
	SecretID     string `json:"SecretId"`
	VersionID    string `json:"VersionId"`
	VersionStage string `json:"VersionStage"`
}

type getSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	SecretString  string   `json:"SecretString"`
	VersionID     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
	// CreatedDate is in epoch seconds, the AWS JSON protocol's default
	// timestamp format, with milliseconds as a fraction.
	CreatedDate float64 `json:"CreatedDate"`
}

func (m *SecretsManager) serveHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	body, _ := io.ReadAll(r.Body)

	m.mu.Lock()
	m.calls++
	deny := m.deny
	m.mu.Unlock()

	sig, problem := checkSignature(r.Header.Get("Authorization"), "secretsmanager")
	if problem != nil {
		code := problem.code + "Exception"
		if problem.code == "SignatureDoesNotMatch" {
			code = "InvalidSignatureException"
		}
		writeJSONError(w, requestID, &apiError{problem.status, code, problem.message})
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != secretsManagerTarget {
		writeJSONError(w, requestID, &apiError{http.StatusBadRequest, "UnknownOperationException",
			fmt.Sprintf("awstest: operation %q is not faked", target)})
		return
	}
	var in getSecretValueInput
	if err := json.Unmarshal(body, &in); err != nil {
		writeJSONError(w, requestID, &apiError{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	if deny {
		writeJSONError(w, requestID, &apiError{http.StatusBadRequest, "AccessDeniedException",
			fmt.Sprintf("User: arn:aws:iam::000000000000:user/%s is not authorized to perform: secretsmanager:GetSecretValue on resource: %s because no identity-based policy allows the secretsmanager:GetSecretValue action",
				sig.AccessKeyID, in.SecretID)})
		return
	}
	if in.SecretID == "" {
		writeJSONError(w, requestID, &apiError{http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"})
		return
	}

	out, err := m.getSecretValue(in)
	if err != nil {
		writeJSONError(w, requestID, err)
		return
	}
	writeJSON(w, http.StatusOK, requestID, out)
}

func (m *SecretsManager) getSecretValue(in getSecretValueInput) (getSecretValueOutput, *apiError) {
	notFound := func(msg string) *apiError {
		return &apiError{http.StatusBadRequest, "ResourceNotFoundException", msg}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.secrets {
		partial := s.arn[:len(s.arn)-len("-XXXXXX")]
		if in.SecretID != s.arn && in.SecretID != s.name && in.SecretID != partial {
			continue
		}
		if in.VersionID != "" && in.VersionID != s.versionID {
			return getSecretValueOutput{}, notFound("Secrets Manager can't find the specified secret value for VersionId: " + in.VersionID)
		}
		if in.VersionStage != "" && in.VersionStage != "AWSCURRENT" {
			return getSecretValueOutput{}, notFound("Secrets Manager can't find the specified secret value for staging label: " + in.VersionStage)
		}
		return getSecretValueOutput{
			ARN:           s.arn,
			Name:          s.name,
			SecretString:  s.value,
			VersionID:     s.versionID,
			VersionStages: []string{"AWSCURRENT"},
			CreatedDate:   float64(s.created.UnixMilli()) / 1000,
		}, nil
	}
	return getSecretValueOutput{}, notFound("Secrets Manager can't find the specified secret.")
}

// writeJSONError writes an AWS JSON protocol error. The SDK takes the code
// from X-Amzn-ErrorType, falling back to the body's __type; it reads the
// message as "message" or "Message".
func writeJSONError(w http.ResponseWriter, requestID string, e *apiError) {
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSON(w, e.status, requestID, map[string]string{"__type": e.code, "message": e.message})
}

func writeJSON(w http.ResponseWriter, status int, requestID string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

package trigger_test

// Fuzz targets over event decoding and the whole handler, with the real
// decision (migrate.Migrator, default rules) over an old pool that proves
// one password for one user, and a username new pool with an email alias. The seeds in testdata/fuzz/<FuzzName>/ run with every go test;
// to search further:
//
//	go test -run '^$' -fuzz '^FuzzHandler$' -fuzztime 3m ./internal/trigger
//	go test -run '^$' -fuzz '^FuzzDecodeEvent$' -fuzztime 1m ./internal/trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/cognito-migrate/cognito-migrate/internal/logging"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics/emftest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// The one pair the fuzz pool accepts: the user and password of the fixtures.
const (
	fuzzUser     = "alice"
	fuzzPassword = "Tr0ub4dor&3-plaintext"
	// fuzzPasswordMark is a part of the password that JSON never escapes
	// (the '&' is written \u0026 in logs).
	fuzzPasswordMark = "Tr0ub4dor"
)

// fuzzDecodeErrorShape is every message DecodeEvent may give: fixed words, a byte
// offset, a field path and JSON kinds. It quotes no string from the event.
var fuzzDecodeErrorShape = regexp.MustCompile(`^invalid event: (` +
	`event is not valid JSON \(error at byte \d+\)` +
	`|event must be a JSON object(, not (object|array|string|bool|null|number( \S+)?))?` +
	// What JSON the field takes, in words.
	`|event field "[A-Za-z.]+" must be (an object|an array|a string|true or false|a [a-z0-9]+), not (object|array|string|bool|null|number( \S+)?)` +
	`|triggerSource is missing` +
	`|event cannot be read)$`)

func FuzzDecodeEvent(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := trigger.DecodeEvent(payload)
		if err != nil {
			if ev != nil {
				t.Errorf("DecodeEvent() = %+v and error %v", ev, err)
			}
			if !fuzzDecodeErrorShape.MatchString(err.Error()) {
				t.Errorf("DecodeEvent() error %q has an unexpected shape: it may quote the event", err)
			}
			return
		}
		if ev.TriggerSource == "" {
			t.Errorf("DecodeEvent() accepted an event without a triggerSource")
		}
		// What is read back out is the event as it came, with only the
		// response replaced.
		out, err := ev.Encode(trigger.Response{})
		if err != nil {
			t.Fatalf("Encode() error = %v", err)
		}
		var in, got map[string]json.RawMessage
		if json.Unmarshal(payload, &in) != nil || json.Unmarshal(out, &got) != nil {
			t.Fatalf("Encode() = %s: not a JSON object", out)
		}
		for k, v := range in {
			if k == "response" {
				continue
			}
			if w, ok := got[k]; !ok || !fuzzJSONEqual(v, w) {
				t.Errorf("member %q = %s after Encode, want %s", k, w, v)
			}
		}
	})
}

func fuzzJSONEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// fuzzPool is an old pool that proves the password only for fuzzUser with
// fuzzPassword, and records what it proved and whom it described. Like a
// case-insensitive pool with an email alias, it finds fuzzUser by their
// username in any case and by their email.
type fuzzPool struct {
	mode fuzzMode

	mu       sync.Mutex
	proved   bool         // SignIn saw the one pair (tokens or a challenge)
	owed     string       // the challenge it answered instead of tokens
	returned migrate.User // the last user GetUser answered
	found    bool
}

// fuzzMode is the fuzz input's second argument: how the pool behaves.
type fuzzMode byte

// challenge is the pool's answer to the right password (bits 0-1).
func (m fuzzMode) challenge() string {
	return [4]string{"", "SOFTWARE_TOKEN_MFA", "NEW_PASSWORD_REQUIRED", "SMS_MFA"}[m&3]
}

// user is fuzzUser as the pool describes them (bits 2-4). A user the pool
// challenges for a second factor has that factor set up.
func (m fuzzMode) user() migrate.User {
	u := migrate.User{Username: fuzzUser, Enabled: true, Status: migrate.StatusConfirmed, Attributes: map[string]string{
		"sub": "0b6f4c9e-0000-4000-8000-000000000001", "email": "alice@example.com", "email_verified": "true",
		"custom:tenant": "acme",
	}}
	if c := m.challenge(); strings.HasSuffix(c, "_MFA") {
		u.MFA = []string{c}
	}
	switch m >> 2 & 7 {
	case 1:
		u.Enabled = false
	case 2:
		u.Status = migrate.StatusUnconfirmed
	case 3:
		u.Status = migrate.StatusResetRequired
	case 4:
		u.Status = migrate.StatusForceChangePassword
	case 5:
		u.Attributes["email_verified"] = "false"
	case 6:
		u.Attributes["email_verified"] = "false"
		u.Attributes["phone_number"], u.Attributes["phone_number_verified"] = "+447700900123", "true"
	case 7:
		u.Attributes["identities"] = `[{"providerName":"Google"}]`
		u.Attributes["cognito:mfa_enabled"] = "true"
	}
	return u
}

// declineError: bit 5 chooses DECLINE_RESPONSE=error.
func (m fuzzMode) declineError() bool { return m&32 != 0 }

// fault is what goes wrong besides (bits 6-7): nothing, a lookup fault, a
// lookup that hangs until the budget runs out, a sign-in that panics.
func (m fuzzMode) fault() int { return int(m >> 6) }

var errFuzzFault = errors.New("fuzz pool: throttled")

// fuzzIsUser reports whether the pool resolves typed to fuzzUser.
func fuzzIsUser(typed string) bool {
	return strings.EqualFold(typed, fuzzUser) || strings.EqualFold(typed, "alice@example.com")
}

// fuzzNewPool is a username new pool with an email alias and the standard
// attributes, case sensitive (the API's default).
type fuzzNewPool struct{}

func (fuzzNewPool) Config(context.Context, string) (migrate.PoolConfig, error) {
	cfg := migrate.PoolConfig{AliasAttributes: []string{"email"}, CaseSensitive: true, MFA: "OFF",
		Attributes: map[string]migrate.AttributeSpec{"sub": {Required: true}}}
	for _, a := range []string{"email", "email_verified", "phone_number", "phone_number_verified", "given_name", "custom:tenant"} {
		cfg.Attributes[a] = migrate.AttributeSpec{}
	}
	return cfg, nil
}

func (p *fuzzPool) SignIn(ctx context.Context, username, password string) (migrate.SignIn, error) {
	if p.mode.fault() == 3 {
		panic("fuzz pool: sign-in panics with " + password)
	}
	if !fuzzIsUser(username) || password != fuzzPassword {
		return migrate.SignIn{}, fmt.Errorf("fuzz pool: %w", migrate.ErrBadCredentials)
	}
	p.mu.Lock()
	p.proved, p.owed = true, p.mode.challenge()
	p.mu.Unlock()
	return migrate.SignIn{Challenge: p.mode.challenge()}, nil
}

func (p *fuzzPool) GetUser(ctx context.Context, username string) (migrate.User, error) {
	switch p.mode.fault() {
	case 1:
		return migrate.User{}, errFuzzFault
	case 2:
		<-ctx.Done()
		return migrate.User{}, ctx.Err()
	}
	if !fuzzIsUser(username) {
		return migrate.User{}, fmt.Errorf("fuzz pool: %w", migrate.ErrUserNotFound)
	}
	u := p.mode.user()
	p.mu.Lock()
	p.returned, p.found = u, true
	p.mu.Unlock()
	return u, nil
}

// fuzzEligibleForReset is the README's rule for forgot password: enabled,
// CONFIRMED, with a verified email or phone number, and (MFA_POLICY=deny, the
// default) no second factor.
func fuzzEligibleForReset(u migrate.User) bool {
	return u.Enabled && u.Status == migrate.StatusConfirmed && len(u.MFA) == 0 && fuzzReachable(u.Attributes)
}

// fuzzReachable reports whether attrs hold a verified email or phone number:
// somewhere a reset code can go.
func fuzzReachable(a map[string]string) bool {
	return (a["email"] != "" && a["email_verified"] == "true") || (a["phone_number"] != "" && a["phone_number_verified"] == "true")
}

// Known dimension values: anything else in a metric is a bug (and a new,
// billed metric).
var (
	fuzzOutcomes = map[any]bool{"migrated": true, "declined": true, "error": true}
	fuzzSources  = func() map[any]bool {
		m := map[any]bool{"unknown": true}
		for _, s := range migrate.Sources() {
			m[s] = true
		}
		return m
	}()
)

func FuzzHandler(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte, mode byte) {
		pool := &fuzzPool{mode: fuzzMode(mode)}
		var out bytes.Buffer
		opts := []trigger.Option{trigger.WithBudget(20 * time.Millisecond), trigger.WithMetrics(metrics.NewEMF(&out))}
		if pool.mode.declineError() {
			opts = append(opts, trigger.WithDeclineMode(migrate.DeclineError))
		}
		h := trigger.NewHandler(migrate.New(pool, fuzzNewPool{}, migrate.Rules{}), logging.New(&out, slog.LevelDebug), opts...)
		in := bytes.Clone(payload)

		answer, err := h.Invoke(context.Background(), payload)

		if !bytes.Equal(in, payload) {
			t.Fatalf("Invoke changed its input")
		}
		// One log line and one valid EMF record, whatever happened.
		recs, lines := emftest.Split(t, out.String())
		if len(recs) != 1 || len(lines) != 1 {
			t.Fatalf("%d EMF records and %d log lines, want 1 and 1:\n%s", len(recs), len(lines), out.String())
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", lines[0])
		}
		rec := recs[0]
		outcome := line["outcome"]
		if rec["Outcome"] != outcome || !fuzzOutcomes[outcome] || !fuzzSources[rec["TriggerSource"]] {
			t.Errorf("metric %v for log line %v", rec, line)
		}
		for k := range rec {
			switch k {
			case "_aws", "Outcome", "Reason", "TriggerSource", "Invocations", "Latency", "requestId":
			default:
				t.Errorf("metric has member %q", k)
			}
		}

		// The answer: a JSON event, or one of the documented function errors.
		if (answer == nil) == (err == nil) {
			t.Fatalf("Invoke() = %q, %v: want exactly one of an answer and an error", answer, err)
		}
		if err != nil {
			var ie messages.InvokeResponse_Error
			if !errors.As(err, &ie) {
				t.Fatalf("Invoke() error %#v is not a function error", err)
			}
			switch {
			case ie.Type == trigger.ErrorTypeInvalid && ie.Message == trigger.InvalidMessage && outcome == "error":
			case ie.Type == trigger.ErrorTypeUnavailable && ie.Message == trigger.UnavailableMessage && outcome == "error":
			case ie.Type == trigger.ErrorTypeDeclined && ie.Message == trigger.DeclineMessage && outcome == "declined" && pool.mode.declineError():
			default:
				t.Fatalf("Invoke() error = %#v with outcome %v", ie, outcome)
			}
		} else {
			var ev map[string]json.RawMessage
			if json.Unmarshal(answer, &ev) != nil || ev == nil {
				t.Fatalf("Invoke() = %q: not a JSON object", answer)
			}
		}

		// Attributes only for a proven password, or an eligible reset.
		switch outcome {
		case "declined":
			if !pool.mode.declineError() {
				// A decline adds nothing: Cognito gets its own event back,
				// with an empty response whatever response came in.
				var got struct {
					Response map[string]any `json:"response"`
				}
				if err := json.Unmarshal(answer, &got); err != nil {
					t.Fatalf("declined, answer %s: %v", answer, err)
				}
				for k, v := range got.Response {
					if v != nil {
						t.Errorf("declined, response.%s = %v, want null", k, v)
					}
				}
			}
		case "migrated":
			ev, derr := trigger.DecodeEvent(payload)
			if derr != nil {
				t.Fatalf("migrated an event DecodeEvent refuses: %v", derr)
			}
			var got struct {
				Response struct {
					UserAttributes  map[string]string `json:"userAttributes"`
					FinalUserStatus string            `json:"finalUserStatus"`
				} `json:"response"`
			}
			if err := json.Unmarshal(answer, &got); err != nil || len(got.Response.UserAttributes) == 0 {
				t.Fatalf("migrated without attributes: %s", answer)
			}
			pool.mu.Lock()
			proved, owed, u, found := pool.proved, pool.owed, pool.returned, pool.found
			pool.mu.Unlock()
			switch ev.TriggerSource {
			case migrate.SourceAuthentication:
				if !proved || !found || !u.Enabled {
					t.Errorf("migrated %q at sign-in, but the pool proved=%v, enabled=%v", ev.UserName, proved, u.Enabled)
				}
				// A challenge still owed (a second factor, a new password
				// for a temporary one) is never turned into CONFIRMED.
				if owed != "" && got.Response.FinalUserStatus == string(migrate.FinalConfirmed) {
					t.Errorf("migrated %q as CONFIRMED although the old pool still wanted %s", ev.UserName, owed)
				}
			case migrate.SourceForgotPassword:
				if !found || !fuzzEligibleForReset(u) {
					t.Errorf("migrated %q at forgot password, but the pool's user is %+v", ev.UserName, u)
				}
				if got.Response.FinalUserStatus != "" {
					t.Errorf("migrated %q at forgot password as %s", ev.UserName, got.Response.FinalUserStatus)
				}
			default:
				t.Errorf("migrated for trigger source %q", ev.TriggerSource)
			}
			// No dead end: whoever must reset has somewhere to get the code.
			if got.Response.FinalUserStatus != string(migrate.FinalConfirmed) && !fuzzReachable(got.Response.UserAttributes) {
				t.Errorf("migrated %q as %q without a verified email or phone: %v", ev.UserName, got.Response.FinalUserStatus, got.Response.UserAttributes)
			}
			// One person, one account: in this case-sensitive pool every
			// sign-in name is sent exactly as the old pool stores it (an alias
			// typed in another case is declined), and the username is never in
			// email format (the pool has an email alias).
			for k, v := range got.Response.UserAttributes {
				switch {
				case k == "username" && v == u.Username && !strings.Contains(v, "@"):
				case k == "sub" || k == "identities" || strings.HasPrefix(k, "cognito:"):
					t.Errorf("response attribute %s=%q is not transferable", k, v)
				case v == u.Attributes[k]:
				default:
					t.Errorf("response attribute %s=%q: the user has %q", k, v, u.Attributes[k])
				}
			}
		}

		// No password in the log or the metric, unless the event put it in a
		// field that is logged on purpose.
		logged := ""
		if ev, derr := trigger.DecodeEvent(payload); derr == nil {
			logged = ev.TriggerSource + ev.UserName + ev.UserPoolID + ev.CallerContext.ClientID
		}
		if strings.Contains(out.String(), fuzzPasswordMark) && !strings.Contains(logged, fuzzPasswordMark) {
			t.Errorf("output holds the password:\n%s", out.String())
		}
	})
}

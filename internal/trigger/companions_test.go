package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics/emftest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// groupPool is the new pool's groups: every group exists but "editors".
type groupPool struct {
	mu      sync.Mutex
	added   []string
	deleted []string
	// age is how long ago the user was created, modified is how long after
	// that it was last modified; timesErr fails the read.
	age, modified time.Duration
	timesErr      error
}

func (p *groupPool) AddUserToGroup(ctx context.Context, poolID, username, group string) error {
	if group == "editors" {
		return migrate.ErrGroupNotFound
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.added = append(p.added, group)
	return nil
}
func (p *groupPool) GetGroup(ctx context.Context, poolID, group string) (migrate.Group, error) {
	return migrate.Group{}, migrate.ErrGroupNotFound
}
func (p *groupPool) CreateGroup(ctx context.Context, poolID string, g migrate.Group) error {
	return errors.New("not expected")
}
func (p *groupPool) DeleteUserAttributes(ctx context.Context, poolID, username string, names ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted = append(p.deleted, names...)
	return nil
}

func (p *groupPool) UserTimes(ctx context.Context, poolID, username string) (migrate.UserTimes, error) {
	created := time.Now().Add(-p.age)
	return migrate.UserTimes{Created: created, LastModified: created.Add(p.modified)}, p.timesErr
}

type noOldGroups struct{}

func (noOldGroups) Groups(ctx context.Context, username string) ([]migrate.Group, error) {
	return nil, errors.New("the old pool is not called")
}
func (noOldGroups) GetGroup(ctx context.Context, name string) (migrate.Group, error) {
	return migrate.Group{}, errors.New("the old pool is not called")
}

// unusedMigrateUser fails a test that routes a companion event to it.
type unusedMigrateUser struct{ t *testing.T }

func (u unusedMigrateUser) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	u.t.Error("a companion event reached the migrate-user handler")
	return nil, errors.New("wrong handler")
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The pre token generation events of each version: the response holds the
// request's groups and the applied ones, the attribute suppressed, in the
// shape of the event's version; an event without the attribute comes back
// as it came.
func TestPreTokenGenerationEvents(t *testing.T) {
	tests := []struct {
		file      string
		wantResp  string // "" for the event untouched
		wantAdded []string
	}{
		{"pre-token-generation-v1.json",
			`{"claimsOverrideDetails":{"claimsToSuppress":["custom:legacy_groups"],"groupOverrideDetails":{"groupsToOverride":["readers","admins"],"iamRolesToOverride":["arn:aws:iam::111111111111:role/readers"]}}}`,
			[]string{"admins"}},
		{"pre-token-generation-v2.json",
			`{"claimsAndScopeOverrideDetails":{"idTokenGeneration":{"claimsToSuppress":["custom:legacy_groups"]},"groupOverrideDetails":{"groupsToOverride":["readers","admins"]}}}`,
			[]string{"admins"}},
		{"pre-token-generation-cognito-local.json",
			`{"claimsOverrideDetails":{"claimsToSuppress":["custom:legacy_groups"],"groupOverrideDetails":{"groupsToOverride":["admins"]}}}`,
			[]string{"admins"}},
		{"pre-token-generation-refresh.json", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var out bytes.Buffer
			pool := &groupPool{}
			emf := metrics.NewEMF(&out)
			log := slog.New(slog.NewJSONHandler(&out, nil))
			pt := trigger.NewPreToken(migrate.NewGroupApplier(pool, noOldGroups{}, "custom:legacy_groups", false), log, emf)
			r := trigger.NewRouter(unusedMigrateUser{t}, log, trigger.RouteTokens(pt), trigger.RouteMetrics(emf))
			in := readEvent(t, tt.file)
			got, err := r.Invoke(context.Background(), in)
			if err != nil {
				t.Fatalf("Invoke() error = %v", err)
			}
			var gotEv, inEv map[string]any
			if err := json.Unmarshal(got, &gotEv); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal(in, &inEv)
			want := inEv
			if tt.wantResp != "" {
				var resp any
				_ = json.Unmarshal([]byte(tt.wantResp), &resp)
				want["response"] = resp
			}
			if diff := cmp.Diff(want, gotEv); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAdded, pool.added); diff != "" {
				t.Errorf("memberships added (-want +got):\n%s", diff)
			}
			recs, lines := emftest.Split(t, out.String())
			if len(recs) != 1 || len(lines) != 1 {
				t.Fatalf("%d metric records and %d log lines, want 1 and 1:\n%s", len(recs), len(lines), out.String())
			}
			if strings.Contains(lines[0], "alice") {
				t.Errorf("log line names the user: %s", lines[0])
			}
		})
	}
}

func TestPreSignUpEvents(t *testing.T) {
	old := &finder{users: []migrate.User{{Username: "alice", Enabled: true, Status: migrate.StatusConfirmed,
		Attributes: map[string]string{"email": "alice@example.com"}}}}
	newPool := poolConfig{migrate.PoolConfig{CaseSensitive: true, AliasAttributes: []string{"email"}}}
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	ps := trigger.NewPreSignUp(migrate.NewSignUpGuard(old, newPool, ""), "", log, nil)
	r := trigger.NewRouter(unusedMigrateUser{t}, log, trigger.RouteSignUps(ps))

	_, err := r.Invoke(context.Background(), readEvent(t, "pre-signup.json"))
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) || ie.Message != trigger.DefaultSignUpGuardMessage || ie.Type != trigger.ErrorTypeSignUpRefused {
		t.Errorf("pre-signup.json: Invoke() error = %#v, want the guard's refusal", err)
	}
	in := readEvent(t, "pre-signup-admin-create-user.json")
	got, err := r.Invoke(context.Background(), in)
	if err != nil || !jsonEqual(got, in) {
		t.Errorf("pre-signup-admin-create-user.json: Invoke() = %s, %v; want the event untouched", got, err)
	}
	if old.calls != 2 { // username and email of the first event only
		t.Errorf("old-pool lookups = %d, want 2", old.calls)
	}
	if strings.Contains(out.String(), "alice@example.com") {
		t.Errorf("log holds the email:\n%s", out.String())
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && cmp.Equal(x, y)
}

type finder struct {
	mu    sync.Mutex
	users []migrate.User
	calls int
}

func (f *finder) GetUser(ctx context.Context, username string) (migrate.User, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	for _, u := range f.users {
		if u.Username == username {
			return u, nil
		}
	}
	return migrate.User{}, migrate.ErrUserNotFound
}

func (f *finder) FindUsers(ctx context.Context, attr, value string) ([]migrate.User, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	var out []migrate.User
	for _, u := range f.users {
		if u.Attributes[attr] == value {
			out = append(out, u)
		}
	}
	return out, nil
}

type poolConfig struct{ cfg migrate.PoolConfig }

func (p poolConfig) Config(ctx context.Context, poolID string) (migrate.PoolConfig, error) {
	return p.cfg, nil
}

// Carried groups on a user the migration did not just create (a user who
// wrote the attribute through an app client that may write it) are refused:
// no membership, the attribute deleted, the tokens with the request's groups
// only, the refusal logged and counted. A fault reading the user fails the
// sign-in and keeps the attribute.
func TestPreTokenRefusesAForgedCarrier(t *testing.T) {
	v1 := string(readEvent(t, "pre-token-generation-v1.json"))
	listFrom := strings.Replace(v1, `"[\"admins\",\"editors\"]"`, `"{\"listFrom\":\"bob\"}"`, 1)
	for _, tt := range []struct {
		name  string
		event string
		pool  *groupPool
		why   string // "" for a fault
	}{
		{"groups written after the creation", v1, &groupPool{age: 30 * time.Second, modified: 20 * time.Second}, "modified 20s after"},
		{"groups written by an old user", v1, &groupPool{age: 72 * time.Hour, modified: 71 * time.Hour}, "modified"},
		{"listFrom written by an old user", listFrom, &groupPool{age: 72 * time.Hour, modified: 71 * time.Hour}, "modified"},
		{"on a user created long ago", listFrom, &groupPool{age: time.Hour}, "created 1h0m0s ago"},
		{"the user's times cannot be read", v1, &groupPool{timesErr: &migrate.Fault{Kind: migrate.FaultThrottled, Err: errors.New("rate exceeded")}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			pool := tt.pool
			emf := metrics.NewEMF(&out)
			log := slog.New(slog.NewJSONHandler(&out, nil))
			pt := trigger.NewPreToken(migrate.NewGroupApplier(pool, noOldGroups{}, "custom:legacy_groups", false), log, emf)
			got, err := pt.Invoke(context.Background(), []byte(tt.event))
			if len(pool.added) != 0 {
				t.Errorf("memberships added: %v; want none", pool.added)
			}
			recs, lines := emftest.Split(t, out.String())
			if len(recs) != 1 || len(lines) != 1 {
				t.Fatalf("%d metric records and %d log lines, want 1 and 1:\n%s", len(recs), len(lines), out.String())
			}
			if tt.why == "" {
				if err == nil || len(pool.deleted) != 0 || recs[0]["Reason"] != "throttled" {
					t.Errorf("Invoke() = %s, %v; deleted %v; metric %v; want the sign-in failed, the attribute kept, a throttled error", got, err, pool.deleted, recs[0])
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke() error = %v, want the tokens with the request's groups", err)
			}
			var ev struct {
				Response claimsOverride `json:"response"`
			}
			_ = json.Unmarshal(got, &ev)
			if diff := cmp.Diff([]string{"readers"}, ev.Response.ClaimsOverrideDetails.GroupOverrideDetails.GroupsToOverride); diff != "" {
				t.Errorf("groupsToOverride (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"custom:legacy_groups"}, pool.deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
			if recs[0]["Outcome"] != "refused" || recs[0]["Reason"] != "groups_refused" {
				t.Errorf("metric = %v, want refused, groups_refused", recs[0])
			}
			if !strings.Contains(lines[0], `"groupsRefused":"`) || !strings.Contains(lines[0], tt.why) {
				t.Errorf("log line = %s, want groupsRefused with %q", lines[0], tt.why)
			}
		})
	}
}

type claimsOverride struct {
	ClaimsOverrideDetails struct {
		GroupOverrideDetails struct {
			GroupsToOverride []string `json:"groupsToOverride"`
		} `json:"groupOverrideDetails"`
	} `json:"claimsOverrideDetails"`
}

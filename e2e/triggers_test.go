package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/e2e/rehearsal"
)

// oldPoolCounter forwards the function's calls to a pool once it is
// known, and counts them by operation.
type oldPoolCounter struct {
	URL    string
	target atomic.Pointer[url.URL]
	mu     sync.Mutex
	calls  map[string]int
}

func newOldPoolCounter(t *testing.T) *oldPoolCounter {
	c := &oldPoolCounter{calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
		c.mu.Lock()
		c.calls[op]++
		c.mu.Unlock()
		target := c.target.Load()
		if target == nil {
			http.Error(w, "old pool not started", http.StatusServiceUnavailable)
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *oldPoolCounter) forwardTo(t *testing.T, raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	c.target.Store(u)
}

func (c *oldPoolCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func (c *oldPoolCounter) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// Groups follow the user: an old user in two groups signs in once and is a
// member of both in the new pool (one of them created there, as the old
// pool has it); the next tokens carry both; a third sign-in makes no
// old-pool call. cognito-local ignores groupOverrideDetails, so the first
// tokens' groups are checked against the wire fake (internal/trigger tests).
//
// cognito-local saves the user object it loaded before the trigger ran
// after the trigger (with the new refresh token), which puts back the
// attribute the trigger deleted; so here the deletion is checked as a call,
// and later sign-ins re-apply the groups (new-pool calls only, idempotent).
func TestGroupsFollowTheUser(t *testing.T) {
	old, newPool := newOldPoolCounter(t), newOldPoolCounter(t)
	r := startWith(t, rehearsal.Options{
		NewPoolCustomAttributes: []string{"tenant", "legacy_groups"},
		PreTokenGeneration:      true,
		TriggerEnv: map[string]string{
			"LEGACY_GROUPS_ATTRIBUTE":                    "custom:legacy_groups",
			"CREATE_MISSING_GROUPS":                      "true",
			"OLD_USER_POOL_ENDPOINT":                     old.URL,
			"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": newPool.URL,
		},
	})
	old.forwardTo(t, r.Old.URL)
	newPool.forwardTo(t, r.New.URL)
	ctx := context.Background()
	const password = "Alice-Passw0rd!"
	if err := r.AddOldUser(ctx, rehearsal.OldUser{Username: "alice", Password: password,
		Attributes: map[string]string{"email": "alice@example.com"}}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		name, description string
		precedence        int32
	}{{"admins", "Administrators", 1}, {"editors", "People who edit", 5}} {
		if err := r.AddOldGroup(ctx, g.name, g.description, g.precedence); err != nil {
			t.Fatal(err)
		}
		if err := r.AddOldMember(ctx, "alice", g.name); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddNewGroup(ctx, "admins"); err != nil { // "editors" is missing
		t.Fatal(err)
	}

	t.Run("the first sign-in makes alice a member of both groups", func(t *testing.T) {
		id, _, err := r.SignInClaims(ctx, "alice", password)
		if err != nil {
			t.Fatalf("first sign-in: %v", err)
		}
		if v, ok := id["custom:legacy_groups"]; ok {
			t.Errorf("first ID token has custom:legacy_groups = %v; the trigger suppresses it", v)
		}
		got, err := r.NewUserGroups(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if want := []string{"admins", "editors"}; !slices.Equal(got, want) {
			t.Errorf("alice's groups in the new pool = %v, want %v", got, want)
		}
		if n := newPool.count("AdminDeleteUserAttributes"); n != 1 {
			t.Errorf("AdminDeleteUserAttributes calls = %d, want 1 once the groups were applied", n)
		}
		if n := newPool.count("CreateGroup"); n != 1 {
			t.Errorf("CreateGroup calls = %d, want 1 (editors only; admins exists)", n)
		}
		g, err := r.NewGroup(ctx, "editors")
		if err != nil {
			t.Fatalf("editors in the new pool: %v", err)
		}
		if aws.ToString(g.Description) != "People who edit" || aws.ToInt32(g.Precedence) != 5 {
			t.Errorf("created group editors = description %q, precedence %v; want the old pool's", aws.ToString(g.Description), aws.ToInt32(g.Precedence))
		}
	})

	t.Run("the second sign-in's tokens carry both groups", func(t *testing.T) {
		id, access, err := r.SignInClaims(ctx, "alice", password)
		if err != nil {
			t.Fatalf("second sign-in: %v", err)
		}
		for name, claims := range map[string]map[string]any{"ID": id, "access": access} {
			got := groupsClaim(claims)
			slices.Sort(got)
			if want := []string{"admins", "editors"}; !slices.Equal(got, want) {
				t.Errorf("%s token cognito:groups = %v, want %v", name, got, want)
			}
		}
	})

	t.Run("the third sign-in makes no old-pool call", func(t *testing.T) {
		before := old.total()
		migrations := len(r.Decisions())
		if err := r.SignIn(ctx, "alice", password); err != nil {
			t.Fatalf("third sign-in: %v", err)
		}
		if after := old.total(); after != before {
			t.Errorf("old-pool calls during the third sign-in = %d, want 0", after-before)
		}
		if n := len(r.Decisions()); n != migrations {
			t.Errorf("migrate-user invocations during the third sign-in = %d, want 0", n-migrations)
		}
		lines := r.Lines("pre token generation")
		if len(lines) < 3 {
			t.Fatalf("pre token generation lines = %d, want one per sign-in (3)", len(lines))
		}
		if last := lines[len(lines)-1]; last["outcome"] == "error" || last["groupsListedFromOldPool"] != nil {
			t.Errorf("third sign-in's pre token generation = %v", last)
		}
		if first := lines[0]; first["outcome"] != "groups_applied" {
			t.Errorf("first sign-in's pre token generation = %v, want groups_applied", first)
		}
	})

	t.Run("groups alice writes herself are refused", func(t *testing.T) {
		if n := newPool.count("AdminGetUser"); n < 1 {
			t.Errorf("new-pool AdminGetUser calls = %d; the first tokens vouch for the attribute", n)
		}
		if err := r.AddNewGroup(ctx, "intruders"); err != nil {
			t.Fatal(err)
		}
		// Later than a migration's first tokens: the write moves the
		// user's last modification (seconds, in this emulator) past its
		// creation.
		time.Sleep(3 * time.Second)
		if _, err := r.New.Client().AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{
			UserPoolId: aws.String(r.NewPoolID), Username: aws.String("alice"),
			UserAttributes: []types.AttributeType{{Name: aws.String("custom:legacy_groups"), Value: aws.String(`["intruders"]`)}},
		}); err != nil {
			t.Fatal(err)
		}
		if err := r.SignIn(ctx, "alice", password); err != nil {
			t.Fatalf("sign-in after the write: %v", err)
		}
		got, err := r.NewUserGroups(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(got, "intruders") {
			t.Errorf("alice's groups = %v; the value she wrote was applied", got)
		}
		lines := r.Lines("pre token generation")
		if last := lines[len(lines)-1]; last["outcome"] != "refused" || last["groupsRefused"] == nil {
			t.Errorf("pre token generation after the write = %v, want refused with groupsRefused", last)
		}
	})

	if n := old.count("AdminListGroupsForUser"); n != 1 {
		t.Errorf("AdminListGroupsForUser calls = %d, want 1 (at the migrating sign-in)", n)
	}
}

func groupsClaim(claims map[string]any) []string {
	var out []string
	switch v := claims["cognito:groups"].(type) {
	case []any:
		for _, g := range v {
			if s, ok := g.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		out = append(out, v)
	}
	return out
}

// Nobody signs up twice: a sign-up with the email or the username of an
// old user who has not migrated is refused with the message; that user's
// migrating sign-in is not; a brand-new person signs up normally.
func TestSignUpGuard(t *testing.T) {
	const message = "You already have an account. Sign in with your old password."
	r := startWith(t, rehearsal.Options{
		PreSignUp:              true,
		NewPoolAliasAttributes: []string{"email"},
		TriggerEnv:             map[string]string{"SIGNUP_GUARD": "true", "SIGNUP_GUARD_MESSAGE": message},
	})
	ctx := context.Background()
	if err := r.AddOldUser(ctx, rehearsal.OldUser{Username: "alice", Password: "Alice-Passw0rd!",
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"}}); err != nil {
		t.Fatal(err)
	}

	refused := []struct {
		name, username, email, matched string
	}{
		{"the email of an unmigrated old user", "mallory", "alice@example.com", "email"},
		{"the username of an unmigrated old user", "alice", "someone@example.com", "username"},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			err := r.SignUp(ctx, tt.username, "Mallory-Passw0rd!", map[string]string{"email": tt.email})
			if err == nil || !strings.Contains(err.Error(), "PreSignUp failed with error "+message) {
				t.Fatalf("SignUp(%s, %s) error = %v, want the guard's message", tt.username, tt.email, err)
			}
			lines := r.Lines("pre sign-up")
			if last := lines[len(lines)-1]; last["outcome"] != "refused" || last["matched"] != tt.matched {
				t.Errorf("pre sign-up line = %v, want refused, matched %s", last, tt.matched)
			}
		})
	}

	t.Run("the old user's migrating sign-in is not refused", func(t *testing.T) {
		if err := r.SignIn(ctx, "alice", "Alice-Passw0rd!"); err != nil {
			t.Fatalf("SignIn(alice) error = %v", err)
		}
		if got, err := r.NewUser(ctx, "alice"); err != nil || got["email"] != "alice@example.com" {
			t.Errorf("alice in the new pool = %v, %v", got, err)
		}
	})

	t.Run("a brand-new person signs up normally", func(t *testing.T) {
		if err := r.SignUp(ctx, "dave", "Dave-Passw0rd!", map[string]string{"email": "dave@example.com"}); err != nil {
			t.Fatalf("SignUp(dave) error = %v", err)
		}
		if _, err := r.NewUser(ctx, "dave"); err != nil {
			t.Errorf("dave in the new pool: %v", err)
		}
		lines := r.Lines("pre sign-up")
		if last := lines[len(lines)-1]; last["outcome"] != "allowed" || last["reason"] != "no_old_user" {
			t.Errorf("pre sign-up line = %v, want allowed/no_old_user", last)
		}
	})

	t.Run("no password or email reaches the function's output", func(t *testing.T) {
		out := r.TriggerOutput()
		for _, s := range []string{"Alice-Passw0rd!", "Mallory-Passw0rd!", "Dave-Passw0rd!", "alice@example.com", "dave@example.com"} {
			if strings.Contains(out, s) {
				t.Errorf("function output contains %q", s)
			}
		}
	})
}

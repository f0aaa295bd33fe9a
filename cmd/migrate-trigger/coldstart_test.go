package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/awstest"
)

// barrier forwards to target only once every barrier of its group has a
// request waiting, or after wait: a start-up that calls the services one
// after the other makes the first call wait the whole time.
type barrier struct {
	group *sync.WaitGroup
	wait  time.Duration
}

func (b barrier) proxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(b.group.Done)
		arrived := make(chan struct{})
		go func() { b.group.Wait(); close(arrived) }()
		select {
		case <-arrived:
		case <-time.After(b.wait):
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Start-up asks Secrets Manager and STS at the same time: each answers only
// once both have been asked, or after 3 s, longer than start-up may take, so
// asking one after the other fails start-up.
func TestStartupFetchesSecretAndRoleTogether(t *testing.T) {
	awsEnv(t)
	sts := awstest.NewSTS(t)
	sts.AllowRole(roleARN, externalID)
	sm := awstest.NewSecretsManager(t)
	sm.Put(secretARN, clientSecret)
	var group sync.WaitGroup
	group.Add(2)
	b := barrier{group: &group, wait: 3 * time.Second}
	t.Setenv("AWS_ENDPOINT_URL_STS", b.proxy(t, sts.URL))
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", b.proxy(t, sm.URL))
	f := fakeSecretPool(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"OLD_ROLE_ARN": roleARN, "OLD_EXTERNAL_ID": externalID, "OLD_CLIENT_SECRET_ARN": secretARN,
	})
	if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); out["response"].(map[string]any)["finalUserStatus"] != "CONFIRMED" {
		t.Fatalf("not migrated: %v", out)
	}
}

// With NEW_USER_POOL_ID, start-up reads the new pool's description, and the
// first event uses it instead of asking again.
func TestStartupReadsTheNewPool(t *testing.T) {
	awsEnv(t)
	np := startNewPool(t, standardNewPool())
	f := fakeOldPool(t)
	tr := startTrigger(t, map[string]string{
		"OLD_USER_POOL_ID": oldPoolID, "OLD_CLIENT_ID": oldClientID, "OLD_USER_POOL_ENDPOINT": f.URL,
		"NEW_USER_POOL_ID": "eu-west-2_NewPool1",
	})
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(np.operations(), "DescribeUserPool") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if ops := np.operations(); !slices.Equal(ops, []string{"DescribeUserPool"}) {
		t.Fatalf("new pool calls before any event = %v, want one DescribeUserPool", ops)
	}
	if _, out := tr.invoke(t, event("UserMigration_Authentication", "alice", password)); out["response"].(map[string]any)["finalUserStatus"] != "CONFIRMED" {
		t.Fatalf("not migrated: %v", out)
	}
	if ops := np.operations(); len(ops) != 1 {
		t.Errorf("new pool calls after the first event = %v, want the one from start-up", ops)
	}
}

package cognitotest

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// A program (no test) starts a Fake with Start, uses it, and stops it.
func TestStartServesWithoutATest(t *testing.T) {
	f, err := Start(ServerOptions{})
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	f.AddPool(Pool{ID: "eu-west-1_Prog1"})
	f.AddClient(AppClient{PoolID: "eu-west-1_Prog1", ID: "client1", Flows: []string{"ALLOW_ADMIN_USER_PASSWORD_AUTH"}})
	f.AddUser("eu-west-1_Prog1", User{Username: "alice", Password: "pw", Enabled: true})
	out, err := f.Client(noRetry).AdminGetUser(context.Background(), &cip.AdminGetUserInput{
		UserPoolId: aws.String("eu-west-1_Prog1"), Username: aws.String("alice"),
	})
	if err != nil || aws.ToString(out.Username) != "alice" {
		t.Fatalf("AdminGetUser() = %+v, %v, want alice", out, err)
	}
	f.Close()
	f.Close() // a second Close is harmless
	if _, err := f.Client(noRetry).AdminGetUser(context.Background(), &cip.AdminGetUserInput{
		UserPoolId: aws.String("eu-west-1_Prog1"), Username: aws.String("alice"),
	}); err == nil {
		t.Fatal("AdminGetUser() after Close succeeded, want a connection error")
	}
}

// Misuse in a program is a bug: it panics with the reason, as it would fail
// a test made with New.
func TestStartPanicsOnMisuse(t *testing.T) {
	f, err := Start(ServerOptions{})
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	defer f.Close()
	f.AddPool(Pool{ID: "eu-west-1_Prog1"})
	for _, tt := range []struct {
		name, want string
		misuse     func()
	}{
		{"duplicate pool", "pool already exists", func() { f.AddPool(Pool{ID: "eu-west-1_Prog1"}) }},
		{"user of unknown pool", `unknown pool "eu-west-1_None"`, func() { f.AddUser("eu-west-1_None", User{Username: "bob"}) }},
		{"description without Id", "no Id", func() { f.PutUserPool([]byte(`{"Name":"x"}`)) }},
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
}

// The NewServer form keeps working for the programs that call it.
func TestNewServerStops(t *testing.T) {
	f, stop := NewServer(ServerOptions{})
	f.AddPool(Pool{ID: "eu-west-1_Prog1"})
	stop()
	if _, err := f.Client(noRetry).DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String("eu-west-1_Prog1")}); err == nil {
		t.Fatal("DescribeUserPool() after stop succeeded, want a connection error")
	}
}

// Each Fake holds its own pool descriptions and list settings: nothing is
// shared between fakes.
func TestFakesDoNotShareDescriptions(t *testing.T) {
	a, b := New(t), New(t)
	a.SetRateLimit("ListUsers", 1)
	if got := b.lists().rates; len(got) != 0 {
		t.Errorf("second Fake's rate limits = %v, want none", got)
	}
	a.PutUserPool([]byte(adminPool))
	if got := b.UserPool(adminPoolID); got != nil {
		t.Fatalf("second Fake's UserPool(%q) = %v, want nil", adminPoolID, got)
	}
	if _, err := b.Client().DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(adminPoolID)}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("second Fake's DescribeUserPool() error = %v, want ResourceNotFoundException", err)
	}
}

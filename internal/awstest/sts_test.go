package awstest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const (
	testRegion  = "eu-west-1"
	oldRoleARN  = "arn:aws:iam::111122223333:role/cognito-migration-reader"
	externalID  = "migrate-7f3a"
	sessionName = "cognito-migration"
)

// baseConfig is the Lambda's own configuration: static long-term keys.
func baseConfig() aws.Config {
	return aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBASE", "secret", ""),
	}
}

// stsClient is a real STS client for the fake, signing with cfg.
func stsClient(f *STS, cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.BaseEndpoint = aws.String(f.URL)
	})
}

// assumeRoleProvider is the provider the trigger builds for the old pool.
func assumeRoleProvider(f *STS, externalID string) *stscreds.AssumeRoleProvider {
	return stscreds.NewAssumeRoleProvider(stsClient(f, baseConfig()), oldRoleARN, func(o *stscreds.AssumeRoleOptions) {
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
		o.RoleSessionName = sessionName
	})
}

func TestSTSAssumeRole(t *testing.T) {
	tests := []struct {
		name       string
		allowRole  string // role to allow, "" for none
		requiredID string // external id the trust policy requires
		sentID     string // external id sent by the provider
		wantDenied bool
	}{
		{name: "external id required and sent", allowRole: oldRoleARN, requiredID: externalID, sentID: externalID},
		{name: "no external id required, none sent", allowRole: oldRoleARN},
		{name: "no external id required, one sent", allowRole: oldRoleARN, sentID: externalID},
		{name: "wrong external id", allowRole: oldRoleARN, requiredID: externalID, sentID: "migrate-0000", wantDenied: true},
		{name: "missing external id", allowRole: oldRoleARN, requiredID: externalID, wantDenied: true},
		{name: "role not allowed", allowRole: "arn:aws:iam::111122223333:role/other", sentID: externalID, wantDenied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := NewSTS(t)
			fake.AllowRole(tt.allowRole, tt.requiredID)
			cache := aws.NewCredentialsCache(assumeRoleProvider(fake, tt.sentID))

			got, err := cache.Retrieve(context.Background())

			want := AssumeRoleCall{
				RoleARN:           oldRoleARN,
				RoleSessionName:   sessionName,
				ExternalID:        tt.sentID,
				DurationSeconds:   int(stscreds.DefaultDuration / time.Second),
				CallerAccessKeyID: "AKIDBASE",
				SigningRegion:     testRegion,
			}
			if tt.wantDenied {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
					t.Fatalf("Retrieve() error = %v, want API error AccessDenied", err)
				}
				wantMsg := "User: arn:aws:iam::000000000000:user/AKIDBASE is not authorized to perform: sts:AssumeRole on resource: " + oldRoleARN
				if apiErr.ErrorMessage() != wantMsg {
					t.Errorf("AccessDenied message = %q, want %q", apiErr.ErrorMessage(), wantMsg)
				}
			} else {
				if err != nil {
					t.Fatalf("Retrieve() error = %v", err)
				}
				issued, ok := fake.Issued("ASIAFAKE0001")
				if !ok {
					t.Fatalf("Issued(%q) not found", "ASIAFAKE0001")
				}
				wantCreds := aws.Credentials{
					AccessKeyID:     issued.AccessKeyID,
					SecretAccessKey: issued.SecretAccessKey,
					SessionToken:    issued.SessionToken,
					Source:          stscreds.ProviderName,
					CanExpire:       true,
					Expires:         issued.Expiration,
					AccountID:       "111122223333",
				}
				if diff := cmp.Diff(wantCreds, got); diff != "" {
					t.Errorf("Retrieve() mismatch (-want +got):\n%s", diff)
				}
				want.Issued = issued
			}
			if diff := cmp.Diff([]AssumeRoleCall{want}, fake.Calls()); diff != "" {
				t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSTSIssuesFreshCredentials(t *testing.T) {
	fake := NewSTS(t)
	fake.AllowRole(oldRoleARN, "")
	now := time.Date(2026, 11, 21, 13, 0, 0, 500e6, time.UTC)
	fake.SetNow(func() time.Time { return now })
	fake.SetLifetime(2 * time.Minute)
	client := stsClient(fake, baseConfig())

	var got []string
	for range 3 {
		out, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn:         aws.String(oldRoleARN),
			RoleSessionName: aws.String(sessionName),
		})
		if err != nil {
			t.Fatalf("AssumeRole() error = %v", err)
		}
		got = append(got, aws.ToString(out.Credentials.AccessKeyId))
		// STS sends whole seconds in UTC.
		if want := time.Date(2026, 11, 21, 13, 2, 0, 0, time.UTC); !out.Credentials.Expiration.Equal(want) {
			t.Errorf("AssumeRole() Expiration = %v, want %v", out.Credentials.Expiration, want)
		}
		if want := "arn:aws:sts::111122223333:assumed-role/cognito-migration-reader/" + sessionName; aws.ToString(out.AssumedRoleUser.Arn) != want {
			t.Errorf("AssumeRole() AssumedRoleUser.Arn = %q, want %q", aws.ToString(out.AssumedRoleUser.Arn), want)
		}
		if id := aws.ToString(out.AssumedRoleUser.AssumedRoleId); !strings.HasPrefix(id, "AROA") || !strings.HasSuffix(id, ":"+sessionName) {
			t.Errorf("AssumeRole() AssumedRoleId = %q, want AROA...:%s", id, sessionName)
		}
	}
	if diff := cmp.Diff([]string{"ASIAFAKE0001", "ASIAFAKE0002", "ASIAFAKE0003"}, got); diff != "" {
		t.Errorf("access key ids mismatch (-want +got):\n%s", diff)
	}
	if _, ok := fake.Issued("ASIAFAKE0004"); ok {
		t.Errorf("Issued(%q) found, want not issued", "ASIAFAKE0004")
	}
}

// TestSTSRoleChaining checks that a call signed with credentials the fake
// issued is recorded with their key and session token, and denied in the
// name of the assumed role, as STS does.
func TestSTSRoleChaining(t *testing.T) {
	fake := NewSTS(t)
	fake.AllowRole(oldRoleARN, "")
	first, err := aws.NewCredentialsCache(assumeRoleProvider(fake, "")).Retrieve(context.Background())
	if err != nil {
		t.Fatalf("Retrieve() error = %v", err)
	}

	cfg := baseConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(first.AccessKeyID, first.SecretAccessKey, first.SessionToken)
	const otherRole = "arn:aws:iam::444455556666:role/elsewhere"
	_, err = stsClient(fake, cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(otherRole),
		RoleSessionName: aws.String("chained"),
	})

	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
		t.Fatalf("AssumeRole() error = %v, want API error AccessDenied", err)
	}
	wantMsg := "User: arn:aws:sts::111122223333:assumed-role/cognito-migration-reader/" + sessionName +
		" is not authorized to perform: sts:AssumeRole on resource: " + otherRole
	if apiErr.ErrorMessage() != wantMsg {
		t.Errorf("AccessDenied message = %q, want %q", apiErr.ErrorMessage(), wantMsg)
	}
	calls := fake.Calls()
	if len(calls) != 2 {
		t.Fatalf("len(Calls()) = %d, want 2", len(calls))
	}
	if got := calls[1]; got.CallerAccessKeyID != first.AccessKeyID || got.CallerSessionToken != first.SessionToken {
		t.Errorf("Calls()[1] caller = %q with token %q, want %q with token %q",
			got.CallerAccessKeyID, got.CallerSessionToken, first.AccessKeyID, first.SessionToken)
	}
}

func TestSTSRejects(t *testing.T) {
	tests := []struct {
		name     string
		creds    aws.CredentialsProvider
		duration time.Duration
		session  string
		wantCode string
	}{
		{name: "duration below 15 minutes", duration: 14 * time.Minute, session: sessionName, wantCode: "ValidationError"},
		{name: "duration above 12 hours", duration: 13 * time.Hour, session: sessionName, wantCode: "ValidationError"},
		{name: "session name with a space", session: "cognito migration", wantCode: "ValidationError"},
		{name: "unsigned request", creds: aws.AnonymousCredentials{}, session: sessionName, wantCode: "MissingAuthenticationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := NewSTS(t)
			fake.AllowRole(oldRoleARN, "")
			cfg := baseConfig()
			if tt.creds != nil {
				cfg.Credentials = tt.creds
			}
			in := &sts.AssumeRoleInput{RoleArn: aws.String(oldRoleARN), RoleSessionName: aws.String(tt.session)}
			if tt.duration != 0 {
				in.DurationSeconds = aws.Int32(int32(tt.duration / time.Second))
			}

			_, err := stsClient(fake, cfg).AssumeRole(context.Background(), in)

			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
				t.Fatalf("AssumeRole() error = %v, want API error %s", err, tt.wantCode)
			}
			for _, c := range fake.Calls() {
				if c.Issued != (Credentials{}) {
					t.Errorf("Calls() has issued credentials %+v, want none", c.Issued)
				}
			}
		})
	}
}

// TestCredentialsCacheExpiryWindow shows how aws.CredentialsCache decides to
// refresh assumed-role credentials, without waiting: the cache compares the
// credentials' Expires, minus ExpiryWindow, with the real clock (it has no
// clock option), so the fake's clock is skewed instead to issue credentials
// that are already inside the window, or expired.
func TestCredentialsCacheExpiryWindow(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		skew   time.Duration // of the fake's clock when it issues the first credentials
		// wantKeys are the access key ids of three Retrieve calls.
		wantKeys []string
		// wantFirstValid is whether the first credentials are still valid
		// at STS after the three calls.
		wantFirstValid bool
	}{
		{
			name: "outside the window: cached", window: time.Minute,
			wantKeys: []string{"ASIAFAKE0001", "ASIAFAKE0001", "ASIAFAKE0001"}, wantFirstValid: true,
		},
		{
			name: "inside the window: refreshed before they expire", window: time.Minute, skew: -90 * time.Second,
			wantKeys: []string{"ASIAFAKE0001", "ASIAFAKE0002", "ASIAFAKE0002"}, wantFirstValid: true,
		},
		{
			name: "no window: used until they expire", skew: -90 * time.Second,
			wantKeys: []string{"ASIAFAKE0001", "ASIAFAKE0001", "ASIAFAKE0001"}, wantFirstValid: true,
		},
		{
			name: "no window, expired: refreshed", skew: -3 * time.Minute,
			wantKeys: []string{"ASIAFAKE0001", "ASIAFAKE0002", "ASIAFAKE0002"}, wantFirstValid: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := NewSTS(t)
			fake.AllowRole(oldRoleARN, externalID)
			fake.SetLifetime(2 * time.Minute)
			fake.SetNow(func() time.Time { return time.Now().Add(tt.skew) })
			cache := aws.NewCredentialsCache(assumeRoleProvider(fake, externalID), func(o *aws.CredentialsCacheOptions) {
				o.ExpiryWindow = tt.window
			})

			var got []string
			for i := range 3 {
				c, err := cache.Retrieve(context.Background())
				if err != nil {
					t.Fatalf("Retrieve() #%d error = %v", i+1, err)
				}
				got = append(got, c.AccessKeyID)
				if i == 0 {
					// The cache moves Expires forward by the window; it
					// refreshes once the real clock reaches that.
					issued, _ := fake.Issued(c.AccessKeyID)
					if want := issued.Expiration.Add(-tt.window); !c.Expires.Equal(want) {
						t.Errorf("Retrieve() Expires = %v, want STS expiration - window = %v", c.Expires, want)
					}
					// Credentials issued from now on are good for 2 minutes.
					fake.SetNow(time.Now)
				}
			}
			if diff := cmp.Diff(tt.wantKeys, got); diff != "" {
				t.Errorf("Retrieve() access key ids mismatch (-want +got):\n%s", diff)
			}
			first, _ := fake.Issued("ASIAFAKE0001")
			if valid := first.Expiration.After(time.Now()); valid != tt.wantFirstValid {
				t.Errorf("first credentials still valid = %v (expiration %v), want %v", valid, first.Expiration, tt.wantFirstValid)
			}
		})
	}
}

// TestCredentialsCacheRefreshesOnEnteringWindow watches cached credentials
// cross into the ExpiryWindow in real time. aws.CredentialsCache reads the
// real clock, so the fake's clock is set back instead: with a lifetime of 2
// minutes and a window of 1 minute, the credentials enter the window about a
// second after they are issued, and the test sleeps until then. The sleep is
// the point of the test, not synchronisation.
func TestCredentialsCacheRefreshesOnEnteringWindow(t *testing.T) {
	const lifetime, window = 2 * time.Minute, time.Minute
	// STS expirations are whole seconds; enter is one, at least 700ms ahead.
	enter := time.Now().Add(700 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	fake := NewSTS(t)
	fake.AllowRole(oldRoleARN, externalID)
	fake.SetLifetime(lifetime)
	fake.SetNow(func() time.Time { return enter.Add(window - lifetime) })
	cache := aws.NewCredentialsCache(assumeRoleProvider(fake, externalID), func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = window
	})
	ctx := context.Background()

	first, err := cache.Retrieve(ctx)
	if err != nil {
		t.Fatalf("Retrieve() error = %v", err)
	}
	if !first.Expires.Equal(enter) {
		t.Fatalf("Retrieve() Expires = %v, want %v", first.Expires, enter)
	}
	again, err := cache.Retrieve(ctx)
	if err != nil {
		t.Fatalf("Retrieve() error = %v", err)
	}
	if again.AccessKeyID != first.AccessKeyID {
		t.Fatalf("Retrieve() before the window = %q, want cached %q", again.AccessKeyID, first.AccessKeyID)
	}

	time.Sleep(time.Until(enter))

	fresh, err := cache.Retrieve(ctx)
	if err != nil {
		t.Fatalf("Retrieve() error = %v", err)
	}
	if fresh.AccessKeyID != "ASIAFAKE0002" {
		t.Errorf("Retrieve() inside the window = %q, want %q", fresh.AccessKeyID, "ASIAFAKE0002")
	}
	issued, _ := fake.Issued(first.AccessKeyID)
	if left := time.Until(issued.Expiration); left < window-10*time.Second {
		t.Errorf("first credentials had %v left when replaced, want about %v", left, window)
	}
	if n := len(fake.Calls()); n != 2 {
		t.Errorf("len(Calls()) = %d, want 2", n)
	}
}

// TestCredentialsCacheSingleRefresh checks that concurrent Retrieve calls on
// an empty cache share one AssumeRole.
func TestCredentialsCacheSingleRefresh(t *testing.T) {
	fake := NewSTS(t)
	fake.AllowRole(oldRoleARN, externalID)
	cache := aws.NewCredentialsCache(assumeRoleProvider(fake, externalID))

	var wg sync.WaitGroup
	keys := make([]string, 8)
	for i := range keys {
		wg.Go(func() {
			c, err := cache.Retrieve(context.Background())
			if err != nil {
				t.Errorf("Retrieve() error = %v", err)
			}
			keys[i] = c.AccessKeyID
		})
	}
	wg.Wait()

	for i, k := range keys {
		if k != "ASIAFAKE0001" {
			t.Errorf("Retrieve() #%d = %q, want %q", i, k, "ASIAFAKE0001")
		}
	}
	if n := len(fake.Calls()); n != 1 {
		t.Errorf("len(Calls()) = %d, want 1", n)
	}
}

func TestSTSFailWith(t *testing.T) {
	fake := NewSTS(t)
	fake.AllowRole(oldRoleARN, "")
	in := &sts.AssumeRoleInput{RoleArn: aws.String(oldRoleARN), RoleSessionName: aws.String(sessionName)}
	client := sts.NewFromConfig(baseConfig(), func(o *sts.Options) {
		o.BaseEndpoint = aws.String(fake.URL)
		o.RetryMaxAttempts = 1
	})
	fake.FailWith(400, "RegionDisabledException", "STS is not activated in this region")
	_, err := client.AssumeRole(context.Background(), in)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "RegionDisabledException" {
		t.Fatalf("AssumeRole() while failing = %v, want RegionDisabledException", err)
	}
	fake.FailWith(0, "", "")
	if _, err := client.AssumeRole(context.Background(), in); err != nil {
		t.Fatalf("AssumeRole() after the failure ended = %v", err)
	}
	if calls := fake.Calls(); len(calls) != 2 || calls[0].Issued != (Credentials{}) || calls[1].Issued == (Credentials{}) {
		t.Errorf("Calls() = %+v, want a refused call then an issued one", calls)
	}
}

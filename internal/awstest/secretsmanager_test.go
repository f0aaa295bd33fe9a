package awstest

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const clientSecretARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:cognito/old-client-secret-AbC123"

func secretsClient(m *SecretsManager) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(baseConfig(), func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(m.URL)
	})
}

func TestSecretsManagerGetSecretValue(t *testing.T) {
	tests := []struct {
		name     string
		in       secretsmanager.GetSecretValueInput
		deny     bool
		wantCode string // "" for success
	}{
		{name: "by ARN", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(clientSecretARN)}},
		{name: "by name", in: secretsmanager.GetSecretValueInput{SecretId: aws.String("cognito/old-client-secret")}},
		{name: "by partial ARN", in: secretsmanager.GetSecretValueInput{
			SecretId: aws.String("arn:aws:secretsmanager:eu-west-1:111122223333:secret:cognito/old-client-secret")}},
		{name: "current stage", in: secretsmanager.GetSecretValueInput{
			SecretId: aws.String(clientSecretARN), VersionStage: aws.String("AWSCURRENT")}},
		{name: "unknown secret", in: secretsmanager.GetSecretValueInput{SecretId: aws.String("cognito/other")},
			wantCode: "ResourceNotFoundException"},
		{name: "unknown stage", in: secretsmanager.GetSecretValueInput{
			SecretId: aws.String(clientSecretARN), VersionStage: aws.String("AWSPREVIOUS")},
			wantCode: "ResourceNotFoundException"},
		{name: "denied", in: secretsmanager.GetSecretValueInput{SecretId: aws.String(clientSecretARN)}, deny: true,
			wantCode: "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := NewSecretsManager(t)
			before := time.Now()
			fake.Put(clientSecretARN, "s3cr3t-value")
			fake.Deny(tt.deny)

			out, err := secretsClient(fake).GetSecretValue(context.Background(), &tt.in)

			if n := fake.Calls(); n != 1 {
				t.Errorf("Calls() = %d, want 1", n)
			}
			if tt.wantCode != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
					t.Fatalf("GetSecretValue(%q) error = %v, want API error %s", aws.ToString(tt.in.SecretId), err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetSecretValue(%q) error = %v", aws.ToString(tt.in.SecretId), err)
			}
			if got := aws.ToString(out.SecretString); got != "s3cr3t-value" {
				t.Errorf("GetSecretValue(%q) SecretString = %q, want %q", aws.ToString(tt.in.SecretId), got, "s3cr3t-value")
			}
			if got := aws.ToString(out.ARN); got != clientSecretARN {
				t.Errorf("GetSecretValue() ARN = %q, want %q", got, clientSecretARN)
			}
			if got := aws.ToString(out.Name); got != "cognito/old-client-secret" {
				t.Errorf("GetSecretValue() Name = %q, want %q", got, "cognito/old-client-secret")
			}
			if diff := cmp.Diff([]string{"AWSCURRENT"}, out.VersionStages); diff != "" {
				t.Errorf("GetSecretValue() VersionStages mismatch (-want +got):\n%s", diff)
			}
			if aws.ToString(out.VersionId) == "" {
				t.Errorf("GetSecretValue() VersionId is empty")
			}
			// CreatedDate travels as fractional epoch seconds.
			if c := aws.ToTime(out.CreatedDate); c.Before(before.Add(-time.Second)) || c.After(time.Now()) {
				t.Errorf("GetSecretValue() CreatedDate = %v, want about %v", c, before)
			}
		})
	}
}

func TestSecretsManagerResourceNotFoundIsTyped(t *testing.T) {
	fake := NewSecretsManager(t)

	_, err := secretsClient(fake).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(clientSecretARN),
	})

	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("GetSecretValue(%q) error = %v, want *types.ResourceNotFoundException", clientSecretARN, err)
	}
	if want := "Secrets Manager can't find the specified secret."; notFound.ErrorMessage() != want {
		t.Errorf("ResourceNotFoundException message = %q, want %q", notFound.ErrorMessage(), want)
	}
}

func TestSecretsManagerPut(t *testing.T) {
	fake := NewSecretsManager(t)
	fake.Put("plain-name", "v1")
	fake.Put("plain-name", "v2")
	client := secretsClient(fake)

	out, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("plain-name")})
	if err != nil {
		t.Fatalf("GetSecretValue(%q) error = %v", "plain-name", err)
	}
	if got := aws.ToString(out.SecretString); got != "v2" {
		t.Errorf("GetSecretValue(%q) SecretString = %q, want the latest %q", "plain-name", got, "v2")
	}
	arn := aws.ToString(out.ARN)
	if !regexp.MustCompile(`^arn:aws:secretsmanager:eu-west-1:000000000000:secret:plain-name-[A-Za-z]{6}$`).MatchString(arn) {
		t.Errorf("GetSecretValue(%q) ARN = %q, want a secret ARN for plain-name", "plain-name", arn)
	}
	// The generated ARN finds the same secret.
	byARN, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil || aws.ToString(byARN.SecretString) != "v2" {
		t.Errorf("GetSecretValue(%q) = %v, %v, want %q", arn, aws.ToString(byARN.SecretString), err, "v2")
	}
	// A stale version is gone, as only AWSCURRENT is kept.
	_, err = client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{
		SecretId:  aws.String("plain-name"),
		VersionId: aws.String("00000000-0000-4000-8000-000000000001"),
	})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("GetSecretValue(stale version) error = %v, want *types.ResourceNotFoundException", err)
	}
}

func TestSecretsManagerDenyToggles(t *testing.T) {
	fake := NewSecretsManager(t)
	fake.Put(clientSecretARN, "s3cr3t-value")
	client := secretsClient(fake)
	get := func() error {
		_, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(clientSecretARN)})
		return err
	}

	fake.Deny(true)
	var apiErr smithy.APIError
	if err := get(); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("GetSecretValue() with Deny(true) error = %v, want AccessDeniedException", err)
	}
	fake.Deny(false)
	if err := get(); err != nil {
		t.Errorf("GetSecretValue() with Deny(false) error = %v, want nil", err)
	}
	if n := fake.Calls(); n != 2 {
		t.Errorf("Calls() = %d, want 2", n)
	}
}

package logging

import (
	"regexp"
	"testing"
)

// TestSensitiveKey pins the names whose values are never logged, and checks
// the string checks agree with the regular expression they replaced.
func TestSensitiveKey(t *testing.T) {
	old := regexp.MustCompile(`(?i)pass(word|wd)?|secret|token|authorization|credential|session|^event$|^request$|^payload$|^body$`)
	tests := []struct {
		key  string
		want bool
	}{
		{"password", true}, {"Password", true}, {"newPASSWD", true}, {"passphrase", true},
		{"clientSecret", true}, {"OLD_CLIENT_SECRET", true}, {"idToken", true}, {"refresh_token", true},
		{"Authorization", true}, {"credentials", true}, {"Session", true}, {"sessionSeconds", true},
		{"event", true}, {"EVENT", true}, {"request", true}, {"payload", true}, {"body", true},
		{"eventSource", false}, {"requestId", false}, {"userName", false}, {"outcome", false},
		{"oldUserPoolId", false}, {"durationMs", false}, {"triggerSource", false}, {"", false},
	}
	for _, tt := range tests {
		if got := sensitiveKey(tt.key); got != tt.want {
			t.Errorf("sensitiveKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
		if got := old.MatchString(tt.key); got != tt.want {
			t.Errorf("old pattern on %q = %v, want %v (the table is wrong)", tt.key, got, tt.want)
		}
	}
}

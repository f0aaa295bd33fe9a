package cognito_test

import (
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
)

func TestFilter(t *testing.T) {
	for _, tt := range []struct{ attr, value, want string }{
		{"email", "alice@example.com", `email = "alice@example.com"`},
		{"email", `a"b`, `email = "a\"b"`},
		{"email", `a\" or email ^= "`, `email = "a\\\" or email ^= \""`},
		{"phone_number", "+15550100", `phone_number = "+15550100"`},
	} {
		if got := cognito.Filter(tt.attr, tt.value); got != tt.want {
			t.Errorf("Filter(%q, %q) = %s, want %s", tt.attr, tt.value, got, tt.want)
		}
	}
}

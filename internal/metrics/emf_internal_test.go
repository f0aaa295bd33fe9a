package metrics

import (
	"strings"
	"testing"
)

func TestReasonShape(t *testing.T) {
	for s, want := range map[string]bool{
		"bad_credentials": true, "timeout": true, "a": true, "x9_": true, strings.Repeat("a", 64): true,
		"": false, "Bad": false, "9lives": false, "_x": false, "a-b": false, "a b": false, "é": false,
		strings.Repeat("a", 65): false, "user@example.com": false,
	} {
		if got := reasonShape(s); got != want {
			t.Errorf("reasonShape(%q) = %v, want %v", s, got, want)
		}
	}
}

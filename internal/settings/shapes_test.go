package settings

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestShapesAgreeWithTheirPatterns checks the plain-loop shape checks against
// the regular expressions they replaced, on hand-picked and random strings.
func TestShapesAgreeWithTheirPatterns(t *testing.T) {
	checks := []struct {
		name    string
		pattern *regexp.Regexp
		check   func(string) bool
	}{
		{"pool id", regexp.MustCompile(`^([\w-]+)_[0-9a-zA-Z]+$`), func(s string) bool { _, ok := poolRegion(s); return ok }},
		{"client id", regexp.MustCompile(`^[\w+]+$`), func(s string) bool { return word(s, "+") }},
		{"region", regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)*$`), validRegion},
		{"external id", regexp.MustCompile(`^[\w+=,.@:/-]+$`), func(s string) bool { return word(s, "+=,.@:/-") }},
		{"account", regexp.MustCompile(`^\d{12}$`), validAccount},
		{"attribute name", regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`), attributeName},
	}
	samples := []string{"", "eu-west-1_AbC123", "local_1", "a_b_c", "eu-west-1_", "_abc", "eu west-1_a", "eu-west-1_a-b",
		"us-gov-west-1", "e", "eu--west", "eu-", "-eu", "EU-west-1", "1eu", "abc+def", "a=b,c.d@e:f/g-h", "a b",
		"111122223333", "11112222333", "1111222233334", "11112222333x", "custom:tenant", "given name", "名前", "é", "\t"}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab_-09Z+=,.@:/ é\x00"
	for range 5000 {
		b := make([]rune, r.IntN(14))
		for i := range b {
			b[i] = []rune(alphabet)[r.IntN(len([]rune(alphabet)))]
		}
		samples = append(samples, string(b))
	}
	for _, c := range checks {
		for _, s := range samples {
			if got, want := c.check(s), c.pattern.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the pattern says %v", c.name, s, got, want)
			}
		}
	}
	if region, _ := poolRegion("eu-west-1_AbC123"); region != "eu-west-1" {
		t.Errorf("poolRegion = %q, want eu-west-1", region)
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/version"
)

// The start-up line names the build, so a log shows which code answered.
func TestStartUpLogNamesTheVersion(t *testing.T) {
	awsEnv(t)
	startNewPool(t, standardNewPool())
	out := &syncBuffer{}
	env := map[string]string{"OLD_USER_POOL_ID": "eu-west-1_Old", "OLD_CLIENT_ID": "oldclient"}
	if _, _, err := newHandler(context.Background(), func(k string) string { return env[k] }, out); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line["message"] != "migrate-trigger ready" {
			continue
		}
		if got := line["version"]; got != version.String() || got == "" {
			t.Errorf("start-up line version = %v, want %q", got, version.String())
		}
		return
	}
	t.Errorf("no start-up line in:\n%s", out)
}

package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{name: "released", info: debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, want: "v1.2.0"},
		{name: "pseudo-version names its commit", info: debug.BuildInfo{
			Main:     debug.Module{Version: "v0.0.0-20261206015200-1a2b3c4d5e6f+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d"}},
		}, want: "v0.0.0-20261206015200-1a2b3c4d5e6f+dirty"},
		{name: "checkout", info: debug.BuildInfo{
			Main:     debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d"}, {Key: "vcs.modified", Value: "false"}},
		}, want: "(devel) 1a2b3c4d5e6f"},
		{name: "checkout with changes", info: debug.BuildInfo{
			Main:     debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d"}, {Key: "vcs.modified", Value: "true"}},
		}, want: "(devel) 1a2b3c4d5e6f+dirty"},
		{name: "no version control", info: debug.BuildInfo{}, want: "(devel)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuildInfo(&tt.info); got != tt.want {
				t.Errorf("fromBuildInfo() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStringIsNeverEmpty(t *testing.T) {
	if String() == "" {
		t.Error("String() is empty")
	}
}

func TestStringPrefersTheStampedVersion(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v1.2.3"
	if got := String(); got != "v1.2.3" {
		t.Errorf("String() = %q, want the stamped v1.2.3", got)
	}
	Version = ""
	if got := String(); got == "" || got == "v1.2.3" {
		t.Errorf("String() without a stamp = %q, want one from the build information", got)
	}
}

// Package version says which build of cognito-migrate is running, for the
// CLI's --version and the function's start-up log line.
package version

import "runtime/debug"

// Version is the version a release build stamps in with
// -ldflags "-X github.com/cognito-migrate/cognito-migrate/internal/version.Version=v1.2.3"
// (make release). It stays empty in other builds; String then reads the
// build information instead. It must stay an uninitialised string: -X
// cannot set a variable whose initialiser calls a function.
var Version string

// String returns Version when a release build set it; otherwise the module
// version recorded by `go install ...@v1.2.3`, or "devel" followed by the
// commit a build from a checkout records (with "-dirty" for uncommitted
// changes), or plain "devel".
func String() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel+" + rev
}

// Package version says which build of cognito-migrate is running: the
// version make release stamps in, or else the build information the Go
// toolchain embeds (runtime/debug.BuildInfo): the module version when built
// with "go install module@version", otherwise the version control revision
// and whether the tree had changes.
package version

import (
	"runtime/debug"
	"sync"
)

// Version is the version a release build stamps in with
// -ldflags "-X github.com/cognito-migrate/cognito-migrate/internal/version.Version=v1.2.3"
// (make release). It stays empty in other builds, and String reads the
// build information instead. It must stay an uninitialised string: -X
// cannot set a variable whose initialiser calls a function.
var Version string

// String returns the version of the running binary: Version when a release
// build set it, otherwise from the build information, such as "v1.2.0",
// "(devel) 1a2b3c4d5e6f+dirty" or "(unknown)" when the binary carries none.
func String() string {
	if Version != "" {
		return Version
	}
	return current()
}

var current = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return fromBuildInfo(info)
})

func fromBuildInfo(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var revision string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	// A tagged or pseudo version already names the commit.
	if v != "(devel)" || revision == "" {
		return v
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified {
		revision += "+dirty"
	}
	return v + " " + revision
}

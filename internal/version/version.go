// Package version says which build of cognito-migrate is running, from the
// build information the Go toolchain embeds (runtime/debug.BuildInfo): the
// module version when built with "go install module@version", otherwise the
// version control revision and whether the tree had changes.
package version

import (
	"runtime/debug"
	"sync"
)

// String returns the version of the running binary, such as "v1.2.0",
// "(devel) 1a2b3c4d5e6f+dirty" or "(unknown)" when the binary carries no
// build information.
func String() string { return current() }

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

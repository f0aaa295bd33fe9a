// Command printversion prints version.String(): the release test builds it
// with the release's -ldflags to prove they stamp the version in.
package main

import (
	"fmt"

	"github.com/cognito-migrate/cognito-migrate/internal/version"
)

func main() { fmt.Println(version.String()) }

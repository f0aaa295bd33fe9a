// Command cognito-migrate prepares the NEW Amazon Cognito user pool for a
// migration through its "Migrate user" Lambda trigger: attach-trigger,
// detach-trigger, enable-password-auth and disable-password-auth, each a
// read-modify-write that keeps every other setting. Run it with -h for the
// commands, --version for the build, or see docs/cli.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cognito-migrate/cognito-migrate/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

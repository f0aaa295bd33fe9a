// Command package builds the Lambda deployment package, reproducibly:
// dist/function.zip (one entry, bootstrap, for linux/arm64 or linux/amd64)
// and dist/function.zip.sha256. Run it from the module root (make package).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/cognito-migrate/cognito-migrate/tools/packaging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("package", flag.ContinueOnError)
	flags.SetOutput(stderr)
	arch := flags.String("arch", "arm64", "GOARCH of the Lambda function: arm64 or amd64 (x86_64)")
	out := flags.String("out", "dist", "directory for function.zip and function.zip.sha256")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if _, err := os.Stat("go.mod"); err != nil {
		fmt.Fprintln(stderr, "package: run it from the module root (make package)")
		return 2
	}
	res, err := packaging.Build(ctx, packaging.Options{Arch: *arch, ModuleDir: ".", OutDir: *out, Stderr: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "package: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: bootstrap for %s/%s, %d bytes (%d bytes zipped)\n", res.Zip, res.GoOS, res.GoArch, res.BinarySize, res.ZipSize)
	fmt.Fprintf(stdout, "sha256 %s (Lambda CodeSha256 %s)\n", res.SHA256, res.CodeSHA256)
	return 0
}

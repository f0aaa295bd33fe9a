// Package cli is the cognito-migrate command line: the operator's commands
// that prepare the NEW user pool for the migration, its flags, its output,
// and the one place where errors become exit codes.
//
// Each command has an options struct, a constructor that defines its flags,
// and a run function; the cognito and lambdaapi packages make the AWS calls.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cognito-migrate/cognito-migrate/internal/version"
)

// Exit codes.
const (
	ExitOK      = 0 // done, or nothing to do
	ExitFailure = 1 // an AWS call failed, or the result is not what was asked
	ExitUsage   = 2 // the command line is wrong
	// ExitFindings: check ran and found at least one error finding.
	ExitFindings = 3
)

const program = "cognito-migrate"

// Main runs the command line args (without the program name) and returns the
// exit code. The AWS SDK reads its configuration (credentials, profiles,
// AWS_ENDPOINT_URL_<SERVICE>) from the process environment itself; getenv
// gives the commands OLD_USER_POOL_ENDPOINT. stdin is read only by import's
// confirmation, on a terminal.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runApp(ctx, &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, clients: SDKClients()}, args)
}

// Run is Main with the AWS clients given, for tests.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, clients Clients) int {
	return runApp(ctx, &app{stdout: stdout, stderr: stderr, getenv: getenv, clients: clients}, args)
}

func runApp(ctx context.Context, app *app, args []string) int {
	name, err := app.run(ctx, args)
	if err != nil {
		app.printError(name, err)
	}
	return exitCode(err)
}

// exitCode is the one place where errors become exit codes.
func exitCode(err error) int {
	var (
		usage    *usageError
		findings *findingsError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &findings):
		return ExitFindings
	default:
		return ExitFailure
	}
}

// usageError is a wrong command line.
type usageError struct {
	msg  string
	help string // the command whose help to point at, "" for the program's
}

func (e *usageError) Error() string { return e.msg }

func usagef(help, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), help: help}
}

type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	clients        Clients
}

// command is one subcommand: its flags and what it does.
type command struct {
	name    string
	summary string
	// synopsis is the usage line after the program and command names.
	synopsis string
	// description is the help text between the usage line and the flags.
	description string
	// footer follows the flags: IAM actions, exit status.
	footer string
	flags  *flag.FlagSet
	// run runs the command once its flags are parsed.
	run func(ctx context.Context) error
}

// commands returns the subcommands, in the order help lists them, bound to
// app.
func (a *app) commands() []*command {
	return []*command{newAttachTriggerCmd(a), newDetachTriggerCmd(a), newEnablePasswordAuthCmd(a), newDisablePasswordAuthCmd(a),
		newCheckCmd(a), newExplainCmd(a), newStatusCmd(a), newExportCmd(a), newImportCmd(a), newMapCmd(a)}
}

func (a *app) run(ctx context.Context, args []string) (string, error) {
	if len(args) == 0 {
		a.printUsage(a.stderr)
		return "", usagef("", "no command given")
	}
	name, rest := args[0], args[1:]
	switch name {
	case "version", "-version", "--version":
		fmt.Fprintf(a.stdout, "%s %s\n", program, version.String())
		return "", nil
	case "help", "-h", "-help", "--help":
		if name == "help" && len(rest) > 0 {
			cmd := a.find(rest[0])
			if cmd == nil {
				return "", usagef("", "unknown command %q", rest[0])
			}
			cmd.printHelp(a.stdout)
			return "", nil
		}
		a.printUsage(a.stdout)
		return "", nil
	}
	cmd := a.find(name)
	if cmd == nil {
		return "", usagef("", "unknown command %q", name)
	}
	cmd.flags.SetOutput(io.Discard) // errors are reported once, by printError
	cmd.flags.Usage = func() {}
	if err := cmd.flags.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.printHelp(a.stdout)
			return name, nil
		}
		return name, usagef(name, "%v", err)
	}
	if cmd.flags.NArg() > 0 {
		return name, usagef(name, "unexpected argument %q", cmd.flags.Arg(0))
	}
	return name, cmd.run(ctx)
}

func (a *app) find(name string) *command {
	for _, c := range a.commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (a *app) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\n", program)
	fmt.Fprintf(w, "Prepares the NEW Amazon Cognito user pool for a migration through its \"Migrate user\"\nLambda trigger, checks the wiring, explains any user and shows progress, and moves\nthe users who never sign in with a bulk import. Every change to a pool's settings\nis a read-modify-write that keeps all other settings.\n\nCommands:\n")
	for _, c := range a.commands() {
		fmt.Fprintf(w, "  %-22s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-22s %s\n", "help [command]", "show this help, or a command's")
	fmt.Fprintf(w, "  %-22s %s\n", "--version", "print the version")
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags.\n", program)
	fmt.Fprintf(w, "AWS credentials and endpoints come from the AWS SDK's usual sources (AWS_PROFILE,\n"+
		"AWS_ACCESS_KEY_ID, SSO, AWS_ENDPOINT_URL_<SERVICE>, ~/.aws/config), or --profile and\n"+
		"--endpoint-url. The region is the user pool ID's prefix unless --region says otherwise.\n"+
		"Every AWS call gives up after %v.\n", DefaultCallTimeout)
	fmt.Fprintf(w, "\nExit status: 0 done (or nothing to do), 1 failed, 2 usage error, 3 check found an error.\n")
}

func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s %s %s\n\n%s\n\nFlags:\n", program, c.name, c.synopsis, strings.TrimSpace(c.description))
	c.flags.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if name != "" {
			left += " " + name
		}
		if len(left) > 22 {
			// A long flag gets its own line, so the help column stays aligned.
			fmt.Fprintf(w, "  %s\n  %-22s %s\n", left, "", usage)
			return
		}
		fmt.Fprintf(w, "  %-22s %s\n", left, usage)
	})
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.footer))
}

// printError reports err on stderr, once, with what to do about it.
func (a *app) printError(name string, err error) {
	prefix := program
	if name != "" {
		prefix += " " + name
	}
	var usage *usageError
	if errors.As(err, &usage) {
		help := program + " -h"
		if usage.help != "" {
			help = program + " " + usage.help + " -h"
		}
		fmt.Fprintf(a.stderr, "%s: %s\nRun '%s' for usage.\n", prefix, usage.msg, help)
		return
	}
	fmt.Fprintf(a.stderr, "%s: %s\n", prefix, explain(err))
}

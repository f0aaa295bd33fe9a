// Command demo rehearses a migration on this machine (`make demo`): it
// builds the function, starts an old and a new local user pool
// (cognito-local), seeds the old one, signs users in through the new one and
// shows who moved, with which attributes, and who was refused and why.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cognito-migrate/cognito-migrate/e2e/rehearsal"
	"github.com/cognito-migrate/cognito-migrate/internal/cli"
)

func main() {
	verbose := flag.Bool("v", false, "show the emulators' and the function's output")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout, *verbose)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type attempt struct {
	who, user, password, note string
}

func run(ctx context.Context, out io.Writer, verbose bool) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	fmt.Fprintln(out, "== Building the function (cmd/migrate-trigger)")
	dir, err := os.MkdirTemp("", "cognito-migrate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := rehearsal.Build(ctx, dir)
	if err != nil {
		return err
	}

	fmt.Fprintln(out, "== Starting the old pool, the function (bootstrap -listen) and the new pool")
	var logs io.Writer
	if verbose {
		logs = out
	}
	// The new pool keeps each user's old sub in custom:legacy_sub, so data
	// keyed on it can be re-keyed.
	r, err := rehearsal.Start(ctx, rehearsal.Options{
		Bootstrap: bin, Log: logs,
		NewPoolCustomAttributes: []string{"tenant", "legacy_sub"},
		TriggerEnv:              map[string]string{"LEGACY_SUB_ATTRIBUTE": "custom:legacy_sub"},
	})
	if err != nil {
		return err
	}
	defer func() {
		r.Stop()
		if verbose {
			fmt.Fprintf(out, "\n== Function output\n%s", r.TriggerOutput())
		}
		fmt.Fprintln(out, "== Stopped both pools and the function")
	}()
	fmt.Fprintf(out, "   old pool %s at %s\n   function at %s\n   new pool %s at %s (its Migrate user trigger calls the function)\n",
		r.OldPoolID, r.Old.URL, r.TriggerURL, r.NewPoolID, r.New.URL)

	seed := []rehearsal.OldUser{
		{Username: "alice", Password: "Alice-Passw0rd!", Attributes: map[string]string{
			"email": "alice@example.com", "email_verified": "true", "given_name": "Alice",
			"family_name": "Liddell", "custom:tenant": "wonderland",
		}},
		{Username: "dinah", Password: "Dinah-Passw0rd!", Attributes: map[string]string{
			"email": "dinah@example.com", "email_verified": "false", "phone_number": "+15550100002",
			"phone_number_verified": "true", "custom:tenant": "wonderland",
		}},
		{Username: "bob", Password: "Bob-Passw0rd!", Disabled: true, Attributes: map[string]string{"email": "bob@example.com"}},
		{Username: "carol", Password: "Carol-Passw0rd!", Unconfirmed: true, Attributes: map[string]string{"email": "carol@example.com"}},
	}
	fmt.Fprintln(out, "\n== Old pool users")
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "   username\tstatus\tattributes")
	for _, u := range seed {
		if err := r.AddOldUser(ctx, u); err != nil {
			return err
		}
		attrs, err := r.OldUserAttributes(ctx, u.Username)
		if err != nil {
			return err
		}
		u.Attributes = attrs // with the sub the old pool gave them
		status := "CONFIRMED, enabled"
		switch {
		case u.Disabled:
			status = "CONFIRMED, disabled"
		case u.Unconfirmed:
			status = "UNCONFIRMED"
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\n", u.Username, status, formatAttrs(u.Attributes))
	}
	tw.Flush()

	attempts := []attempt{
		{"alice", "alice", "Alice-Passw0rd!", "her old password"},
		{"alice", "alice", "Alice-Passw0rd!", "again: she is in the new pool now"},
		{"dinah", "dinah", "not-dinahs-password", "a wrong password"},
		{"dinah", "dinah", "Dinah-Passw0rd!", "her old password"},
		{"bob", "bob", "Bob-Passw0rd!", "the right password, but disabled in the old pool"},
		{"carol", "carol", "Carol-Passw0rd!", "the right password, but never confirmed"},
		{"mallory", "mallory", "Guess-1234", "a user the old pool does not have"},
	}
	fmt.Fprintln(out, "\n== Signing in to the NEW pool (InitiateAuth, USER_PASSWORD_AUTH)")
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "   who\ttyped\tresult\tthe function decided")
	for _, a := range attempts {
		before := len(r.Decisions())
		result := "signed in"
		if err := r.SignIn(ctx, a.user, a.password); err != nil {
			result = "refused"
		}
		decided := "not called (already in the new pool)"
		if ds := r.Decisions(); len(ds) > before {
			d := ds[len(ds)-1]
			decided = fmt.Sprint(d["outcome"])
			if reason, ok := d["reason"]; ok && reason != "migrated" {
				decided += " (" + fmt.Sprint(reason) + ")"
			}
			if st, ok := d["finalUserStatus"]; ok {
				decided += " as " + fmt.Sprint(st)
			}
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\n", a.who, a.note, result, decided)
	}
	tw.Flush()

	fmt.Fprintln(out, "\n== New pool users (AdminGetUser on the new pool)")
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	for _, u := range append(seed, rehearsal.OldUser{Username: "mallory"}) {
		attrs, err := r.NewUser(ctx, u.Username)
		switch {
		case err == rehearsal.ErrNotInNewPool:
			fmt.Fprintf(tw, "   %s\tnot migrated\n", u.Username)
		case err != nil:
			return err
		default:
			delete(attrs, "username") // cognito-local stores the username as an attribute too
			fmt.Fprintf(tw, "   %s\tmigrated\t%s\n", u.Username, formatAttrs(attrs))
		}
	}
	tw.Flush()
	fmt.Fprintln(out, "   (custom:legacy_sub holds the old sub. Cognito gives every migrated user a new sub; cognito-local gives none.)")

	if err := operatorView(ctx, out, r); err != nil {
		return err
	}

	leaked := 0
	for _, a := range attempts {
		if strings.Contains(r.TriggerOutput(), a.password) {
			leaked++
		}
	}
	fmt.Fprintf(out, "\n== The function wrote %d lines (logs and metrics); passwords found in them: %d\n", strings.Count(r.TriggerOutput(), "\n"), leaked)
	if leaked > 0 {
		return fmt.Errorf("a password reached the function's output")
	}
	return nil
}

// operatorView runs the operator CLI against the two local pools, as an
// operator would during the weeks of a migration: how far it is, and why a
// user who did not move did not.
func operatorView(ctx context.Context, out io.Writer, r *rehearsal.Rehearsal) error {
	// The local pools accept any credentials; the demo must not read the
	// operator's own AWS configuration.
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		os.Setenv(k, v)
	}
	// No Lambda here: the function's settings are given as flags, named
	// after the settings, as the CLI allows.
	pools := []string{"--user-pool-id", r.NewPoolID, "--endpoint-url", r.New.URL,
		"--old-user-pool-id", r.OldPoolID, "--old-client-id", r.OldClientID, "--old-endpoint-url", r.Old.URL,
		"--legacy-sub-attribute", "custom:legacy_sub", "--decline-response", "error"}
	for _, c := range []struct {
		title string
		args  []string
	}{
		{"cognito-migrate status: how far the migration is", []string{"status"}},
		{"cognito-migrate explain --username bob: why bob did not move", []string{"explain", "--username", "bob"}},
	} {
		fmt.Fprintf(out, "\n== %s\n", c.title)
		var stdout, stderr strings.Builder
		code := cli.Main(ctx, append(c.args, pools...), os.Getenv, strings.NewReader(""), &stdout, &stderr)
		for _, line := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
			fmt.Fprintf(out, "   %s\n", line)
		}
		if code != 0 {
			return fmt.Errorf("cognito-migrate %s: exit %d: %s", c.args[0], code, stderr.String())
		}
	}
	return nil
}

func formatAttrs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

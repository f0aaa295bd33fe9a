package cli

import (
	"encoding/json"
	"fmt"
	"io"
)

// result is what a command reports, in text or as the --output json object.
type result interface {
	printText(w io.Writer)
	warnings() []string
	setError(*errorResult)
}

// finish prints the result (what was done, even when err says the command
// failed half-way) on stdout and its warnings on stderr, and returns err.
// With --output json, stdout gets exactly one JSON object, whose "error"
// holds err's message and exit code.
func (a *app) finish(output string, res result, err error) error {
	for _, w := range res.warnings() {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	if output == "json" {
		if err != nil {
			res.setError(&errorResult{Message: explain(err), ExitCode: exitCode(err)})
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(res); encErr != nil && err == nil {
			return fmt.Errorf("write the result: %w", encErr)
		}
		return err
	}
	if err != nil {
		res.setError(&errorResult{Message: explain(err), ExitCode: exitCode(err)})
	}
	res.printText(a.stdout)
	return err
}

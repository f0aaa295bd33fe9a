// Package bulk moves the users who never sign in: it writes the new pool's
// import CSV in Cognito's own dialect, with a manifest per file, and drives
// the import jobs and the steps the CSV cannot carry (re-disabling users,
// group memberships), resumably.
//
// The CSV facts it relies on are Cognito's documentation
// (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html)
// and docs/cognito-behaviour.md. Where Cognito's handling of a value is not
// documented, the value is refused and the user skipped with a reason, never
// guessed at.
package bulk

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Column names Cognito puts in every import header besides the attributes.
const (
	ColumnUsername   = "cognito:username"
	ColumnMFAEnabled = "cognito:mfa_enabled"
)

// MaxRowChars is Cognito's limit on one CSV row, in characters.
const MaxRowChars = 16000

// booleanColumns hold "true" or "false"; they are written in lower case, the
// form Cognito stores (the documentation's sample uses TRUE/FALSE, its text
// true).
var booleanColumns = map[string]bool{
	"email_verified":        true,
	"phone_number_verified": true,
	ColumnMFAEnabled:        true,
}

// ValueError says why a value cannot be written in Cognito's CSV dialect. It
// never holds the value itself, which may be personal data.
type ValueError struct {
	Column string
	// Problem is a short, value-free explanation.
	Problem string
}

func (e *ValueError) Error() string { return fmt.Sprintf("column %q: %s", e.Column, e.Problem) }

// EncodeValue writes one value of column in Cognito's CSV dialect: no
// quoting, a comma inside a value escaped as `\,`. It refuses, with a
// *ValueError, what the dialect cannot carry unchanged:
//   - a line break (CR or LF) or another control character: rows are lines;
//   - a backslash or a double quote: Cognito documents only `\,`, not how it
//     reads other backslashes or quotes, so such a value could arrive altered;
//   - leading or trailing white space: Cognito trims it, which would change
//     the value;
//   - bytes that are not UTF-8;
//   - a boolean column whose value is not true or false (any case);
//   - a birthdate that is neither mm/dd/yyyy (the import's documented form)
//     nor yyyy-mm-dd (the form user pools store, rewritten to mm/dd/yyyy);
//   - an updated_at that is not a number of seconds since the epoch.
func EncodeValue(column, value string) (string, error) {
	switch {
	case value == "":
	case column == "birthdate":
		if d, err := time.Parse("2006-01-02", value); err == nil {
			return d.Format("01/02/2006"), nil
		}
		if _, err := time.Parse("01/02/2006", value); err != nil {
			return "", &ValueError{column, "neither mm/dd/yyyy nor yyyy-mm-dd"}
		}
		return value, nil
	case column == "updated_at":
		if strings.Trim(value, "0123456789") != "" {
			return "", &ValueError{column, "not a number of seconds since the epoch"}
		}
		return value, nil
	}
	if booleanColumns[column] && value != "" {
		switch strings.ToLower(value) {
		case "true":
			return "true", nil
		case "false":
			return "false", nil
		}
		return "", &ValueError{column, "not true or false"}
	}
	if !utf8.ValidString(value) {
		return "", &ValueError{column, "not valid UTF-8"}
	}
	if value != strings.TrimSpace(value) {
		return "", &ValueError{column, "leading or trailing white space, which Cognito trims"}
	}
	commas := 0
	for _, r := range value {
		switch {
		case r == '\n' || r == '\r':
			return "", &ValueError{column, "a line break, which a CSV row cannot hold"}
		case r == '\\':
			return "", &ValueError{column, "a backslash, whose handling by Cognito's import is undocumented"}
		case r == '"':
			return "", &ValueError{column, "a double quote, whose handling by Cognito's import is undocumented"}
		case r == ',':
			commas++
		case unicode.IsControl(r):
			return "", &ValueError{column, "a control character"}
		}
	}
	if commas == 0 {
		return value, nil
	}
	return strings.ReplaceAll(value, ",", `\,`), nil
}

// EncodeHeader returns the header line (without its line break). The
// columns must be GetCSVHeader's, unchanged.
func EncodeHeader(header []string) (string, error) {
	for _, c := range header {
		if c == "" || strings.ContainsAny(c, ",\\\"\r\n") {
			return "", fmt.Errorf("csv header column %q cannot be written", c)
		}
	}
	return strings.Join(header, ","), nil
}

// ErrMalformedLine is returned by DecodeLine for a line that is not in
// Cognito's dialect.
var ErrMalformedLine = errors.New("malformed CSV line")

// DecodeLine splits one line of Cognito's CSV dialect into its values,
// turning `\,` back into a comma. A backslash before anything else is
// malformed: EncodeValue never writes one.
func DecodeLine(line string) ([]string, error) {
	var (
		fields []string
		b      strings.Builder
	)
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '\\':
			if i+1 >= len(line) || line[i+1] != ',' {
				return nil, fmt.Errorf("%w: backslash not before a comma at byte %d", ErrMalformedLine, i)
			}
			b.WriteByte(',')
			i++
		case ',':
			fields = append(fields, b.String())
			b.Reset()
		case '\n', '\r':
			return nil, fmt.Errorf("%w: line break inside a line", ErrMalformedLine)
		default:
			b.WriteByte(c)
		}
	}
	return append(fields, b.String()), nil
}

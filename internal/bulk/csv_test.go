package bulk

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEncodeValue(t *testing.T) {
	tests := []struct {
		name, column, value, want string
		refused, rewritten        bool
	}{
		{name: "plain", column: "name", value: "Alice", want: "Alice"},
		{name: "empty", column: "name", value: "", want: ""},
		{name: "comma", column: "address", value: "1 Main St, Springfield", want: `1 Main St\, Springfield`},
		{name: "two commas", column: "name", value: "a,,b", want: `a\,\,b`},
		{name: "leading plus kept as text", column: "phone_number", value: "+447700900123", want: "+447700900123"},
		{name: "leading zeros kept", column: "custom:code", value: "000123", want: "000123"},
		{name: "non-ASCII", column: "name", value: "Zoë Ñúñez 李", want: "Zoë Ñúñez 李"},
		{name: "apostrophe", column: "family_name", value: "O'Brien", want: "O'Brien"},
		{name: "boolean lower-cased", column: "email_verified", value: "TRUE", want: "true"},
		{name: "boolean false", column: "phone_number_verified", value: "False", want: "false"},
		{name: "boolean empty", column: "email_verified", value: "", want: ""},
		{name: "boolean garbage", column: "email_verified", value: "yes", refused: true},
		{name: "backslash", column: "name", value: `a\b`, refused: true},
		{name: "double quote", column: "name", value: `say "hi"`, refused: true},
		{name: "newline", column: "name", value: "a\nb", refused: true},
		{name: "carriage return", column: "name", value: "a\rb", refused: true},
		{name: "tab inside", column: "name", value: "a\tb", refused: true},
		{name: "leading space", column: "name", value: " Bob", refused: true},
		{name: "trailing space", column: "name", value: "Bob ", refused: true},
		{name: "birthdate documented form", column: "birthdate", value: "01/31/1990", want: "01/31/1990"},
		{name: "birthdate stored form rewritten", column: "birthdate", value: "1990-01-31", want: "01/31/1990", rewritten: true},
		{name: "birthdate other form", column: "birthdate", value: "31.01.1990", refused: true},
		{name: "updated_at seconds", column: "updated_at", value: "1700000000", want: "1700000000"},
		{name: "updated_at date", column: "updated_at", value: "2024-01-01", refused: true},
		{name: "invalid UTF-8", column: "name", value: "a\xffb", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeValue(tt.column, tt.value)
			if tt.refused {
				var ve *ValueError
				if !errors.As(err, &ve) {
					t.Fatalf("EncodeValue(%q, %q) = %q, %v; want a *ValueError", tt.column, tt.value, got, err)
				}
				if ve.Column != tt.column {
					t.Errorf("ValueError.Column = %q, want %q", ve.Column, tt.column)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("EncodeValue(%q, %q) = %q, %v; want %q", tt.column, tt.value, got, err, tt.want)
			}
			// Round trip through the reader.
			back, err := DecodeLine(got)
			if err != nil || len(back) != 1 {
				t.Fatalf("DecodeLine(%q) = %q, %v", got, back, err)
			}
			if !tt.rewritten && tt.column != "email_verified" && tt.column != "phone_number_verified" && back[0] != tt.value {
				t.Errorf("round trip of %q gave %q", tt.value, back[0])
			}
		})
	}
}

func TestValueErrorHoldsNoValue(t *testing.T) {
	secret := "hunter2\\secret"
	_, err := EncodeValue("name", secret)
	if err == nil {
		t.Fatal("want a refusal")
	}
	if msg := err.Error(); msg == "" || strings.Contains(msg, "hunter2") {
		t.Errorf("error %q holds the value", msg)
	}
}

func TestDecodeLine(t *testing.T) {
	tests := []struct {
		line string
		want []string
		bad  bool
	}{
		{line: "a,b,c", want: []string{"a", "b", "c"}},
		{line: `a\,b,c`, want: []string{"a,b", "c"}},
		{line: ",,", want: []string{"", "", ""}},
		{line: "", want: []string{""}},
		{line: `a\b`, bad: true},
		{line: `a\`, bad: true},
	}
	for _, tt := range tests {
		got, err := DecodeLine(tt.line)
		if tt.bad {
			if !errors.Is(err, ErrMalformedLine) {
				t.Errorf("DecodeLine(%q) = %q, %v; want ErrMalformedLine", tt.line, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("DecodeLine(%q): %v", tt.line, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("DecodeLine(%q) (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestEncodeHeader(t *testing.T) {
	got, err := EncodeHeader([]string{"name", "cognito:mfa_enabled", "cognito:username"})
	if err != nil || got != "name,cognito:mfa_enabled,cognito:username" {
		t.Fatalf("EncodeHeader = %q, %v", got, err)
	}
	if _, err := EncodeHeader([]string{"a,b"}); err == nil {
		t.Error("EncodeHeader accepted a column with a comma")
	}
}

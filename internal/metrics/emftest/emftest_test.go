package emftest_test

import (
	"strings"
	"testing"

	"github.com/cognito-migrate/cognito-migrate/internal/metrics/emftest"
)

// The specification's own valid example.
const specExample = `{
  "_aws": {
    "Timestamp": 1574109732004,
    "CloudWatchMetrics": [
      {
        "Namespace": "lambda-function-metrics",
        "Dimensions": [["functionVersion"]],
        "Metrics": [{"Name": "time", "Unit": "Milliseconds", "StorageResolution": 60}]
      }
    ]
  },
  "functionVersion": "$LATEST",
  "time": 100,
  "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee"
}`

// doc builds a record from its parts, so each row changes one thing.
func doc(meta, rest string) string {
	return `{"_aws":` + meta + rest + `}`
}

const (
	okDirective = `{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"M","Unit":"Count"}]}`
	okMembers   = `,"D":"d","M":1`
)

func okMeta(directive string) string {
	return `{"Timestamp":1700000000000,"CloudWatchMetrics":[` + directive + `]}`
}

func TestCheckAccepts(t *testing.T) {
	tests := map[string]string{
		"the specification's example": specExample,
		"minimal":                     doc(okMeta(okDirective), okMembers),
		"empty dimension set":         doc(okMeta(`{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M"}]}`), `,"M":1`),
		"array of values":             doc(okMeta(okDirective), `,"D":"d","M":[1,2.5,3]`),
		"high resolution":             doc(okMeta(`{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M","StorageResolution":1}]}`), `,"M":1`),
		"other members are allowed":   doc(okMeta(okDirective), okMembers+`,"note":{"nested":[true,null]}`),
		"two directives": doc(`{"Timestamp":1,"CloudWatchMetrics":[`+okDirective+`,{"Namespace":"O","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]}`,
			okMembers),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := emftest.Check([]byte(in)); err != nil {
				t.Errorf("Check() = %v, want valid:\n%s", err, in)
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	thirtyOne := make([]string, 31)
	members := ""
	for i := range thirtyOne {
		thirtyOne[i] = `"K` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `"`
		members += `,` + thirtyOne[i] + `:"v"`
	}
	defs, values := make([]string, 101), ""
	for i := range defs {
		name := "M" + strings.Repeat("m", i)
		defs[i] = `{"Name":"` + name + `"}`
		values += `,"` + name + `":1`
	}
	tests := []struct {
		name, in, want string
	}{
		{"not JSON", `{"_aws":`, "JSON"},
		{"not an object", `[1]`, "not a JSON object"},
		{"trailing data", doc(okMeta(okDirective), okMembers) + ` {}`, "after the JSON object"},
		{"prefix, as console.log in Node adds", `2024-01-01T00:00:00Z INFO ` + doc(okMeta(okDirective), okMembers), "not JSON"},
		{"no _aws", `{"M":1}`, `"_aws" is missing`},
		{"_aws not an object", `{"_aws":[]}`, `"_aws" is missing`},
		{"no timestamp", doc(`{"CloudWatchMetrics":[`+okDirective+`]}`, okMembers), "Timestamp"},
		{"timestamp a string", doc(`{"Timestamp":"1700000000000","CloudWatchMetrics":[`+okDirective+`]}`, okMembers), "Timestamp"},
		{"timestamp in seconds with a fraction", doc(`{"Timestamp":1700000000.5,"CloudWatchMetrics":[`+okDirective+`]}`, okMembers), "integer"},
		{"negative timestamp", doc(`{"Timestamp":-1,"CloudWatchMetrics":[`+okDirective+`]}`, okMembers), "non-negative"},
		{"no directives", doc(`{"Timestamp":1}`, okMembers), "CloudWatchMetrics"},
		{"empty directives", doc(`{"Timestamp":1,"CloudWatchMetrics":[]}`, okMembers), "empty"},
		{"extra _aws member", doc(`{"Timestamp":1,"Extra":1,"CloudWatchMetrics":[`+okDirective+`]}`, okMembers), `member "Extra"`},
		{"extra directive member", doc(okMeta(`{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"M"}],"X":1}`), okMembers), `member "X"`},
		{"no namespace", doc(okMeta(`{"Dimensions":[["D"]],"Metrics":[{"Name":"M"}]}`), okMembers), "Namespace"},
		{"empty namespace", doc(okMeta(`{"Namespace":"","Dimensions":[["D"]],"Metrics":[{"Name":"M"}]}`), okMembers), "Namespace"},
		{"AWS/ namespace", doc(okMeta(`{"Namespace":"AWS/Lambda","Dimensions":[["D"]],"Metrics":[{"Name":"M"}]}`), okMembers), "reserved"},
		{"no dimensions", doc(okMeta(`{"Namespace":"N","Metrics":[{"Name":"M"}]}`), okMembers), "Dimensions"},
		{"dimensions empty", doc(okMeta(`{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]}`), okMembers), "Dimensions"},
		{"dimension set not an array", doc(okMeta(`{"Namespace":"N","Dimensions":["D"],"Metrics":[{"Name":"M"}]}`), okMembers), "not an array"},
		{"31 dimensions", doc(okMeta(`{"Namespace":"N","Dimensions":[[`+strings.Join(thirtyOne, ",")+`]],"Metrics":[{"Name":"M"}]}`), `,"M":1`+members), "more than 30"},
		{"dimension missing", doc(okMeta(okDirective), `,"M":1`), `dimension "D": no top-level string`},
		{"dimension nested", doc(okMeta(okDirective), `,"x":{"D":"d"},"M":1`), `dimension "D": no top-level string`},
		{"dimension a number", doc(okMeta(okDirective), `,"D":1,"M":1`), `dimension "D": no top-level string`},
		{"dimension value empty", doc(okMeta(okDirective), `,"D":"","M":1`), "1 to 1024"},
		{"dimension value too long", doc(okMeta(okDirective), `,"D":"`+strings.Repeat("v", 1025)+`","M":1`), "1 to 1024"},
		{"no metrics", doc(okMeta(`{"Namespace":"N","Dimensions":[["D"]]}`), okMembers), "Metrics"},
		{"101 metrics", doc(okMeta(`{"Namespace":"N","Dimensions":[[]],"Metrics":[`+strings.Join(defs, ",")+`]}`), values), "more than 100"},
		{"metric without a name", doc(okMeta(`{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Unit":"Count"}]}`), okMembers), "Name"},
		{"unknown unit", doc(okMeta(`{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"M","Unit":"ms"}]}`), okMembers), "not a CloudWatch unit"},
		{"bad resolution", doc(okMeta(`{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"M","StorageResolution":30}]}`), okMembers), "StorageResolution"},
		{"extra definition member", doc(okMeta(`{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"M","Value":1}]}`), okMembers), `member "Value"`},
		{"metric missing", doc(okMeta(okDirective), `,"D":"d"`), `metric "M": no top-level member`},
		{"metric a string", doc(okMeta(okDirective), `,"D":"d","M":"1"`), "not a number"},
		{"metric a boolean", doc(okMeta(okDirective), `,"D":"d","M":true`), "not a number"},
		{"metric array of strings", doc(okMeta(okDirective), `,"D":"d","M":["1"]`), "not a number"},
		{"duplicate member", doc(okMeta(okDirective), okMembers+`,"D":"e"`), `"D" twice`},
		{"too large", doc(okMeta(okDirective), okMembers+`,"pad":"`+strings.Repeat("x", emftest.MaxEventBytes)+`"`), "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := emftest.Check([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	out := `{"level":"INFO","message":"user migration"}` + "\n" + doc(okMeta(okDirective), okMembers) + "\nplain text\n"
	recs, others := emftest.Split(t, out)
	if len(recs) != 1 || recs[0]["D"] != "d" {
		t.Errorf("records = %v", recs)
	}
	if len(others) != 2 {
		t.Errorf("other lines = %q", others)
	}
}

// Parse keeps the valid records and the other lines, and names every invalid
// record in its error, for programs that have no test to fail.
func TestParseReportsInvalidRecords(t *testing.T) {
	bad := `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"m","Unit":"Parsecs"}]}]},"m":1}`
	out := strings.ReplaceAll(specExample, "\n", "") + "\nplain line\n" + bad + "\n"
	recs, others, err := emftest.Parse(out)
	if len(recs) != 1 || len(others) != 1 || others[0] != "plain line" {
		t.Errorf("Parse() = %d records, others %q, want 1 record and the plain line", len(recs), others)
	}
	if err == nil || !strings.Contains(err.Error(), "invalid EMF record") || !strings.Contains(err.Error(), "Parsecs") {
		t.Errorf("Parse() error = %v, want one naming the invalid record", err)
	}
	if _, _, err := emftest.Parse(strings.ReplaceAll(specExample, "\n", "") + "\n"); err != nil {
		t.Errorf("Parse(valid) error = %v, want nil", err)
	}
}

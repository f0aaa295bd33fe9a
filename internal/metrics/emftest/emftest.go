// Package emftest checks log lines against the CloudWatch Embedded Metric
// Format specification, for tests of anything that writes EMF:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
//
// It is stricter than CloudWatch where the specification says MUST, and
// rejects what CloudWatch would silently drop (an empty dimension value, a
// duplicate member), so a record that passes here becomes metrics there.
package emftest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// Limits of the specification and of CloudWatch.
const (
	MaxEventBytes        = 256 << 10 // CloudWatch Logs event (1 MB now; 256 KB was the limit for years)
	MaxDimensionsPerSet  = 30
	MaxMetricsPerDir     = 100
	MaxValuesPerMetric   = 100
	MaxNamespaceLen      = 1024 // and at least 1
	MaxDimensionKeyLen   = 250
	MaxDimensionValueLen = 1024
	MaxMetricNameLen     = 1024
)

// units are the CloudWatch metric units EMF accepts (MetricDatum.Unit).
var units = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true,
	"Gigabits": true, "Terabits": true, "Percent": true, "Count": true, "Bytes/Second": true,
	"Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true, "Terabytes/Second": true,
	"Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true, "Gigabits/Second": true,
	"Terabits/Second": true, "Count/Second": true, "None": true,
}

// IsEMF reports whether line is meant as an EMF record: a JSON object with
// an "_aws" member. Check says whether it is a valid one.
func IsEMF(line []byte) bool {
	var root map[string]json.RawMessage
	if json.Unmarshal(line, &root) != nil {
		return false
	}
	_, ok := root["_aws"]
	return ok
}

// Check validates one log event against the specification and returns its
// root members, numbers as json.Number.
func Check(line []byte) (map[string]any, error) {
	if len(line) > MaxEventBytes {
		return nil, fmt.Errorf("record is %d bytes, more than %d", len(line), MaxEventBytes)
	}
	if err := noDuplicateKeys(line); err != nil {
		return nil, err
	}
	// "The LogEvent message MUST be a valid JSON object with no additional
	// data at the beginning or end."
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if root == nil {
		return nil, errors.New("not a JSON object: null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}

	meta, ok := root["_aws"].(map[string]any)
	if !ok {
		return nil, errors.New(`"_aws" is missing or not an object`)
	}
	if err := onlyMembers(meta, "_aws", "Timestamp", "CloudWatchMetrics"); err != nil {
		return nil, err
	}
	ts, ok := meta["Timestamp"].(json.Number)
	if !ok {
		return nil, errors.New(`"_aws.Timestamp" is missing or not a number`)
	}
	ms, err := ts.Int64()
	if err != nil || ms < 0 {
		return nil, fmt.Errorf(`"_aws.Timestamp" = %s, want non-negative integer epoch milliseconds`, ts)
	}
	dirs, ok := meta["CloudWatchMetrics"].([]any)
	if !ok {
		return nil, errors.New(`"_aws.CloudWatchMetrics" is missing or not an array`)
	}
	if len(dirs) == 0 {
		return nil, errors.New(`"_aws.CloudWatchMetrics" is empty: no metric would be extracted`)
	}
	for i, d := range dirs {
		if err := checkDirective(root, d); err != nil {
			return nil, fmt.Errorf("CloudWatchMetrics[%d]: %w", i, err)
		}
	}
	return root, nil
}

func checkDirective(root map[string]any, d any) error {
	dir, ok := d.(map[string]any)
	if !ok {
		return errors.New("not an object")
	}
	if err := onlyMembers(dir, "MetricDirective", "Namespace", "Dimensions", "Metrics"); err != nil {
		return err
	}
	ns, ok := dir["Namespace"].(string)
	if !ok || ns == "" || len(ns) > MaxNamespaceLen {
		return fmt.Errorf("Namespace %v: want a string of 1 to %d characters", dir["Namespace"], MaxNamespaceLen)
	}
	if strings.HasPrefix(ns, "AWS/") {
		return fmt.Errorf("Namespace %q: AWS/ is reserved for AWS services", ns)
	}

	sets, ok := dir["Dimensions"].([]any)
	if !ok || len(sets) == 0 {
		return errors.New("Dimensions: want an array of at least one DimensionSet")
	}
	for i, s := range sets {
		keys, ok := s.([]any)
		if !ok {
			return fmt.Errorf("Dimensions[%d]: not an array", i)
		}
		if len(keys) > MaxDimensionsPerSet {
			return fmt.Errorf("Dimensions[%d]: %d keys, more than %d", i, len(keys), MaxDimensionsPerSet)
		}
		seen := map[string]bool{}
		for _, k := range keys {
			key, ok := k.(string)
			if !ok || key == "" || len(key) > MaxDimensionKeyLen {
				return fmt.Errorf("Dimensions[%d]: key %v: want a string of 1 to %d characters", i, k, MaxDimensionKeyLen)
			}
			if seen[key] {
				return fmt.Errorf("Dimensions[%d]: key %q twice", i, key)
			}
			seen[key] = true
			v, ok := root[key].(string)
			if !ok {
				return fmt.Errorf("dimension %q: no top-level string member of that name", key)
			}
			if v == "" || len(v) > MaxDimensionValueLen {
				return fmt.Errorf("dimension %q = %q: want 1 to %d characters", key, v, MaxDimensionValueLen)
			}
		}
	}

	defs, ok := dir["Metrics"].([]any)
	if !ok || len(defs) == 0 {
		return errors.New("Metrics: want an array of at least one MetricDefinition")
	}
	if len(defs) > MaxMetricsPerDir {
		return fmt.Errorf("Metrics: %d definitions, more than %d", len(defs), MaxMetricsPerDir)
	}
	names := map[string]bool{}
	for i, m := range defs {
		def, ok := m.(map[string]any)
		if !ok {
			return fmt.Errorf("Metrics[%d]: not an object", i)
		}
		if err := onlyMembers(def, "MetricDefinition", "Name", "Unit", "StorageResolution"); err != nil {
			return fmt.Errorf("Metrics[%d]: %w", i, err)
		}
		name, ok := def["Name"].(string)
		if !ok || name == "" || len(name) > MaxMetricNameLen {
			return fmt.Errorf("Metrics[%d]: Name %v: want a string of 1 to %d characters", i, def["Name"], MaxMetricNameLen)
		}
		if names[name] {
			return fmt.Errorf("Metrics[%d]: %q defined twice", i, name)
		}
		names[name] = true
		if u, ok := def["Unit"]; ok {
			if s, ok := u.(string); !ok || !units[s] {
				return fmt.Errorf("metric %q: Unit %v is not a CloudWatch unit", name, u)
			}
		}
		if r, ok := def["StorageResolution"]; ok {
			if n, ok := r.(json.Number); !ok || (n.String() != "1" && n.String() != "60") {
				return fmt.Errorf("metric %q: StorageResolution %v: want 1 or 60", name, r)
			}
		}
		if err := checkValue(name, root[name]); err != nil {
			return err
		}
	}
	return nil
}

// checkValue: "A metric target MUST be a numeric value or an array of
// numeric values" of at most 100 members.
func checkValue(name string, v any) error {
	switch v := v.(type) {
	case json.Number:
		return nil
	case []any:
		if len(v) == 0 || len(v) > MaxValuesPerMetric {
			return fmt.Errorf("metric %q: %d values, want 1 to %d", name, len(v), MaxValuesPerMetric)
		}
		for _, x := range v {
			if _, ok := x.(json.Number); !ok {
				return fmt.Errorf("metric %q: value %v is not a number", name, x)
			}
		}
		return nil
	case nil:
		return fmt.Errorf("metric %q: no top-level member of that name", name)
	}
	return fmt.Errorf("metric %q: value %v is not a number", name, v)
}

// onlyMembers: "objects defined by this specification MUST NOT contain any
// additional members".
func onlyMembers(obj map[string]any, what string, allowed ...string) error {
	for k := range obj {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return fmt.Errorf("%s has a member %q the specification does not define", what, k)
		}
	}
	return nil
}

// noDuplicateKeys rejects an object with the same member twice: which one a
// reader keeps is up to the reader.
func noDuplicateKeys(line []byte) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token in this object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return fmt.Errorf("member %q twice in one object", k)
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if top != nil && top.object {
				top.key = true
			}
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
		case json.Delim('['):
			if top != nil && top.object {
				top.key = true
			}
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if top != nil && top.object {
				top.key = true
			}
		}
	}
}

// Parse separates output (JSON lines, as the function writes its stdout)
// into EMF records, each checked, and the other lines. err joins one error
// per invalid record (which is left out of records) and any read error; it
// is for programs, Split for tests.
func Parse(out string) (records []map[string]any, others []string, err error) {
	var errs []error
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 2*MaxEventBytes)
	for sc.Scan() {
		line := sc.Bytes()
		if !IsEMF(line) {
			others = append(others, sc.Text())
			continue
		}
		rec, err := Check(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid EMF record: %w\n%s", err, line))
			continue
		}
		records = append(records, rec)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read output: %w", err))
	}
	return records, others, errors.Join(errs...)
}

// Split is Parse for a test: each invalid record (or a read error) fails tb.
func Split(tb testing.TB, out string) (records []map[string]any, others []string) {
	tb.Helper()
	records, others, err := Parse(out)
	if err != nil {
		tb.Errorf("%v", err)
	}
	return records, others
}

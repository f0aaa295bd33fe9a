package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
)

// Targets of issue 7 (on a 2-core machine).
const (
	// MaxOverFloorMs: warm p50 at most this much above one bare round trip.
	MaxOverFloorMs = 5.0
	// ColdBudgetMs: cold start to first answer within this plus the round
	// trips it needs.
	ColdBudgetMs = 50.0
	// MaxRSSBytes and MaxZipBytes: peak RSS and function.zip, in MiB.
	MaxRSSBytes = 30 << 20
	MaxZipBytes = 8 << 20
)

// Target is one target, judged.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// Judge compares the results with the targets.
func Judge(r *Results) []Target {
	var ts []Target
	for _, w := range r.Warm {
		if w.DelayMs == 0 {
			continue
		}
		over := w.OverFloorP50
		ts = append(ts, Target{
			Name:     fmt.Sprintf("warm p50, %s, %s delay", w.OldPool, fmtMs(w.DelayMs)),
			Goal:     fmt.Sprintf("≤ floor + %s = %s", fmtMs(MaxOverFloorMs), fmtMs(w.Floor.P50+MaxOverFloorMs)),
			Measured: fmt.Sprintf("%s (floor %s %s)", fmtMs(w.Migration.P50), fmtMs(w.Floor.P50), signedMs(over)),
			Met:      over <= MaxOverFloorMs,
		})
		one := w.Calls.CriticalPath[1]
		ts = append(ts, Target{
			Name:     fmt.Sprintf("old-pool round trips on the critical path, %s, %s delay", w.OldPool, fmtMs(w.DelayMs)),
			Goal:     "1, in at least 99% of migrations",
			Measured: fmt.Sprintf("%s, of %s calls per migration", w.Calls.CriticalString(), trimFloat(w.Calls.Mean)),
			Met:      w.Calls.Invocations > 0 && float64(one) >= 0.99*float64(w.Calls.Invocations),
		})
	}
	for _, c := range r.Cold {
		goal := ColdBudgetMs + float64(c.RoundTrips)*c.DelayMs
		ts = append(ts, Target{
			Name:     fmt.Sprintf("cold start to first answer, %s delay, %s", fmtMs(c.DelayMs), roleText(c.Role)),
			Goal:     fmt.Sprintf("< %s + %d × %s = %s (p50)", fmtMs(ColdBudgetMs), c.RoundTrips, fmtMs(c.DelayMs), fmtMs(goal)),
			Measured: fmt.Sprintf("p50 %s, max %s", fmtMs(c.Total.P50), fmtMs(c.Total.Max)),
			Met:      c.Total.P50 < goal,
		})
	}
	if r.PeakRSSBytes > 0 {
		ts = append(ts, Target{Name: "peak RSS of bootstrap", Goal: "< " + fmtMiB(MaxRSSBytes),
			Measured: fmtMiB(r.PeakRSSBytes), Met: r.PeakRSSBytes < MaxRSSBytes})
	}
	if st := r.Status; st != nil && st.Users > 0 {
		ts = append(ts, Target{Name: "status: ListUsers throughput, quota enforced",
			Goal:     fmt.Sprintf("≥ %.0f%% of %d users/s", MinStatusShare*100, ListUsersCeiling),
			Measured: fmt.Sprintf("%.0f users/s (%.1f%%)", st.UsersPerSecond, st.Share*100), Met: st.Share >= MinStatusShare})
		if n := len(st.Memory); n > 0 {
			m := st.Memory[n-1]
			ts = append(ts, Target{Name: fmt.Sprintf("status: memory at %d old users", m.OldUsers),
				Goal:     fmt.Sprintf("< %d bytes per user", MaxStatusBytesPerUser),
				Measured: fmt.Sprintf("%.1f bytes per user", m.BytesPerUser), Met: m.BytesPerUser < MaxStatusBytesPerUser})
		}
	}
	ts = append(ts, exportTargets(r.Export)...)
	for _, z := range []*ZipInfo{&r.Build.Zip, r.Build.Dist} {
		if z != nil && z.Bytes > 0 {
			ts = append(ts, Target{Name: "function.zip (" + z.Arch + ", " + z.Path + ")", Goal: "< " + fmtMiB(MaxZipBytes),
				Measured: fmtMiB(z.Bytes), Met: z.Bytes < MaxZipBytes})
		}
	}
	return ts
}

// Markdown is the report: the tables docs/performance.md keeps.
func Markdown(r *Results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	m := r.Machine
	p("Measured %s on %d × %s (`nproc` %d), %s, %s", r.Date.Format("2006-01-02 15:04 MST"), m.CPUs, m.CPUModel, m.CPUs, m.Kernel, m.GoVersion)
	if r.Commit != "" {
		p("at commit %s.", r.Commit)
	}
	p("Load average (1, 5, 15 min) after the build: %s; at the end: %s.", r.LoadStart, r.LoadEnd)
	if r.Busy() {
		p("")
		p("**Other work was running on this machine**: the load average exceeded its %d CPUs, so the tails (p99, max) "+
			"include other processes' interference; medians are much less affected.", r.Machine.CPUs)
	}
	p("")
	if len(r.Warm) > 0 {
		p("**Warm migrations**: one process per row; %d warm-up migrations, then %d distinct users, each migrated once, "+
			"one at a time, each next to a bare floor request and a no-call invocation. Times are what the caller waits for, "+
			"Invoke API request to answer.", r.WarmUp, r.Users)
		p("")
		p("| old pool | delay | floor p50 | migration p50 | p99 | p50 − floor | in function p50 | no-call invoke p50 | calls per migration | on critical path | new connections |")
		p("|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|")
		for _, w := range r.Warm {
			crit := w.Calls.CriticalString()
			if w.DelayMs == 0 {
				crit = "n/a¹"
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s: %s | %s | %d |", w.OldPool, fmtMs(w.DelayMs), fmtMs(w.Floor.P50),
				fmtMs(w.Migration.P50), fmtMs(w.Migration.P99), signedMs(w.OverFloorP50), fmtMs(w.InFunction.P50),
				fmtMs(w.NoCall.P50), trimFloat(w.Calls.Mean), shortOps(w.Calls), crit, w.NewConnections)
		}
		p("")
		p("¹ Without a delay a call is handled in microseconds, so two calls sent together need not overlap on the server's clock: " +
			"the critical path is read at the delayed rows. New connections are those opened to the old pool after the warm-up; " +
			"without a delay Go's connection pool may dial a spare one when an answer and the next request cross.")
		p("")
	}
	if len(r.Cold) > 0 {
		p("**Cold starts**: %d fresh processes per row: process start to the first migration answered (each a distinct user). "+
			"*init* is process start to listening (configuration, clients, the assumed role); *first* is the first invocation.", r.ColdRuns)
		p("")
		p("| delay | old-pool credentials | p50 | max | init p50 | first p50 | calls | on critical path | round trips needed | target (p50) |")
		p("|--:|---|--:|--:|--:|--:|---|--:|--:|--:|")
		for _, c := range r.Cold {
			crit := c.Calls.CriticalString()
			if c.DelayMs == 0 {
				crit = "n/a¹"
			}
			p("| %s | %s | %s | %s | %s | %s | %s: %s | %s | %d | < %s |", fmtMs(c.DelayMs), roleText(c.Role), fmtMs(c.Total.P50),
				fmtMs(c.Total.Max), fmtMs(c.Init.P50), fmtMs(c.First.P50), trimFloat(c.Calls.Mean), shortOps(c.Calls),
				crit, c.RoundTrips, fmtMs(ColdBudgetMs+float64(c.RoundTrips)*c.DelayMs))
		}
		p("")
	}
	if r.Build.BinaryBytes > 0 {
		p("**Memory and size**")
		p("")
		p("| | |")
		p("|---|--:|")
		p("| peak RSS of bootstrap (VmHWM, highest of all runs above) | %s |", fmtMiB(r.PeakRSSBytes))
		p("| bootstrap measured above (linux/%s) | %s |", r.Build.GoArch, fmtMiB(r.Build.BinaryBytes))
		p("| function.zip: %s | %s |", r.Build.Zip.Source, fmtMiB(r.Build.Zip.Bytes))
		if d := r.Build.Dist; d != nil {
			p("| function.zip: %s (%s) | %s |", d.Source, d.Arch, fmtMiB(d.Bytes))
		}
		p("")
		p("Built with `%s`.", r.Build.Command)
		p("")
	}
	if len(r.GoBench) > 0 {
		p("**Per-event CPU** (`%s`; median of the runs)", r.GoBenchCommand)
		p("")
		p("| benchmark | ns/op | B/op | allocs/op |")
		p("|---|--:|--:|--:|")
		for _, g := range r.GoBench {
			p("| %s | %.0f | %.0f | %.0f |", g.Name, g.NsPerOp, g.BytesPerOp, g.AllocsPerOp)
		}
		p("")
	}

	if st := r.Status; st != nil && st.Users > 0 {
		p("**`status`** (`internal/cognito`'s Lister and `internal/migrate`'s Progress, as the command runs them, against the "+
			"SDK-level fake). Throughput: %d users in two pools, %d pages, with the fake refusing more than %d ListUsers "+
			"requests in any second (%d refused and retried); the ceiling is %d requests × %d users = %d users/s. Memory: the "+
			"live heap above the fake's own, after a collection every 25 pages, listed unthrottled (the quota sets only the pace), "+
			"less the same for a listing that keeps nothing (the client's buffers and the fake's record of each call).",
			st.Users, st.Pages, cognito.ListUsersQuota, st.Throttled, cognito.ListUsersQuota, cognito.ListUsersPageSize, ListUsersCeiling)
		p("")
		p("| run | users | time | users/s | share of %d users/s | peak heap (control) | status's own | bytes per old user |", ListUsersCeiling)
		p("|---|--:|--:|--:|--:|--:|--:|--:|")
		p("| throughput, quota enforced | %d | %.2f s | %.0f | %.1f%% | | | |", st.Users, st.Seconds, st.UsersPerSecond, st.Share*100)
		for _, m := range st.Memory {
			p("| memory, %d old + %d new | %d | %.2f s | %.0f | | %s (%s) | %s | %.1f |", m.OldUsers, m.NewUsers, m.OldUsers+m.NewUsers,
				m.Seconds, float64(m.OldUsers+m.NewUsers)/m.Seconds, fmtMiB(m.GrossBytes), fmtMiB(m.ControlBytes), fmtMiB(m.PeakBytes), m.BytesPerUser)
		}
		p("")
	}

	if ex := r.Export; ex != nil && len(ex.Runs) > 0 {
		for line := range strings.Lines(ExportMarkdown(*ex)) {
			p("%s", strings.TrimSuffix(line, "\n"))
		}
		p("")
	}

	p("**Targets**")
	p("")
	p("| target | goal | measured | |")
	p("|---|---|---|---|")
	for _, t := range r.Targets {
		verdict := "met"
		if !t.Met {
			verdict = "**missed**"
		}
		p("| %s | %s | %s | %s |", t.Name, t.Goal, t.Measured, verdict)
	}
	for _, n := range r.Notes {
		p("")
		p("Note: %s", n)
	}
	for _, e := range r.Errors {
		p("")
		p("**Error**: %s", strings.SplitN(e, "\n", 2)[0])
	}
	return b.String()
}

// ReadJSON reads results written by WriteJSON.
func ReadJSON(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// WriteJSON writes the results to path.
func WriteJSON(path string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Markers delimit the generated part of docs/performance.md.
const (
	BeginMarker = "<!-- bench:begin (written by make bench) -->"
	EndMarker   = "<!-- bench:end -->"
)

// ReplaceSection returns doc with the text between the markers replaced by
// section.
func ReplaceSection(doc, section string) (string, error) {
	begin := strings.Index(doc, BeginMarker)
	end := strings.Index(doc, EndMarker)
	if begin < 0 || end < begin {
		return "", fmt.Errorf("no %q ... %q section", BeginMarker, EndMarker)
	}
	return doc[:begin+len(BeginMarker)] + "\n" + strings.TrimSpace(section) + "\n" + doc[end:], nil
}

// UpdateDoc replaces the generated section of the document at path.
func UpdateDoc(path, section string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc, err := ReplaceSection(string(b), section)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

func roleText(role bool) string {
	if role {
		return "assumed role (STS at start-up)"
	}
	return "execution role"
}

// shortOps lists the calls per invocation by operation, without the
// service when it is the old pool.
func shortOps(s CallStats) string {
	return strings.ReplaceAll(s.OpsString(), "old pool ", "")
}

func fmtMs(v float64) string {
	switch {
	case v == 0:
		return "0 ms"
	case v < 10 && v > -10:
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func signedMs(v float64) string {
	if v >= 0 {
		return "+" + fmtMs(v)
	}
	return "−" + fmtMs(-v)
}

func fmtMiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

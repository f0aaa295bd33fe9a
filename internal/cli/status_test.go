package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// statusFixture is a pair of pools whose figures are known: 130 old users
// (3 pages), 70 new ones (2 pages).
func statusFixture(t *testing.T, now time.Time) (*env, migrate.Report) {
	t.Helper()
	s := correctSetup()
	delete(s.fnEnv, "LEGACY_SUB_ATTRIBUTE") // match by username and email alias, case-insensitively
	s.oldUsers, s.newUsers = nil, nil
	var want migrate.Report
	want.Old.ByStatus = map[string]int{}
	want.RemainingByStatus = map[string]int{}
	perDay := map[string]int{}
	day := func(daysAgo int) time.Time { return now.Add(-time.Duration(daysAgo) * 24 * time.Hour) }
	for i := range 130 {
		status := "CONFIRMED"
		switch i % 10 {
		case 0:
			status = "RESET_REQUIRED"
		case 1:
			status = "UNCONFIRMED"
		}
		enabled := i%7 != 0
		s.oldUsers = append(s.oldUsers, cognitotest.User{
			Username: fmt.Sprintf("user%03d", i), Status: status, Enabled: enabled,
			Attributes: map[string]string{"email": fmt.Sprintf("user%03d@example.com", i), "email_verified": "true"},
		})
		want.Old.Total++
		want.Old.ByStatus[status]++
		if !enabled {
			want.Old.Disabled++
		}
		migrated := status == "CONFIRMED" && i < 80
		switch {
		case migrated && i < 70:
			// Same username; every third in upper case (the new pool ignores case).
			name := fmt.Sprintf("user%03d", i)
			if i%3 == 0 {
				name = strings.ToUpper(name)
			}
			s.newUsers = append(s.newUsers, cognitotest.User{Username: name, Enabled: true, Created: day(i % 5),
				Attributes: map[string]string{"email": fmt.Sprintf("user%03d@example.com", i)}})
		case migrated:
			// Another username, the same email alias.
			s.newUsers = append(s.newUsers, cognitotest.User{Username: fmt.Sprintf("renamed%d", i), Enabled: true, Created: day(i % 5),
				Attributes: map[string]string{"email": fmt.Sprintf("USER%03d@example.com", i)}})
		default:
			want.Remaining++
			want.RemainingByStatus[status]++
			continue
		}
		want.Migrated++
		perDay[day(i%5).UTC().Format(time.DateOnly)]++
	}
	for i := range 5 {
		s.newUsers = append(s.newUsers, cognitotest.User{Username: fmt.Sprintf("stranger%d", i), Enabled: true, Created: day(2)})
	}
	// A second account with user002's email: user002 counts once.
	s.newUsers = append(s.newUsers, cognitotest.User{Username: "copycat", Enabled: true, Attributes: map[string]string{"email": "user002@example.com"}})
	want.New.Total = len(s.newUsers)
	for i := migrate.PerDayWindow - 1; i >= 0; i-- {
		d := now.UTC().AddDate(0, 0, -i).Format(time.DateOnly)
		want.PerDay = append(want.PerDay, migrate.DayCount{Date: d, Migrated: perDay[d]})
	}
	return s.world(t), want
}

func TestStatusFiguresAreExact(t *testing.T) {
	now := time.Now()
	e, want := statusFixture(t, now)
	if want.Migrated != 64 || want.New.Total != 70 || want.Old.Total != 130 {
		t.Fatalf("fixture: migrated %d, new %d, old %d; want 64, 70, 130", want.Migrated, want.New.Total, want.Old.Total)
	}
	// Short and empty pages before the end, and a quota well under the
	// command's rate: every page must still be read exactly once.
	e.cognito.SetShortPages(true)
	e.cognito.SetRateLimit("ListUsers", 4)

	r := e.run(t, "status", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr (not a terminal)", r.code, r.stderr)
	}
	var got migrate.Report
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if e.cognito.Throttled("ListUsers") == 0 {
		t.Errorf("the fake throttled no ListUsers call: the retry path was not exercised")
	}
	for _, c := range e.cognito.Calls() {
		if c.Operation == "ListUsers" && c.Status == 200 {
			if l, _ := c.Input["Limit"].(float64); l != 60 {
				t.Errorf("ListUsers Limit = %v, want 60", c.Input["Limit"])
			}
		}
	}
	// The JSON keys are the documented contract.
	var keys map[string]json.RawMessage
	_ = json.Unmarshal([]byte(r.stdout), &keys)
	for _, k := range []string{"old", "new", "migrated", "remaining", "remainingByStatus", "perDay"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if len(keys) != 6 {
		t.Errorf("JSON has %d keys, want 6: %s", len(keys), r.stdout)
	}
}

func TestStatusText(t *testing.T) {
	now := time.Now()
	e, want := statusFixture(t, now)
	r := e.run(t, "status", "--user-pool-id", twoNewID)
	if r.code != ExitOK {
		t.Fatalf("exit %d", r.code)
	}
	busiest := want.PerDay[0]
	for _, d := range want.PerDay {
		if d.Migrated > busiest.Migrated {
			busiest = d
		}
	}
	for _, line := range []string{
		"Old pool eu-west-1_OldPool2: 130 users, 19 disabled",
		"  CONFIRMED                    104   remaining 40",
		"  RESET_REQUIRED                13   remaining 13",
		"New pool eu-west-1_NewPool2: 70 users",
		"Migrated: 64 (49.2% of the old pool)   Remaining: 66",
		fmt.Sprintf("  %s %s %d", busiest.Date, strings.Repeat("#", 40), busiest.Migrated),
	} {
		if !strings.Contains(r.stdout, line+"\n") {
			t.Errorf("text output lacks %q", line)
		}
	}
	if strings.Count(r.stdout, "\n  20") != migrate.PerDayWindow {
		t.Errorf("chart does not have %d days:\n%s", migrate.PerDayWindow, r.stdout)
	}
}

func TestStatusFailsWithoutFigures(t *testing.T) {
	e, _ := statusFixture(t, time.Now())
	e.cognito.SetFault("ListUsers", cognitotest.Fault{ErrorType: "NotAuthorizedException", Message: "not allowed"})
	r := e.run(t, "status", "--user-pool-id", twoNewID, "--output", "json")
	if r.code != ExitFailure {
		t.Errorf("exit %d, want %d", r.code, ExitFailure)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil || len(keys) != 1 || keys["error"] == nil {
		t.Errorf("stdout %s: want only an error object, no figures", r.stdout)
	}
}

func TestProgressBar(t *testing.T) {
	var buf strings.Builder
	b := &progressBar{w: &buf}
	b.show("old pool X", 300, 1200)
	b.show("old pool X", 1200, 1000) // the estimate is only an estimate
	b.done()
	b.show("new pool Y", 60, 0)
	b.done()
	b.done() // nothing more
	want := "\rold pool X [=======                       ] 300 of about 1200 users " +
		"\rold pool X [==============================] 1200 of about 1000 users \n" +
		"\rnew pool Y: 60 users \n"
	if buf.String() != want {
		t.Errorf("progress bar wrote %q, want %q", buf.String(), want)
	}
	var none strings.Builder
	quiet := newProgressBar(&none) // not a terminal
	quiet.show("old pool X", 60, 100)
	quiet.done()
	if none.Len() != 0 {
		t.Errorf("progress bar wrote %q to a non-terminal", none.String())
	}
}

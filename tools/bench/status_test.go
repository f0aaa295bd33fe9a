package main

import (
	"context"
	"strings"
	"testing"
)

func TestStatusFiguresOnTheFake(t *testing.T) {
	f, stop := statusPools(250, 40)
	defer stop()
	pages := 0
	r, err := statusFigures(context.Background(), f, nil, 250, func() { pages++ })
	if err != nil {
		t.Fatal(err)
	}
	// 250 old users: 5 pages; 40 new: 1.
	if r.Old.Total != 250 || r.New.Total != 40 || r.Migrated != 40 || r.Remaining != 210 || pages != 6 {
		t.Errorf("old %d, new %d, migrated %d, remaining %d, pages %d; want 250, 40, 40, 210, 6", r.Old.Total, r.New.Total, r.Migrated, r.Remaining, pages)
	}
}

func TestSelectScenarios(t *testing.T) {
	got, err := selectScenarios([]string{"status"})
	if err != nil || len(got) != 1 || got[0].name != "status" || !got[0].noFunction {
		t.Errorf("selectScenarios(status) = %v, %v", got, err)
	}
	if all, _ := selectScenarios(nil); len(all) != len(scenarios) {
		t.Errorf("no -only: %d scenarios, want all %d", len(all), len(scenarios))
	}
	if _, err := selectScenarios([]string{"stauts"}); err == nil || !strings.Contains(err.Error(), `"status"`) {
		t.Errorf("a misspelt scenario: %v, want an error listing the names", err)
	}
}

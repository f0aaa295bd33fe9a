package bulk

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkExport streams n users through the exporter. live-B/user is the
// heap still in use per user at the end: rows are never held, only an
// 8-byte hash per exported username (plus map overhead) to refuse duplicates.
func BenchmarkExport(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			u := user("x", "name", "Some Body, Esq.", "phone_number", "+15550100", "phone_number_verified", "true")
			var live float64
			for b.Loop() {
				e, err := NewExporter(b.TempDir(), ExportOptions{Header: testHeader, PoolMFA: MFAOff, Shape: copyShaper, MaxUsersPerFile: 50_000})
				if err != nil {
					b.Fatal(err)
				}
				var before runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range n {
					u.Username = fmt.Sprintf("user%07d", i)
					if err := e.Add(u, []string{"staff"}); err != nil {
						b.Fatal(err)
					}
				}
				var after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&after)
				live = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
				if _, err := e.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(live, "live-B/user")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

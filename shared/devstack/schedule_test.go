package devstack

import (
	"testing"
	"time"

	"github.com/8949market/market/shared/registry"
)

// at is a UTC instant written as "2006-01-02 15:04".
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCronRegistrySchedules(t *testing.T) {
	t.Parallel()
	var n int
	for _, f := range registry.All() {
		if f.Kind != registry.KindScheduled {
			continue
		}
		n++
		s, err := parseCron(f.Schedule)
		if err != nil {
			t.Errorf("function %s: schedule %q: %v", f.Name, f.Schedule, err)
			continue
		}
		if s.Next(at(t, "2026-12-03 21:16")).IsZero() {
			t.Errorf("function %s: schedule %q never fires", f.Name, f.Schedule)
		}
	}
	if n == 0 {
		t.Fatal("no scheduled function registered")
	}
}

func TestCronNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec, from string
		want       []string // the next activations, in order
	}{
		// The registry's schedules.
		{"* * * * *", "2026-12-03 21:16", []string{"2026-12-03 21:17", "2026-12-03 21:18"}},
		{"*/10 * * * *", "2026-12-03 21:16", []string{"2026-12-03 21:20", "2026-12-03 21:30", "2026-12-03 21:40", "2026-12-03 21:50", "2026-12-03 22:00"}},
		{"*/10 * * * *", "2026-12-03 21:20", []string{"2026-12-03 21:30"}}, // strictly after
		// Weekdays at 03:00: Thursday the 3rd, then Friday, then Monday.
		{"0 3 * * 1-5", "2026-12-03 02:59", []string{"2026-12-03 03:00", "2026-12-04 03:00", "2026-12-07 03:00"}},
		{"0 3 * * mon-FRI", "2026-12-04 03:00", []string{"2026-12-07 03:00"}},
		// Month and year boundaries.
		{"30 23 31 * *", "2026-11-01 00:00", []string{"2026-12-31 23:30", "2027-01-31 23:30", "2027-03-31 23:30"}},
		{"0 0 1 1 *", "2026-12-31 23:59", []string{"2027-01-01 00:00", "2028-01-01 00:00"}},
		{"59 23 * * *", "2026-02-28 23:59", []string{"2026-03-01 23:59"}},
		// February 29th only in leap years.
		{"0 12 29 2 *", "2026-03-01 00:00", []string{"2028-02-29 12:00", "2032-02-29 12:00"}},
		// Both day fields restricted: either matches (the 1st or any Sunday).
		{"0 0 1 * 0", "2026-11-28 00:00", []string{"2026-11-29 00:00", "2026-12-01 00:00", "2026-12-06 00:00"}},
		// Day of week unrestricted by '*/1': both must match, so only the 13th.
		{"0 0 13 * */1", "2026-11-01 00:00", []string{"2026-11-13 00:00", "2026-12-13 00:00"}},
		// A day of week starting with '*' keeps the AND rule: */5 is Sunday and Friday, so a
		// 13th falling on either.
		{"0 0 13 * */5", "2026-01-01 00:00", []string{"2026-02-13 00:00", "2026-03-13 00:00", "2026-09-13 00:00", "2026-11-13 00:00"}},
		// 7 is Sunday, like 0.
		{"0 0 * * 7", "2026-12-03 00:00", []string{"2026-12-06 00:00", "2026-12-13 00:00"}},
		// Lists, ranges with steps, names.
		{"5,35 8-18/5 * jan,Jul *", "2026-06-30 00:00", []string{"2026-07-01 08:05", "2026-07-01 08:35", "2026-07-01 13:05", "2026-07-01 13:35", "2026-07-01 18:05"}},
		{"0 0 1-31/15 * *", "2026-01-01 00:00", []string{"2026-01-16 00:00", "2026-01-31 00:00", "2026-02-01 00:00"}},
	} {
		t.Run(tc.spec+" from "+tc.from, func(t *testing.T) {
			t.Parallel()
			s, err := parseCron(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			next := at(t, tc.from)
			for _, w := range tc.want {
				next = s.Next(next)
				if want := at(t, w); !next.Equal(want) {
					t.Fatalf("next = %s, want %s", next.Format("2006-01-02 15:04 Mon"), want.Format("2006-01-02 15:04 Mon"))
				}
			}
		})
	}
}

func TestCronNextInUTC(t *testing.T) {
	t.Parallel()
	s, err := parseCron("0 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	seoul := time.FixedZone("KST", 9*60*60)
	got := s.Next(time.Date(2026, 12, 4, 11, 30, 45, 0, seoul)) // 02:30:45 UTC
	if want := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("next = %s, want %s", got, want)
	}
}

func TestCronRefused(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{
		"",
		"* * * *",
		"* * * * * *",
		"@hourly",
		"60 * * * *",
		"* 24 * * *",
		"* * 0 * *",
		"* * 32 * *",
		"* * * 0 *",
		"* * * 13 *",
		"* * * * 8",
		"-1 * * * *",
		"+1 * * * *",
		"5-1 * * * *",
		"*/0 * * * *",
		"*/-1 * * * *",
		"*/ * * * *",
		"*/+2 * * * *",
		"5/10 * * * *",
		"1,,2 * * * *",
		"1, * * * *",
		"1-2-3 * * * *",
		"a * * * *",
		"* * * foo *",
		"* * * * monday",
		"** * * * *",
		"? * * * *",
		"L * * * *",
		"0 0 30 2 *",
		"0 0 31 4,6,9,11 *",
		"99999999999999999999 * * * *",
	} {
		if s, err := parseCron(spec); err == nil {
			t.Errorf("parseCron(%q) = %+v, want an error", spec, s)
		}
	}
}

func TestScheduleRefusesABadSchedule(t *testing.T) {
	t.Parallel()
	err := Schedule(t.Context(), []Job{{Name: "x-y", Schedule: "61 * * * *", URL: "http://127.0.0.1:1/"}})
	if err == nil {
		t.Fatal("Schedule accepted minute 61")
	}
}

package users_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/8949market/market/shared/users"
)

func TestParseClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want users.Clock
		ok   bool
	}{
		{"09:30", clock(9, 30, 0), true},
		{"09:30:15", clock(9, 30, 15), true},
		{"00:00", 0, true},
		{"00:00:00", 0, true},
		{"12:00", clock(12, 0, 0), true},
		{"23:59", clock(23, 59, 0), true},
		{"23:59:59", clock(23, 59, 59), true},
		{"24:00", 0, false},
		{"24:00:00", 0, false},
		{"9:00", 0, false},
		{"09:0", 0, false},
		{"12:60", 0, false},
		{"12:00:60", 0, false},
		{"12:00:00.5", 0, false},
		{"12:00:00.000", 0, false},
		{"12:00:0", 0, false},
		{"", 0, false},
		{"12", 0, false},
		{"1200", 0, false},
		{" 12:00", 0, false},
		{"12:00 ", 0, false},
		{"12-00", 0, false},
		{"ab:cd", 0, false},
		{"12:00:00:00", 0, false},
		{"12:00PM", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := users.ParseClock(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseClock(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestClockString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c    users.Clock
		want string
	}{
		{0, "00:00:00"},
		{clock(1, 1, 1), "01:01:01"},
		{clock(9, 5, 0), "09:05:00"},
		{clock(12, 34, 56), "12:34:56"},
		{clock(23, 59, 59), "23:59:59"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Clock(%d).String() = %q, want %q", tt.c, got, tt.want)
		}
		if back, ok := users.ParseClock(tt.want); !ok || back != tt.c {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", tt.want, back, ok, tt.c)
		}
	}
	if got := users.ClockOf(time.Date(2030, 1, 1, 7, 8, 9, 999_999_999, time.UTC)); got != clock(7, 8, 9) {
		t.Errorf("ClockOf = %s, want 07:08:09", got)
	}
}

func TestChatTimeRangeContains(t *testing.T) {
	t.Parallel()
	r := users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}
	for c, want := range map[users.Clock]bool{
		clock(8, 59, 59): false, clock(9, 0, 0): true, clock(9, 59, 59): true, clock(10, 0, 0): false,
	} {
		if got := r.Contains(c); got != want {
			t.Errorf("Contains(%s) = %v, want %v", c, got, want)
		}
	}
	if v := r.View(); v != (users.RangeView{DayOfWeek: "MONDAY", StartTime: "09:00:00", EndTime: "10:00:00"}) {
		t.Errorf("View = %+v", v)
	}
}

// weekRanges is n valid, disjoint ranges spread over the week.
func weekRanges(n int) []users.RangeInput {
	days := []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}
	out := make([]users.RangeInput, n)
	for i := range out {
		h := i / len(days)
		out[i] = rng(days[i%len(days)], fmt.Sprintf("%02d:00", h), fmt.Sprintf("%02d:00", h+1))
	}
	return out
}

func TestParseRangesRefuses(t *testing.T) {
	t.Parallel()
	valid := rng("MONDAY", "09:00", "10:00")
	tests := []struct {
		name  string
		in    []users.RangeInput
		code  string
		field string
	}{
		{"missing day", []users.RangeInput{valid, {StartTime: ptr("09:00"), EndTime: ptr("10:00")}}, "U012", "chatTimeRanges[1].dayOfWeek"},
		{"blank day", []users.RangeInput{valid, rng(" ", "09:00", "10:00")}, "U012", "chatTimeRanges[1].dayOfWeek"},
		{"missing day and start", []users.RangeInput{{EndTime: ptr("10:00")}}, "U012", "chatTimeRanges[0].dayOfWeek"},
		{"missing start", []users.RangeInput{valid, {DayOfWeek: ptr("MONDAY"), EndTime: ptr("10:00")}}, "U013", "chatTimeRanges[1].startTime"},
		{"blank start", []users.RangeInput{valid, rng("MONDAY", "", "10:00")}, "U013", "chatTimeRanges[1].startTime"},
		{"missing end", []users.RangeInput{valid, {DayOfWeek: ptr("MONDAY"), StartTime: ptr("11:00")}}, "U014", "chatTimeRanges[1].endTime"},
		{"blank end", []users.RangeInput{rng("MONDAY", "11:00", "  ")}, "U014", "chatTimeRanges[0].endTime"},
		{"unknown day", []users.RangeInput{valid, rng("FUNDAY", "09:00", "10:00")}, "C001", "chatTimeRanges[1].dayOfWeek"},
		{"abbreviated day", []users.RangeInput{rng("MON", "09:00", "10:00")}, "C001", "chatTimeRanges[0].dayOfWeek"},
		{"day number", []users.RangeInput{rng("1", "09:00", "10:00")}, "C001", "chatTimeRanges[0].dayOfWeek"},
		{"bad start", []users.RangeInput{valid, rng("MONDAY", "9:00", "10:00")}, "C001", "chatTimeRanges[1].startTime"},
		{"bad end", []users.RangeInput{rng("MONDAY", "09:00", "24:00")}, "C001", "chatTimeRanges[0].endTime"},
		{"fractional end", []users.RangeInput{rng("MONDAY", "09:00", "10:00:00.5")}, "C001", "chatTimeRanges[0].endTime"},
		{"start equals end", []users.RangeInput{valid, rng("MONDAY", "11:00", "11:00:00")}, "U025", "chatTimeRanges[1].endTime"},
		{"start after end", []users.RangeInput{rng("MONDAY", "11:00:01", "11:00")}, "U025", "chatTimeRanges[0].endTime"},
		{"overlap", []users.RangeInput{rng("MONDAY", "09:00", "11:00"), rng("MONDAY", "10:59:59", "12:00")}, "U026", "chatTimeRanges"},
		{"exact duplicate", []users.RangeInput{valid, valid}, "U026", "chatTimeRanges"},
		{"duplicate in another case", []users.RangeInput{valid, rng("monday", "09:00:00", "10:00:00")}, "U026", "chatTimeRanges"},
		{"inside another", []users.RangeInput{rng("FRIDAY", "09:00", "17:00"), rng("FRIDAY", "12:00", "13:00")}, "U026", "chatTimeRanges"},
		{"same start, shorter", []users.RangeInput{rng("FRIDAY", "09:00", "17:00"), rng("FRIDAY", "09:00", "10:00")}, "U026", "chatTimeRanges"},
		{"overlap out of order", []users.RangeInput{rng("MONDAY", "12:00", "14:00"), rng("TUESDAY", "09:00", "10:00"), rng("MONDAY", "10:00", "12:30")}, "U026", "chatTimeRanges"},
		{"overlap past a contained range", []users.RangeInput{rng("SUNDAY", "09:00", "17:00"), rng("SUNDAY", "10:00", "11:00"), rng("SUNDAY", "16:00", "18:00")}, "U026", "chatTimeRanges"},
		{"too many", weekRanges(users.MaxChatTimeRanges + 1), "C001", "chatTimeRanges"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := users.ParseRanges(tt.in)
			wantFault(t, err, tt.code, tt.field)
			if got != nil {
				t.Errorf("refused ranges returned %v", got)
			}
		})
	}
}

func TestParseRangesAccepts(t *testing.T) {
	t.Parallel()
	r := func(d time.Weekday, start, end users.Clock) users.ChatTimeRange {
		return users.ChatTimeRange{Day: d, Start: start, End: end}
	}
	tests := []struct {
		name string
		in   []users.RangeInput
		want []users.ChatTimeRange
	}{
		{"one", []users.RangeInput{rng("MONDAY", "09:00", "10:00:30")},
			[]users.ChatTimeRange{r(time.Monday, clock(9, 0, 0), clock(10, 0, 30))}},
		{"touching", []users.RangeInput{rng("MONDAY", "10:00", "11:00"), rng("MONDAY", "09:00", "10:00")},
			[]users.ChatTimeRange{r(time.Monday, clock(9, 0, 0), clock(10, 0, 0)), r(time.Monday, clock(10, 0, 0), clock(11, 0, 0))}},
		{"same times on different days", []users.RangeInput{rng("TUESDAY", "09:00", "10:00"), rng("MONDAY", "09:00", "10:00")},
			[]users.ChatTimeRange{r(time.Monday, clock(9, 0, 0), clock(10, 0, 0)), r(time.Tuesday, clock(9, 0, 0), clock(10, 0, 0))}},
		{"whole day", []users.RangeInput{rng("sunday", "00:00", "23:59:59")},
			[]users.ChatTimeRange{r(time.Sunday, 0, clock(23, 59, 59))}},
		{"sorted monday to sunday, then start", []users.RangeInput{
			rng("SUNDAY", "10:00", "11:00"),
			rng(" Monday ", "13:00", "14:00"),
			rng("saturday", "08:00", "09:00"),
			rng("MONDAY", "09:00", "10:00"),
			rng("WEDNESDAY", "23:00", "23:30"),
			rng("SUNDAY", "01:00", "02:00"),
		}, []users.ChatTimeRange{
			r(time.Monday, clock(9, 0, 0), clock(10, 0, 0)),
			r(time.Monday, clock(13, 0, 0), clock(14, 0, 0)),
			r(time.Wednesday, clock(23, 0, 0), clock(23, 30, 0)),
			r(time.Saturday, clock(8, 0, 0), clock(9, 0, 0)),
			r(time.Sunday, clock(1, 0, 0), clock(2, 0, 0)),
			r(time.Sunday, clock(10, 0, 0), clock(11, 0, 0)),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := users.ParseRanges(tt.in)
			if err != nil {
				t.Fatalf("ParseRanges: %v", err)
			}
			if !equalRanges(got, tt.want) {
				t.Errorf("ParseRanges = %v\nwant %v", got, tt.want)
			}
		})
	}
	t.Run("the maximum", func(t *testing.T) {
		t.Parallel()
		got, err := users.ParseRanges(weekRanges(users.MaxChatTimeRanges))
		if err != nil || len(got) != users.MaxChatTimeRanges {
			t.Errorf("ParseRanges(%d ranges) = %d ranges, %v", users.MaxChatTimeRanges, len(got), err)
		}
	})
}

func TestParseDay(t *testing.T) {
	t.Parallel()
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := users.DayName(d)
		if got, ok := users.ParseDay(name); !ok || got != d {
			t.Errorf("ParseDay(%q) = %v, %v; want %v", name, got, ok, d)
		}
	}
	if users.DayName(time.Thursday) != "THURSDAY" {
		t.Errorf("DayName(Thursday) = %q", users.DayName(time.Thursday))
	}
	for _, bad := range []string{"", "MON", "Mondays", "월요일"} {
		if _, ok := users.ParseDay(bad); ok {
			t.Errorf("ParseDay(%q) accepted", bad)
		}
	}
}

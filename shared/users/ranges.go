package users

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/8949market/market/shared/fault"
)

// MaxChatTimeRanges caps how many ranges one account keeps.
const MaxChatTimeRanges = 50

// Clock is a time of day with second precision, as seconds since midnight.
type Clock int32

// ParseClock reads "HH:MM" or "HH:MM:SS" (00:00 to 23:59:59).
func ParseClock(s string) (Clock, bool) {
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil && len(s) == len(layout) {
			return Clock(t.Hour()*3600 + t.Minute()*60 + t.Second()), true
		}
	}
	return 0, false
}

// ClockOf is the time of day of t, to the second.
func ClockOf(t time.Time) Clock {
	return Clock(t.Hour()*3600 + t.Minute()*60 + t.Second())
}

func (c Clock) String() string {
	return fmt.Sprintf("%02d:%02d:%02d", c/3600, c/60%60, c%60)
}

// Microseconds since midnight, as PostgreSQL's time type counts.
func (c Clock) Microseconds() int64 { return int64(c) * 1_000_000 }

// ChatTimeRange is a weekly slot in which a user is available to chat: from Start up to,
// not including, End.
type ChatTimeRange struct {
	Day        time.Weekday
	Start, End Clock
}

// Contains reports whether the range covers c on its day.
func (r ChatTimeRange) Contains(c Clock) bool { return r.Start <= c && c < r.End }

// RangeInput is a chat time range as a client sends it.
type RangeInput struct {
	DayOfWeek *string `json:"dayOfWeek"`
	StartTime *string `json:"startTime"`
	EndTime   *string `json:"endTime"`
}

// RangeView is a chat time range as the API shows it.
type RangeView struct {
	DayOfWeek string `json:"dayOfWeek"`
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
}

// View renders r.
func (r ChatTimeRange) View() RangeView {
	return RangeView{DayOfWeek: DayName(r.Day), StartTime: r.Start.String(), EndTime: r.End.String()}
}

// DayName is the day as the API spells it: MONDAY … SUNDAY.
func DayName(d time.Weekday) string { return strings.ToUpper(d.String()) }

// ParseDay reads MONDAY … SUNDAY, in any case.
func ParseDay(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(strings.TrimSpace(s), d.String()) {
			return d, true
		}
	}
	return 0, false
}

// isoDay numbers days as ISO 8601 does (Monday 1 … Sunday 7), the order ranges sort in.
func isoDay(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

func weekdayOfISO(n int) time.Weekday { return time.Weekday(n % 7) }

// ParseRanges validates a list of ranges and returns it sorted by day and start. Each
// needs a day, a start and an end; start comes before end (U025); ranges of one day may
// touch but not overlap (U026).
func ParseRanges(in []RangeInput) ([]ChatTimeRange, error) {
	if len(in) > MaxChatTimeRanges {
		return nil, fault.ErrValidation.WithMessage("at most %d chat time ranges", MaxChatTimeRanges).OnField("chatTimeRanges")
	}
	out := make([]ChatTimeRange, 0, len(in))
	for i, r := range in {
		field := fmt.Sprintf("chatTimeRanges[%d].", i)
		if blank(r.DayOfWeek) {
			return nil, ErrDayRequired.OnField(field + "dayOfWeek")
		}
		if blank(r.StartTime) {
			return nil, ErrStartRequired.OnField(field + "startTime")
		}
		if blank(r.EndTime) {
			return nil, ErrEndRequired.OnField(field + "endTime")
		}
		day, ok := ParseDay(*r.DayOfWeek)
		if !ok {
			return nil, fault.ErrValidation.WithMessage("dayOfWeek must be MONDAY to SUNDAY").OnField(field + "dayOfWeek")
		}
		start, ok := ParseClock(*r.StartTime)
		if !ok {
			return nil, fault.ErrValidation.WithMessage("startTime must be HH:MM or HH:MM:SS").OnField(field + "startTime")
		}
		end, ok := ParseClock(*r.EndTime)
		if !ok {
			return nil, fault.ErrValidation.WithMessage("endTime must be HH:MM or HH:MM:SS").OnField(field + "endTime")
		}
		if start >= end {
			return nil, ErrRangeOrder.OnField(field + "endTime")
		}
		out = append(out, ChatTimeRange{Day: day, Start: start, End: end})
	}
	slices.SortFunc(out, func(a, b ChatTimeRange) int {
		if d := isoDay(a.Day) - isoDay(b.Day); d != 0 {
			return d
		}
		return int(a.Start - b.Start)
	})
	for i := 1; i < len(out); i++ {
		prev, cur := out[i-1], out[i]
		if prev.Day == cur.Day && cur.Start < prev.End {
			return nil, ErrRangeOverlap.WithMessage("chat time ranges %s %s-%s and %s-%s overlap",
				DayName(cur.Day), prev.Start, prev.End, cur.Start, cur.End).OnField("chatTimeRanges")
		}
	}
	return out, nil
}

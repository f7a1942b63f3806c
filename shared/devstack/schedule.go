package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/8949market/market/shared/registry"
)

// Job is one scheduled call: a function, its cron schedule (UTC) and the URL it is called
// at, which carries the local delivery credential as Cloud Scheduler's OIDC token would.
type Job struct {
	Name     string
	Schedule string
	URL      string
}

// Jobs are the scheduled functions of fns, each called at the URL endpoint gives.
func Jobs(fns []registry.Function, endpoint func(name string) string) []Job {
	var jobs []Job
	for _, f := range fns {
		if f.Kind == registry.KindScheduled {
			jobs = append(jobs, Job{Name: f.Name, Schedule: f.Schedule, URL: endpoint(f.Name)})
		}
	}
	return jobs
}

// Schedule is Cloud Scheduler's stand-in: it POSTs to every job's URL at the times its
// schedule names until ctx ends, as the scheduler's HTTP target does (no retries: the
// next run is a minute away).
func Schedule(ctx context.Context, jobs []Job) error {
	type parsed struct {
		Job
		sched cronSchedule
	}
	var all []parsed
	for _, j := range jobs {
		sched, err := parseCron(j.Schedule)
		if err != nil {
			return fmt.Errorf("function %s: schedule %q: %w", j.Name, j.Schedule, err)
		}
		all = append(all, parsed{j, sched})
	}
	client := &http.Client{Timeout: 2 * time.Minute} // the jobs' attempt deadline
	done := make(chan struct{})
	for _, j := range all {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				next := j.sched.Next(time.Now().UTC())
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				if err := call(ctx, client, j.URL); err != nil && ctx.Err() == nil {
					slog.WarnContext(ctx, "scheduled function failed", "function", j.Name, "error", err.Error())
				}
			}
		}()
	}
	for range all {
		<-done
	}
	return nil
}

// call makes one scheduled call.
func call(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil { // *url.Error names the URL, credential included
			err = inner
		}
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode >= 300 {
		return fmt.Errorf("status %d: %s", res.StatusCode, body)
	}
	return nil
}

// cronSchedule is a five-field cron schedule (minute hour day-of-month month day-of-week),
// read in UTC as Cloud Scheduler's unix-cron jobs of the registry are. Each field is a set
// of the values it allows, bit v standing for value v.
type cronSchedule struct {
	minute, hour, dom, month, dow uint64
	// domStar and dowStar: the field began with '*'. As in cron, when both day fields are
	// restricted a day matches if either does; otherwise both must.
	domStar, dowStar bool
}

// cronField is the range and names of one field.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var (
	minuteField = cronField{name: "minute", min: 0, max: 59}
	hourField   = cronField{name: "hour", min: 0, max: 23}
	domField    = cronField{name: "day of month", min: 1, max: 31}
	monthField  = cronField{name: "month", min: 1, max: 12,
		names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	// dowField allows 7 for Sunday, as crontab(5) does; it is folded onto 0.
	dowField = cronField{name: "day of week", min: 0, max: 7,
		names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
)

// daysIn is the most days each month can have (February in a leap year).
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// parseCron reads a five-field cron schedule: each field is '*' or a comma-separated list
// of values and ranges a-b, either of which ('*' included) may take a step /n; months and
// days of the week may be given by their three-letter English names. A schedule that can
// never fire (such as February 30th) is refused.
func parseCron(spec string) (cronSchedule, error) {
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return cronSchedule{}, fmt.Errorf("want five fields (minute hour day-of-month month day-of-week), got %d", len(fields))
	}
	var s cronSchedule
	var err error
	for i, f := range []struct {
		field cronField
		bits  *uint64
	}{{minuteField, &s.minute}, {hourField, &s.hour}, {domField, &s.dom}, {monthField, &s.month}, {dowField, &s.dow}} {
		if *f.bits, err = f.field.parse(fields[i]); err != nil {
			return cronSchedule{}, err
		}
	}
	if s.dow&(1<<7) != 0 {
		s.dow = s.dow&^(1<<7) | 1 // 7 is Sunday
	}
	s.domStar = strings.HasPrefix(fields[2], "*")
	s.dowStar = strings.HasPrefix(fields[4], "*")
	if !s.fires() {
		return cronSchedule{}, errors.New("no day of the year matches its day of month and month")
	}
	return s, nil
}

// parse reads one field into its set of values.
func (f cronField) parse(text string) (uint64, error) {
	var bits uint64
	for part := range strings.SplitSeq(text, ",") {
		lo, hi, step := f.min, f.max, 1
		rng, stepText, stepped := strings.Cut(part, "/")
		if stepped {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || strings.HasPrefix(stepText, "+") {
				return 0, fmt.Errorf("%s: bad step %q in %q", f.name, stepText, text)
			}
			step = n
		}
		if rng != "*" {
			first, last, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(first); err != nil {
				return 0, fmt.Errorf("%s: %w in %q", f.name, err, text)
			}
			hi = lo
			if isRange {
				if hi, err = f.value(last); err != nil {
					return 0, fmt.Errorf("%s: %w in %q", f.name, err, text)
				}
				if hi < lo {
					return 0, fmt.Errorf("%s: range %q ends before it starts", f.name, rng)
				}
			} else if stepped {
				return 0, fmt.Errorf("%s: a step needs '*' or a range, not %q", f.name, part)
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

// value reads a number or, for months and days of the week, a name, within the field's range.
func (f cronField) value(text string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(text, name) {
			return f.min + i, nil
		}
	}
	if text == "" || strings.Trim(text, "0123456789") != "" {
		return 0, fmt.Errorf("bad value %q", text)
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("value %q out of range %d-%d", text, f.min, f.max)
	}
	return v, nil
}

// fires reports whether some day matches: only a restricted day of month read with an
// unrestricted day of week (both must match) can miss every month.
func (s cronSchedule) fires() bool {
	if s.domStar || !s.dowStar {
		return true
	}
	for m := 1; m <= 12; m++ {
		if s.month&(1<<m) == 0 {
			continue
		}
		for d := 1; d <= daysIn[m]; d++ {
			if s.dom&(1<<d) != 0 {
				return true
			}
		}
	}
	return false
}

// dayMatches applies cron's rule for the two day fields.
func (s cronSchedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<t.Day()) != 0
	dow := s.dow&(1<<int(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

// Next is the first minute after t, in UTC, that the schedule names.
func (s cronSchedule) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	// A schedule that fires at all fires within 8 years (February 29th may skip 2100).
	limit := t.AddDate(9, 0, 0)
	for t.Before(limit) {
		switch {
		case s.month&(1<<int(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case s.hour&(1<<t.Hour()) == 0:
			t = t.Truncate(time.Hour).Add(time.Hour)
		case s.minute&(1<<t.Minute()) == 0:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/robfig/cron/v3"

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
		sched cron.Schedule
	}
	var all []parsed
	for _, j := range jobs {
		sched, err := cron.ParseStandard(j.Schedule)
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

package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

// runSchedules is Cloud Scheduler's stand-in: it calls every scheduled function at the
// times its cron schedule names (UTC) until ctx ends. A call is a POST to the function's
// handler, exactly what the scheduler's HTTP target does.
func runSchedules(ctx context.Context, kit *platform.Kit) error {
	type job struct {
		fn    registry.Function
		sched cron.Schedule
		h     http.Handler
	}
	var jobs []job
	for _, f := range registry.All() {
		if f.Kind != registry.KindScheduled {
			continue
		}
		sched, err := cron.ParseStandard(f.Schedule)
		if err != nil {
			return fmt.Errorf("function %s: schedule %q: %w", f.Name, f.Schedule, err)
		}
		jobs = append(jobs, job{f, sched, f.Handler(kit)})
	}
	done := make(chan struct{})
	for _, j := range jobs {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				next := j.sched.Next(time.Now().UTC())
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				rec := httptest.NewRecorder()
				req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/internal/functions/"+j.fn.Name, nil)
				j.h.ServeHTTP(rec, req)
				if rec.Code >= 300 {
					slog.WarnContext(ctx, "scheduled function failed", "function", j.fn.Name, "status", rec.Code, "body", rec.Body.String())
				}
			}
		}()
	}
	for range jobs {
		<-done
	}
	return nil
}

package schedule_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

func path(id uuid.UUID) string { return "/api/v1/products/" + id.String() + "/schedule" }

// newWindow is a valid new window: opening in two hours, for 45 minutes.
func newWindow() (start, end time.Time, body map[string]any) {
	start = time.Now().Add(2 * time.Hour).UTC().Truncate(time.Microsecond)
	end = start.Add(45 * time.Minute)
	return start, end, map[string]any{"startTime": producttest.Timestamp(start), "endTime": producttest.Timestamp(end)}
}

// checkRescheduled asserts that the product carries the new window in its answer, its row
// and one product-updated event, and that by is recorded as the one who moved it.
func checkRescheduled(t testing.TB, st *stacktest.Stack, res stacktest.Response, id uuid.UUID, start, end time.Time, by uuid.UUID) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("schedule: status %d: %s", res.Status, res.Body)
	}
	var v products.View
	res.Data(t, &v)
	if v.ProductID != id || !v.StartTime.Equal(start) || !v.EndTime.Equal(end) || v.Status != products.PendingReservation {
		t.Errorf("answer = %+v, want window %s..%s", v, start, end)
	}
	var rowStart, rowEnd time.Time
	var modifiedBy uuid.UUID
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT start_time, end_time, modified_by FROM products.products WHERE id = $1`, id).Scan(&rowStart, &rowEnd, &modifiedBy); err != nil {
		t.Fatal(err)
	}
	if !rowStart.Equal(start) || !rowEnd.Equal(end) || modifiedBy != by {
		t.Errorf("row %s..%s modified_by %s, want %s..%s by %s", rowStart, rowEnd, modifiedBy, start, end, by)
	}
	updated := eventtest.Events[events.ProductUpdatedData](t, st.Kit.DB, id, events.ProductUpdated)
	if len(updated) != 1 {
		t.Fatalf("%d product-updated events, want 1", len(updated))
	}
	if e := updated[0]; e.ProductID != id || !e.StartTime.Equal(start) || !e.EndTime.Equal(end) ||
		e.Name != v.Name || e.Price != v.Price || e.Status != string(products.PendingReservation) {
		t.Errorf("product-updated = %+v, want the new window of %+v", e, v)
	}
}

// rescheduling is PATCH /api/v1/products/{id}/schedule to a new window, checked by
// checkRescheduled.
func rescheduling(st *stacktest.Stack) producttest.Change {
	return producttest.Change{
		Method: "PATCH", Path: path, Malformed: "/api/v1/products/not-a-uuid/schedule",
		Request: func() (any, producttest.Made) {
			start, end, body := newWindow()
			return body, func(t testing.TB, res stacktest.Response, p products.View, by uuid.UUID) {
				checkRescheduled(t, st, res, p.ProductID, start, end, by)
			}
		},
	}
}

// Only the seller (by id) or an administrator may move the window; identity claimed in
// headers counts for nothing, only the token does.
func TestScheduleOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	producttest.OwnerOrAdmin(t, st, producttest.NewParties(t, st), rescheduling(st))
}

// A bad window or body is a 4xx with its code, and nothing is written.
func TestScheduleRefusesBadInput(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	now := time.Now().UTC()
	at := func(d time.Duration) string { return producttest.Timestamp(now.Add(d)) }

	producttest.RefusesBadInput(t, st, token, rescheduling(st), []producttest.Bad{
		{Name: "start in the past", Body: map[string]any{"startTime": at(-time.Minute), "endTime": at(time.Hour)}, Status: 400, Code: "P004", Field: "startTime"},
		{Name: "start now-ish", Body: map[string]any{"startTime": at(-time.Second), "endTime": at(time.Hour)}, Status: 400, Code: "P004", Field: "startTime"},
		{Name: "end before start", Body: map[string]any{"startTime": at(2 * time.Hour), "endTime": at(time.Hour)}, Status: 400, Code: "P003", Field: "endTime"},
		{Name: "end equals start", Body: map[string]any{"startTime": at(2 * time.Hour), "endTime": at(2 * time.Hour)}, Status: 400, Code: "P003", Field: "endTime"},
		{Name: "window of 14 minutes", Body: map[string]any{"startTime": at(2 * time.Hour), "endTime": at(2*time.Hour + 14*time.Minute)}, Status: 400, Code: "P007", Field: "endTime"},
		{Name: "window a microsecond short of 15 minutes", Body: map[string]any{"startTime": at(2 * time.Hour), "endTime": at(2*time.Hour + 15*time.Minute - time.Microsecond)}, Status: 400, Code: "P007", Field: "endTime"},
		{Name: "missing start", Body: map[string]any{"endTime": at(time.Hour)}, Status: 400, Code: "P012", Field: "startTime"},
		{Name: "missing end", Body: map[string]any{"startTime": at(time.Hour)}, Status: 400, Code: "P012", Field: "endTime"},
		{Name: "empty object", Body: map[string]any{}, Status: 400, Code: "P012", Field: "startTime"},
		{Name: "null start", Body: `{"startTime": null, "endTime": "` + at(time.Hour) + `"}`, Status: 400, Code: "P012", Field: "startTime"},
		{Name: "unknown field", Body: map[string]any{"startTime": at(time.Hour), "endTime": at(2 * time.Hour), "status": "RESERVING"}, Status: 400, Code: "C009", Field: "status"},
		{Name: "time as number", Body: map[string]any{"startTime": 1700000000, "endTime": at(2 * time.Hour)}, Status: 400, Code: "C010"},
		{Name: "time without zone", Body: map[string]any{"startTime": "2040-01-01T10:00:00", "endTime": at(2 * time.Hour)}, Status: 400, Code: "C010"},
		{Name: "malformed json", Body: `{"startTime": `, Status: 400, Code: "C008"},
		{Name: "empty body", Body: "", Status: 400, Code: "C008"},
	})

	// Exactly 15 minutes is long enough.
	t.Run("window of exactly 15 minutes", func(t *testing.T) {
		t.Parallel()
		p := producttest.List(t, st, token)
		start := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Microsecond)
		res := st.Do(t, "PATCH", path(p.ProductID), map[string]any{"startTime": producttest.Timestamp(start), "endTime": producttest.Timestamp(start.Add(15 * time.Minute))}, token)
		var v products.View
		res.Data(t, &v)
		if !v.StartTime.Equal(start) || !v.EndTime.Equal(start.Add(15*time.Minute)) {
			t.Errorf("window = %s..%s", v.StartTime, v.EndTime)
		}
	})
}

// A rescheduled deal is read back with its new window, and the effective status follows
// the new window: moved to open a little later, it is still pending.
func TestScheduleIsReadBack(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, token)

	start := time.Now().Add(5 * time.Hour).UTC().Truncate(time.Microsecond)
	end := start.Add(24 * time.Hour)
	res := st.Do(t, "PATCH", path(p.ProductID), map[string]any{
		// Another zone on the way in; stored and answered in UTC.
		"startTime": start.In(time.FixedZone("KST", 9*3600)).Format(time.RFC3339Nano),
		"endTime":   producttest.Timestamp(end),
	}, token)
	if res.Status != http.StatusOK {
		t.Fatalf("schedule: status %d: %s", res.Status, res.Body)
	}
	got := producttest.Get(t, st, reader, p.ProductID)
	if !got.StartTime.Equal(start) || !got.EndTime.Equal(end) || got.StartTime.Location() != time.UTC ||
		got.Status != products.PendingReservation || got.Name != p.Name || got.Price != p.Price {
		t.Errorf("GET after schedule = %+v, want %s..%s", got, start, end)
	}

	// A second move announces a second product-updated, with the latest window.
	start2, end2, body := newWindow()
	st.Do(t, "PATCH", path(p.ProductID), body, token).Data(t, nil)
	updated := eventtest.Events[events.ProductUpdatedData](t, st.Kit.DB, p.ProductID, events.ProductUpdated)
	if len(updated) != 2 || !updated[0].StartTime.Equal(start) || !updated[1].StartTime.Equal(start2) || !updated[1].EndTime.Equal(end2) {
		t.Errorf("product-updated events = %+v", updated)
	}
}

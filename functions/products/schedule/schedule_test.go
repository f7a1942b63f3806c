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
	"github.com/8949market/market/shared/products"
)

func path(id uuid.UUID) string { return "/api/v1/products/" + id.String() + "/schedule" }

// newWindow is a valid new window: opening in two hours, for 45 minutes.
func newWindow() (start, end time.Time, body map[string]any) {
	start = time.Now().Add(2 * time.Hour).UTC().Truncate(time.Microsecond)
	end = start.Add(45 * time.Minute)
	return start, end, map[string]any{"startTime": rfc(start), "endTime": rfc(end)}
}

// checkRescheduled asserts that the product carries the new window in its answer, its row
// and one product-updated event, and that by is recorded as the one who moved it.
func checkRescheduled(t *testing.T, st *stacktest.Stack, res stacktest.Response, id uuid.UUID, start, end time.Time, by uuid.UUID) {
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
	updated := outboxEvents[events.ProductUpdatedData](t, st, id, events.ProductUpdated)
	if len(updated) != 1 {
		t.Fatalf("%d product-updated events, want 1", len(updated))
	}
	if e := updated[0]; e.ProductID != id || !e.StartTime.Equal(start) || !e.EndTime.Equal(end) ||
		e.Name != v.Name || e.Price != v.Price || e.Status != string(products.PendingReservation) {
		t.Errorf("product-updated = %+v, want the new window of %+v", e, v)
	}
}

// Only the seller (by id) or an administrator may move the window; identity claimed in
// headers counts for nothing, only the token does.
func TestScheduleOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	sellerTok, seller := st.Token(t, auth.RoleUser)
	otherTok, _ := st.Token(t, auth.RoleUser)
	managerTok, manager := st.Token(t, auth.RoleManager)
	masterTok, master := st.Token(t, auth.RoleMaster)
	own := path
	malformed := func(uuid.UUID) string { return "/api/v1/products/not-a-uuid/schedule" }
	unknown := func(uuid.UUID) string { return path(uuid.New()) }

	tests := []struct {
		name    string
		token   string
		headers map[string]string
		path    func(uuid.UUID) string
		status  int
		code    string
		by      uuid.UUID
	}{
		{"seller", sellerTok, nil, own, 200, "", seller.UserID},
		{"manager", managerTok, nil, own, 200, "", manager.UserID},
		{"master", masterTok, nil, own, 200, "", master.UserID},
		{"another user", otherTok, nil, own, 403, "P009", uuid.Nil},
		{"another user naming the seller in identity headers", otherTok, spoof(seller), own, 403, "P009", uuid.Nil},
		{"no token", "", nil, own, 401, "C002", uuid.Nil},
		{"no token, identity headers only", "", spoof(seller), own, 401, "C002", uuid.Nil},
		{"malformed id", sellerTok, nil, malformed, 400, "C015", uuid.Nil},
		{"unknown id", sellerTok, nil, unknown, 404, "P001", uuid.Nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, sellerTok)
			before := capture(t, st, p.ProductID)
			start, end, body := newWindow()
			res := doWith(t, st, "PATCH", tt.path(p.ProductID), body, tt.token, tt.headers)
			if tt.status == http.StatusOK {
				checkRescheduled(t, st, res, p.ProductID, start, end, tt.by)
				return
			}
			wantError(t, res, tt.status, tt.code)
			before.unchanged(t, st, p.ProductID)
		})
	}
}

// A bad window or body is a 4xx with its code, and nothing is written.
func TestScheduleRefusesBadInput(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	now := time.Now().UTC()
	at := func(d time.Duration) string { return rfc(now.Add(d)) }

	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"start in the past", map[string]any{"startTime": at(-time.Minute), "endTime": at(time.Hour)}, 400, "P004", "startTime"},
		{"start now-ish", map[string]any{"startTime": at(-time.Second), "endTime": at(time.Hour)}, 400, "P004", "startTime"},
		{"end before start", map[string]any{"startTime": at(2 * time.Hour), "endTime": at(time.Hour)}, 400, "P003", "endTime"},
		{"end equals start", map[string]any{"startTime": at(2 * time.Hour), "endTime": at(2 * time.Hour)}, 400, "P003", "endTime"},
		{"window of 14 minutes", map[string]any{"startTime": at(2 * time.Hour), "endTime": at(2*time.Hour + 14*time.Minute)}, 400, "P007", "endTime"},
		{"window a microsecond short of 15 minutes", map[string]any{"startTime": at(2 * time.Hour), "endTime": at(2*time.Hour + 15*time.Minute - time.Microsecond)}, 400, "P007", "endTime"},
		{"missing start", map[string]any{"endTime": at(time.Hour)}, 400, "P012", "startTime"},
		{"missing end", map[string]any{"startTime": at(time.Hour)}, 400, "P012", "endTime"},
		{"empty object", map[string]any{}, 400, "P012", "startTime"},
		{"null start", `{"startTime": null, "endTime": "` + at(time.Hour) + `"}`, 400, "P012", "startTime"},
		{"unknown field", map[string]any{"startTime": at(time.Hour), "endTime": at(2 * time.Hour), "status": "RESERVING"}, 400, "C009", "status"},
		{"time as number", map[string]any{"startTime": 1700000000, "endTime": at(2 * time.Hour)}, 400, "C010", ""},
		{"time without zone", map[string]any{"startTime": "2040-01-01T10:00:00", "endTime": at(2 * time.Hour)}, 400, "C010", ""},
		{"malformed json", `{"startTime": `, 400, "C008", ""},
		{"empty body", "", 400, "C008", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, token)
			before := capture(t, st, p.ProductID)
			e := wantError(t, st.Do(t, "PATCH", path(p.ProductID), tt.body, token), tt.status, tt.code)
			if tt.field != "" && (e.Field == nil || *e.Field != tt.field) {
				t.Errorf("field = %v, want %q", e.Field, tt.field)
			}
			before.unchanged(t, st, p.ProductID)
		})
	}

	// Exactly 15 minutes is long enough.
	t.Run("window of exactly 15 minutes", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, token)
		start := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Microsecond)
		res := st.Do(t, "PATCH", path(p.ProductID), map[string]any{"startTime": rfc(start), "endTime": rfc(start.Add(15 * time.Minute))}, token)
		var v products.View
		res.Data(t, &v)
		if !v.StartTime.Equal(start) || !v.EndTime.Equal(start.Add(15*time.Minute)) {
			t.Errorf("window = %s..%s", v.StartTime, v.EndTime)
		}
	})
}

// The window can be moved only while the deal is PENDING_RESERVATION and until a minute
// before it opens: inside the last minute or after the start it is 409 P006 (the schedule
// is locked); in any other stored state 409 P005. Nothing is written either way.
func TestScheduleStateRules(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, seller := st.Token(t, auth.RoleUser)

	type setup func(t *testing.T, id uuid.UUID, now time.Time)
	window := func(start, end time.Duration) setup {
		return func(t *testing.T, id uuid.UUID, now time.Time) { setWindow(t, st, id, now.Add(start), now.Add(end)) }
	}
	status := func(s products.Status) setup {
		return func(t *testing.T, id uuid.UUID, _ time.Time) { setStatus(t, st, id, s) }
	}
	tests := []struct {
		name  string
		setup setup
		code  string // empty: allowed
	}{
		{"pending, opens in an hour", func(*testing.T, uuid.UUID, time.Time) {}, ""},
		{"pending, opens in a minute and 10 seconds", window(time.Minute+10*time.Second, time.Hour), ""},
		{"pending, opens in 50 seconds (inside the last minute)", window(50*time.Second, time.Hour), "P006"},
		{"pending, opens in a second", window(time.Second, time.Hour), "P006"},
		{"window open, tick not run yet", window(-time.Minute, time.Hour), "P006"},
		{"window closed, tick not run yet", window(-2*time.Hour, -time.Hour), "P006"},
		{"stored RESERVING", status(products.Reserving), "P005"},
		{"stored IN_TRADE", status(products.InTrade), "P005"},
		{"stored COMPLETED", status(products.Completed), "P005"},
		{"stored SALE_CANCELED", status(products.SaleCanceled), "P005"},
		{"stored EXPIRED", status(products.Expired), "P005"},
		{"stored FAILED", status(products.Failed), "P005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, token)
			tt.setup(t, p.ProductID, time.Now())
			before := capture(t, st, p.ProductID)
			start, end, body := newWindow()
			res := st.Do(t, "PATCH", path(p.ProductID), body, token)
			if tt.code == "" {
				checkRescheduled(t, st, res, p.ProductID, start, end, seller.UserID)
				return
			}
			wantError(t, res, http.StatusConflict, tt.code)
			before.unchanged(t, st, p.ProductID)
		})
	}

	t.Run("deleted", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, token)
		if res := st.Do(t, "DELETE", "/api/v1/products/"+p.ProductID.String(), nil, token); res.Status != http.StatusOK {
			t.Fatalf("delete: status %d: %s", res.Status, res.Body)
		}
		before := capture(t, st, p.ProductID)
		_, _, body := newWindow()
		wantError(t, st.Do(t, "PATCH", path(p.ProductID), body, token), 404, "P001")
		before.unchanged(t, st, p.ProductID)
	})
}

// A rescheduled deal is read back with its new window, and the effective status follows
// the new window: moved to open a little later, it is still pending.
func TestScheduleIsReadBack(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)
	p := list(t, st, token)

	start := time.Now().Add(5 * time.Hour).UTC().Truncate(time.Microsecond)
	end := start.Add(24 * time.Hour)
	res := st.Do(t, "PATCH", path(p.ProductID), map[string]any{
		// Another zone on the way in; stored and answered in UTC.
		"startTime": start.In(time.FixedZone("KST", 9*3600)).Format(time.RFC3339Nano),
		"endTime":   rfc(end),
	}, token)
	if res.Status != http.StatusOK {
		t.Fatalf("schedule: status %d: %s", res.Status, res.Body)
	}
	var got products.View
	st.Do(t, "GET", "/api/v1/products/"+p.ProductID.String(), nil, reader).Data(t, &got)
	if !got.StartTime.Equal(start) || !got.EndTime.Equal(end) || got.StartTime.Location() != time.UTC ||
		got.Status != products.PendingReservation || got.Name != p.Name || got.Price != p.Price {
		t.Errorf("GET after schedule = %+v, want %s..%s", got, start, end)
	}

	// A second move announces a second product-updated, with the latest window.
	start2, end2, body := newWindow()
	st.Do(t, "PATCH", path(p.ProductID), body, token).Data(t, nil)
	updated := outboxEvents[events.ProductUpdatedData](t, st, p.ProductID, events.ProductUpdated)
	if len(updated) != 2 || !updated[0].StartTime.Equal(start) || !updated[1].StartTime.Equal(start2) || !updated[1].EndTime.Equal(end2) {
		t.Errorf("product-updated events = %+v", updated)
	}
}

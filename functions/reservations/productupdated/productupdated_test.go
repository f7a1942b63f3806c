package productupdated_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

const consumer = "reservations-product-updated"

func deliver(t *testing.T, st *stacktest.Stack, id uuid.UUID, d events.ProductUpdatedData) {
	t.Helper()
	eventtest.MustDeliver(t, st, consumer, events.ProductUpdated, events.SourceProducts, id, d)
}

func sameRow(a, b rt.Row) bool {
	return a.Status == b.Status && a.Version == b.Version && a.ProductName == b.ProductName && a.ProductPrice == b.ProductPrice &&
		a.StartTime.Equal(b.StartTime) && a.EndTime.Equal(b.EndTime)
}

func TestProductUpdated(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	// Before anyone applied, the reservation copies the product's name, price and window;
	// the admission state is dropped, so the new window holds from the next apply on.
	t.Run("copied while available without applicants", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, time.Hour, 2*time.Hour)
		applicant := rt.NewUser(t, st, auth.RoleUser)
		res, _ := rt.Apply(t, st, deal.ID, applicant.Token) // loads the old window into Redis
		res.Refused(t, http.StatusConflict, "R012")

		start := time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)
		end := start.Add(3 * time.Hour)
		eventID := uuid.New()
		deliver(t, st, eventID, events.ProductUpdatedData{ProductID: deal.ProductID, Name: "Renamed camera", Price: 7777,
			StartTime: start, EndTime: end, Status: "PENDING_RESERVATION"})
		row := rt.Read(t, st, deal.ID)
		if row.Status != "AVAILABLE" || row.ProductName != "Renamed camera" || row.ProductPrice != 7777 ||
			!row.StartTime.Equal(start) || !row.EndTime.Equal(end) {
			t.Fatalf("after product-updated: %+v", row)
		}
		if d := rt.MustGet(t, st, deal.ID, deal.Seller.Token); d.ProductName != "Renamed camera" || d.Price != 7777 ||
			!d.StartTime.Equal(start) || !d.EndTime.Equal(end) {
			t.Fatalf("detail %+v", d)
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}

		// The same event again, even with another payload, has no second effect.
		deliver(t, st, eventID, events.ProductUpdatedData{ProductID: deal.ProductID, Name: "Other", Price: 1})
		if again := rt.Read(t, st, deal.ID); !sameRow(again, row) {
			t.Fatalf("a redelivered event applied again: %+v", again)
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}

		// The window moved to now: the admission state was rebuilt with it.
		if app := rt.MustApply(t, st, deal.ID, applicant.Token); app.Status != "SELECTED" {
			t.Fatalf("apply in the new window: %+v", app)
		}
	})

	// Absent or invalid parts of the payload leave the copy as it was.
	t.Run("partial payload", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, time.Hour, 2*time.Hour)
		before := rt.Read(t, st, deal.ID)
		deliver(t, st, uuid.New(), events.ProductUpdatedData{ProductID: deal.ProductID, Name: "Only the name"})
		after := rt.Read(t, st, deal.ID)
		if after.ProductName != "Only the name" || after.ProductPrice != before.ProductPrice ||
			!after.StartTime.Equal(before.StartTime) || !after.EndTime.Equal(before.EndTime) {
			t.Fatalf("before %+v, after %+v", before, after)
		}
		now := time.Now()
		deliver(t, st, uuid.New(), events.ProductUpdatedData{ProductID: deal.ProductID, StartTime: now.Add(3 * time.Hour), EndTime: now.Add(2 * time.Hour)})
		if w := rt.Read(t, st, deal.ID); !w.StartTime.Equal(before.StartTime) || !w.EndTime.Equal(before.EndTime) {
			t.Fatalf("a window ending before it starts was copied: %+v", w)
		}
	})

	// Once someone holds the reservation, the product's later changes do not move it.
	t.Run("left alone with a buyer", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Queue(t, st, deal.ID, users...)
		before := rt.Read(t, st, deal.ID)
		eventID := uuid.New()
		now := time.Now()
		deliver(t, st, eventID, events.ProductUpdatedData{ProductID: deal.ProductID, Name: "Changed", Price: 1,
			StartTime: now.Add(time.Hour), EndTime: now.Add(2 * time.Hour)})
		if after := rt.Read(t, st, deal.ID); !sameRow(after, before) || *after.BuyerID != users[0].UserID {
			t.Fatalf("before %+v, after %+v", before, after)
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
			t.Fatalf("%d inbox rows: the event must be acknowledged", n)
		}
		// The queue is intact: the next applicant still queues behind.
		if app := rt.MustApply(t, st, deal.ID, rt.NewUser(t, st, auth.RoleUser).Token); app.Status != "WAITING" || app.Position != 2 {
			t.Fatalf("apply after the event: %+v", app)
		}
	})

	t.Run("left alone when cancelled", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, time.Hour, 2*time.Hour)
		rt.MustAct(t, st, deal.ID, "cancel/seller", rt.Reason("withdrawn"), deal.Seller.Token)
		before := rt.Read(t, st, deal.ID)
		deliver(t, st, uuid.New(), events.ProductUpdatedData{ProductID: deal.ProductID, Name: "Changed", Price: 1})
		if after := rt.Read(t, st, deal.ID); !sameRow(after, before) {
			t.Fatalf("before %+v, after %+v", before, after)
		}
	})

	// product-updated can overtake product-created (two topics): refused with a 503 and
	// recorded nowhere until the reservation exists, then applied over the creation's values.
	t.Run("before its reservation opens", func(t *testing.T) {
		t.Parallel()
		product, eventID := uuid.New(), uuid.New()
		change := events.ProductUpdatedData{ProductID: product, Name: "Renamed", Price: 10}
		if status := eventtest.Deliver(t, st, consumer, events.ProductUpdated, events.SourceProducts, eventID, change); status != http.StatusServiceUnavailable {
			t.Fatalf("updated before created: status %d, want 503", status)
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 0 {
			t.Fatalf("%d inbox rows for a refused event", n)
		}
		rt.Created(t, st, product)
		deliver(t, st, eventID, change)
		var name string
		var price int64
		if err := st.Kit.DB.QueryRow(t.Context(), `SELECT product_name, product_price FROM reservations.reservations WHERE product_id = $1`, product).Scan(&name, &price); err != nil || name != "Renamed" || price != 10 {
			t.Fatalf("reservation holds %q at %d (%v), want the update", name, price, err)
		}
	})

	// End to end: the seller changes the product through its API before the deal opens;
	// the relay carries product-updated to this consumer.
	t.Run("through the products API", func(t *testing.T) {
		t.Parallel()
		seller := rt.NewUser(t, st, auth.RoleUser)
		deal := rt.ListedAt(t, st, seller, "Lamp", time.Now().Add(2*time.Hour))
		res := st.Do(t, "PATCH", "/api/v1/products/"+deal.ProductID.String(), map[string]any{"name": "Brass lamp", "price": 6500}, seller.Token)
		if res.Status != http.StatusOK {
			t.Fatalf("update product: %d %s", res.Status, res.Body)
		}
		start := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Millisecond)
		res = st.Do(t, "PATCH", "/api/v1/products/"+deal.ProductID.String()+"/schedule", map[string]any{
			"startTime": start.Format(time.RFC3339Nano), "endTime": start.Add(time.Hour).Format(time.RFC3339Nano)}, seller.Token)
		if res.Status != http.StatusOK {
			t.Fatalf("reschedule product: %d %s", res.Status, res.Body)
		}
		rt.Settle(t, st)
		row := rt.Read(t, st, deal.ID)
		if row.ProductName != "Brass lamp" || row.ProductPrice != 6500 || !row.StartTime.Equal(start) || !row.EndTime.Equal(start.Add(time.Hour)) {
			t.Fatalf("reservation after the product changed: %+v", row)
		}
	})
}

package producttest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/products"
)

// Consumer is one of the products domain's consumer functions and the event it follows.
type Consumer struct {
	// Name is the function's name under /internal/functions/, which is also its inbox
	// consumer name.
	Name string
	// Topic and Source are the event's CloudEvent type and source.
	Topic, Source string
	// Event is a well-formed payload of the event about the product id.
	Event func(id uuid.UUID) any
	// Status is the stored status of a product the event applies to, its window opened a
	// minute ago for an hour, and Version, if not 0, the version at which a buyer holds
	// it. The empty Status is a product as listed: pending, opening in an hour.
	Status  products.Status
	Version int64
	// Malformed are payloads the consumer must refuse, so that the backbone retries them.
	Malformed []Payload
}

// Payload is an event payload, named for the subtest that sends it.
type Payload struct {
	Name string
	Data any
}

// Reservation is a reservation event's payload about product id at version, in status:
// a new reservation of a new seller's product at the listed price, with no buyer.
func Reservation(id uuid.UUID, version int64, status string) events.ReservationData {
	return events.ReservationData{
		ReservationID: uuid.New(), ProductID: id, Version: version, Status: status, SellerID: uuid.New(), Price: 120000,
	}
}

// Trade is a trade event's payload about product id: a new trade, of a new reservation,
// between a new seller and a new buyer.
func Trade(id uuid.UUID) events.TradeData {
	return events.TradeData{TradeID: uuid.New(), ReservationID: uuid.New(), ProductID: id, SellerID: uuid.New(), BuyerID: uuid.New()}
}

// Deliver posts data to the consumer as its event with eventID, and returns the HTTP
// status.
func (c Consumer) Deliver(t testing.TB, st *stacktest.Stack, eventID uuid.UUID, data any) int {
	t.Helper()
	return eventtest.Deliver(t, st, c.Name, c.Topic, c.Source, eventID, data)
}

// Acked fails the test unless code, the answer to a delivery, is a 2xx: the event was
// acknowledged, applied or not.
func Acked(t testing.TB, code int) {
	t.Helper()
	if code/100 != 2 {
		t.Fatalf("producttest: status %d, want 2xx", code)
	}
}

// WantInbox fails the test unless the consumer has n inbox rows for the event.
func (c Consumer) WantInbox(t testing.TB, st *stacktest.Stack, eventID uuid.UUID, n int) {
	t.Helper()
	if got := eventtest.InboxRows(t, st.Kit.DB, c.Name, eventID); got != n {
		t.Errorf("producttest: %d inbox rows, want %d", got, n)
	}
}

// Unmoved fails the test unless deliver is acknowledged and leaves the product's row as
// it was.
func Unmoved(t testing.TB, st *stacktest.Stack, id uuid.UUID, deliver func() int) {
	t.Helper()
	before := Snapshot(t, st, id)
	Acked(t, deliver())
	if after := Snapshot(t, st, id); after != before {
		t.Errorf("producttest: changed:\nbefore %s\nafter  %s", before, after)
	}
}

// due lists a product with token and puts it in the state the event applies to.
func (c Consumer) due(t testing.TB, st *stacktest.Stack, token string) products.View {
	t.Helper()
	if c.Status == "" {
		return List(t, st, token)
	}
	p := OnSale(t, st, token, c.Status, time.Minute, time.Hour)
	if c.Version != 0 {
		Hold(t, st, p.ProductID, c.Version)
	}
	return p
}

// Check runs, as parallel subtests of t, what every consumer must do whatever its event:
// the same event id delivered twice has one effect (the inbox holds one row for it, even
// when the product's columns were written back in between); an event about a deleted
// product is acknowledged and changes nothing; a malformed payload is refused, so that
// it is retried, and not recorded as processed.
func (c Consumer) Check(t *testing.T, st *stacktest.Stack) {
	t.Helper()
	token, _ := st.Token(t, auth.RoleUser)

	t.Run("the same event id twice has one effect", func(t *testing.T) {
		t.Parallel()
		p := c.due(t, st, token)
		original := Read(t, st, p.ProductID)
		eventID, data := uuid.New(), c.Event(p.ProductID)
		if code := c.Deliver(t, st, eventID, data); code/100 != 2 {
			t.Fatalf("producttest: first delivery: status %d", code)
		}
		Restore(t, st, p.ProductID, original)
		before := Snapshot(t, st, p.ProductID)
		if code := c.Deliver(t, st, eventID, data); code/100 != 2 {
			t.Fatalf("producttest: second delivery: status %d, want 2xx", code)
		}
		if after := Snapshot(t, st, p.ProductID); after != before {
			t.Errorf("producttest: second delivery applied again:\nbefore %s\nafter  %s", before, after)
		}
		c.WantInbox(t, st, eventID, 1)
	})

	t.Run("deleted product: acknowledged, no change", func(t *testing.T) {
		t.Parallel()
		p := List(t, st, token)
		Remove(t, st, token, p.ProductID)
		eventID := uuid.New()
		Unmoved(t, st, p.ProductID, func() int { return c.Deliver(t, st, eventID, c.Event(p.ProductID)) })
		c.WantInbox(t, st, eventID, 1)
	})

	for _, bad := range c.Malformed {
		t.Run(bad.Name, func(t *testing.T) {
			t.Parallel()
			eventID := uuid.New()
			if code := c.Deliver(t, st, eventID, bad.Data); code/100 == 2 {
				t.Fatalf("producttest: status %d, want an error so the event is retried", code)
			}
			c.WantInbox(t, st, eventID, 0)
		})
	}
}

// Applies runs, as a parallel subtest of t, the consumer end to end: its Event, delivered
// about a product in the state it applies to, is acknowledged and recorded once in the
// inbox; check is handed the row as it was (held) and after, and the product as a reader
// gets it. The rules of each event are tested in shared/products, on a database alone.
func (c Consumer) Applies(t *testing.T, st *stacktest.Stack, check func(t testing.TB, held, got Row, v products.View)) {
	t.Helper()
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)
	t.Run("applied end to end", func(t *testing.T) {
		t.Parallel()
		p := c.due(t, st, token)
		held := Read(t, st, p.ProductID)
		eventID := uuid.New()
		Acked(t, c.Deliver(t, st, eventID, c.Event(p.ProductID)))
		check(t, held, Read(t, st, p.ProductID), Get(t, st, reader, p.ProductID))
		c.WantInbox(t, st, eventID, 1)
	})
}

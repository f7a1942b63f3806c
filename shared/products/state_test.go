package products_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

var allStatuses = []products.Status{
	products.PendingReservation, products.Reserving, products.InTrade, products.Completed,
	products.SaleCanceled, products.Expired, products.Failed,
}

// EffectiveStatus for every stored status at every instant of the window that matters,
// with and without a buyer: only the two open states follow the clock.
func TestEffectiveStatusTable(t *testing.T) {
	t.Parallel()
	start := time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Minute)
	instants := []struct {
		name string
		at   time.Time
		// the effective state of an open deal (stored PENDING_RESERVATION or RESERVING)
		noBuyer, withBuyer products.Status
	}{
		{"1µs before start", start.Add(-time.Microsecond), products.PendingReservation, products.PendingReservation},
		{"a day before start", start.Add(-24 * time.Hour), products.PendingReservation, products.PendingReservation},
		{"at start", start, products.Reserving, products.Reserving},
		{"inside", start.Add(10 * time.Minute), products.Reserving, products.Reserving},
		{"1µs before end", end.Add(-time.Microsecond), products.Reserving, products.Reserving},
		{"at end", end, products.Expired, products.Reserving},
		{"after end", end.Add(time.Hour), products.Expired, products.Reserving},
	}
	buyer := uuid.New()
	for _, stored := range allStatuses {
		for _, in := range instants {
			for _, withBuyer := range []bool{false, true} {
				want := stored
				if stored == products.PendingReservation || stored == products.Reserving {
					want = in.noBuyer
					if withBuyer {
						want = in.withBuyer
					}
				}
				t.Run(fmt.Sprintf("%s/%s/buyer=%t", stored, in.name, withBuyer), func(t *testing.T) {
					t.Parallel()
					p := products.Product{Status: stored, StartTime: start, EndTime: end}
					if withBuyer {
						p.BuyerID = &buyer
					}
					if got := p.EffectiveStatus(in.at); got != want {
						t.Errorf("EffectiveStatus(%s) = %s, want %s", in.at, got, want)
					}
					// The view reports the same.
					if got := p.View(in.at).Status; got != want {
						t.Errorf("View.Status = %s, want %s", got, want)
					}
				})
			}
		}
	}
}

// changeOp is one of the caller's changes, applied at now.
type changeOp struct {
	name  string
	apply func(p *products.Product, caller auth.Identity, now time.Time) error
}

var (
	newName  = "Reading lamp"
	newPrice = int64(15000)
)

func changeOps() []changeOp {
	return []changeOp{
		{"update", func(p *products.Product, c auth.Identity, now time.Time) error {
			return p.Update(products.Change{Name: &newName, Price: &newPrice}, c, now)
		}},
		{"reschedule", func(p *products.Product, c auth.Identity, now time.Time) error {
			start := now.Add(3 * time.Hour)
			end := start.Add(45 * time.Minute)
			return p.Reschedule(products.Schedule{StartTime: &start, EndTime: &end}, c, now)
		}},
		{"cancel", func(p *products.Product, c auth.Identity, now time.Time) error { return p.Cancel(c, now, false) }},
		{"remove", func(p *products.Product, c auth.Identity, now time.Time) error { return p.Cancel(c, now, true) }},
	}
}

// opsByName is changeOps by name.
func opsByName() map[string]changeOp {
	ops := map[string]changeOp{}
	for _, op := range changeOps() {
		ops[op.name] = op
	}
	return ops
}

// Outcomes of a change, as the table names them.
const (
	updated   = "updated"   // information or window changed, product-updated
	cancelled = "cancelled" // SALE_CANCELED, product-cancelled{deleted:false}
	withdrawn = "withdrawn" // SALE_CANCELED and deleted, product-cancelled{deleted:true}
	hidden    = "hidden"    // an ended deal only soft-deleted, no event
)

// seedFor is a product stored in status, its window still an hour ahead (so the stored
// status, not the clock or the freeze, decides), with the fields the state implies.
func seedFor(now time.Time, status products.Status) products.Product {
	p := baseProduct(now, status)
	p.ReservationVersion = 3
	switch status {
	case products.Reserving, products.InTrade:
		p.BuyerID = ptr(uuid.New())
	case products.Failed:
		p.FailureReason = "queue unavailable"
		p.FailedAt = ptr(now.Add(-time.Minute))
	}
	return p
}

// checkChange asserts the outcome of a change through Store.Update: the answer, the row
// and the outbox.
func checkChange(t *testing.T, f *fixture, before products.Product, op string, caller auth.Identity, now time.Time,
	got products.Product, err error, want string) {
	t.Helper()
	ctx := context.Background()
	stored := f.read(t, before.ID)
	evs := f.outbox(t, before.ID)
	if isFaultCode(want) {
		if code(err) != want {
			t.Fatalf("%s: err = %v, want %s", op, err, want)
		}
		if describe(stored) != describe(before) {
			t.Errorf("refused %s changed the row:\n got %s\nwant %s", op, describe(stored), describe(before))
		}
		if len(evs) != 0 {
			t.Errorf("refused %s wrote events: %+v", op, evs)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v, want %s", op, err, want)
	}
	if describe(got) != describe(stored) {
		t.Errorf("answer differs from the row:\nanswer %s\n   row %s", describe(got), describe(stored))
	}
	if !stored.ModifiedAt.Equal(now) || stored.ModifiedBy != caller.UserID {
		t.Errorf("modified %s by %s, want %s by %s", stored.ModifiedAt, stored.ModifiedBy, now, caller.UserID)
	}
	wantTopic := map[string]string{updated: events.ProductUpdated, cancelled: events.ProductCancelled, withdrawn: events.ProductCancelled}[want]
	if wantTopic == "" {
		if len(evs) != 0 {
			t.Errorf("%s wrote events: %+v", want, evs)
		}
	} else {
		if len(evs) != 1 {
			t.Fatalf("events = %+v, want one %s", evs, wantTopic)
		}
		e := evs[0]
		if e.Topic != wantTopic || e.Source != events.SourceProducts || e.AggregateID != before.ID.String() ||
			e.Payload["productId"] != before.ID.String() {
			t.Errorf("event = %s/%s/%s %v, want %s about %s", e.Topic, e.Source, e.AggregateID, e.Payload, wantTopic, before.ID)
		}
	}
	switch want {
	case updated:
		if stored.Status != products.PendingReservation || stored.DeletedAt != nil {
			t.Errorf("after %s: %s", op, describe(stored))
		}
		e := evs[0]
		if e.Payload["name"] != stored.Name || payloadNumber(e, "price") != stored.Price || e.Payload["status"] != string(products.PendingReservation) ||
			!payloadTime(t, e, "startTime").Equal(stored.StartTime) || !payloadTime(t, e, "endTime").Equal(stored.EndTime) {
			t.Errorf("product-updated payload %v does not match the row %s", e.Payload, describe(stored))
		}
		switch op {
		case "update":
			if stored.Name != newName || stored.Price != newPrice || stored.Description != before.Description ||
				!stored.StartTime.Equal(before.StartTime) || !stored.EndTime.Equal(before.EndTime) {
				t.Errorf("after update: %s", describe(stored))
			}
		case "reschedule":
			if !stored.StartTime.Equal(now.Add(3*time.Hour)) || !stored.EndTime.Equal(now.Add(3*time.Hour+45*time.Minute)) ||
				stored.Name != before.Name || stored.Price != before.Price {
				t.Errorf("after reschedule: %s", describe(stored))
			}
		}
	case cancelled, withdrawn:
		if stored.Status != products.SaleCanceled || stored.BuyerID != nil {
			t.Errorf("after %s: %s", op, describe(stored))
		}
		e := evs[0]
		if e.Payload["deleted"] != (want == withdrawn) || e.Payload["by"] != caller.UserID.String() {
			t.Errorf("product-cancelled payload = %v, want deleted=%t by %s", e.Payload, want == withdrawn, caller.UserID)
		}
	case hidden:
		// The row keeps its state (tidied to the effective one at most).
		if stored.Status != before.Status && stored.Status != before.EffectiveStatus(now) {
			t.Errorf("removing an ended deal changed its status to %s", stored.Status)
		}
	}
	deleted := want == withdrawn || want == hidden
	if deleted {
		if stored.DeletedAt == nil || !stored.DeletedAt.Equal(now) || stored.DeletedBy == nil || *stored.DeletedBy != caller.UserID {
			t.Errorf("deleted = %v by %v, want %s by %s", stored.DeletedAt, stored.DeletedBy, now, caller.UserID)
		}
		if _, err := f.store.Get(ctx, before.ID); !errors.Is(err, products.ErrNotFound) {
			t.Errorf("Get after delete: %v, want P001", err)
		}
	} else if stored.DeletedAt != nil || stored.DeletedBy != nil {
		t.Errorf("%s deleted the product: %s", op, describe(stored))
	}
}

// tryChange stores seed, has caller apply op to it at the instant at through
// Store.Update, and checks the outcome with checkChange.
func (f *fixture) tryChange(t *testing.T, seed products.Product, op changeOp, caller auth.Identity, at time.Time, want string) {
	t.Helper()
	f.insert(t, seed)
	before := f.read(t, seed.ID)
	got, err := f.store.Update(context.Background(), seed.ID, func(p *products.Product) error {
		return op.apply(p, caller, at)
	})
	checkChange(t, f, before, op.name, caller, at, got, err, want)
}

// owner is the seller of p, with the USER role.
func owner(p products.Product) auth.Identity {
	return identity(p.SellerID, auth.RoleUser, p.SellerNickname)
}

// emptyUpdate is an update that changes no field.
var emptyUpdate = changeOp{name: "update", apply: func(p *products.Product, caller auth.Identity, now time.Time) error {
	return p.Update(products.Change{}, caller, now)
}}

// Every change by the seller from every stored state: what is allowed, what is refused
// with which fault, and what each writes.
func TestChangesFromEachStoredStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := refNow()
	table := []struct {
		status products.Status
		want   map[string]string // op → outcome or fault code
	}{
		{products.PendingReservation, map[string]string{"update": updated, "reschedule": updated, "cancel": cancelled, "remove": withdrawn}},
		{products.Reserving, map[string]string{"update": "P005", "reschedule": "P005", "cancel": cancelled, "remove": withdrawn}},
		{products.InTrade, map[string]string{"update": "P005", "reschedule": "P005", "cancel": "P005", "remove": "P005"}},
		{products.Completed, map[string]string{"update": "P005", "reschedule": "P005", "cancel": "P005", "remove": "P005"}},
		{products.SaleCanceled, map[string]string{"update": "P005", "reschedule": "P005", "cancel": "P005", "remove": hidden}},
		{products.Expired, map[string]string{"update": "P005", "reschedule": "P005", "cancel": "P005", "remove": hidden}},
		{products.Failed, map[string]string{"update": "P005", "reschedule": "P005", "cancel": "P005", "remove": hidden}},
	}
	for _, row := range table {
		for _, op := range changeOps() {
			want := row.want[op.name]
			t.Run(fmt.Sprintf("%s/%s", row.status, op.name), func(t *testing.T) {
				t.Parallel()
				seed := seedFor(now, row.status)
				f.tryChange(t, seed, op, owner(seed), now, want)
			})
		}
	}
}

// Only the seller, by id, or an administrator may change a product; anyone else is
// refused with P009 before the state is even looked at.
func TestChangesByCaller(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := refNow()
	outcome := map[string]string{"update": updated, "reschedule": updated, "cancel": cancelled, "remove": withdrawn}
	callers := []struct {
		name   string
		caller func(p products.Product) auth.Identity
		status products.Status
		want   string // "" = the op's outcome
	}{
		{"seller", owner, products.PendingReservation, ""},
		{"another user with the seller's nickname", func(p products.Product) auth.Identity {
			return identity(uuid.New(), auth.RoleUser, p.SellerNickname)
		}, products.PendingReservation, "P009"},
		{"a caller without id or role", func(products.Product) auth.Identity { return auth.Identity{} }, products.PendingReservation, "P009"},
		{"manager", func(products.Product) auth.Identity {
			return identity(uuid.New(), auth.RoleManager, "manager")
		}, products.PendingReservation, ""},
		{"master", func(products.Product) auth.Identity {
			return identity(uuid.New(), auth.RoleMaster, "master")
		}, products.PendingReservation, ""},
		{"another user on a deal in trade", func(p products.Product) auth.Identity {
			return identity(uuid.New(), auth.RoleUser, p.SellerNickname)
		}, products.InTrade, "P009"},
	}
	for _, c := range callers {
		for _, op := range changeOps() {
			want := c.want
			if want == "" {
				want = outcome[op.name]
			}
			t.Run(fmt.Sprintf("%s/%s", c.name, op.name), func(t *testing.T) {
				t.Parallel()
				seed := seedFor(now, c.status)
				f.tryChange(t, seed, op, c.caller(seed), now, want)
			})
		}
	}
}

// Information and schedule changes close ChangeFreeze before the window opens, to the
// microsecond; cancelling does not.
func TestChangeFreezeBoundary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := refNow()
	ops := opsByName()
	instants := []struct {
		name   string
		before time.Duration // how long before the start the change is made
		update string        // outcome of update and reschedule
		sched  string
	}{
		{"an hour before", time.Hour, updated, updated},
		{"freeze + 1µs before", products.ChangeFreeze + time.Microsecond, updated, updated},
		{"exactly freeze before", products.ChangeFreeze, "P005", "P006"},
		{"30s before", 30 * time.Second, "P005", "P006"},
		{"at start, tick not run", 0, "P005", "P006"},
		{"after start, tick not run", -time.Minute, "P005", "P006"},
	}
	for _, in := range instants {
		for _, c := range []struct{ op, want string }{{"update", in.update}, {"reschedule", in.sched}, {"cancel", cancelled}} {
			t.Run(in.name+"/"+c.op, func(t *testing.T) {
				t.Parallel()
				seed := seedFor(now, products.PendingReservation)
				f.tryChange(t, seed, ops[c.op], owner(seed), seed.StartTime.Add(-in.before), c.want)
			})
		}
	}
	// An empty change is refused before anything else but ownership.
	t.Run("empty change", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			status products.Status
			owner  bool
			want   string
		}{
			{products.PendingReservation, true, "C001"},
			{products.InTrade, true, "C001"},
			{products.PendingReservation, false, "P009"},
		} {
			seed := seedFor(now, c.status)
			caller := identity(uuid.New(), auth.RoleUser, "other")
			if c.owner {
				caller = owner(seed)
			}
			f.tryChange(t, seed, emptyUpdate, caller, now, c.want)
		}
	})
}

// checkFollowed asserts a consumer-driven or tick change: whether it reported a change,
// the row it left (want, or the row before when nothing changed) and the product-updated
// events it announced (wantEvent: the status in the one event, "" for none).
func checkFollowed(t *testing.T, f *fixture, before products.Product, changed bool, err error,
	wantChanged bool, want products.Product, wantEvent products.Status) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if changed != wantChanged {
		t.Errorf("changed = %t, want %t", changed, wantChanged)
	}
	stored := f.read(t, before.ID)
	if !wantChanged {
		want = before
	}
	if describe(stored) != describe(want) {
		t.Errorf("row:\n got %s\nwant %s", describe(stored), describe(want))
	}
	evs := f.outbox(t, before.ID)
	if wantEvent == "" {
		if len(evs) != 0 {
			t.Errorf("events = %+v, want none", evs)
		}
		return
	}
	if len(evs) != 1 || evs[0].Topic != events.ProductUpdated || evs[0].Source != events.SourceProducts ||
		evs[0].Payload["status"] != string(wantEvent) || evs[0].Payload["productId"] != before.ID.String() ||
		evs[0].Payload["name"] != before.Name || payloadNumber(evs[0], "price") != before.Price ||
		!payloadTime(t, evs[0], "startTime").Equal(before.StartTime) || !payloadTime(t, evs[0], "endTime").Equal(before.EndTime) {
		t.Errorf("events = %+v, want one product-updated with status %s", evs, wantEvent)
	}
}

// Open and Expire (the tick's moves) only move what the clock has overtaken.
func TestOpenAndExpireGuards(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := refNow()
	type at func(start, end time.Time) time.Time
	table := []struct {
		name   string
		move   string
		status products.Status
		buyer  bool
		at     at
		want   products.Status // "" = refused
	}{
		{"pending 1µs before start", "open", products.PendingReservation, false, func(s, _ time.Time) time.Time { return s.Add(-time.Microsecond) }, ""},
		{"pending at start", "open", products.PendingReservation, false, func(s, _ time.Time) time.Time { return s }, products.Reserving},
		{"pending inside", "open", products.PendingReservation, false, func(s, _ time.Time) time.Time { return s.Add(time.Minute) }, products.Reserving},
		{"pending with a buyer at start", "open", products.PendingReservation, true, func(s, _ time.Time) time.Time { return s }, products.Reserving},
		{"reserving", "open", products.Reserving, false, func(s, _ time.Time) time.Time { return s.Add(time.Minute) }, ""},
		{"in trade", "open", products.InTrade, true, func(s, _ time.Time) time.Time { return s.Add(time.Minute) }, ""},
		{"completed", "open", products.Completed, false, func(s, _ time.Time) time.Time { return s.Add(time.Minute) }, ""},
		{"cancelled", "open", products.SaleCanceled, false, func(s, _ time.Time) time.Time { return s.Add(time.Minute) }, ""},
		{"expired", "open", products.Expired, false, func(s, _ time.Time) time.Time { return s.Add(time.Minute) }, ""},
		{"failed", "open", products.Failed, false, func(s, _ time.Time) time.Time { return s.Add(time.Minute) }, ""},

		{"pending 1µs before end", "expire", products.PendingReservation, false, func(_, e time.Time) time.Time { return e.Add(-time.Microsecond) }, ""},
		{"pending at end", "expire", products.PendingReservation, false, func(_, e time.Time) time.Time { return e }, products.Expired},
		{"reserving 1µs before end", "expire", products.Reserving, false, func(_, e time.Time) time.Time { return e.Add(-time.Microsecond) }, ""},
		{"reserving at end", "expire", products.Reserving, false, func(_, e time.Time) time.Time { return e }, products.Expired},
		{"reserving after end", "expire", products.Reserving, false, func(_, e time.Time) time.Time { return e.Add(time.Hour) }, products.Expired},
		{"reserving with a buyer after end", "expire", products.Reserving, true, func(_, e time.Time) time.Time { return e.Add(time.Hour) }, ""},
		{"pending with a buyer after end", "expire", products.PendingReservation, true, func(_, e time.Time) time.Time { return e.Add(time.Hour) }, ""},
		{"in trade after end", "expire", products.InTrade, true, func(_, e time.Time) time.Time { return e.Add(time.Hour) }, ""},
		{"completed after end", "expire", products.Completed, false, func(_, e time.Time) time.Time { return e.Add(time.Hour) }, ""},
		{"cancelled after end", "expire", products.SaleCanceled, false, func(_, e time.Time) time.Time { return e.Add(time.Hour) }, ""},
		{"expired after end", "expire", products.Expired, false, func(_, e time.Time) time.Time { return e.Add(time.Hour) }, ""},
		{"failed after end", "expire", products.Failed, false, func(_, e time.Time) time.Time { return e.Add(time.Hour) }, ""},
	}
	for _, tt := range table {
		t.Run(tt.move+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			seed := baseProduct(now, tt.status)
			if tt.buyer {
				seed.BuyerID = ptr(uuid.New())
			}
			f.insert(t, seed)
			before := f.read(t, seed.ID)
			at := tt.at(before.StartTime, before.EndTime)
			changed, err := f.follow(t, seed.ID, func(p *products.Product) bool {
				if tt.move == "open" {
					return p.Open(at)
				}
				return p.Expire(at)
			})
			want := before
			want.Status, want.ModifiedAt = tt.want, at
			checkFollowed(t, f, before, changed, err, tt.want != "", want, tt.want)
		})
	}
}

// The reservation events carry a version: an event no newer than the last one applied is
// ignored; a newer one applies from the states it names and is ignored from the others.
func TestReservationEventsWithVersions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := refNow()
	newBuyer := uuid.New()
	reservationEvents := []struct {
		name  string
		apply func(p *products.Product, v int64, at time.Time) bool
		// from is each state the event applies from; result builds the expected row
		from   []products.Status
		result func(p *products.Product)
	}{
		{"applied", func(p *products.Product, v int64, at time.Time) bool { return p.ReservationApplied(v, newBuyer, at) },
			[]products.Status{products.PendingReservation, products.Reserving, products.InTrade, products.Expired},
			func(p *products.Product) { p.Status, p.BuyerID = products.Reserving, &newBuyer }},
		{"completed", func(p *products.Product, v int64, at time.Time) bool { return p.ReservationCompleted(v, at) },
			[]products.Status{products.PendingReservation, products.Reserving, products.Expired},
			func(p *products.Product) { p.Status = products.InTrade }},
		// The window is open at the time of the event, so the deal is on sale again.
		{"cancelled", func(p *products.Product, v int64, at time.Time) bool { return p.ReservationCancelled(v, at) },
			[]products.Status{products.PendingReservation, products.Reserving, products.InTrade},
			func(p *products.Product) { p.Status, p.BuyerID = products.Reserving, nil }},
	}
	for _, ev := range reservationEvents {
		for _, status := range allStatuses {
			for _, v := range []int64{4, 5, 6} {
				applies := v > 5 && contains(ev.from, status)
				t.Run(fmt.Sprintf("%s/%s/v%d", ev.name, status, v), func(t *testing.T) {
					t.Parallel()
					seed := seedFor(now, status)
					seed.StartTime, seed.EndTime = now.Add(-30*time.Minute), now.Add(30*time.Minute)
					seed.ReservationVersion = 5
					f.insert(t, seed)
					before := f.read(t, seed.ID)
					changed, err := f.follow(t, seed.ID, func(p *products.Product) bool { return ev.apply(p, v, now) })
					want := before
					ev.result(&want)
					want.ReservationVersion, want.ModifiedAt = v, now
					// The other domains are the source of these changes: nothing is echoed.
					checkFollowed(t, f, before, changed, err, applies, want, "")
				})
			}
		}
	}
	// A cancelled reservation reopens the deal by its window.
	reopen := []struct {
		name   string
		window func() (time.Time, time.Time)
		want   products.Status
	}{
		{"before start", func() (time.Time, time.Time) { return now.Add(time.Hour), now.Add(2 * time.Hour) }, products.PendingReservation},
		{"1µs before end", func() (time.Time, time.Time) {
			return now.Add(-time.Hour + time.Microsecond), now.Add(time.Microsecond)
		}, products.Reserving},
		{"at end", func() (time.Time, time.Time) { return now.Add(-time.Hour), now }, products.Expired},
		{"after end", func() (time.Time, time.Time) { return now.Add(-2 * time.Hour), now.Add(-time.Hour) }, products.Expired},
	}
	for _, r := range reopen {
		t.Run("cancelled from IN_TRADE/"+r.name, func(t *testing.T) {
			t.Parallel()
			seed := seedFor(now, products.InTrade)
			seed.StartTime, seed.EndTime = r.window()
			f.insert(t, seed)
			before := f.read(t, seed.ID)
			changed, err := f.follow(t, seed.ID, func(p *products.Product) bool { return p.ReservationCancelled(9, now) })
			want := before
			want.Status, want.BuyerID, want.ReservationVersion, want.ModifiedAt = r.want, nil, 9, now
			checkFollowed(t, f, before, changed, err, true, want, "")
		})
	}
	// Out-of-order delivery across topics: completed(7) then a late applied(6) is ignored.
	t.Run("late applied after completed", func(t *testing.T) {
		t.Parallel()
		seed := seedFor(now, products.Reserving)
		seed.StartTime, seed.EndTime = now.Add(-30*time.Minute), now.Add(30*time.Minute)
		f.insert(t, seed)
		if changed, err := f.follow(t, seed.ID, func(p *products.Product) bool { return p.ReservationCompleted(7, now) }); err != nil || !changed {
			t.Fatalf("completed(7): %t, %v", changed, err)
		}
		before := f.read(t, seed.ID)
		changed, err := f.follow(t, seed.ID, func(p *products.Product) bool { return p.ReservationApplied(6, newBuyer, now) })
		checkFollowed(t, f, before, changed, err, false, before, "")
		if before.Status != products.InTrade || before.ReservationVersion != 7 {
			t.Errorf("after completed(7): %s", describe(before))
		}
	})
}

func contains(list []products.Status, s products.Status) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The trade events and the failures, from every state.
func TestTradeEventsAndFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := refNow()
	reason := "chat room could not be opened"
	table := []struct {
		name  string
		apply func(p *products.Product, at time.Time) bool
		// want builds the expected row from the stored one; changed is whether it applies.
		want func(p *products.Product, at time.Time) (changed bool)
	}{
		{"trade completed", func(p *products.Product, at time.Time) bool { return p.TradeCompleted(at) },
			func(p *products.Product, _ time.Time) bool {
				if p.Status != products.InTrade {
					return false
				}
				p.Status, p.BuyerID = products.Completed, nil
				return true
			}},
		{"trade cancelled", func(p *products.Product, at time.Time) bool { return p.TradeCancelled(at) },
			func(p *products.Product, at time.Time) bool {
				if p.Status != products.InTrade {
					return false
				}
				p.Status, p.BuyerID = reopened(p, at), nil
				return true
			}},
		{"trade failed", func(p *products.Product, at time.Time) bool { return p.TradeFailed(reason, at) },
			func(p *products.Product, at time.Time) bool {
				p.FailureReason, p.FailedAt = reason, &at
				if p.Status == products.InTrade {
					p.Status, p.BuyerID = reopened(p, at), nil
				}
				return true
			}},
		{"deal failed", func(p *products.Product, at time.Time) bool { return p.DealFailed(reason, at) },
			func(p *products.Product, at time.Time) bool {
				p.FailureReason, p.FailedAt = reason, &at
				if p.Status == products.PendingReservation || p.Status == products.Reserving {
					p.Status, p.BuyerID = products.Failed, nil
				}
				return true
			}},
	}
	windows := []struct {
		name       string
		start, end time.Time
	}{
		{"window open", now.Add(-30 * time.Minute), now.Add(30 * time.Minute)},
		{"window closed", now.Add(-2 * time.Hour), now.Add(-time.Hour)},
	}
	for _, tt := range table {
		for _, status := range allStatuses {
			for _, w := range windows {
				t.Run(fmt.Sprintf("%s/%s/%s", tt.name, status, w.name), func(t *testing.T) {
					t.Parallel()
					seed := seedFor(now, status)
					seed.StartTime, seed.EndTime = w.start, w.end
					f.insert(t, seed)
					before := f.read(t, seed.ID)
					changed, err := f.follow(t, seed.ID, func(p *products.Product) bool { return tt.apply(p, now) })
					want := before
					applies := tt.want(&want, now)
					want.ModifiedAt = now
					checkFollowed(t, f, before, changed, err, applies, want, "")
				})
			}
		}
	}
}

// isFaultCode tells a fault code (P005, C001) from an outcome name (lower case).
func isFaultCode(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

// reopened is the state a deal taken back from its trade returns to at at.
func reopened(p *products.Product, at time.Time) products.Status {
	switch {
	case at.Before(p.StartTime):
		return products.PendingReservation
	case at.Before(p.EndTime):
		return products.Reserving
	}
	return products.Expired
}

// Cancel follows the clock like every other rule a client sees: a deal whose window closed
// with no buyer has ended (EXPIRED) whether or not the products-tick has tidied its
// column, so it cannot be cancelled, only removed; one whose buyer still holds the
// reservation is still RESERVING and can be.
func TestCancelFollowsTheClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := refNow()
	ops := opsByName()
	table := []struct {
		name       string
		stored     products.Status
		start, end time.Time
		buyer      bool
		cancel     string
		remove     string
	}{
		{"pending, window open, not ticked", products.PendingReservation, now.Add(-10 * time.Minute), now.Add(50 * time.Minute), false, cancelled, withdrawn},
		{"pending, window closed, not ticked", products.PendingReservation, now.Add(-2 * time.Hour), now.Add(-time.Hour), false, "P005", hidden},
		{"reserving, window closed, not ticked", products.Reserving, now.Add(-time.Hour), now.Add(-time.Minute), false, "P005", hidden},
		{"reserving, closes exactly now, not ticked", products.Reserving, now.Add(-time.Hour), now, false, "P005", hidden},
		{"reserving, closes in 1µs", products.Reserving, now.Add(-time.Hour), now.Add(time.Microsecond), false, cancelled, withdrawn},
		{"reserving with a buyer, window closed", products.Reserving, now.Add(-time.Hour), now.Add(-time.Minute), true, cancelled, withdrawn},
	}
	for _, tt := range table {
		for _, c := range []struct{ op, want string }{{"cancel", tt.cancel}, {"remove", tt.remove}} {
			t.Run(tt.name+"/"+c.op, func(t *testing.T) {
				t.Parallel()
				seed := seedFor(now, tt.stored)
				seed.StartTime, seed.EndTime, seed.BuyerID = tt.start, tt.end, nil
				if tt.buyer {
					seed.BuyerID = ptr(uuid.New())
				}
				f.tryChange(t, seed, ops[c.op], owner(seed), now, c.want)
			})
		}
	}
}

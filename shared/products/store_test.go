package products_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

// Create writes the row and, in the same transaction, exactly one product-created event
// with everything the reservation domain copies.
func TestStoreCreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := refNow()
	seller := uuid.New()
	p, err := products.New(validDraft(now), seller, "camera-seller", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	stored := f.read(t, p.ID)
	if describe(stored) != describe(p) {
		t.Errorf("row:\n got %s\nwant %s", describe(stored), describe(p))
	}
	var createdBy uuid.UUID
	if err := f.db.QueryRow(ctx, `SELECT created_by FROM products.products WHERE id = $1`, p.ID).Scan(&createdBy); err != nil || createdBy != seller {
		t.Errorf("created_by = %s (%v), want %s", createdBy, err, seller)
	}
	evs := f.outbox(t, p.ID)
	if len(evs) != 1 || f.count(t, `SELECT count(*) FROM messaging.outbox`) != 1 {
		t.Fatalf("outbox = %+v, want one product-created", evs)
	}
	e := evs[0]
	if e.Topic != events.ProductCreated || e.Source != events.SourceProducts || e.AggregateID != p.ID.String() {
		t.Errorf("event = %s/%s/%s", e.Topic, e.Source, e.AggregateID)
	}
	if e.Payload["productId"] != p.ID.String() || e.Payload["name"] != "Vintage camera" || payloadNumber(e, "price") != 120000 ||
		e.Payload["sellerId"] != seller.String() || e.Payload["sellerNickname"] != "camera-seller" ||
		!payloadTime(t, e, "startTime").Equal(p.StartTime) || !payloadTime(t, e, "endTime").Equal(p.EndTime) {
		t.Errorf("payload = %v", e.Payload)
	}

	// The same id again: nothing more is written.
	if err := f.store.Create(ctx, p); err == nil {
		t.Error("second Create with the same id succeeded")
	}
	if n := f.count(t, `SELECT count(*) FROM messaging.outbox`); n != 1 {
		t.Errorf("outbox rows after a failed Create = %d, want 1", n)
	}
}

// Update writes nothing when the change fails, even a change that had already modified
// the product in memory before failing.
func TestStoreUpdateFailureWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := refNow()
	seed := seedFor(now, products.PendingReservation)
	f.insert(t, seed)
	before := f.read(t, seed.ID)
	owner := identity(seed.SellerID, auth.RoleUser, seed.SellerNickname)
	changes := []struct {
		name   string
		change func(p *products.Product) error
		want   error
	}{
		{"valid name then bad price", func(p *products.Product) error {
			return p.Update(products.Change{Name: ptr("Renamed"), Price: ptr(int64(0))}, owner, now)
		}, products.ErrPrice},
		{"mutated then refused by the caller's function", func(p *products.Product) error {
			p.Name, p.Status = "Mutated", products.Completed
			return errChangeRefused
		}, errChangeRefused},
		{"a valid change, then a failure", func(p *products.Product) error {
			if err := p.Update(products.Change{Name: ptr("Renamed")}, owner, now); err != nil {
				return err
			}
			return errChangeRefused
		}, errChangeRefused},
		{"not the owner", func(p *products.Product) error {
			return p.Cancel(identity(uuid.New(), auth.RoleUser, seed.SellerNickname), now, true)
		}, products.ErrForbidden},
	}
	for _, c := range changes {
		_, err := f.store.Update(ctx, seed.ID, c.change)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if got := f.read(t, seed.ID); describe(got) != describe(before) {
			t.Errorf("%s changed the row:\n got %s\nwant %s", c.name, describe(got), describe(before))
		}
		if evs := f.outbox(t, seed.ID); len(evs) != 0 {
			t.Errorf("%s wrote events: %+v", c.name, evs)
		}
	}
}

// A deleted or unknown product is ErrNotFound for Get, Update and UpdateTx, and the
// change is never called.
func TestStoreDeletedIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := refNow()
	deleted := seedFor(now, products.Expired)
	deleted.DeletedAt, deleted.DeletedBy = ptr(now.Add(-time.Minute)), ptr(deleted.SellerID)
	f.insert(t, deleted)
	before := f.read(t, deleted.ID)
	for name, id := range map[string]uuid.UUID{"deleted": deleted.ID, "unknown": uuid.New()} {
		if _, err := f.store.Get(ctx, id); !errors.Is(err, products.ErrNotFound) || code(err) != "P001" {
			t.Errorf("Get %s: %v, want P001", name, err)
		}
		called := false
		if _, err := f.store.Update(ctx, id, func(*products.Product) error { called = true; return nil }); !errors.Is(err, products.ErrNotFound) {
			t.Errorf("Update %s: %v, want P001", name, err)
		}
		err := f.inTx(t, func(tx pgx.Tx) error {
			_, err := products.UpdateTx(ctx, tx, id, func(*products.Product) (bool, error) { called = true; return true, nil })
			return err
		})
		if !errors.Is(err, products.ErrNotFound) {
			t.Errorf("UpdateTx %s: %v, want P001", name, err)
		}
		if called {
			t.Errorf("the change was called for a %s product", name)
		}
	}
	if got := f.read(t, deleted.ID); describe(got) != describe(before) {
		t.Errorf("deleted row changed: %s", describe(got))
	}
	if n := f.count(t, `SELECT count(*) FROM messaging.outbox`); n != 0 {
		t.Errorf("outbox rows = %d", n)
	}
}

// Tick moves what the clock has overtaken, one product-updated per move, and nothing
// else; a second run moves nothing.
func TestStoreTick(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := refNow()
	type seed struct {
		name       string
		status     products.Status
		start, end time.Time
		buyer      bool
		deleted    bool
		want       products.Status
		moves      []products.Status // the statuses of the product-updated events, in order
	}
	seeds := []seed{
		{"pending, window opened", products.PendingReservation, now.Add(-time.Minute), now.Add(time.Hour), false, false,
			products.Reserving, []products.Status{products.Reserving}},
		{"pending, opens exactly now", products.PendingReservation, now, now.Add(time.Hour), false, false,
			products.Reserving, []products.Status{products.Reserving}},
		{"pending, opens in 1µs", products.PendingReservation, now.Add(time.Microsecond), now.Add(time.Hour), false, false,
			products.PendingReservation, nil},
		{"reserving, window closed", products.Reserving, now.Add(-time.Hour), now.Add(-time.Minute), false, false,
			products.Expired, []products.Status{products.Expired}},
		{"reserving, closes exactly now", products.Reserving, now.Add(-time.Hour), now, false, false,
			products.Expired, []products.Status{products.Expired}},
		{"reserving, closes in 1µs", products.Reserving, now.Add(-time.Hour), now.Add(time.Microsecond), false, false,
			products.Reserving, nil},
		{"reserving with a buyer, window closed", products.Reserving, now.Add(-time.Hour), now.Add(-time.Minute), true, false,
			products.Reserving, nil},
		// Never ticked while open: opened, then expired, each move announced.
		{"pending, window opened and closed", products.PendingReservation, now.Add(-2 * time.Hour), now.Add(-time.Hour), false, false,
			products.Expired, []products.Status{products.Reserving, products.Expired}},
		{"pending with a buyer, window opened and closed", products.PendingReservation, now.Add(-2 * time.Hour), now.Add(-time.Hour), true, false,
			products.Reserving, []products.Status{products.Reserving}},
		{"deleted pending, window opened", products.PendingReservation, now.Add(-time.Minute), now.Add(time.Hour), false, true,
			products.PendingReservation, nil},
		{"deleted reserving, window closed", products.Reserving, now.Add(-time.Hour), now.Add(-time.Minute), false, true,
			products.Reserving, nil},
		{"in trade, window closed", products.InTrade, now.Add(-time.Hour), now.Add(-time.Minute), true, false, products.InTrade, nil},
		{"completed, window closed", products.Completed, now.Add(-time.Hour), now.Add(-time.Minute), false, false, products.Completed, nil},
		{"cancelled, window open", products.SaleCanceled, now.Add(-time.Minute), now.Add(time.Hour), false, false, products.SaleCanceled, nil},
		{"failed, window closed", products.Failed, now.Add(-time.Hour), now.Add(-time.Minute), false, false, products.Failed, nil},
		{"expired", products.Expired, now.Add(-time.Hour), now.Add(-time.Minute), false, false, products.Expired, nil},
	}
	ids := make([]uuid.UUID, len(seeds))
	befores := make([]products.Product, len(seeds))
	var wantOpened, wantExpired int
	for i, s := range seeds {
		p := seedFor(now, s.status)
		p.StartTime, p.EndTime, p.BuyerID = s.start, s.end, nil
		if s.buyer {
			p.BuyerID = ptr(uuid.New())
		}
		if s.deleted {
			p.DeletedAt, p.DeletedBy = ptr(now.Add(-time.Second)), ptr(p.SellerID)
		}
		f.insert(t, p)
		ids[i], befores[i] = p.ID, f.read(t, p.ID)
		for _, m := range s.moves {
			if m == products.Reserving {
				wantOpened++
			} else {
				wantExpired++
			}
		}
	}
	// A batch of 2 makes each sweep take several transactions.
	res, err := f.store.Tick(ctx, now, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != wantOpened || res.Expired != wantExpired {
		t.Errorf("Tick = %+v, want opened %d, expired %d", res, wantOpened, wantExpired)
	}
	for i, s := range seeds {
		got := f.read(t, ids[i])
		want := befores[i]
		want.Status = s.want
		if len(s.moves) > 0 {
			want.ModifiedAt = now
		}
		if describe(got) != describe(want) {
			t.Errorf("%s:\n got %s\nwant %s", s.name, describe(got), describe(want))
		}
		evs := f.outbox(t, ids[i])
		if len(evs) != len(s.moves) {
			t.Errorf("%s: events %+v, want %v", s.name, evs, s.moves)
			continue
		}
		for j, e := range evs {
			if e.Topic != events.ProductUpdated || e.Payload["status"] != string(s.moves[j]) ||
				e.Payload["productId"] != ids[i].String() || !payloadTime(t, e, "endTime").Equal(s.end) {
				t.Errorf("%s: event %d = %s %v, want product-updated %s", s.name, j, e.Topic, e.Payload, s.moves[j])
			}
		}
	}
	total := f.count(t, `SELECT count(*) FROM messaging.outbox`)
	if total != wantOpened+wantExpired {
		t.Errorf("outbox rows = %d, want %d", total, wantOpened+wantExpired)
	}

	// Again at the same instant: nothing is left to move.
	if res, err := f.store.Tick(ctx, now, 2); err != nil || res != (products.TickResult{}) {
		t.Errorf("second Tick = %+v, %v; want nothing moved", res, err)
	}
	if n := f.count(t, `SELECT count(*) FROM messaging.outbox`); n != total {
		t.Errorf("second Tick wrote %d events", n-total)
	}
}

// Four ticks released at once over 300 due products move each product exactly once.
func TestStoreTickConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := refNow()
	const due, notDue, tickers = 300, 20, 4
	// Due: opened in the last 300 seconds; not due: opening within the next hour.
	if _, err := f.db.Exec(ctx, `
		INSERT INTO products.products
		  (id, seller_id, seller_nickname, name, description, price, status, start_time, end_time,
		   created_at, created_by, modified_at, modified_by)
		SELECT gen_random_uuid(), s, 'seller', 'Item ' || i, '', 100 + i, 'PENDING_RESERVATION',
		       st, st + interval '1 hour', $1 - interval '1 day', s, $1 - interval '1 day', s
		  FROM generate_series(1, $2::int + $3::int) AS i,
		       LATERAL (SELECT gen_random_uuid() AS s,
		                       CASE WHEN i <= $2::int THEN $1::timestamptz - i * interval '1 second'
		                            ELSE $1::timestamptz + (i - $2::int) * interval '1 minute' END AS st) AS x`,
		now, due, notDue); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	results := make([]products.TickResult, tickers)
	errs := make([]error, tickers)
	var wg sync.WaitGroup
	for i := range tickers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			results[i], errs[i] = f.store.Tick(ctx, now, 25)
		}()
	}
	close(release)
	wg.Wait()
	opened, expired := 0, 0
	for i := range tickers {
		if errs[i] != nil {
			t.Errorf("ticker %d: %v", i, errs[i])
		}
		opened += results[i].Opened
		expired += results[i].Expired
	}
	t.Logf("results: %+v", results)
	if opened != due || expired != 0 {
		t.Errorf("opened %d, expired %d in all; want %d, 0", opened, expired, due)
	}
	var updates, distinct, reserving, pending int
	if err := f.db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM messaging.outbox WHERE topic = 'product-updated'),
		       (SELECT count(DISTINCT aggregate_id) FROM messaging.outbox),
		       (SELECT count(*) FROM products.products WHERE status = 'RESERVING' AND start_time <= $1),
		       (SELECT count(*) FROM products.products WHERE status = 'PENDING_RESERVATION' AND start_time > $1)`, now).
		Scan(&updates, &distinct, &reserving, &pending); err != nil {
		t.Fatal(err)
	}
	if updates != due || distinct != due || reserving != due || pending != notDue {
		t.Errorf("%d product-updated rows about %d products, %d RESERVING, %d PENDING; want %d, %d, %d, %d",
			updates, distinct, reserving, pending, due, due, due, notDue)
	}
	if n := f.count(t, `SELECT count(*) FROM messaging.outbox`); n != due {
		t.Errorf("outbox rows = %d, want %d", n, due)
	}
}

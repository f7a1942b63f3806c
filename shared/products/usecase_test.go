package products_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testfactory"
)

// freezeCase is a product in the state opts leaves it in (relative to now), and the
// answer to its seller's change: "" (made) or the refusal's code.
type freezeCase struct {
	name string
	opts func(now time.Time) testfactory.ProductOpts
	code string // "frozen": the change's own code for the last minute and after
}

func inWindow(start, end time.Duration) func(time.Time) testfactory.ProductOpts {
	return func(now time.Time) testfactory.ProductOpts {
		return testfactory.ProductOpts{StartTime: now.Add(start), EndTime: now.Add(end)}
	}
}

// beforeFreeze is the table of a change allowed only while the deal is
// PENDING_RESERVATION and until products.ChangeFreeze before it opens: inside the last
// minute, once the window has opened or closed (the tick not run yet) it is refused as
// frozen; in any other stored state with P005; a deleted product is not found.
func beforeFreeze() []freezeCase {
	cases := []freezeCase{
		{"pending, opens in an hour", inWindow(time.Hour, 2*time.Hour), ""},
		{"pending, opens in a minute and 10 seconds", inWindow(time.Minute+10*time.Second, time.Hour), ""},
		{"pending, opens in 50 seconds (inside the last minute)", inWindow(50*time.Second, time.Hour), "frozen"},
		{"pending, opens in a second", inWindow(time.Second, time.Hour), "frozen"},
		{"window open, tick not run yet", inWindow(-time.Minute, time.Hour), "frozen"},
		{"window closed, tick not run yet", inWindow(-2*time.Hour, -time.Hour), "frozen"},
		{"deleted", func(time.Time) testfactory.ProductOpts { return testfactory.ProductOpts{Deleted: true} }, "P001"},
	}
	for _, s := range []products.Status{products.Reserving, products.InTrade, products.Completed, products.SaleCanceled, products.Expired, products.Failed} {
		cases = append(cases, freezeCase{"stored " + string(s), func(time.Time) testfactory.ProductOpts { return testfactory.ProductOpts{Status: s} }, "P005"})
	}
	return cases
}

// Information changes (Store.Edit) and window moves (Store.Reschedule) by the seller, in
// every state: made, the product and its product-updated event carry the change and the
// seller is recorded as making it; refused, with its code, nothing is written, neither
// the row nor an event. The functions' tests check the same over HTTP for one product.
func TestChangesBeforeFreeze(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		ctx     context.Context
		db      *pgxpool.Pool
		f       *fixture
		product products.Product
		seller  auth.Identity
	}
	db := testenv.DB(t) // one database; each case has its own product
	setup := func(t *testing.T, c freezeCase) *testBundle {
		t.Helper()
		ctx := context.Background()
		opts := c.opts(time.Now())
		opts.SellerID = uuid.New()
		return &testBundle{
			ctx: ctx, db: db, f: &fixture{db: db, store: products.NewStore(db)},
			product: testfactory.Product(ctx, t, db, &opts),
			seller:  identity(opts.SellerID, auth.RoleUser, "seller"),
		}
	}

	changes := []struct {
		name   string
		frozen string
		do     func(b *testBundle) (products.View, error)
		made   func(t *testing.T, b *testBundle, v products.View, row products.Product, e events.ProductUpdatedData)
	}{
		{
			name: "edit", frozen: "P005",
			do: func(b *testBundle) (products.View, error) {
				return b.f.store.Edit(b.ctx, b.product.ID, products.Change{Name: ptr("Too late?"), Price: ptr(int64(777))}, b.seller)
			},
			made: func(t *testing.T, b *testBundle, v products.View, row products.Product, e events.ProductUpdatedData) {
				if v.Name != "Too late?" || v.Price != 777 || row.Name != v.Name || row.Price != v.Price || e.Name != v.Name || e.Price != v.Price {
					t.Errorf("answer %+v, row %s, event %+v: want name and price changed", v, describe(row), e)
				}
			},
		},
		{
			name: "reschedule", frozen: "P006",
			do: func(b *testBundle) (products.View, error) {
				start := time.Now().Add(2 * time.Hour)
				return b.f.store.Reschedule(b.ctx, b.product.ID, products.Schedule{StartTime: &start, EndTime: ptr(start.Add(45 * time.Minute))}, b.seller)
			},
			made: func(t *testing.T, b *testBundle, v products.View, row products.Product, e events.ProductUpdatedData) {
				if v.EndTime.Sub(v.StartTime) != 45*time.Minute || !row.StartTime.Equal(v.StartTime) || !row.EndTime.Equal(v.EndTime) ||
					!e.StartTime.Equal(v.StartTime) || !e.EndTime.Equal(v.EndTime) {
					t.Errorf("answer %+v, row %s, event %+v: want the new 45-minute window", v, describe(row), e)
				}
			},
		},
	}
	for _, ch := range changes {
		for _, c := range beforeFreeze() {
			t.Run(ch.name+": "+c.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, c)
				before := b.f.read(t, b.product.ID)
				v, err := ch.do(b)
				row := b.f.read(t, b.product.ID)
				updated := eventtest.Events[events.ProductUpdatedData](t, b.db, b.product.ID, events.ProductUpdated)
				if c.code == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if len(updated) != 1 {
						t.Fatalf("%d product-updated events, want 1", len(updated))
					}
					e := updated[0]
					if v.ProductID != b.product.ID || v.Status != products.PendingReservation || row.ModifiedBy != b.seller.UserID ||
						e.ProductID != b.product.ID || e.Status != string(products.PendingReservation) {
						t.Errorf("answer %+v, row %s, event %+v: want the seller's change of a pending deal", v, describe(row), e)
					}
					ch.made(t, b, v, row, e)
					return
				}
				want := c.code
				if want == "frozen" {
					want = ch.frozen
				}
				if code(err) != want {
					t.Fatalf("error %v (code %q), want %s", err, code(err), want)
				}
				if want == "P001" && !errors.Is(err, products.ErrNotFound) {
					t.Errorf("error %v, want ErrNotFound", err)
				}
				if describe(row) != describe(before) || len(updated) != 0 {
					t.Errorf("a refused change wrote: %d events,\nbefore %s\nafter  %s", len(updated), describe(before), describe(row))
				}
			})
		}
	}
}

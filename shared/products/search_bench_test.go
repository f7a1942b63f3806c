package products_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/testenv"
)

// benchSearchRows is the catalogue size the search target is stated for.
const benchSearchRows = 100_000

// BenchmarkSearch runs a mix of realistic searches over 100,000 products and reports the
// latency of one search at the database (p50, p99) per mix, against the target p99 < 20 ms.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	sellers := make([]uuid.UUID, 50)
	for i := range sellers {
		sellers[i] = uuid.New()
	}
	// Windows spread from two days ago to eight days ahead; a tenth sold or cancelled;
	// names from a small vocabulary so text filters match thousands of rows.
	_, err := db.Exec(ctx, `
		INSERT INTO products.products
		  (id, seller_id, seller_nickname, name, description, price, status, start_time, end_time,
		   created_at, created_by, modified_at, modified_by, deleted_at)
		SELECT gen_random_uuid(), s, 'seller', n || ' ' || i, 'condition ' || (i % 7) || ' ' || n, 1000 + (i * 7919) % 500000,
		       CASE WHEN i % 10 = 0 THEN 'COMPLETED' WHEN i % 10 = 1 THEN 'SALE_CANCELED' ELSE 'PENDING_RESERVATION' END,
		       st, st + interval '30 minutes' + (i % 5) * interval '1 hour',
		       now() - (i % 1000) * interval '1 minute', s, now(), s,
		       CASE WHEN i % 97 = 0 THEN now() END
		  FROM generate_series(1, $1) AS i,
		       LATERAL (SELECT ($2::uuid[])[1 + i % 50] AS s,
		                       (ARRAY['camera','bicycle','lamp','guitar','sofa','jacket','watch','kettle'])[1 + i % 8] AS n,
		                       now() - interval '2 days' + (i % 14400) * interval '1 minute' AS st) AS x`,
		benchSearchRows, sellers)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	if _, err := db.Exec(ctx, `ANALYZE products.products`); err != nil {
		b.Fatal(err)
	}
	store := products.NewStore(db)
	seller := sellers[3]
	mixes := []struct {
		name string
		q    products.Query
	}{
		{"newest", products.Query{Sort: products.SortNewest}},
		{"open now by start", products.Query{OpenNow: true, Sort: products.SortStart}},
		{"text", products.Query{Text: "guitar", Sort: products.SortNewest}},
		{"text rare + price", products.Query{Text: "kettle 4711", MinPrice: 1000, Sort: products.SortPrice}},
		{"price range by price", products.Query{MinPrice: 10_000, MaxPrice: 20_000, Sort: products.SortPrice}},
		{"status reserving, dearest", products.Query{Status: products.Reserving, Sort: products.SortPriceD}},
		{"status expired", products.Query{Status: products.Expired, Sort: products.SortNewest}},
		{"starting within 2h", products.Query{StartingWithin: 2 * time.Hour, Sort: products.SortStart}},
		{"seller + text", products.Query{SellerID: &seller, Text: "lamp", Sort: products.SortNewest}},
	}
	for _, m := range mixes {
		b.Run(m.name, func(b *testing.B) {
			// First page and the page after it, as a client pages.
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				p, err := store.Search(ctx, m.q, time.Now(), 20, "")
				if err != nil {
					b.Fatal(err)
				}
				if p.NextCursor != "" {
					if _, err := store.Search(ctx, m.q, time.Now(), 20, p.NextCursor); err != nil {
						b.Fatal(err)
					}
				}
				lat = append(lat, time.Since(start)/2)
			}
			slices.Sort(lat)
			ms := func(q float64) float64 {
				return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

package products

import (
	"context"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/page"
)

// The use cases the products functions call, one each: the adapter hands over the caller,
// the path's id, the decoded body or the query; the rules are the Product's, the
// transaction the Store's, and the clock is read here, once per request.

// Add lists the product d describes, sold by who, with its product-created event.
func (s *Store) Add(ctx context.Context, d Draft, who auth.Identity) (View, error) {
	now := time.Now()
	p, err := New(d, who.UserID, who.Nickname, now)
	if err != nil {
		return View{}, err
	}
	if err := s.Create(ctx, p); err != nil {
		return View{}, err
	}
	return p.View(now), nil
}

// Show is the live product id as seen now.
func (s *Store) Show(ctx context.Context, id uuid.UUID) (View, error) {
	now := time.Now()
	p, err := s.Get(ctx, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, p, now)
}

// view is p as seen at now, with its photos.
func (s *Store) view(ctx context.Context, p Product, now time.Time) (View, error) {
	v := p.View(now)
	var err error
	v.Photos, err = shownPhotos(ctx, s.db, p.ID)
	return v, err
}

// Edit applies who's information change to product id (Product.Update).
func (s *Store) Edit(ctx context.Context, id uuid.UUID, c Change, who auth.Identity) (View, error) {
	now := time.Now()
	return s.change(ctx, id, now, func(p *Product) error { return p.Update(c, who, now) })
}

// Reschedule moves product id's window on who's request (Product.Reschedule).
func (s *Store) Reschedule(ctx context.Context, id uuid.UUID, sch Schedule, who auth.Identity) (View, error) {
	now := time.Now()
	return s.change(ctx, id, now, func(p *Product) error { return p.Reschedule(sch, who, now) })
}

// Cancel ends product id's sale on who's request (Product.Cancel).
func (s *Store) Cancel(ctx context.Context, id uuid.UUID, who auth.Identity) (View, error) {
	now := time.Now()
	return s.change(ctx, id, now, func(p *Product) error { return p.Cancel(who, now, false) })
}

// Removal is the answer to a removed listing.
type Removal struct {
	ProductID string    `json:"productId"`
	DeletedAt time.Time `json:"deletedAt"`
	DeletedBy string    `json:"deletedBy"`
}

// Remove deletes product id's listing on who's request, cancelling a sale not yet in a
// trade (Product.Cancel with remove). Its photos go with it: their rows now, their
// objects with the next photo sweep.
func (s *Store) Remove(ctx context.Context, id uuid.UUID, who auth.Identity) (Removal, error) {
	now := time.Now()
	var p Product
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		if p, err = UpdateTx(ctx, tx, id, func(p *Product) (bool, error) { return true, p.Cancel(who, now, true) }); err != nil {
			return err
		}
		_, err = dropPhotos(ctx, tx, `product_id = $1`, id)
		return err
	})
	if err != nil {
		return Removal{}, err
	}
	return Removal{ProductID: p.ID.String(), DeletedAt: p.DeletedAt.UTC(), DeletedBy: p.DeletedBy.String()}, nil
}

func (s *Store) change(ctx context.Context, id uuid.UUID, now time.Time, fn func(p *Product) error) (View, error) {
	p, err := s.Update(ctx, id, fn)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, p, now)
}

// Listing is one page of a search's items.
type Listing = page.Page[Item]

// A search's page: DefaultPageSize items unless size asks for 1 to MaxPageSize.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Browse is the search the query parameters ask for (ParseQuery, size, cursor), now.
func (s *Store) Browse(ctx context.Context, params url.Values) (Listing, error) {
	return s.browse(ctx, params, nil, time.Now())
}

// Mine is Browse over seller's own products, whatever sellerId the parameters name.
func (s *Store) Mine(ctx context.Context, seller uuid.UUID, params url.Values) (Listing, error) {
	return s.browse(ctx, params, &seller, time.Now())
}

func (s *Store) browse(ctx context.Context, params url.Values, seller *uuid.UUID, now time.Time) (Listing, error) {
	q, err := ParseQuery(params)
	if err != nil {
		return Listing{}, err
	}
	if seller != nil {
		q.SellerID = seller
	}
	size, err := page.Size(params, DefaultPageSize, MaxPageSize)
	if err != nil {
		return Listing{}, err
	}
	return s.Search(ctx, q, now, size, params.Get("cursor"))
}

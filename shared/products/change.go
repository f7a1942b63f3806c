package products

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
)

// ChangeHandler is the adapter every product change function is: it reads the caller,
// the path's product id and, when withBody, the JSON body as Req; runs change on the
// product under its row lock (the change and its events commit together); and answers
// answer's view of the result.
func ChangeHandler[Req any](kit *platform.Kit, withBody bool,
	change func(p *Product, req Req, who auth.Identity, now time.Time) error,
	answer func(p Product, now time.Time) any) http.Handler {
	store := NewStore(kit.DB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, ErrUnauthenticated)
			return
		}
		id, err := ParseID(r.PathValue("productId"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		var req Req
		if withBody {
			if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
				api.Fail(w, r, err)
				return
			}
		}
		now := time.Now()
		p, err := store.Update(r.Context(), id, func(p *Product) error { return change(p, req, who, now) })
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, answer(p, now))
	})
}

// ViewOf answers a change with the product's view.
func ViewOf(p Product, now time.Time) any { return p.View(now) }

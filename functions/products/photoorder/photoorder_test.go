package photoorder_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

// ordering is PATCH /api/v1/products/{id}/photos on a product without photos: the empty
// order is the one that names each of them.
func ordering() producttest.Change {
	return producttest.Change{
		Method: http.MethodPatch, Path: producttest.PhotosPath, Malformed: "/api/v1/products/not-a-uuid/photos",
		Request: func() (any, producttest.Made) {
			return map[string]any{"order": []string{}}, func(t testing.TB, res stacktest.Response, _ products.View, _ uuid.UUID) {
				t.Helper()
				if res.Status != http.StatusOK {
					t.Fatalf("order: status %d: %s", res.Status, res.Body)
				}
			}
		},
	}
}

func TestPhotoOrderOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	who := producttest.NewParties(t, st)
	producttest.OwnerOrAdmin(t, st, who, ordering())
	producttest.StateRules(t, st, who, ordering(), []producttest.Case{
		{Name: "opening within the minute", Setup: producttest.Window(30*time.Second, time.Hour), Status: 409, Code: "P005"},
		{Name: "open", Setup: producttest.StoredIn(products.Reserving, -time.Minute, time.Hour), Status: 409, Code: "P005"},
	})
}

// The order must name every photo not rejected, once each; it then is the order shown.
func TestPhotoOrder(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, token)
	var ids []uuid.UUID
	for range 3 {
		ids = append(ids, producttest.Slot(t, st, token, p.ProductID, "image/jpeg").PhotoID)
	}
	other := producttest.Slot(t, st, token, producttest.List(t, st, token).ProductID, "image/jpeg").PhotoID
	for _, tt := range []struct {
		name  string
		order []uuid.UUID
	}{
		{"one missing", ids[:2]},
		{"one twice", []uuid.UUID{ids[0], ids[1], ids[1]}},
		{"one more", append([]uuid.UUID{uuid.New()}, ids...)},
		{"another product's photo", []uuid.UUID{ids[0], ids[1], other}},
		{"none", nil},
	} {
		res := st.Do(t, http.MethodPatch, producttest.PhotosPath(p.ProductID), map[string]any{"order": tt.order}, token)
		res.RefusedOn(t, 400, "P016", "order")
	}
	want := []uuid.UUID{ids[2], ids[0], ids[1]}
	res := st.Do(t, http.MethodPatch, producttest.PhotosPath(p.ProductID), map[string]any{"order": want}, token)
	if res.Status != http.StatusOK {
		t.Fatalf("reorder: %d %s", res.Status, res.Body)
	}
	for i, s := range producttest.Photos(t, st, token, p.ProductID) {
		if s.PhotoID != want[i] || s.Position == nil || *s.Position != i+1 {
			t.Errorf("photo %d = %s at %v, want %s at %d", i, s.PhotoID, s.Position, want[i], i+1)
		}
	}
}

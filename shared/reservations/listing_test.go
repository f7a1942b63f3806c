package reservations_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/reservations"
)

// A Listing is encoded as the one it holds, key for key: clients decode a page or a
// Summary as they always have.
func TestListingJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	sum := reservations.Summary{ReservationID: uuid.New(), ProductID: uuid.New(), Status: reservations.Available,
		StartTime: at, EndTime: at.Add(time.Hour)}
	empty := page.Of[reservations.Item](nil, 20, nil)
	full := page.Page[reservations.Item]{Content: []reservations.Item{{ReservationID: uuid.New(), CreatedAt: at}},
		Size: 1, NextCursor: "c", HasNext: true}
	for _, tc := range []struct {
		name string
		l    reservations.Listing
		want any
	}{
		{"summary", reservations.Listing{Summary: &sum}, sum},
		{"empty page", reservations.Listing{Page: &empty}, empty},
		{"page", reservations.Listing{Page: &full}, full},
	} {
		got, err := json.Marshal(tc.l)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: %s, want %s", tc.name, got, want)
		}
	}
}

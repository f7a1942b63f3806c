package products_test

import (
	"testing"
	"time"

	"github.com/8949market/market/shared/products"
)

func TestEffectiveStatusFollowsTheClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	p := products.Product{Status: products.PendingReservation, StartTime: start, EndTime: start.Add(time.Hour)}
	tests := []struct {
		name   string
		stored products.Status
		at     time.Time
		want   products.Status
	}{
		{"1ms before start", products.PendingReservation, start.Add(-time.Millisecond), products.PendingReservation},
		{"at start", products.PendingReservation, start, products.Reserving},
		{"1ms after start, tick not run", products.PendingReservation, start.Add(time.Millisecond), products.Reserving},
		{"at end", products.Reserving, start.Add(time.Hour), products.Expired},
		{"after end, tick not run", products.PendingReservation, start.Add(2 * time.Hour), products.Expired},
		{"in trade stays", products.InTrade, start.Add(2 * time.Hour), products.InTrade},
		{"cancelled stays", products.SaleCanceled, start.Add(time.Minute), products.SaleCanceled},
		{"completed stays", products.Completed, start.Add(2 * time.Hour), products.Completed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := p
			q.Status = tt.stored
			if got := q.EffectiveStatus(tt.at); got != tt.want {
				t.Errorf("EffectiveStatus = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNewKeepsUTCAtDatabasePrecision(t *testing.T) {
	t.Parallel()
	now := time.Now()
	seoul := time.FixedZone("KST", 9*3600)
	start := now.Add(time.Hour).In(seoul).Add(123 * time.Nanosecond)
	end := start.Add(20 * time.Minute)
	name, price := "Desk", int64(1)
	p, err := products.New(products.Draft{Name: &name, Price: &price, StartTime: &start, EndTime: &end}, [16]byte{1}, "n", now)
	if err != nil {
		t.Fatal(err)
	}
	if p.StartTime.Location() != time.UTC || p.StartTime.Nanosecond()%1000 != 0 || !p.StartTime.Equal(start.Truncate(time.Microsecond)) {
		t.Errorf("StartTime = %v", p.StartTime)
	}
}

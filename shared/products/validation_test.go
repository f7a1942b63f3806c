package products_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/products"
)

// validDraft is a draft New accepts at now.
func validDraft(now time.Time) products.Draft {
	start := now.Add(time.Hour)
	return products.Draft{
		Name: ptr("Vintage camera"), Description: ptr("Works, with strap"), Price: ptr(int64(120000)),
		StartTime: ptr(start), EndTime: ptr(start.Add(30 * time.Minute)),
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	now := refNow()
	start := now.Add(time.Hour)
	tests := []struct {
		name   string
		edit   func(d *products.Draft)
		code   string // "" = accepted
		field  string
		verify func(t *testing.T, p products.Product)
	}{
		{"valid", func(*products.Draft) {}, "", "", nil},
		{"price 1", func(d *products.Draft) { d.Price = ptr(int64(1)) }, "", "", nil},
		{"price at the maximum", func(d *products.Draft) { d.Price = ptr(int64(products.MaxPrice)) }, "", "", nil},
		{"price missing", func(d *products.Draft) { d.Price = nil }, "P002", "price", nil},
		{"price zero", func(d *products.Draft) { d.Price = ptr(int64(0)) }, "P002", "price", nil},
		{"price negative", func(d *products.Draft) { d.Price = ptr(int64(-1)) }, "P002", "price", nil},
		{"price above the maximum", func(d *products.Draft) { d.Price = ptr(int64(products.MaxPrice + 1)) }, "P002", "price", nil},
		{"name missing", func(d *products.Draft) { d.Name = nil }, "P008", "name", nil},
		{"name empty", func(d *products.Draft) { d.Name = ptr("") }, "P008", "name", nil},
		{"name blank", func(d *products.Draft) { d.Name = ptr(" \t\n ") }, "P008", "name", nil},
		{"name 101 characters", func(d *products.Draft) { d.Name = ptr(strings.Repeat("a", 101)) }, "P008", "name", nil},
		{"name 101 runes", func(d *products.Draft) { d.Name = ptr(strings.Repeat("책", 101)) }, "P008", "name", nil},
		{"name 100 runes (300 bytes)", func(d *products.Draft) { d.Name = ptr(strings.Repeat("책", 100)) }, "", "", nil},
		{"name trimmed", func(d *products.Draft) { d.Name = ptr("  Camera  ") }, "", "", func(t *testing.T, p products.Product) {
			if p.Name != "Camera" {
				t.Errorf("Name = %q", p.Name)
			}
		}},
		{"name 100 runes once trimmed", func(d *products.Draft) { d.Name = ptr("  " + strings.Repeat("a", 100) + "  ") }, "", "", nil},
		{"description missing", func(d *products.Draft) { d.Description = nil }, "", "", func(t *testing.T, p products.Product) {
			if p.Description != "" {
				t.Errorf("Description = %q", p.Description)
			}
		}},
		{"description 2000 runes", func(d *products.Draft) { d.Description = ptr(strings.Repeat("설", 2000)) }, "", "", nil},
		{"description 2001 runes", func(d *products.Draft) { d.Description = ptr(strings.Repeat("d", 2001)) }, "P011", "description", nil},
		{"start missing", func(d *products.Draft) { d.StartTime = nil }, "P012", "startTime", nil},
		{"end missing", func(d *products.Draft) { d.EndTime = nil }, "P012", "endTime", nil},
		{"both missing", func(d *products.Draft) { d.StartTime, d.EndTime = nil, nil }, "P012", "startTime", nil},
		{"start now", func(d *products.Draft) { d.StartTime, d.EndTime = ptr(now), ptr(now.Add(time.Hour)) }, "P004", "startTime", nil},
		{"start in the past", func(d *products.Draft) {
			d.StartTime, d.EndTime = ptr(now.Add(-time.Minute)), ptr(now.Add(time.Hour))
		}, "P004", "startTime", nil},
		{"start 1µs ahead", func(d *products.Draft) {
			d.StartTime, d.EndTime = ptr(now.Add(time.Microsecond)), ptr(now.Add(time.Hour))
		}, "", "", nil},
		{"end equal to start", func(d *products.Draft) { d.EndTime = ptr(start) }, "P003", "endTime", nil},
		{"end before start", func(d *products.Draft) { d.EndTime = ptr(start.Add(-time.Hour)) }, "P003", "endTime", nil},
		{"window 15m - 1µs", func(d *products.Draft) { d.EndTime = ptr(start.Add(products.MinWindow - time.Microsecond)) }, "P007", "endTime", nil},
		{"window 1m", func(d *products.Draft) { d.EndTime = ptr(start.Add(time.Minute)) }, "P007", "endTime", nil},
		{"window exactly 15m", func(d *products.Draft) { d.EndTime = ptr(start.Add(products.MinWindow)) }, "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := validDraft(now)
			tt.edit(&d)
			seller := uuid.New()
			p, err := products.New(d, seller, "camera-seller", now)
			if code(err) != tt.code || field(err) != tt.field {
				t.Fatalf("New: err = %v (field %q), want %q on %q", err, field(err), tt.code, tt.field)
			}
			if tt.code != "" {
				return
			}
			if p.ID == uuid.Nil || p.SellerID != seller || p.SellerNickname != "camera-seller" || p.ModifiedBy != seller ||
				p.Status != products.PendingReservation || !p.CreatedAt.Equal(now) || !p.ModifiedAt.Equal(now) ||
				p.BuyerID != nil || p.DeletedAt != nil || p.ReservationVersion != 0 {
				t.Errorf("New = %s", describe(p))
			}
			if tt.verify != nil {
				tt.verify(t, p)
			}
		})
	}
}

// Times are kept in UTC at microsecond precision whatever zone and precision come in,
// and survive the database unchanged.
func TestTimesKeptInUTCMicroseconds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seoul := time.FixedZone("KST", 9*3600)
	now := time.Now().In(seoul) // nanoseconds and a zone on purpose
	start := now.Add(time.Hour).Add(789 * time.Nanosecond)
	end := start.Add(20 * time.Minute)
	d := validDraft(now)
	d.StartTime, d.EndTime = &start, &end
	p, err := products.New(d, uuid.New(), "n", now)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]time.Time{"start": p.StartTime, "end": p.EndTime, "created": p.CreatedAt, "modified": p.ModifiedAt} {
		if v.Location() != time.UTC || v.Nanosecond()%1000 != 0 {
			t.Errorf("%s = %v, want UTC to the microsecond", name, v)
		}
	}
	if !p.StartTime.Equal(start.Truncate(time.Microsecond)) || !p.EndTime.Equal(end.Truncate(time.Microsecond)) ||
		!p.CreatedAt.Equal(now.Truncate(time.Microsecond)) {
		t.Errorf("times moved: %s", describe(p))
	}
	if err := f.store.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if describe(got) != describe(p) {
		t.Errorf("round trip:\n got %s\nwant %s", describe(got), describe(p))
	}
	// A reschedule is kept the same way.
	at := now.Add(time.Second)
	ns, ne := now.Add(2*time.Hour+999*time.Nanosecond).In(seoul), now.Add(3*time.Hour+1*time.Nanosecond).In(seoul)
	owner := identity(p.SellerID, auth.RoleUser, "n")
	answer, err := f.store.Update(ctx, p.ID, func(p *products.Product) error {
		return p.Reschedule(products.Schedule{StartTime: &ns, EndTime: &ne}, owner, at)
	})
	if err != nil {
		t.Fatal(err)
	}
	if answer.StartTime.Location() != time.UTC || answer.EndTime.Location() != time.UTC || answer.ModifiedAt.Location() != time.UTC ||
		!answer.StartTime.Equal(ns.Truncate(time.Microsecond)) || !answer.EndTime.Equal(ne.Truncate(time.Microsecond)) ||
		!answer.ModifiedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("rescheduled = %s", describe(answer))
	}
	if stored := f.read(t, p.ID); describe(stored) != describe(answer) {
		t.Errorf("stored:\n got %s\nwant %s", describe(stored), describe(answer))
	}
}

func TestChangeValidation(t *testing.T) {
	t.Parallel()
	now := refNow()
	tests := []struct {
		name   string
		change products.Change
		code   string
		field  string
		check  func(p products.Product) bool
	}{
		{"name only", products.Change{Name: ptr(" Lamp ")}, "", "", func(p products.Product) bool { return p.Name == "Lamp" && p.Price == 12000 }},
		{"description cleared", products.Change{Description: ptr("")}, "", "", func(p products.Product) bool { return p.Description == "" }},
		{"price at the maximum", products.Change{Price: ptr(int64(products.MaxPrice))}, "", "", func(p products.Product) bool { return p.Price == products.MaxPrice }},
		{"nothing", products.Change{}, "C001", "", nil},
		{"price zero", products.Change{Price: ptr(int64(0))}, "P002", "price", nil},
		{"price negative", products.Change{Price: ptr(int64(-5))}, "P002", "price", nil},
		{"price above the maximum", products.Change{Price: ptr(int64(products.MaxPrice + 1))}, "P002", "price", nil},
		{"name blank", products.Change{Name: ptr("   ")}, "P008", "name", nil},
		{"name empty", products.Change{Name: ptr("")}, "P008", "name", nil},
		{"name 101 runes", products.Change{Name: ptr(strings.Repeat("n", 101))}, "P008", "name", nil},
		{"description 2001 runes", products.Change{Description: ptr(strings.Repeat("d", 2001))}, "P011", "description", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := baseProduct(now, products.PendingReservation)
			err := p.Update(tt.change, identity(p.SellerID, auth.RoleUser, p.SellerNickname), now)
			if code(err) != tt.code || field(err) != tt.field {
				t.Fatalf("Update: err = %v (field %q), want %q on %q", err, field(err), tt.code, tt.field)
			}
			if tt.check != nil && !tt.check(p) {
				t.Errorf("after Update: %s", describe(p))
			}
		})
	}
}

func TestScheduleValidation(t *testing.T) {
	t.Parallel()
	now := refNow()
	in := func(d time.Duration) *time.Time { return ptr(now.Add(d)) }
	tests := []struct {
		name  string
		s     products.Schedule
		code  string
		field string
	}{
		{"valid", products.Schedule{StartTime: in(2 * time.Hour), EndTime: in(3 * time.Hour)}, "", ""},
		{"window exactly 15m", products.Schedule{StartTime: in(2 * time.Hour), EndTime: in(2*time.Hour + products.MinWindow)}, "", ""},
		{"start missing", products.Schedule{EndTime: in(3 * time.Hour)}, "P012", "startTime"},
		{"end missing", products.Schedule{StartTime: in(2 * time.Hour)}, "P012", "endTime"},
		{"both missing", products.Schedule{}, "P012", "startTime"},
		{"start now", products.Schedule{StartTime: in(0), EndTime: in(time.Hour)}, "P004", "startTime"},
		{"start in the past", products.Schedule{StartTime: in(-time.Hour), EndTime: in(time.Hour)}, "P004", "startTime"},
		{"end equal to start", products.Schedule{StartTime: in(2 * time.Hour), EndTime: in(2 * time.Hour)}, "P003", "endTime"},
		{"end before start", products.Schedule{StartTime: in(2 * time.Hour), EndTime: in(time.Hour)}, "P003", "endTime"},
		{"window 15m - 1µs", products.Schedule{StartTime: in(2 * time.Hour), EndTime: in(2*time.Hour + products.MinWindow - time.Microsecond)}, "P007", "endTime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := baseProduct(now, products.PendingReservation)
			err := p.Reschedule(tt.s, identity(p.SellerID, auth.RoleUser, p.SellerNickname), now)
			if code(err) != tt.code || field(err) != tt.field {
				t.Fatalf("Reschedule: err = %v (field %q), want %q on %q", err, field(err), tt.code, tt.field)
			}
			if tt.code == "" && (!p.StartTime.Equal(*tt.s.StartTime) || !p.EndTime.Equal(*tt.s.EndTime)) {
				t.Errorf("window = %s..%s", p.StartTime, p.EndTime)
			}
		})
	}
}

// The view shows every time in UTC, whatever zone the product's times were read in (pgx
// reads timestamptz in the local zone).
func TestViewTimesInUTC(t *testing.T) {
	t.Parallel()
	seoul := time.FixedZone("KST", 9*3600)
	now := refNow().In(seoul)
	p := baseProduct(now, products.Failed)
	p.StartTime, p.EndTime = p.StartTime.In(seoul), p.EndTime.In(seoul)
	p.CreatedAt, p.ModifiedAt = p.CreatedAt.In(seoul), p.ModifiedAt.In(seoul)
	p.FailureReason, p.FailedAt = "queue unavailable", ptr(now.Add(-time.Minute))
	v := p.View(now)
	for name, at := range map[string]time.Time{
		"startTime": v.StartTime, "endTime": v.EndTime, "createdAt": v.CreatedAt, "modifiedAt": v.ModifiedAt, "failedAt": *v.FailedAt,
	} {
		if at.Location() != time.UTC {
			t.Errorf("%s = %s, want UTC", name, at)
		}
	}
	if !v.FailedAt.Equal(*p.FailedAt) || v.FailureReason != "queue unavailable" || v.Status != products.Failed {
		t.Errorf("view = %+v", v)
	}
}

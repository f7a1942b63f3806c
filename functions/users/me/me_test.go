package me_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/users/usertest"
)

func TestMe(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := usertest.BootstrapAdmin(t, st)

	before := time.Now().Add(-time.Second)
	// Ranges out of order, with seconds and a Sunday, which sorts last (ISO week).
	u := usertest.NewAccount(t, st, auth.RoleUser, map[string]any{
		"name": "김철수", "nickname": "Chulsoo7",
		"chatTimeRanges": []map[string]string{
			{"dayOfWeek": "SUNDAY", "startTime": "08:00", "endTime": "09:00"},
			{"dayOfWeek": "wednesday", "startTime": "13:00", "endTime": "14:00:30"},
			{"dayOfWeek": "MONDAY", "startTime": "18:00", "endTime": "19:30"},
			{"dayOfWeek": "Monday", "startTime": "09:00:15", "endTime": "10:00"},
		},
	})
	after := time.Now().Add(time.Second)

	t.Run("the caller's own account, after a real login", func(t *testing.T) {
		t.Parallel()
		pair := st.Login(t, u.Username, u.Password)
		res := st.Do(t, "GET", "/api/v1/users/me", nil, pair.AccessToken)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		var raw map[string]json.RawMessage
		res.Data(t, &raw)
		keys := slices.Sorted(maps.Keys(raw))
		want := []string{"chatTimeRanges", "createdAt", "createdBy", "modifiedAt", "modifiedBy", "name", "nickname", "userId", "userRole", "username"}
		if !slices.Equal(keys, want) {
			t.Errorf("fields %v, want %v", keys, want)
		}
		var d usertest.Detail
		res.Data(t, &d)
		if d.UserID != u.ID || d.Username != u.Username || d.Name != "김철수" || d.Nickname != "Chulsoo7" || d.UserRole != "USER" {
			t.Errorf("detail = %+v", d)
		}
		wantRanges := []usertest.Range{
			{DayOfWeek: "MONDAY", StartTime: "09:00:15", EndTime: "10:00:00"},
			{DayOfWeek: "MONDAY", StartTime: "18:00:00", EndTime: "19:30:00"},
			{DayOfWeek: "WEDNESDAY", StartTime: "13:00:00", EndTime: "14:00:30"},
			{DayOfWeek: "SUNDAY", StartTime: "08:00:00", EndTime: "09:00:00"},
		}
		if !slices.Equal(d.ChatTimeRanges, wantRanges) {
			t.Errorf("ranges = %+v, want %+v", d.ChatTimeRanges, wantRanges)
		}
		// A self-signup creates and last modifies itself.
		if d.CreatedBy != u.ID || d.ModifiedBy != u.ID {
			t.Errorf("createdBy %s modifiedBy %s, want %s", d.CreatedBy, d.ModifiedBy, u.ID)
		}
		if d.CreatedAt.Before(before) || d.CreatedAt.After(after) || !d.ModifiedAt.Equal(d.CreatedAt) {
			t.Errorf("createdAt %s modifiedAt %s, want both within [%s, %s]", d.CreatedAt, d.ModifiedAt, before, after)
		}
		if d.CreatedAt.Location() != time.UTC {
			t.Errorf("createdAt %s is not in UTC", d.CreatedAt)
		}
	})

	t.Run("an account created by an administrator", func(t *testing.T) {
		t.Parallel()
		m := usertest.NewAccount(t, st, auth.RoleManager, nil)
		var d usertest.Detail
		st.Do(t, "GET", "/api/v1/users/me", nil, m.Token).Data(t, &d)
		if d.UserID != m.ID || d.UserRole != "MANAGER" || d.CreatedBy != admin.ID || d.ModifiedBy != admin.ID {
			t.Errorf("detail = %+v, want MANAGER created by %s", d, admin.ID)
		}
	})

	t.Run("the bootstrap administrator", func(t *testing.T) {
		t.Parallel()
		var d usertest.Detail
		st.Do(t, "GET", "/api/v1/users/me", nil, admin.Token).Data(t, &d)
		if d.UserID != admin.ID || d.UserRole != "MASTER" || d.Username != admin.Username || d.ChatTimeRanges == nil {
			t.Errorf("detail = %+v", d)
		}
	})

	ghostUser, _ := st.Token(t, auth.RoleUser)
	ghostMaster, _ := st.Token(t, auth.RoleMaster)
	tests := []struct {
		name, token string
		status      int
		code        string
	}{
		{"no token", "", 401, "C002"},
		{"not a jwt", "not-a-token", 401, "C002"},
		{"forged signature", u.Token[:len(u.Token)-4] + "AAAA", 401, "C002"},
		{"user not in the database", ghostUser, 404, "U017"},
		{"master not in the database", ghostMaster, 404, "U017"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st.Do(t, "GET", "/api/v1/users/me", nil, tt.token).Refused(t, tt.status, tt.code)
		})
	}
}

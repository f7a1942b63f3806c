package chatavailability_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/users/usertest"
)

func TestChatAvailability(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	seller := usertest.NewAccount(t, st, auth.RoleUser, map[string]any{"chatTimeRanges": []map[string]string{
		{"dayOfWeek": "MONDAY", "startTime": "12:00", "endTime": "13:30"},
		{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "12:00"},
		{"dayOfWeek": "MONDAY", "startTime": "20:00", "endTime": "21:00"},
		{"dayOfWeek": "TUESDAY", "startTime": "10:00", "endTime": "11:00"},
		{"dayOfWeek": "SUNDAY", "startTime": "23:00", "endTime": "23:59:59"},
	}})
	buyer := usertest.NewAccount(t, st, auth.RoleUser, nil)
	ghost, _ := st.Token(t, auth.RoleUser)
	gone := usertest.Gone(t, st)

	var (
		morning   = usertest.Range{DayOfWeek: "MONDAY", StartTime: "09:00:00", EndTime: "12:00:00"}
		noon      = usertest.Range{DayOfWeek: "MONDAY", StartTime: "12:00:00", EndTime: "13:30:00"}
		evening   = usertest.Range{DayOfWeek: "MONDAY", StartTime: "20:00:00", EndTime: "21:00:00"}
		tuesday   = usertest.Range{DayOfWeek: "TUESDAY", StartTime: "10:00:00", EndTime: "11:00:00"}
		lateNight = usertest.Range{DayOfWeek: "SUNDAY", StartTime: "23:00:00", EndTime: "23:59:59"}
	)
	// 2026-11-23 is a Monday, the 24th a Tuesday, the 25th a Wednesday, the 29th a Sunday.
	found := []struct {
		name, date, time string
		want             []usertest.Range
	}{
		{"at the start", "2026-11-23", "09:00", []usertest.Range{morning}},
		{"inside", "2026-11-23", "10:30:15", []usertest.Range{morning}},
		{"a second before the end", "2026-11-23", "11:59:59", []usertest.Range{morning}},
		{"at the end, which is the next range's start", "2026-11-23", "12:00:00", []usertest.Range{noon}},
		{"at the end of a range", "2026-11-23", "13:30", nil},
		{"a second before the first start", "2026-11-23", "08:59:59", nil},
		{"between ranges", "2026-11-23", "15:00", nil},
		{"evening", "2026-11-23", "20:59", []usertest.Range{evening}},
		{"midnight", "2026-11-23", "00:00", nil},
		{"another Monday", "2027-01-04", "09:30", []usertest.Range{morning}},
		{"Tuesday", "2026-11-24", "10:00", []usertest.Range{tuesday}},
		{"Tuesday at Monday's time", "2026-11-24", "09:30", nil},
		{"Wednesday, no ranges", "2026-11-25", "10:00", nil},
		{"Sunday, last second inside", "2026-11-29", "23:59:58", []usertest.Range{lateNight}},
		{"Sunday, end", "2026-11-29", "23:59:59", nil},
	}
	for _, tt := range found {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The seller themself, another user and a token for no stored account all see the same.
			for _, token := range []string{buyer.Token, seller.Token, ghost} {
				res := st.Do(t, "GET", "/api/v1/users/"+seller.ID.String()+"/chat-availability?chatDate="+tt.date+"&chatTime="+tt.time, nil, token)
				if res.Status != http.StatusOK {
					t.Fatalf("status %d: %s", res.Status, res.Body)
				}
				var raw map[string]json.RawMessage
				res.Data(t, &raw)
				if keys := slices.Collect(maps.Keys(raw)); !slices.Equal(keys, []string{"chatTimeRanges"}) {
					t.Errorf("fields %v", keys)
				}
				if string(raw["chatTimeRanges"]) == "null" {
					t.Error("chatTimeRanges is null, want a list")
				}
				var got struct {
					ChatTimeRanges []usertest.Range `json:"chatTimeRanges"`
				}
				res.Data(t, &got)
				if !slices.Equal(got.ChatTimeRanges, tt.want) {
					t.Errorf("ranges %+v, want %+v", got.ChatTimeRanges, tt.want)
				}
			}
		})
	}

	path := "/api/v1/users/" + seller.ID.String() + "/chat-availability"
	refused := []struct {
		name, path, token string
		status            int
		code, field       string
	}{
		{"no date", path + "?chatTime=10:00", buyer.Token, 400, "U027", "chatDate"},
		{"empty date", path + "?chatDate=&chatTime=10:00", buyer.Token, 400, "U027", "chatDate"},
		{"no time", path + "?chatDate=2026-11-23", buyer.Token, 400, "U028", "chatTime"},
		{"neither", path, buyer.Token, 400, "U027", "chatDate"},
		{"date with slashes", path + "?chatDate=2026/11/23&chatTime=10:00", buyer.Token, 400, "C015", "chatDate"},
		{"day first", path + "?chatDate=23-11-2026&chatTime=10:00", buyer.Token, 400, "C015", "chatDate"},
		{"month 13", path + "?chatDate=2026-13-01&chatTime=10:00", buyer.Token, 400, "C015", "chatDate"},
		{"30 February", path + "?chatDate=2026-02-30&chatTime=10:00", buyer.Token, 400, "C015", "chatDate"},
		{"date with time", path + "?chatDate=2026-11-23T10:00:00Z&chatTime=10:00", buyer.Token, 400, "C015", "chatDate"},
		{"hour 24", path + "?chatDate=2026-11-23&chatTime=24:00", buyer.Token, 400, "C015", "chatTime"},
		{"one-digit hour", path + "?chatDate=2026-11-23&chatTime=9:00", buyer.Token, 400, "C015", "chatTime"},
		{"fraction of a second", path + "?chatDate=2026-11-23&chatTime=10:00:00.5", buyer.Token, 400, "C015", "chatTime"},
		{"no colon", path + "?chatDate=2026-11-23&chatTime=1000", buyer.Token, 400, "C015", "chatTime"},
		{"twelve-hour clock", path + "?chatDate=2026-11-23&chatTime=10:00PM", buyer.Token, 400, "C015", "chatTime"},
		{"unknown user", "/api/v1/users/" + uuid.NewString() + "/chat-availability?chatDate=2026-11-23&chatTime=10:00", buyer.Token, 404, "U017", ""},
		{"deleted user", "/api/v1/users/" + gone.ID.String() + "/chat-availability?chatDate=2026-11-23&chatTime=10:00", buyer.Token, 404, "U017", ""},
		{"malformed user id", "/api/v1/users/seller/chat-availability?chatDate=2026-11-23&chatTime=10:00", buyer.Token, 400, "C015", "userId"},
		{"no token", path + "?chatDate=2026-11-23&chatTime=10:00", "", 401, "C002", ""},
		{"deleted user's token", path + "?chatDate=2026-11-23&chatTime=10:00", gone.Token, 401, "C002", ""},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st.Do(t, "GET", tt.path, nil, tt.token).RefusedOn(t, tt.status, tt.code, tt.field)
		})
	}
}

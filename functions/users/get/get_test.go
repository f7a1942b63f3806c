package get_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/users/usertest"
)

func TestGet(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := usertest.BootstrapAdmin(t, st)
	manager := usertest.NewAccount(t, st, auth.RoleManager, nil)
	alice := usertest.NewAccount(t, st, auth.RoleUser, nil)
	bob := usertest.NewAccount(t, st, auth.RoleUser, nil)
	gone := usertest.Gone(t, st)

	t.Run("self and administrators read the account", func(t *testing.T) {
		t.Parallel()
		for _, caller := range []usertest.Account{alice, manager, admin} {
			res := st.Do(t, "GET", "/api/v1/users/"+alice.ID.String(), nil, caller.Token)
			var d usertest.Detail
			res.Data(t, &d)
			if res.Status != http.StatusOK || d.UserID != alice.ID || d.Username != alice.Username ||
				d.UserRole != "USER" || d.Name != "Tester" || d.Nickname == "" {
				t.Errorf("as %s: status %d, %+v", caller.Role, res.Status, d)
			}
			if len(d.ChatTimeRanges) != 1 || d.ChatTimeRanges[0].DayOfWeek != "MONDAY" ||
				d.ChatTimeRanges[0].StartTime != "09:00:00" || d.ChatTimeRanges[0].EndTime != "18:00:00" {
				t.Errorf("as %s: ranges %+v", caller.Role, d.ChatTimeRanges)
			}
			if d.CreatedBy != alice.ID || d.ModifiedBy != alice.ID || d.CreatedAt.IsZero() || !d.ModifiedAt.Equal(d.CreatedAt) {
				t.Errorf("as %s: audit fields %+v", caller.Role, d)
			}
		}
	})
	t.Run("an administrator reads an administrator", func(t *testing.T) {
		t.Parallel()
		res := st.Do(t, "GET", "/api/v1/users/"+admin.ID.String(), nil, manager.Token)
		var d usertest.Detail
		res.Data(t, &d)
		if d.UserID != admin.ID || d.UserRole != "MASTER" {
			t.Errorf("%+v", d)
		}
		// An account made by the bootstrap MASTER records it as its creator.
		res = st.Do(t, "GET", "/api/v1/users/"+manager.ID.String(), nil, manager.Token)
		res.Data(t, &d)
		if d.UserRole != "MANAGER" || d.CreatedBy != admin.ID {
			t.Errorf("manager = %+v, want created by %s", d, admin.ID)
		}
	})

	tests := []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"another user", "/api/v1/users/" + bob.ID.String(), alice.Token, 403, "U015"},
		{"a user reading an administrator", "/api/v1/users/" + admin.ID.String(), alice.Token, 403, "U015"},
		{"unknown id as a user", "/api/v1/users/" + uuid.NewString(), alice.Token, 403, "U015"},
		{"unknown id as admin", "/api/v1/users/" + uuid.NewString(), admin.Token, 404, "U017"},
		{"unknown id as manager", "/api/v1/users/" + uuid.NewString(), manager.Token, 404, "U017"},
		{"deleted user as admin", "/api/v1/users/" + gone.ID.String(), admin.Token, 404, "U017"},
		{"malformed id", "/api/v1/users/not-a-uuid", admin.Token, 400, "C015"},
		{"malformed id as a user", "/api/v1/users/12345", alice.Token, 400, "C015"},
		{"no token", "/api/v1/users/" + alice.ID.String(), "", 401, "C002"},
		{"deleted user's own token", "/api/v1/users/" + gone.ID.String(), gone.Token, 401, "C002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st.Do(t, "GET", tt.path, nil, tt.token).Refused(t, tt.status, tt.code)
		})
	}
}

package update_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/users/usertest"
)

// Only a MASTER changes or deletes another administrator: a MANAGER renaming or deleting
// a MANAGER would take MANAGER away by another name (issue 15). A MANAGER still manages
// ordinary users and their own account as before. Every case is its own accounts, so a
// deletion that goes through cannot change another case.
func TestOnlyMasterManagesAdministrators(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	master := usertest.BootstrapAdmin(t, st)

	type who int
	const (
		aManager who = iota
		aMaster
		self
	)
	tests := []struct {
		name   string
		caller who
		target auth.Role
		method string
		body   map[string]any
		status int
		code   string // "" when allowed
	}{
		{"a manager renames another manager", aManager, auth.RoleManager, "PATCH", map[string]any{"name": "Renamed"}, 403, "U030"},
		{"a manager changes another manager's nickname", aManager, auth.RoleManager, "PATCH", map[string]any{"nickname": "Renamed7"}, 403, "U030"},
		{"a manager restates another manager's role", aManager, auth.RoleManager, "PATCH", map[string]any{"userRole": "MANAGER"}, 403, "U030"},
		{"a manager demotes another manager", aManager, auth.RoleManager, "PATCH", map[string]any{"userRole": "USER"}, 403, "U030"},
		{"a manager deletes another manager", aManager, auth.RoleManager, "DELETE", nil, 403, "U030"},
		{"a manager renames a master", aManager, auth.RoleMaster, "PATCH", map[string]any{"name": "Renamed"}, 403, "U030"},
		{"a manager deletes a master", aManager, auth.RoleMaster, "DELETE", nil, 403, "U030"},
		{"a manager renames a user", aManager, auth.RoleUser, "PATCH", map[string]any{"name": "Renamed"}, 200, ""},
		{"a manager deletes a user", aManager, auth.RoleUser, "DELETE", nil, 200, ""},
		{"a manager renames themself", self, auth.RoleManager, "PATCH", map[string]any{"name": "Renamed"}, 200, ""},
		{"a manager deletes themself", self, auth.RoleManager, "DELETE", nil, 200, ""},
		{"a manager promotes themself", self, auth.RoleManager, "PATCH", map[string]any{"userRole": "MASTER"}, 403, "U016"},
		{"a master renames a manager", aMaster, auth.RoleManager, "PATCH", map[string]any{"name": "Renamed"}, 200, ""},
		{"a master deletes a manager", aMaster, auth.RoleManager, "DELETE", nil, 200, ""},
		{"a master renames another master", aMaster, auth.RoleMaster, "PATCH", map[string]any{"nickname": "Renamed7"}, 200, ""},
		{"a master deletes another master", aMaster, auth.RoleMaster, "DELETE", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := usertest.NewAccount(t, st, tt.target, nil)
			token := target.Token
			switch tt.caller {
			case aManager:
				token = usertest.NewAccount(t, st, auth.RoleManager, nil).Token
			case aMaster:
				token = master.Token
			}
			if tt.code != "" {
				usertest.Unchanged(t, st, "a refused "+tt.method, target.ID)
			}
			res := st.Do(t, tt.method, "/api/v1/users/"+target.ID.String(), tt.body, token)
			if tt.code != "" {
				res.Refused(t, tt.status, tt.code)
				return
			}
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			var answer struct {
				UserID uuid.UUID `json:"userId"`
			}
			res.Data(t, &answer)
			if answer.UserID != target.ID {
				t.Errorf("answer names %s, want %s", answer.UserID, target.ID)
			}
		})
	}
}

package users

import (
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
)

// Detail is an account as its owner and administrators see it.
type Detail struct {
	UserID         uuid.UUID   `json:"userId"`
	Username       string      `json:"username"`
	Name           string      `json:"name"`
	Nickname       string      `json:"nickname"`
	UserRole       auth.Role   `json:"userRole"`
	ChatTimeRanges []RangeView `json:"chatTimeRanges"`
	CreatedAt      time.Time   `json:"createdAt"`
	CreatedBy      uuid.UUID   `json:"createdBy"`
	ModifiedAt     time.Time   `json:"modifiedAt"`
	ModifiedBy     uuid.UUID   `json:"modifiedBy"`
}

// Detail renders u.
func (u User) Detail() Detail {
	return Detail{
		UserID: u.ID, Username: u.Username, Name: u.Name, Nickname: u.Nickname, UserRole: u.Role,
		ChatTimeRanges: Views(u.ChatTimeRanges),
		CreatedAt:      u.CreatedAt.UTC(), CreatedBy: u.CreatedBy,
		ModifiedAt: u.ModifiedAt.UTC(), ModifiedBy: u.ModifiedBy,
	}
}

// Views renders ranges; never null in JSON.
func Views(ranges []ChatTimeRange) []RangeView {
	out := make([]RangeView, len(ranges))
	for i, r := range ranges {
		out[i] = r.View()
	}
	return out
}

// Created is the answer to a signup.
type Created struct {
	UserID    uuid.UUID `json:"userId"`
	Username  string    `json:"username"`
	Nickname  string    `json:"nickname"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy uuid.UUID `json:"createdBy"`
}

// Modified is the answer to an update.
type Modified struct {
	UserID     uuid.UUID `json:"userId"`
	ModifiedAt time.Time `json:"modifiedAt"`
	ModifiedBy uuid.UUID `json:"modifiedBy"`
}

// Deleted is the answer to a deletion.
type Deleted struct {
	UserID    uuid.UUID `json:"userId"`
	DeletedAt time.Time `json:"deletedAt"`
	DeletedBy uuid.UUID `json:"deletedBy"`
}

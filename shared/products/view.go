package products

import (
	"time"

	"github.com/google/uuid"
)

// View is a product as the API shows it: the status is the effective one at the time of
// the answer.
type View struct {
	ProductID      uuid.UUID `json:"productId"`
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	Price          int64     `json:"price"`
	Status         Status    `json:"status"`
	SellerID       uuid.UUID `json:"sellerId"`
	SellerNickname string    `json:"sellerNickname"`
	StartTime      time.Time `json:"startTime"`
	EndTime        time.Time `json:"endTime"`
	CreatedAt      time.Time `json:"createdAt"`
	ModifiedAt     time.Time `json:"modifiedAt"`
	// FailureReason says why the deal failed or why a trade could not be opened.
	FailureReason string     `json:"failureReason,omitempty"`
	FailedAt      *time.Time `json:"failedAt,omitempty"`
	// Photos are the ones processed and shown, in the seller's order.
	Photos []Photo `json:"photos"`
}

// View renders p as seen at now.
func (p Product) View(now time.Time) View {
	return View{
		ProductID:      p.ID,
		Name:           p.Name,
		Description:    p.Description,
		Price:          p.Price,
		Status:         p.EffectiveStatus(now),
		SellerID:       p.SellerID,
		SellerNickname: p.SellerNickname,
		StartTime:      p.StartTime.UTC(),
		EndTime:        p.EndTime.UTC(),
		CreatedAt:      p.CreatedAt.UTC(),
		ModifiedAt:     p.ModifiedAt.UTC(),
		FailureReason:  p.FailureReason,
		FailedAt:       utc(p.FailedAt),
		Photos:         []Photo{},
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

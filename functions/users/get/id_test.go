package get_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
)

// TestParseID is the user id of the path as the user routes read it (endpoint.PathID).
func TestParseID(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	if got, err := endpoint.ParseID("userId", id.String()); err != nil || got != id {
		t.Errorf("ParseID(%s) = %s, %v", id, got, err)
	}
	for _, in := range []string{"", "123", id.String() + "0", "not-a-uuid"} {
		_, err := endpoint.ParseID("userId", in)
		if f, ok := fault.As(err); !ok || f.Code != "C015" || f.Field != "userId" {
			t.Errorf("ParseID(%q) = %v, want C015 on userId", in, err)
		}
	}
}

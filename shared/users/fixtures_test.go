package users_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/users"
)

func ptr[T any](v T) *T { return &v }

func rng(day, start, end string) users.RangeInput {
	return users.RangeInput{DayOfWeek: ptr(day), StartTime: ptr(start), EndTime: ptr(end)}
}

// clock is a time of day for expectations, so they do not go through ParseClock.
func clock(h, m, s int) users.Clock { return users.Clock(h*3600 + m*60 + s) }

// wantFault fails the test unless err is a fault with code naming field ("" for none).
func wantFault(t *testing.T, err error, code, field string) *fault.Error {
	t.Helper()
	f, ok := fault.As(err)
	if !ok {
		t.Fatalf("err = %v, want fault %s", err, code)
	}
	if f.Code != code || f.Field != field {
		t.Fatalf("fault = %s (field %q) %q, want %s (field %q)", f.Code, f.Field, f.Message, code, field)
	}
	return f
}

// passwords is one hasher at the lowest cost for the whole package: building it hashes
// once, and bcrypt is slow under the race detector.
var passwords = sync.OnceValues(func() (*users.Passwords, error) { return users.NewPasswords(users.MinCost) })

func newPasswords(t testing.TB) *users.Passwords {
	t.Helper()
	pw, err := passwords()
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

func caller(role auth.Role) auth.Identity {
	return auth.Identity{UserID: uuid.New(), Username: "caller", Role: role}
}

// account is a stored user built without the signup rules or bcrypt, for store tests
// that only need rows. The hash is a placeholder no password matches.
func account(username string, role auth.Role, ranges ...users.ChatTimeRange) users.User {
	id := uuid.New()
	now := time.Now().UTC().Truncate(time.Microsecond)
	return users.User{
		ID: id, Username: username, PasswordHash: "$2a$10$placeholderplaceholderplaceholderplaceholderplacehold",
		Role: role, Name: "Tester", Nickname: "tester", ChatTimeRanges: ranges,
		CreatedAt: now, CreatedBy: id, ModifiedAt: now, ModifiedBy: id,
	}
}

// newStore is a store on a fresh database of the test's own.
func newStore(t *testing.T) (*users.Store, *pgxpool.Pool) {
	t.Helper()
	db := testenv.DB(t)
	return users.NewStore(db, 15*time.Minute), db
}

func mustCreate(t *testing.T, st *users.Store, u users.User) users.User {
	t.Helper()
	if err := st.Create(context.Background(), u); err != nil {
		t.Fatalf("create %s: %v", u.Username, err)
	}
	return u
}

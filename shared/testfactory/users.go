package testfactory

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/users"
)

// UserPassword is the password of a User built without one.
const UserPassword = "Secret!12345"

// UserOpts overrides the defaults of User; zero fields keep them.
type UserOpts struct {
	ID       uuid.UUID // default: a new one
	Username string    // default: a fresh "u" and 11 hex digits
	Password string    // default: UserPassword
	Role     auth.Role // default: USER
	Name     string    // default: Tester
	Nickname string    // default: "nick" and 6 hex digits
	// ChatTimeRanges default to Monday 09:00-18:00; NoChatTimeRanges stores none.
	ChatTimeRanges   []users.ChatTimeRange
	NoChatTimeRanges bool
	// CreatedBy defaults to the account itself, as a self-signup records it.
	CreatedBy    uuid.UUID
	TokenVersion int64
}

// User stores an account as users.Store.Create would (a live row in users.users and its
// chat time ranges in users.chat_time_ranges) and returns it, its PasswordHash a bcrypt
// hash of the password at the lowest cost.
func User(ctx context.Context, tb testing.TB, db DB, opts *UserOpts) users.User {
	tb.Helper()
	if opts == nil {
		opts = &UserOpts{}
	}
	suffix := strings.ReplaceAll(uuid.NewString(), "-", "")
	u := users.User{
		ID: opts.ID, Username: opts.Username, Role: opts.Role, Name: opts.Name, Nickname: opts.Nickname,
		ChatTimeRanges: opts.ChatTimeRanges, CreatedBy: opts.CreatedBy, TokenVersion: opts.TokenVersion,
	}
	if u.ID == uuid.Nil {
		u.ID = uuid.New()
	}
	if u.Username == "" {
		u.Username = "u" + suffix[:11]
	}
	if u.Role == "" {
		u.Role = auth.RoleUser
	}
	if u.Name == "" {
		u.Name = "Tester"
	}
	if u.Nickname == "" {
		u.Nickname = "nick" + suffix[11:17]
	}
	if u.ChatTimeRanges == nil && !opts.NoChatTimeRanges {
		u.ChatTimeRanges = []users.ChatTimeRange{{Day: time.Monday, Start: 9 * 3600, End: 18 * 3600}}
	}
	if u.CreatedBy == uuid.Nil {
		u.CreatedBy = u.ID
	}
	password := opts.Password
	if password == "" {
		password = UserPassword
	}
	u.PasswordHash = userHash(tb, password)
	u.CreatedAt = postgres.Time(time.Now())
	u.ModifiedAt, u.ModifiedBy = u.CreatedAt, u.CreatedBy

	_, err := db.Exec(ctx, `
		INSERT INTO users.users
		  (id, username, password_hash, role, name, nickname, token_version,
		   created_at, created_by, modified_at, modified_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9)`,
		u.ID, u.Username, u.PasswordHash, u.Role, u.Name, u.Nickname, u.TokenVersion, u.CreatedAt, u.CreatedBy)
	if err != nil {
		tb.Fatalf("testfactory: user %s: %v", u.Username, err)
	}
	for _, r := range u.ChatTimeRanges {
		_, err := db.Exec(ctx, `
			INSERT INTO users.chat_time_ranges (user_id, day_of_week, start_time, end_time) VALUES ($1, $2, $3, $4)`,
			u.ID, userISODay(r.Day),
			pgtype.Time{Microseconds: r.Start.Microseconds(), Valid: true},
			pgtype.Time{Microseconds: r.End.Microseconds(), Valid: true})
		if err != nil {
			tb.Fatalf("testfactory: chat time range of %s: %v", u.Username, err)
		}
	}
	return u
}

// userISODay is the ISO 8601 number the users schema stores: 1 = Monday, 7 = Sunday.
func userISODay(d time.Weekday) int16 { return int16((int(d)+6)%7 + 1) }

// userHashes keeps one bcrypt hash per password for the process: a round costs tens of
// milliseconds, more under the race detector, and tests mostly share the default.
var userHashes sync.Map // string → string

func userHash(tb testing.TB, password string) string {
	tb.Helper()
	if h, ok := userHashes.Load(password); ok {
		return h.(string)
	}
	pw, err := users.NewPasswords(users.MinCost)
	if err != nil {
		tb.Fatalf("testfactory: %v", err)
	}
	h, err := pw.Hash(password)
	if err != nil {
		tb.Fatalf("testfactory: %v", err)
	}
	got, _ := userHashes.LoadOrStore(password, h)
	return got.(string)
}

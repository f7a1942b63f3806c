package reservations

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/testenv"
)

// reservation inserts a reservation whose window is [start, end) from now, in status.
func reservation(t *testing.T, db *pgxpool.Pool, seller uuid.UUID, start, end time.Duration, status string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	_, err := db.Exec(context.Background(), `
		INSERT INTO reservations.reservations
		  (id, product_id, seller_id, seller_nickname, product_name, product_price, start_time, end_time, status)
		VALUES ($1, $2, $3, 'seller', 'Camera', 1000, clock_timestamp() + make_interval(secs => $4),
		        clock_timestamp() + make_interval(secs => $5), $6)`,
		id, uuid.New(), seller, start.Seconds(), end.Seconds(), status)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func req(id uuid.UUID, pos int64, user uuid.UUID) *waitingReq {
	return &waitingReq{id: id, pos: pos, who: Applicant{UserID: user, Nickname: "n" + user.String()[:6]}, done: make(chan error, 1), deadline: time.Now().Add(time.Minute)}
}

// One batch answers each applicant as a statement of its own would: appended, or refused
// for its own reason, whatever the others in the batch.
func TestWaitingBatchAnswersEachApplicant(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	b := newWaitingBatcher(db)
	seller := uuid.New()
	open := reservation(t, db, seller, -time.Hour, time.Hour, "AVAILABLE")
	early := reservation(t, db, seller, time.Hour, 2*time.Hour, "AVAILABLE")
	late := reservation(t, db, seller, -2*time.Hour, -time.Hour, "AVAILABLE")
	closed := reservation(t, db, seller, -time.Hour, time.Hour, "CANCELLED")
	first, second, third := uuid.New(), uuid.New(), uuid.New()

	b.write([]*waitingReq{req(open, 1, first), req(open, 2, second)})

	cases := []struct {
		name string
		req  *waitingReq
		want error
	}{
		{"new applicant", req(open, 3, third), nil},
		{"same user again", req(open, 4, second), ErrAlreadyApplied},
		{"position taken", req(open, 1, uuid.New()), errPositionTaken},
		{"unknown reservation", req(uuid.New(), 1, uuid.New()), ErrNotFound},
		{"seller", req(open, 5, seller), ErrSellerApplies},
		{"not open yet", req(early, 1, uuid.New()), ErrNotOpen},
		{"ended", req(late, 1, uuid.New()), ErrEnded},
		{"closed", req(closed, 1, uuid.New()), ErrClosed},
	}
	batch := make([]*waitingReq, len(cases))
	for i, c := range cases {
		batch[i] = c.req
	}
	b.write(batch)
	for _, c := range cases {
		if got := <-c.req.done; !errors.Is(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	var users []uuid.UUID
	rows, err := db.Query(context.Background(), `SELECT user_id FROM reservations.applications WHERE reservation_id = $1 ORDER BY position`, open)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u uuid.UUID
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	if fmt.Sprint(users) != fmt.Sprint([]uuid.UUID{first, second, third}) {
		t.Fatalf("applications %v, want %v", users, []uuid.UUID{first, second, third})
	}
}

// Applicants arriving together are all appended, each answered once, however the
// batcher groups them.
func TestWaitingBatcherConcurrent(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	b := newWaitingBatcher(db)
	open := reservation(t, db, uuid.New(), -time.Hour, time.Hour, "AVAILABLE")
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- b.insert(context.Background(), open, int64(i+1), Applicant{UserID: uuid.New(), Nickname: "n"})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("insert: %v", err)
		}
	}
	var count, maxPos int64
	if err := db.QueryRow(context.Background(), `SELECT count(*), max(position) FROM reservations.applications WHERE reservation_id = $1`, open).Scan(&count, &maxPos); err != nil {
		t.Fatal(err)
	}
	if count != n || maxPos != n {
		t.Fatalf("%d applications up to %d, want %d", count, maxPos, n)
	}
	// A flusher answers its last applicant before it stops counting itself.
	testenv.Eventually(t, 5*time.Second, "no flusher counted after the work", func() bool { return b.active.Load() == 0 })
}

// An applicant whose deadline has passed is not written: its admission may be judged
// dead once the lease runs out, so nothing may commit after it.
func TestWaitingBatchSkipsApplicantsPastTheirDeadline(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	b := newWaitingBatcher(db)
	open := reservation(t, db, uuid.New(), -time.Hour, time.Hour, "AVAILABLE")
	late, onTime := req(open, 1, uuid.New()), req(open, 2, uuid.New())
	late.deadline = time.Now().Add(-time.Millisecond)
	b.write([]*waitingReq{late, onTime})
	if err := <-late.done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("late applicant: %v, want the deadline exceeded", err)
	}
	if err := <-onTime.done; err != nil {
		t.Fatalf("applicant on time: %v", err)
	}
	var rows int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM reservations.applications WHERE reservation_id = $1`, open).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("%d rows, want only the applicant on time", rows)
	}
}

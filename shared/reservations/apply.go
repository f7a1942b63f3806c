package reservations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/outbox"
)

// The faults of applying (reference codes, statuses corrected; R012–R014 are ours).
var (
	ErrNotFound       = fault.New(fault.NotFound, "R006", "reservation not found")
	ErrAlreadyApplied = fault.New(fault.Conflict, "R008", "you have already applied to this deal")
	ErrNotOpen        = fault.New(fault.Conflict, "R012", "the deal is not open yet")
	ErrEnded          = fault.New(fault.Conflict, "R013", "the deal has ended")
	ErrSellerApplies  = fault.New(fault.Forbidden, "R014", "a seller cannot apply to their own deal")
	ErrClosed         = fault.New(fault.Conflict, "R004", "the reservation no longer takes applications")
)

// DefaultPaymentWindow is how long a buyer has to pay.
const DefaultPaymentWindow = 60 * time.Minute

// Application is the answer to an apply: the buyer (SELECTED, with a payment deadline) or
// a queued applicant (WAITING, with its place: 1 is next in line).
type Application struct {
	ReservationID   uuid.UUID  `json:"reservationId"`
	Status          string     `json:"status"`
	Position        int64      `json:"position"`
	PaymentDeadline *time.Time `json:"paymentDeadline,omitempty"`
}

// Applicant is who applies.
type Applicant struct {
	UserID   uuid.UUID
	Nickname string
}

// Queue is the apply path: a Redis admission step that gives each applicant its place
// atomically, and a Postgres statement that confirms it inside the window.
//
// Why this design: applicants of one deal all arrive in the same second. Serialising them
// on the reservation row (a lock, or an UPDATE of a counter) makes every applicant wait
// for the one before it to commit, so the deal's throughput is one commit at a time. Here
// the order is decided in Redis in microseconds, and Postgres only appends a row keyed by
// (reservation, position) and (reservation, user): appends of different applicants do not
// wait for each other and share group commits. Only the first applicant touches the
// reservation row, to become its buyer. The database constraints, not Redis, guarantee
// one row per position and per user, so a lost or restarted Redis can cost a place but
// never make two winners or two applications; its state is rebuilt from Postgres.
//
// Redis and Postgres can also disagree the other way: a process that dies between the
// admission and the insert leaves an admitted applicant without a row. Each admission
// therefore records when it was made; an admission older than the lease with no row is
// taken for dead, and the queue's state is reconciled with Postgres (reconcile) when its
// applicant applies again, and for every open deal by the sweep.
type Queue struct {
	db            *pgxpool.Pool
	rdb           *redis.Client
	paymentWindow time.Duration
	waiting       *waitingBatcher
	lease         time.Duration
}

// AdmissionLease is how long an admission may wait for its row before it is taken for
// dead. The Postgres step of an apply is cut off at confirmTimeout (a statement cancelled
// by its deadline either committed before it or never will), so after the lease a live
// request has settled one way or the other: a slow request is not mistaken for a dead one.
const AdmissionLease = 10 * time.Second

// confirmTimeout bounds the Postgres step of one apply: the applicant hears 503 and may
// try again rather than hold an admission nobody can judge.
const confirmTimeout = 4 * time.Second

// NewQueue returns the apply path on db and rdb.
func NewQueue(db *pgxpool.Pool, rdb *redis.Client, paymentWindow time.Duration) *Queue {
	if paymentWindow <= 0 {
		paymentWindow = DefaultPaymentWindow
	}
	return &Queue{db: db, rdb: rdb, paymentWindow: paymentWindow, waiting: newWaitingBatcher(db), lease: AdmissionLease}
}

// admissionKeys are the three keys of a reservation's admission state: meta (window,
// seller, whether the buyer's place is free, the queue count), applicants (user → when
// admitted and as what) and seq (the last position given). The v2 prefix left the set of
// users of v1 behind: its keys expire on their own.
func admissionKeys(id uuid.UUID) []string {
	p := "resv2:{" + id.String() + "}:" // one hash slot for the three keys
	return []string{p + "meta", p + "applicants", p + "seq"}
}

// An applicant's entry is the admission's Redis time in microseconds followed by its
// role: b took the buyer's place, w was counted into the queue, p came from a Postgres
// row (seeded or reconciled; its time is 0, so it is never in flight).

// admit gives the applicant the next place, unless the deal is closed at Redis's clock,
// the applicant is the seller or has been admitted already; while the buyer's place is
// free ('open'), the first admitted takes it; every other one is counted into the queue
// ('waiting'), which gives its place. It answers {code, position, buyer, place}: code 1
// admitted, 2 admitted before ({2, microseconds since}), 3 seller, 4 not open yet, 5
// ended, 0 unknown (seed first).
var admit = redis.NewScript(`
local meta = redis.call('HMGET', KEYS[1], 'start', 'end', 'seller')
if not meta[1] then return {0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if now < tonumber(meta[1]) then return {4, 0} end
if now >= tonumber(meta[2]) then return {5, 0} end
if ARGV[1] == meta[3] then return {3, 0} end
local was = redis.call('HGET', KEYS[2], ARGV[1])
if was then return {2, now - tonumber(string.sub(was, 1, -2))} end
local pos = redis.call('INCR', KEYS[3])
if redis.call('HGET', KEYS[1], 'open') == '1' then
  redis.call('HSET', KEYS[1], 'open', '0')
  redis.call('HSET', KEYS[2], ARGV[1], now .. 'b')
  return {1, pos, 1, 0}
end
redis.call('HSET', KEYS[2], ARGV[1], now .. 'w')
return {1, pos, 0, redis.call('HINCRBY', KEYS[1], 'waiting', 1)}`)

// seed loads a reservation's admission state unless another request did first.
var seed = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'start', ARGV[1], 'end', ARGV[2], 'seller', ARGV[3], 'open', ARGV[6], 'waiting', ARGV[7])
redis.call('SET', KEYS[3], ARGV[4])
for i = 8, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], '0p') end
for i = 1, 3 do redis.call('PEXPIREAT', KEYS[i], ARGV[5]) end
return 1`)

// reconcile makes a reservation's admission state agree with Postgres without losing
// admissions still in flight: an applicant with a row is kept (added if missing), one
// without a row admitted less than the lease ago is kept and counted, any other is dead
// and dropped. The queue count becomes the rows waiting plus the admissions in flight
// counted into the queue; the buyer's place is free only if Postgres says so and nobody
// is in flight (a queue without a buyer is the sweep's to repair, in order). ARGV: lease
// in microseconds, Postgres's open flag, highest position, waiting rows, then every user
// with a row. It answers {dropped, changed}, or {-1, 0} when there is no state to fix.
var reconcile = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lease = tonumber(ARGV[1])
local rows = {}
for i = 5, #ARGV do rows[ARGV[i]] = true end
local entries = redis.call('HGETALL', KEYS[2])
local waiting, buying, dropped, added = 0, 0, 0, 0
for i = 1, #entries, 2 do
  local who, was = entries[i], entries[i + 1]
  if rows[who] then
    rows[who] = nil
  elseif now - tonumber(string.sub(was, 1, -2)) < lease then
    if string.sub(was, -1) == 'w' then waiting = waiting + 1 else buying = buying + 1 end
  else
    redis.call('HDEL', KEYS[2], who)
    dropped = dropped + 1
  end
end
for who in pairs(rows) do
  redis.call('HSET', KEYS[2], who, '0p')
  added = added + 1
end
local open = ARGV[2]
if waiting + buying > 0 then open = '0' end
waiting = waiting + tonumber(ARGV[4])
local before = redis.call('HMGET', KEYS[1], 'open', 'waiting')
redis.call('HSET', KEYS[1], 'open', open, 'waiting', waiting)
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[3], ARGV[3], 'KEEPTTL')
end
local changed = 0
if dropped + added > 0 or before[1] ~= open or tonumber(before[2] or '0') ~= waiting then changed = 1 end
return {dropped, changed}`)

// Forget drops a reservation's admission state; the next apply rebuilds it from
// Postgres. A changed window or a closed reservation calls it.
func (q *Queue) Forget(ctx context.Context, id uuid.UUID) error {
	if err := q.rdb.Del(ctx, admissionKeys(id)...).Err(); err != nil {
		return fmt.Errorf("forget admission state of %s: %w", id, err)
	}
	return nil
}

// Apply applies who to reservation id at the deal's current instant, and counts the
// answer (market.reservations.admissions, and the place of a queued applicant in
// market.reservations.queue.position).
func (q *Queue) Apply(ctx context.Context, id uuid.UUID, who Applicant) (Application, error) {
	app, err := q.apply(ctx, id, who)
	admitted(ctx, app, err)
	return app, err
}

func (q *Queue) apply(ctx context.Context, id uuid.UUID, who Applicant) (Application, error) {
	keys := admissionKeys(id)
	var pos, place int64
	var buyer, reconciled bool
	for attempt := 0; ; attempt++ {
		res, err := admit.Run(ctx, q.rdb, keys, who.UserID.String()).Int64Slice()
		if err != nil {
			return Application{}, fault.ErrUnavailable.Wrap(fmt.Errorf("admit: %w", err))
		}
		switch res[0] {
		case 1:
			pos, buyer, place = res[1], res[2] == 1, res[3]
		case 2:
			// Admitted before: a row, a request still confirming, or a dead admission.
			applied, err := q.hasApplied(ctx, id, who.UserID)
			if err != nil {
				return Application{}, err
			}
			if applied || reconciled || time.Duration(res[1])*time.Microsecond < q.lease {
				return Application{}, ErrAlreadyApplied
			}
			if _, err := q.Reconcile(ctx, id); err != nil {
				return Application{}, err
			}
			reconciled = true
			continue
		case 3:
			return Application{}, ErrSellerApplies
		case 4:
			return Application{}, ErrNotOpen
		case 5:
			return Application{}, ErrEnded
		default:
			if attempt > 1 {
				return Application{}, fault.ErrUnavailable.Wrap(errors.New("admission state vanished while seeding"))
			}
			if err := q.seed(ctx, id); err != nil {
				return Application{}, err
			}
			continue
		}
		break
	}
	cctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	app, err := q.confirm(cctx, id, pos, buyer, who)
	cancel()
	if err == nil && app.Status == "WAITING" && app.Position == 0 {
		app.Position = place
	}
	if err != nil && !errors.Is(err, ErrAlreadyApplied) {
		// Refused or failed in Postgres: the position is lost (a gap no read shows), the
		// applicant may try again, and the queue count or the buyer's place is given back
		// so the next applicant is told the right place.
		undoBuyer := 0
		if buyer {
			undoBuyer = 1
		}
		if uerr := undo.Run(context.WithoutCancel(ctx), q.rdb, keys, who.UserID.String(), undoBuyer).Err(); uerr != nil {
			err = errors.Join(err, fault.ErrUnavailable.Wrap(uerr))
		}
	}
	return app, err
}

// undo gives back what admit took for an application Postgres refused.
var undo = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'open', '1')
else
  redis.call('HINCRBY', KEYS[1], 'waiting', -1)
end
return 1`)

// hasApplied reports whether user has an application row in reservation id.
func (q *Queue) hasApplied(ctx context.Context, id, user uuid.UUID) (bool, error) {
	var applied bool
	err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reservations.applications WHERE reservation_id = $1 AND user_id = $2)`,
		id, user).Scan(&applied)
	if err != nil {
		return false, fmt.Errorf("read application: %w", err)
	}
	return applied, nil
}

// queueFacts is what Postgres knows of a reservation's queue.
type queueFacts struct {
	start, end time.Time
	seller     uuid.UUID
	open       bool // the buyer's place is free and nobody waits
	maxPos     int64
	waiting    int64
	users      []any // everyone with an application row, as strings
}

// facts reads reservation id's queue from Postgres.
func (q *Queue) facts(ctx context.Context, id uuid.UUID) (queueFacts, error) {
	var f queueFacts
	err := q.db.QueryRow(ctx, `
		SELECT start_time, end_time, seller_id,
		       status = 'AVAILABLE' AND buyer_id IS NULL AND NOT EXISTS (
		         SELECT 1 FROM reservations.applications WHERE reservation_id = r.id AND status = 'WAITING')
		  FROM reservations.reservations r WHERE id = $1`, id).
		Scan(&f.start, &f.end, &f.seller, &f.open)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("read queue of %s: %w", id, err)
	}
	rows, err := q.db.Query(ctx, `SELECT position, user_id, status FROM reservations.applications WHERE reservation_id = $1`, id)
	if err != nil {
		return f, fmt.Errorf("read queue of %s: %w", id, err)
	}
	var p int64
	var u uuid.UUID
	var st string
	_, err = pgx.ForEachRow(rows, []any{&p, &u, &st}, func() error {
		f.maxPos = max(f.maxPos, p)
		f.users = append(f.users, u.String())
		if st == "WAITING" {
			f.waiting++
		}
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("read queue of %s: %w", id, err)
	}
	return f, nil
}

// seed rebuilds the admission state of reservation id from Postgres: the window, the
// seller, whether the buyer's place is free, the highest position given and everyone who
// applied.
func (q *Queue) seed(ctx context.Context, id uuid.UUID) error {
	f, err := q.facts(ctx, id)
	if err != nil {
		return err
	}
	expireAt := f.end.Add(24 * time.Hour).UnixMilli()
	args := append([]any{f.start.UnixMicro(), f.end.UnixMicro(), f.seller.String(), f.maxPos, expireAt, flag(f.open), f.waiting}, f.users...)
	if err := seed.Run(ctx, q.rdb, admissionKeys(id), args...).Err(); err != nil {
		return fault.ErrUnavailable.Wrap(fmt.Errorf("seed admission: %w", err))
	}
	return nil
}

// Reconcile makes reservation id's admission state agree with Postgres: admissions dead
// for longer than the lease without a row are dropped (their applicants may apply again),
// rows missing from Redis are added, and the queue count and the buyer's place follow the
// rows and the admissions still in flight. It reports whether anything was wrong; with no
// state in Redis there is nothing to fix (the next apply seeds it).
func (q *Queue) Reconcile(ctx context.Context, id uuid.UUID) (bool, error) {
	keys := admissionKeys(id)
	n, err := q.rdb.Exists(ctx, keys[0]).Result()
	if err != nil {
		return false, fault.ErrUnavailable.Wrap(fmt.Errorf("reconcile %s: %w", id, err))
	}
	if n == 0 {
		return false, nil
	}
	f, err := q.facts(ctx, id)
	if err != nil {
		return false, err
	}
	args := append([]any{q.lease.Microseconds(), flag(f.open), f.maxPos, f.waiting}, f.users...)
	res, err := reconcile.Run(ctx, q.rdb, keys, args...).Int64Slice()
	if err != nil {
		return false, fault.ErrUnavailable.Wrap(fmt.Errorf("reconcile %s: %w", id, err))
	}
	if res[1] == 1 {
		slog.WarnContext(ctx, "admission state disagreed with Postgres; reconciled",
			"reservationId", id, "deadAdmissions", res[0], "waiting", f.waiting)
	}
	return res[1] == 1, nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// confirm appends the admitted application in Postgres, checking the window against the
// database clock. Waiting applicants are appended in batches, one statement for those
// admitted at the same moment (waitingBatcher); only the applicant admitted to the
// buyer's place takes a transaction, to become the buyer on the reservation row as well.
func (q *Queue) confirm(ctx context.Context, id uuid.UUID, pos int64, buyer bool, who Applicant) (Application, error) {
	app := Application{ReservationID: id, Status: "WAITING"}
	var err error
	if buyer {
		err = pgx.BeginFunc(ctx, q.db, func(tx pgx.Tx) error {
			if err := insertApplication(ctx, tx, id, pos, "SELECTED", who); err != nil {
				return err
			}
			return q.selectBuyer(ctx, tx, id, pos, who, &app)
		})
	} else {
		err = q.waiting.insert(ctx, id, pos, who)
	}
	var pgErr *pgconn.PgError
	if errors.Is(err, errPositionTaken) || errors.As(err, &pgErr) && pgErr.Code == "23505" {
		if pgErr != nil && pgErr.ConstraintName == "applications_one_per_user" {
			return Application{}, ErrAlreadyApplied
		}
		// The position was given twice: Redis lost state since. Start it over from here.
		_ = q.Forget(context.WithoutCancel(ctx), id)
		return Application{}, fault.ErrUnavailable.WithMessage("the queue was being rebuilt; apply again").Wrap(err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Application{}, fault.ErrUnavailable.WithMessage("the deal is too busy to confirm your application; apply again").Wrap(err)
	}
	if err != nil {
		return Application{}, fmt.Errorf("apply to %s: %w", id, err)
	}
	return app, nil
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// insertApplication inserts the application if the reservation takes applications now
// (by the database clock) and the applicant is not its seller, in one statement; when it
// does not, the statement says why.
func insertApplication(ctx context.Context, db queryRower, id uuid.UUID, pos int64, status string, who Applicant) error {
	var open, started, ended bool
	err := db.QueryRow(ctx, `
		WITH r AS (
		  SELECT id, status IN ('AVAILABLE', 'PENDING', 'PAID') AS open,
		         start_time <= clock_timestamp() AS started, end_time <= clock_timestamp() AS ended, seller_id
		    FROM reservations.reservations WHERE id = $1
		), ins AS (
		  INSERT INTO reservations.applications (reservation_id, position, user_id, nickname, status)
		  SELECT id, $2, $3, $4, $5 FROM r WHERE open AND started AND NOT ended AND seller_id <> $3
		  RETURNING 1
		)
		SELECT open, started, ended FROM r WHERE NOT EXISTS (SELECT 1 FROM ins)`,
		id, pos, who.UserID, who.Nickname, status).Scan(&open, &started, &ended)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil // inserted
	case err != nil:
		return err
	case !open:
		return ErrClosed
	case !started:
		return ErrNotOpen
	case ended:
		return ErrEnded
	default:
		return ErrSellerApplies
	}
}

// selectBuyer makes the first applicant the buyer: PENDING with a payment deadline, a
// history row and reservation-applied for the product.
func (q *Queue) selectBuyer(ctx context.Context, tx pgx.Tx, id uuid.UUID, pos int64, who Applicant, app *Application) error {
	var productID, sellerID uuid.UUID
	var sellerNickname string
	var version, price int64
	var deadline time.Time
	err := tx.QueryRow(ctx, `
		UPDATE reservations.reservations
		   SET status = 'PENDING', buyer_id = $2, buyer_nickname = $3, buyer_position = $4,
		       payment_deadline = clock_timestamp() + make_interval(secs => $5),
		       version = version + 1, modified_at = clock_timestamp()
		 WHERE id = $1 AND status = 'AVAILABLE' AND buyer_id IS NULL
		RETURNING product_id, seller_id, seller_nickname, version, product_price, payment_deadline`,
		id, who.UserID, who.Nickname, pos, q.paymentWindow.Seconds()).Scan(&productID, &sellerID, &sellerNickname, &version, &price, &deadline)
	if errors.Is(err, pgx.ErrNoRows) {
		// Someone holds the reservation already (a buyer promoted after a Redis rebuild):
		// this applicant waits like the others.
		_, err = tx.Exec(ctx, `UPDATE reservations.applications SET status = 'WAITING' WHERE reservation_id = $1 AND position = $2`, id, pos)
		return err
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO reservations.history (id, reservation_id, previous_status, new_status, comment, changed_by)
		VALUES ($1, $2, 'AVAILABLE', 'PENDING', 'first applicant selected as buyer', $3)`,
		uuid.New(), id, who.UserID); err != nil {
		return err
	}
	buyer := who.UserID
	if err := outbox.Write(ctx, tx, outbox.Event{
		Topic: events.ReservationApplied, Source: events.SourceReservations, AggregateID: id.String(),
		Data: events.ReservationData{
			ReservationID: id, ProductID: productID, Version: version, Status: "PENDING",
			SellerID: sellerID, SellerNickname: sellerNickname, BuyerID: &buyer, BuyerNickname: who.Nickname, Price: price,
		},
	}); err != nil {
		return err
	}
	app.Status, app.Position, app.PaymentDeadline = "SELECTED", 0, &deadline
	return nil
}

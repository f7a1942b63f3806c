package devstack_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	relay "github.com/8949market/market/outbox-relay"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/testenv"
)

// A stack killed after its relay had sent events and before its consumers recorded them
// lost them with its in-process broker. The next start publishes them again and every
// consumer applies each exactly once; what the consumers had recorded before the crash is
// not published again.
func TestStartRedeliversWhatTheBrokerLost(t *testing.T) {
	t.Parallel()
	for _, backbone := range []string{"kafka", "pubsub"} {
		t.Run(backbone, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cfg, signer := testenv.Config(t)
			cfg.Backbone = backbone
			db := testenv.Connect(t, cfg.DatabaseURL)

			// Before the crash: products whose events their consumer recorded.
			recorded := runUntilSettled(t, cfg, signer, 2)

			// The crash: events the relay had marked SENT, then the broker's log died.
			start := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
			var products, cancelled, trades []uuid.UUID
			for i := range 5 {
				p := uuid.New()
				products = append(products, p)
				lost(t, db, events.ProductCreated, events.SourceProducts, p, events.ProductCreatedData{
					ProductID: p, Name: fmt.Sprintf("lost %d", i), Price: 1000, SellerID: uuid.New(), SellerNickname: "s",
					StartTime: start, EndTime: start.Add(time.Hour)})
				if i < 2 { // and its cancellation after it, in the order of the aggregate
					cancelled = append(cancelled, p)
					lost(t, db, events.ProductCancelled, events.SourceProducts, p, events.ProductCancelledData{ProductID: p, By: uuid.New()})
				}
			}
			for range 2 { // the chat server's own consumer
				tr := uuid.New()
				trades = append(trades, tr)
				lost(t, db, events.TradeCreated, events.SourceTrades, tr, events.TradeData{TradeID: tr, ReservationID: uuid.New(),
					ProductID: uuid.New(), ProductName: "lost", SellerID: uuid.New(), BuyerID: uuid.New()})
			}

			st := stacktest.StartWith(t, cfg, signer)
			if err := st.Settle(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := st.Redelivered(), (relay.Reconciled{Redelivered: 9}); got != want {
				t.Errorf("redelivered at start %+v, want %+v", got, want)
			}
			// Pub/Sub's settling is a guess (quiet for a while): wait for the rows too.
			for !allRecorded(t, db) {
				if ctx.Err() != nil {
					t.Fatal("events still unrecorded after 2 minutes")
				}
				time.Sleep(50 * time.Millisecond)
			}

			for _, p := range products {
				want := "AVAILABLE"
				if contains(cancelled, p) {
					want = "CANCELLED"
				}
				var n int
				var status string
				if err := db.QueryRow(ctx, `SELECT count(*), min(status) FROM reservations.reservations WHERE product_id = $1`, p).
					Scan(&n, &status); err != nil {
					t.Fatal(err)
				}
				if n != 1 || status != want {
					t.Errorf("product %s: %d reservations, status %q; want one, %s", p, n, status, want)
				}
			}
			for _, tr := range trades {
				// The room's own announcement counts its effect: written once per trade.
				var rooms, announced int
				if err := db.QueryRow(ctx, `
					SELECT (SELECT count(*) FROM chat.rooms WHERE trade_id = $1),
					       (SELECT count(*) FROM messaging.outbox WHERE topic = 'chat-room-created' AND payload->>'tradeId' = $1::text)`,
					tr).Scan(&rooms, &announced); err != nil {
					t.Fatal(err)
				}
				if rooms != 1 || announced != 1 {
					t.Errorf("trade %s: %d rooms, %d chat-room-created; want one of each", tr, rooms, announced)
				}
			}
			// Every event sent is recorded once by each consumer of its topic, and nothing
			// recorded before the crash was published again.
			consumers := map[string]int{}
			for _, f := range registry.All() {
				if f.Kind == registry.KindEvent {
					consumers[f.Topic]++
				}
			}
			rows, err := db.Query(ctx, `
				SELECT o.id, o.topic, o.attempts, (SELECT count(*) FROM messaging.inbox i WHERE i.event_id = o.id)
				  FROM messaging.outbox o WHERE o.status = 'SENT'`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id uuid.UUID
				var topic string
				var attempts, inbox int
				if err := rows.Scan(&id, &topic, &attempts, &inbox); err != nil {
					t.Fatal(err)
				}
				if inbox != consumers[topic] {
					t.Errorf("%s %s recorded %d times, want %d (its consumers)", topic, id, inbox, consumers[topic])
				}
				if contains(recorded, id) && attempts != 1 {
					t.Errorf("%s %s, recorded before the crash, was published %d times", topic, id, attempts)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// allRecorded says whether every sent event is recorded by every consumer of its topic.
func allRecorded(t *testing.T, db *pgxpool.Pool) bool {
	t.Helper()
	var topics, consumers []string
	for _, f := range registry.All() {
		if f.Kind == registry.KindEvent {
			topics, consumers = append(topics, f.Topic), append(consumers, f.Name)
		}
	}
	var missing bool
	if err := db.QueryRow(context.Background(), `
		SELECT EXISTS (SELECT 1 FROM messaging.outbox o JOIN unnest($1::text[], $2::text[]) AS c(topic, consumer) ON c.topic = o.topic
		                WHERE o.status <> 'FAILED'
		                  AND NOT EXISTS (SELECT 1 FROM messaging.inbox i WHERE i.consumer = c.consumer AND i.event_id = o.id))`,
		topics, consumers).Scan(&missing); err != nil {
		t.Fatal(err)
	}
	return !missing
}

// runUntilSettled runs a stack on cfg, creates n products through the API, waits until
// their events are recorded, stops the stack and returns the ids of the events it sent.
func runUntilSettled(t *testing.T, cfg config.Config, signer *auth.Signer, n int) []uuid.UUID {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{Config: cfg, Listen: "127.0.0.1:0", ChatListen: "127.0.0.1:0", NoSchedules: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	token, _, err := signer.Access(auth.Identity{UserID: uuid.New(), Username: "seller01", Nickname: "s", Role: auth.RoleUser}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now().Add(time.Hour).UTC()
	for i := range n {
		res := stacktest.Do(t, client, "POST", st.URL+"/api/v1/products", map[string]any{
			"name": fmt.Sprintf("item %d", i), "price": 1000,
			"startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339),
		}, token)
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
	}
	settle, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	if err := st.Settle(settle); err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	if err := pgx.BeginFunc(ctx, st.Kit.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM messaging.outbox WHERE status = 'SENT'`)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(ids) < n {
		t.Fatalf("%d events sent before the crash, want at least %d", len(ids), n)
	}
	return ids
}

// lost writes an event as a relay does that published it to a broker which then died:
// committed, marked SENT, recorded by no consumer.
func lost(t *testing.T, db *pgxpool.Pool, topic, source string, aggregate uuid.UUID, data any) {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := outbox.Write(ctx, tx, outbox.Event{ID: id, Topic: topic, Source: source, AggregateID: aggregate.String(), Data: data}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE messaging.outbox SET status = 'SENT', sent_at = now(), attempts = 1 WHERE id = $1`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func contains(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// A consumer that acknowledges an event has recorded it in its inbox, under its function
// name, whatever it made of the event (an unknown product, an old version): otherwise the
// relay would take the event for lost and publish it again until it gave up. Each
// consumer gets a well-formed event about aggregates that do not exist.
func TestConsumersRecordWhatTheyAcknowledge(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	ctx := context.Background()
	future := time.Now().Add(time.Hour).UTC()
	id := uuid.New
	reservation := events.ReservationData{ReservationID: id(), ProductID: id(), Version: 1, Status: "PENDING",
		SellerID: id(), SellerNickname: "s", BuyerID: new(uuid.New()), BuyerNickname: "b", Price: 1000, ProductName: "p"}
	trade := events.TradeData{TradeID: id(), ReservationID: id(), ProductID: id(), ProductName: "p", SellerID: id(), BuyerID: id()}
	samples := map[string]any{
		events.ProductCreated: events.ProductCreatedData{ProductID: id(), Name: "p", Price: 1000, SellerID: id(), SellerNickname: "s",
			StartTime: future, EndTime: future.Add(time.Hour)},
		events.ProductUpdated: events.ProductUpdatedData{ProductID: id(), Name: "p", Price: 1000, StartTime: future,
			EndTime: future.Add(time.Hour), Status: "PENDING_RESERVATION"},
		events.ProductCancelled:     events.ProductCancelledData{ProductID: id(), By: id()},
		events.ProductFailed:        events.ProductFailedData{ProductID: id(), Reason: "test"},
		events.ReservationApplied:   reservation,
		events.ReservationCompleted: reservation,
		events.ReservationCancelled: reservation,
		events.ReservationTradeFail: events.ReservationTradeFailData{ReservationID: id(), ProductID: id(), Reason: "test"},
		events.TradeCreated:         trade,
		events.TradeCompleted:       trade,
		events.TradeCancelled:       trade,
		events.ChatRoomCreated:      events.ChatRoomCreatedData{RoomID: id(), TradeID: id()},
		// Typed as the catalogue names the topic, not as Cloud Storage's notification: the
		// consumer refuses it (400), which the loop below allows.
		events.UploadFinalized: objectevent.Object{Bucket: "uploads", Name: id().String() + "/" + id().String(), Generation: "1"},
	}
	acknowledged := 0
	for _, f := range registry.All() {
		if f.Kind != registry.KindEvent {
			continue
		}
		data, ok := samples[f.Topic]
		if !ok {
			t.Errorf("%s consumes %s: add a sample event for it here", f.Name, f.Topic)
			continue
		}
		event := uuid.New()
		domain, _, _ := strings.Cut(f.Topic, "-")
		source := map[string]string{"product": events.SourceProducts, "reservation": events.SourceReservations,
			"trade": events.SourceTrades, "chat": events.SourceChat}[domain]
		status, err := st.Deliver(f.Name, f.Topic, source, event, data)
		if err != nil {
			t.Fatal(err)
		}
		var recorded bool
		if err := st.Kit.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messaging.inbox WHERE consumer = $1 AND event_id = $2)`,
			f.Name, event).Scan(&recorded); err != nil {
			t.Fatal(err)
		}
		switch {
		case status/100 == 2 && !recorded:
			t.Errorf("%s acknowledged %s (status %d) without recording it in its inbox", f.Name, f.Topic, status)
		case status/100 == 2:
			acknowledged++
		case recorded:
			t.Errorf("%s recorded %s but answered %d", f.Name, f.Topic, status)
		default:
			// Refused: redelivered, then dead-lettered, where an operator finds it.
			t.Logf("%s refused %s about unknown aggregates: %d", f.Name, f.Topic, status)
		}
	}
	if acknowledged == 0 {
		t.Fatal("no consumer acknowledged anything: the samples are wrong")
	}
}

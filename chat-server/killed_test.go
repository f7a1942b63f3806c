package chatserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testenv/instance"
	"github.com/8949market/market/shared/testfactory"
)

// The chat-server binary, on a PostgreSQL and a Redis of its own, is killed (SIGKILL)
// while its clients are in the middle of a burst, and started again. The clients reconnect,
// join with the last id they saw, and resend with the same clientId what was neither
// acknowledged nor seen stored. Nothing is missed: every room's stored messages are, in
// order and exactly once, what each of its members received across both connections and
// what its history answers; every message acknowledged before the kill is among them; and
// every message sent is stored once, its sender having learned so by an acknowledgement, by
// the replay, or (for a statement PostgreSQL committed after the replay) by the duplicate
// acknowledgement of its resend; never is a message the replay should have shown missing.
func TestServerKilled(t *testing.T) {
	t.Parallel()
	const (
		rooms     = 4
		perClient = 60                        // messages each member sends
		window    = 8                         // sends a client keeps unacknowledged at once
		killAt    = rooms * 2 * perClient / 3 // acknowledgements received before the kill
	)
	pg := instance.Postgres(t)
	dsn := pg.Migrated(t, "market")
	rs := instance.Redis(t)
	db := testenv.Connect(t, dsn)
	key := testenv.Key(t)
	signer := auth.NewSigner(key)
	jwks, err := json.Marshal(auth.JWKS{Keys: []auth.JWK{key.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	srv := chattest.StartProcess(t, chattest.Binary(t),
		"DATABASE_URL="+dsn, "REDIS_URL="+rs.URL(), "JWT_PUBLIC_KEYS="+string(jwks), "JWT_SIGNING_KEY=",
		"PUSH_AUTH=token", "PUSH_TOKEN="+auth.NewTokenID()+auth.NewTokenID(),
		"LOG_LEVEL=warn", "CHAT_MESSAGES_PER_SECOND=1000000", "CHAT_BURST=1000000")

	var clients []*burstClient
	for r := range rooms {
		buyer, seller := signedMember(t, signer), signedMember(t, signer)
		room := openRoom(t, db, buyer, seller)
		clients = append(clients,
			&burstClient{name: fmt.Sprintf("room %d buyer", r), member: buyer, room: room, base: srv.URL},
			&burstClient{name: fmt.Sprintf("room %d seller", r), member: seller, room: room, base: srv.URL})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for _, c := range clients {
		c.init()
		wg.Go(func() {
			if err := c.run(perClient, window, stop); err != nil {
				errs <- fmt.Errorf("%s: %w", c.name, err)
			}
		})
	}
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
	failed := func() {
		t.Helper()
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
	}

	testenv.Eventually(t, time.Minute, "acknowledgements before the kill", func() bool {
		failed()
		n := 0
		for _, c := range clients {
			n += c.count(func() int { return len(c.acked) })
		}
		return n >= killAt
	})
	srv.Kill()
	srv.Start()

	testenv.Eventually(t, 2*time.Minute, "every send acknowledged or seen stored", func() bool {
		failed()
		for _, c := range clients {
			if c.count(func() int { return perClient - len(c.resolved()) }) > 0 {
				return false
			}
		}
		return true
	})
	stored := map[uuid.UUID][]chat.Message{}
	for _, c := range clients {
		if _, ok := stored[c.room]; !ok {
			stored[c.room] = storedMessages(t, db, c.room)
		}
	}
	testenv.Eventually(t, time.Minute, "every client at its room's last message", func() bool {
		failed()
		for _, c := range clients {
			list := stored[c.room]
			if c.count(func() int { return int(c.last) }) < int(list[len(list)-1].ID) {
				return false
			}
		}
		return true
	})

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "client\tsent\tacked before kill\tunacked at kill\tof those seen stored\tresent\tresent found stored\tacked\treceived\tstored in room\t")
	var total struct{ sent, ackedFirst, unacked, learned, resent, late, acked, received, stored int }
	for _, c := range clients {
		c.mu.Lock()
		list := stored[c.room]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.name, len(c.sent), c.ackedFirst, c.unackedAtKill,
			c.learned, c.resent, c.lateCommits+c.missedInReplay, len(c.acked), len(c.view), len(list))
		total.sent += len(c.sent)
		total.ackedFirst += c.ackedFirst
		total.unacked += c.unackedAtKill
		total.learned += c.learned
		total.resent += c.resent
		total.late += c.lateCommits + c.missedInReplay
		total.acked += len(c.acked)
		total.received += len(c.view)
		c.mu.Unlock()
	}
	for _, list := range stored {
		total.stored += len(list)
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", total.sent, total.ackedFirst, total.unacked, total.learned,
		total.resent, total.late, total.acked, total.received, total.stored)
	_ = tw.Flush()
	t.Logf("kill -9 after %d acknowledgements, then a restart:\n%s", killAt, table.String())

	if total.unacked == 0 {
		t.Errorf("no send was in flight at the kill: the test killed nothing mid-burst")
	}
	if total.sent != rooms*2*perClient || total.stored != total.sent {
		t.Errorf("%d messages stored, %d sent", total.stored, total.sent)
	}
	for _, c := range clients {
		c.mu.Lock()
		list := stored[c.room]
		ids := make([]int64, len(list))
		byID := map[int64]chat.Message{}
		for i, m := range list {
			ids[i] = m.ID
			byID[m.ID] = m
		}
		// Exactly once, in order, all of it.
		if !slices.Equal(c.view, ids) {
			t.Errorf("%s received %v, the room holds %v", c.name, c.view, ids)
		}
		// Every send stored once, as acknowledged or as seen in the replay.
		mine := map[string]int64{}
		for _, m := range list {
			if m.SenderID == c.member.UserID {
				mine[m.ClientID] = m.ID
			}
		}
		if len(mine) != len(c.sent) {
			t.Errorf("%s sent %d messages, %d of them stored", c.name, len(c.sent), len(mine))
		}
		// An acknowledgement names the stored message: so each acknowledged before the
		// kill is in both members' views, which are the room's.
		for _, cid := range c.sent {
			id, ok := mine[cid]
			if !ok {
				t.Errorf("%s: send %s not stored", c.name, cid)
				continue
			}
			if m := byID[id]; m.Content != c.content[cid] {
				t.Errorf("%s: send %s stored as %q, sent as %q", c.name, cid, m.Content, c.content[cid])
			}
			if a, ok := c.acked[cid]; ok && a.ID != id {
				t.Errorf("%s: send %s acknowledged as message %d, stored as %d", c.name, cid, a.ID, id)
			}
		}
		if c.missedInReplay > 0 {
			t.Errorf("%s: %d resends were already stored, though the replay did not show them", c.name, c.missedInReplay)
		}
		if c.dupDeliveries > 0 {
			t.Errorf("%s: %d messages delivered twice", c.name, c.dupDeliveries)
		}
		if len(c.errors) > 0 {
			t.Errorf("%s: error frames %v", c.name, c.errors)
		}
		// What was acknowledged before the kill is in both members' views (checked above
		// as the whole room); and the history over REST says the same.
		c.mu.Unlock()
		history := []int64{}
		before := ""
		client := &http.Client{Timeout: 30 * time.Second}
		for pages := 0; ; pages++ {
			q := url.Values{"limit": {"200"}}
			if before != "" {
				q.Set("before", before)
			}
			var h chat.History
			stacktest.Do(t, client, "GET", srv.URL+chattest.RoomPath(c.room.String(), "/messages?"+q.Encode()), nil, c.member.Token).Data(t, &h)
			page := make([]int64, len(h.Messages))
			for i, m := range h.Messages {
				page[i] = m.ID
			}
			history = append(page, history...)
			if !h.HasMore || pages > 100 {
				break
			}
			before = strconv.FormatInt(*h.NextBefore, 10)
		}
		if !slices.Equal(history, ids) {
			t.Errorf("%s: the history answers %v, the room holds %v", c.name, history, ids)
		}
	}
}

// signedMember is a fresh user with a token of signer's.
func signedMember(t *testing.T, signer *auth.Signer) chattest.Member {
	t.Helper()
	id := uuid.New()
	token, who, err := signer.Access(auth.Identity{UserID: id, Username: "u" + id.String()[:8], Nickname: "n" + id.String()[:6], Role: auth.RoleUser}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return chattest.Member{Token: token, Identity: who}
}

// openRoom opens the room of a new trade between buyer and seller, as trade-created does.
func openRoom(t *testing.T, db *pgxpool.Pool, buyer, seller chattest.Member) uuid.UUID {
	t.Helper()
	return testfactory.Room(context.Background(), t, db, &testfactory.RoomOpts{
		BuyerID: buyer.UserID, BuyerNickname: buyer.Nickname, SellerID: seller.UserID, SellerNickname: seller.Nickname}).ID
}

func storedMessages(t *testing.T, db *pgxpool.Pool, room uuid.UUID) []chat.Message {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id, sender_id, client_id, content FROM chat.messages WHERE room_id = $1 ORDER BY id`, room)
	if err != nil {
		t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (chat.Message, error) {
		var m chat.Message
		return m, row.Scan(&m.ID, &m.SenderID, &m.ClientID, &m.Content)
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// burstClient is one member's client in TestServerKilled: it sends its messages with a
// few unacknowledged at a time; after a lost connection it reconnects, joins with the last
// id it saw, and resends with the same clientId what was neither acknowledged nor seen in
// the replay.
type burstClient struct {
	name   string
	member chattest.Member
	room   uuid.UUID
	base   string

	// changed is signalled when a frame arrives or the connection ends.
	changed chan struct{}

	mu       sync.Mutex
	sent     []string // client ids, in order of their first send
	content  map[string]string
	acked    map[string]chat.Message // by client id
	own      map[string]int64        // own messages received (live or replayed), by client id
	view     []int64                 // message ids received, in order, across connections
	last     int64
	joinedAt int64 // the room's last id at the latest join; -1 until joined
	errors   []string
	// What a failure or the log needs.
	missedInReplay, lateCommits, dupDeliveries        int
	conns, ackedFirst, unackedAtKill, learned, resent int
}

func (c *burstClient) init() {
	c.changed = make(chan struct{}, 1)
	c.content, c.acked, c.own = map[string]string{}, map[string]chat.Message{}, map[string]int64{}
}

// count reads f under the client's lock.
func (c *burstClient) count(f func() int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return f()
}

// resolved is the sends the client knows are stored: acknowledged or seen. Under mu.
func (c *burstClient) resolved() map[string]bool {
	out := map[string]bool{}
	for _, cid := range c.sent {
		_, acked := c.acked[cid]
		_, seen := c.own[cid]
		if acked || seen {
			out[cid] = true
		}
	}
	return out
}

// run connects and sends perClient messages, reconnecting whenever the connection is lost,
// until stop.
func (c *burstClient) run(perClient, window int, stop <-chan struct{}) error {
	for {
		ws, done, err := c.connect(stop)
		if err != nil || ws == nil {
			return err
		}
		if err := c.resume(ws); err != nil {
			return err
		}
		for {
			c.mu.Lock()
			next, inFlight := len(c.sent), len(c.sent)-len(c.resolved())
			c.mu.Unlock()
			if next < perClient && inFlight < window {
				cid := fmt.Sprintf("%s-%03d", c.member.UserID.String()[:8], next)
				text := fmt.Sprintf("%s says %d", c.name, next)
				c.mu.Lock()
				c.sent, c.content[cid] = append(c.sent, cid), text
				c.mu.Unlock()
				if c.write(ws, cid, text) != nil {
					break // the connection is gone: the resume resends it
				}
				continue
			}
			select {
			case <-stop:
				_ = ws.Close(websocket.StatusNormalClosure, "")
				return nil
			case <-done:
			case <-c.changed:
				continue
			}
			break
		}
		<-done
	}
}

func (c *burstClient) write(ws *websocket.Conn, cid, text string) error {
	raw, err := json.Marshal(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &c.room, ClientID: cid, Content: text})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, raw)
}

// connect dials until the server answers (it may be down for a while), joins with the last
// id seen, and returns once the replay up to the room's last message at the join is in.
func (c *burstClient) connect(stop <-chan struct{}) (*websocket.Conn, chan struct{}, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ws, _, err := websocket.Dial(ctx, chattest.WSURL(c.base), &websocket.DialOptions{HTTPHeader: chattest.Bearer(c.member.Token)})
		cancel()
		if err == nil {
			ws.SetReadLimit(1 << 20)
			c.mu.Lock()
			c.joinedAt, c.conns = -1, c.conns+1
			last := c.last
			c.mu.Unlock()
			done := make(chan struct{})
			go c.read(ws, done)
			raw, _ := json.Marshal(chatserver.Frame{Type: chatserver.TypeJoin, RoomID: &c.room, LastID: &last})
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = ws.Write(wctx, websocket.MessageText, raw)
			wcancel()
			for err == nil {
				c.mu.Lock()
				ready := c.joinedAt >= 0 && c.last >= c.joinedAt
				c.mu.Unlock()
				if ready {
					return ws, done, nil
				}
				select {
				case <-c.changed:
				case <-done:
					err = fmt.Errorf("connection lost while joining")
				case <-stop:
					err = fmt.Errorf("stopped while joining")
				case <-time.After(time.Minute):
					return nil, nil, fmt.Errorf("not joined within a minute")
				}
			}
			_ = ws.CloseNow()
			<-done
		}
		select {
		case <-stop:
			return nil, nil, nil
		default:
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("no connection within 2 minutes: %w", err)
		}
		time.Sleep(50 * time.Millisecond) // a client's reconnection back-off while the server is down
	}
}

// resume, on a connection after the first, sends again what was neither acknowledged nor
// seen stored in the replay, with the same client ids.
func (c *burstClient) resume(ws *websocket.Conn) error {
	c.mu.Lock()
	if c.conns == 1 {
		c.mu.Unlock()
		return nil
	}
	resolved := c.resolved()
	var again []string
	if c.conns == 2 {
		c.ackedFirst = len(c.acked)
		c.unackedAtKill = len(c.sent) - len(c.acked)
		c.learned = len(resolved) - len(c.acked)
	}
	for _, cid := range c.sent {
		if !resolved[cid] {
			again = append(again, cid)
		}
	}
	c.resent += len(again)
	c.mu.Unlock()
	for _, cid := range again {
		if err := c.write(ws, cid, c.content[cid]); err != nil {
			return nil // lost again: the next resume resends
		}
	}
	return nil
}

// read takes the connection's frames until it ends.
func (c *burstClient) read(ws *websocket.Conn, done chan struct{}) {
	defer func() {
		close(done)
		c.signal()
	}()
	for {
		_, data, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		var f chatserver.Frame
		if err := json.Unmarshal(data, &f); err != nil {
			continue
		}
		c.mu.Lock()
		switch f.Type {
		case chatserver.TypeJoined:
			c.joinedAt = *f.LastID
		case chatserver.TypeMessage:
			m := f.Message
			if m.ID <= c.last {
				c.dupDeliveries++
				break
			}
			c.view, c.last = append(c.view, m.ID), m.ID
			if m.SenderID == c.member.UserID {
				c.own[m.ClientID] = m.ID
			}
		case chatserver.TypeAck:
			if f.Duplicate {
				// A resend already stored: fine if PostgreSQL committed it after this
				// connection's replay (the killed server's last statement), a loss of the
				// replay's otherwise.
				if f.Message.ID <= c.joinedAt {
					c.missedInReplay++
				} else {
					c.lateCommits++
				}
			}
			c.acked[f.ClientID] = *f.Message
		case chatserver.TypeError:
			c.errors = append(c.errors, f.Code+" "+f.Error)
		}
		c.mu.Unlock()
		c.signal()
	}
}

func (c *burstClient) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

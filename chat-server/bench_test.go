package chatserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
)

// The load: 1,000 connections, two per room (buyer and seller), each sending one message
// a second for 30 seconds. BENCH_CHAT_SECONDS and BENCH_CHAT_RATE (messages per second
// per connection) change it.
const (
	benchRooms = 500
	benchConns = 2 * benchRooms
)

// BenchmarkChat runs the chat-server binary as its own process on the stack's database
// and Redis (so its memory is measured alone), opens 1,000 WebSockets in 500 rooms, sends
// for 30 seconds and reports messages per second, send-to-receive latency, the server's
// memory per connection, and every lost or duplicated message.
func BenchmarkChat(b *testing.B) {
	stacktest.Quiet(b)
	seconds := envInt(b, "BENCH_CHAT_SECONDS", 30)
	rate := envInt(b, "BENCH_CHAT_RATE", 1)
	st := stacktest.Start(b)
	base, pid := startChatProcess(b, st)

	rooms := make([]chattest.Room, benchRooms)
	for i := range rooms {
		rooms[i] = chattest.Open(b, st)
	}
	idle := rssKB(b, pid)
	clients := make([]*benchClient, 0, benchConns)
	for i, r := range rooms {
		for _, m := range []chattest.Member{r.Buyer, r.Seller} {
			c := dialBench(b, base, m, r.ID, i)
			clients = append(clients, c)
		}
	}
	for _, c := range clients {
		c.waitJoined(b)
	}
	connected := rssKB(b, pid)

	// One run whatever b.N: the load is fixed in size and time.
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.sendLoop(stop, rate)
		}()
	}
	time.Sleep(time.Duration(seconds) * time.Second) // the load runs for a fixed time
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	busy := rssKB(b, pid)
	// Sends still queued at the server are answered before anything is counted.
	deadline := time.Now().Add(60 * time.Second)
	for _, c := range clients {
		for c.acked.Load()+c.errors.Load() < c.sent.Load() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // draining after the load; bounded by deadline
		}
	}

	// Every client must reach its room's last message: nothing lost, nothing twice.
	last := map[uuid.UUID]int64{}
	rows, err := st.Kit.DB.Query(context.Background(), `SELECT id, last_message_id FROM chat.rooms`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			b.Fatal(err)
		}
		last[id] = n
	}
	rows.Close()
	// Throughput counts until the last acknowledgement, so a server that falls behind the
	// offered load shows its real rate.
	acking := time.Since(start)
	deadline = time.Now().Add(30 * time.Second)
	var lost int64
	for _, c := range clients {
		for c.lastID.Load() < last[c.room] && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // draining after the load; bounded by deadline
		}
		if gap := last[c.room] - c.lastID.Load(); gap > 0 {
			lost += gap
		}
	}
	var stored, sent, acked, dups, gaps, errs int64
	if err := st.Kit.DB.QueryRow(context.Background(), `SELECT count(*) FROM chat.messages`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for _, c := range clients {
		sent += c.sent.Load()
		acked += c.acked.Load()
		dups += c.dups.Load()
		gaps += c.gaps.Load()
		errs += c.errors.Load()
		c.mu.Lock()
		lat = append(lat, c.latency...)
		c.mu.Unlock()
		_ = c.ws.CloseNow()
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	perSec := float64(acked) / acking.Seconds()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "conns\trooms\tload s\tacked/s\tdelivered/s\tp50\tp95\tp99\tmax\tstored\tacked\tlost\tdup\tgaps\terrors\tKB/conn idle\tKB/conn busy\t")
	fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t\n",
		benchConns, benchRooms, elapsed.Seconds(), perSec, 2*perSec,
		pct(0.50).Round(100*time.Microsecond), pct(0.95).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond),
		pct(1).Round(100*time.Microsecond), stored, acked, lost, dups, gaps, errs,
		float64(connected-idle)/benchConns, float64(busy-idle)/benchConns)
	_ = tw.Flush()
	b.ReportMetric(perSec, "msgs/s")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
	if lost != 0 || dups != 0 || stored != acked || acked != sent {
		b.Errorf("lost %d, duplicated %d, sent %d, stored %d, acked %d", lost, dups, sent, stored, acked)
	}
}

// benchClient is a lean chat client: one reader, one sender, counters.
type benchClient struct {
	ws     *websocket.Conn
	room   uuid.UUID
	me     uuid.UUID
	joined chan struct{}
	sent   atomic.Int64
	lastID atomic.Int64
	acked  atomic.Int64
	dups   atomic.Int64
	gaps   atomic.Int64
	errors atomic.Int64

	mu      sync.Mutex
	latency []time.Duration
}

func dialBench(b *testing.B, base string, m chattest.Member, room uuid.UUID, i int) *benchClient {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, chattest.WSURL(base), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + m.Token}},
	})
	if err != nil {
		b.Fatalf("dial %d: %v", i, err)
	}
	c := &benchClient{ws: ws, room: room, me: m.UserID, joined: make(chan struct{})}
	go c.read()
	raw, _ := json.Marshal(chatserver.Frame{Type: chatserver.TypeJoin, RoomID: &room})
	if err := ws.Write(ctx, websocket.MessageText, raw); err != nil {
		b.Fatalf("join %d: %v", i, err)
	}
	return c
}

func (c *benchClient) waitJoined(b *testing.B) {
	select {
	case <-c.joined:
	case <-time.After(30 * time.Second):
		b.Fatal("a client was not joined within 30s")
	}
}

func (c *benchClient) read() {
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		now := time.Now()
		var f chatserver.Frame
		if json.Unmarshal(data, &f) != nil {
			c.errors.Add(1)
			continue
		}
		switch f.Type {
		case chatserver.TypeJoined:
			c.lastID.Store(*f.LastID)
			close(c.joined)
		case chatserver.TypeAck:
			c.acked.Add(1)
		case chatserver.TypeError:
			c.errors.Add(1)
		case chatserver.TypeMessage:
			id, last := f.Message.ID, c.lastID.Load()
			switch {
			case id <= last:
				c.dups.Add(1)
				continue
			case id > last+1:
				c.gaps.Add(1)
			}
			c.lastID.Store(id)
			if f.Message.SenderID != c.me {
				sent, _ := strconv.ParseInt(strings.Fields(f.Message.Content)[0], 10, 64)
				c.mu.Lock()
				c.latency = append(c.latency, now.Sub(time.Unix(0, sent)))
				c.mu.Unlock()
			}
		}
	}
}

// sendLoop sends rate messages a second, starting at a random phase so the connections
// do not send in lockstep.
func (c *benchClient) sendLoop(stop chan struct{}, rate int) {
	every := time.Second / time.Duration(rate)
	select {
	case <-stop:
		return
	case <-time.After(time.Duration(uuid.New().ID()) % every):
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; ; n++ {
		content := strconv.FormatInt(time.Now().UnixNano(), 10) + " is the price still negotiable? (" + strconv.Itoa(n) + ")"
		raw, _ := json.Marshal(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &c.room, ClientID: strconv.Itoa(n), Content: content})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.ws.Write(ctx, websocket.MessageText, raw)
		cancel()
		if err != nil {
			c.errors.Add(1)
			return
		}
		c.sent.Add(1)
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// startChatProcess builds and starts the chat-server command on the stack's database and
// Redis, and returns its base URL and process id once it is healthy.
func startChatProcess(b *testing.B, st *stacktest.Stack) (string, int) {
	b.Helper()
	p := chattest.StartProcess(b, chattest.Binary(b),
		"DATABASE_URL="+st.Config.DatabaseURL, "REDIS_URL="+st.Config.RedisURL,
		"JWT_PUBLIC_KEYS="+st.Config.JWTPublicKeys, "JWT_SIGNING_KEY=",
		"PUSH_AUTH=token", "PUSH_TOKEN="+st.Config.PushToken,
		"LOG_LEVEL=warn", "CHAT_MAX_CONNS_PER_USER=5")
	return p.URL, p.Pid()
}

// rssKB reads a process's resident memory.
func rssKB(b *testing.B, pid int) int64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s must be a positive whole number", name)
	}
	return n
}

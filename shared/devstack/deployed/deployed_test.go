package deployed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack/deployed"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/picture/picturetest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testenv/instance"
	"github.com/8949market/market/shared/trades"
)

// bin holds the binaries, built once for the package as the images build them.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deployed-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := deployed.Build(context.Background(), "../../..", dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// shape starts the platform in its deployed shape on backbone, on a PostgreSQL and a
// Redis of its own (sixty processes' pools are more than the shared server should carry),
// and stops it when the test ends, failing if a service does not stop cleanly.
func shape(t *testing.T, backbone string) (*deployed.Shape, config.Config, registry.ManifestFile) {
	t.Helper()
	pg := instance.Postgres(t)
	rdb := instance.Redis(t)
	key := testenv.Key(t)
	priv, _ := json.Marshal(key.Private())
	pub, _ := json.Marshal(auth.JWKS{Keys: []auth.JWK{key.Public()}})
	cfg, err := config.Parse(map[string]string{
		"DATABASE_URL": pg.URL("market"), "REDIS_URL": rdb.URL(), "BACKBONE": backbone,
		"TOPIC_PREFIX": "test-", "PUBSUB_PROJECT_ID": "market-8949-test", "LOG_LEVEL": "info",
		"JWT_SIGNING_KEY": string(priv), "JWT_PUBLIC_KEYS": string(pub),
		"BOOTSTRAP_ADMIN_USERNAME": "rootadmin1", "BOOTSTRAP_ADMIN_PASSWORD": "Root!" + uuid.NewString()[:12],
		"CORS_ALLOWED_ORIGINS": pageOrigin,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../../infra/terraform/functions.json")
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := registry.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(t.TempDir(), "logs")
	s, err := deployed.Start(t.Context(), deployed.Options{
		Config: cfg, Manifest: manifest, Bin: bin, Dir: logs, Listen: "127.0.0.1:0",
		// Quick retries: a consumer that answers 5xx is retried within seconds, not minutes.
		Delivery: deployed.Delivery{MaxAttempts: 5, MinBackoff: time.Second, MaxBackoff: 5 * time.Second,
			AckDeadline: 30 * time.Second, Retention: time.Hour},
		Env: map[string]string{"BRIDGE_MIN_BACKOFF": "1s", "BRIDGE_MAX_BACKOFF": "5s"},
	})
	if err != nil {
		t.Fatalf("start the deployed shape: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop the deployed shape: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.Healthy(ctx); err != nil {
		t.Fatal(err)
	}
	var rss int64
	for _, v := range s.Memory() {
		rss += v
	}
	t.Logf("%s: %d processes up in %s, %d MiB resident (logs in %s)", backbone, s.Processes(), s.Started.Round(time.Millisecond), rss>>20, logs)
	return s, cfg, manifest
}

// client talks to the shape as a client does: through the gateway, and to the chat
// server on its own URL.
type client struct {
	t        *testing.T
	s        *deployed.Shape
	http     *http.Client
	admin    string
	cfg      config.Config
	manifest registry.ManifestFile
}

func (c client) do(method, path string, body any, token string) stacktest.Response {
	c.t.Helper()
	return stacktest.Do(c.t, c.http, method, c.s.URL+path, body, token)
}

func (c client) must(method, path string, body any, token string, status int, v any) {
	c.t.Helper()
	res := c.do(method, path, body, token)
	if res.Status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.Status, status, res.Body)
	}
	if v != nil {
		res.Data(c.t, v)
	}
}

func (c client) login(username, password string) string {
	c.t.Helper()
	var p stacktest.Pair
	c.must("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, "", 200, &p)
	return p.AccessToken
}

type user struct {
	id    uuid.UUID
	token string
}

func (c client) signup() user {
	c.t.Helper()
	suffix := uuid.NewString()
	name, password := "u"+suffix[:8]+suffix[9:12], "Secret!"+suffix[:8]
	var created struct {
		UserID uuid.UUID `json:"userId"`
	}
	c.must("POST", "/api/v1/auth/signup", map[string]any{
		"username": name, "password": password, "userRole": "USER", "name": "Tester", "nickname": "nick" + suffix[:6],
		"chatTimeRanges": []map[string]string{{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "18:00"}},
	}, "", 201, &created)
	return user{id: created.UserID, token: c.login(name, password)}
}

// eventually polls cond until it holds, failing after within.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, within, what, cond)
}

// The whole deal in the deployed shape, on both backbones: a product listed, its
// reservation opened by the consumer behind the backbone, buyers racing at the start, the
// payment and the seller's completion, the trade, the chat room opened by the chat server,
// messages both ways over the WebSocket, both completions, and the product COMPLETED and
// the reservation CLOSED. Then every internal endpoint refuses forged deliveries.
func TestDeployedShape(t *testing.T) {
	for _, backbone := range []string{"pubsub", "kafka"} {
		t.Run(backbone, func(t *testing.T) {
			t.Parallel()
			s, cfg, manifest := shape(t, backbone)
			c := client{t: t, s: s, http: &http.Client{Timeout: 30 * time.Second}, cfg: cfg, manifest: manifest}
			c.admin = c.login(cfg.BootstrapAdminUsername, cfg.BootstrapAdminPassword)
			preflights(t, c)
			photos(t, c)
			d := deal(t, c)
			talk(t, c, d)
			finish(t, c, d)
			forgeries(t, c, d)
		})
	}
}

// pageOrigin is the browser origin the shape allows (CORS_ALLOWED_ORIGINS).
const pageOrigin = "http://localhost:5173"

// preflights: a browser's preflight passes the gateway stand-in to a function of its path
// (or to the chat server), which answers it without any token; another origin is refused.
func preflights(t *testing.T, c client) {
	for _, p := range []struct {
		origin, method, path string
		status               int
	}{
		{pageOrigin, "PATCH", "/api/v1/reservations/" + uuid.NewString(), 204},
		{pageOrigin, "POST", "/api/v1/products", 204},
		{pageOrigin, "GET", "/api/v1/chat/rooms", 204},
		{"https://evil.example.com", "POST", "/api/v1/auth/login", 403},
	} {
		req, err := http.NewRequestWithContext(t.Context(), "OPTIONS", c.s.URL+p.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", p.origin)
		req.Header.Set("Access-Control-Request-Method", p.method)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		want := ""
		if p.status == 204 {
			want = p.origin
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); res.StatusCode != p.status || got != want {
			t.Errorf("preflight %s %s from %s: status %d, Access-Control-Allow-Origin %q; want %d, %q",
				p.method, p.path, p.origin, res.StatusCode, got, p.status, want)
		}
	}
}

// photos: a seller's upload goes straight to Cloud Storage's stand-in by its signed URL;
// the bucket's notification travels the backbone (on Pub/Sub in Cloud Storage's own
// format, pushed as on GCP) to products-upload-finalized, whose photo then shows on the
// product through the gateway, metadata stripped; a file that is no image is rejected
// with why.
func photos(t *testing.T, c client) {
	seller := c.signup()
	var p products.View
	start := time.Now().Add(time.Hour).UTC()
	c.must("POST", "/api/v1/products", map[string]any{
		"name": "Lamp with photos", "price": 12000,
		"startTime": start.Format(time.RFC3339Nano), "endTime": start.Add(time.Hour).Format(time.RFC3339Nano),
	}, seller.token, 201, &p)
	var photo, text products.UploadSlot
	c.must("POST", "/api/v1/products/"+p.ProductID.String()+"/photos", map[string]string{"contentType": "image/jpeg"}, seller.token, 201, &photo)
	c.must("POST", "/api/v1/products/"+p.ProductID.String()+"/photos", map[string]string{"contentType": "image/jpeg"}, seller.token, 201, &text)
	if !strings.HasPrefix(photo.Upload.URL, c.s.StorageURL+"/") {
		t.Fatalf("upload URL %s is not the storage's (%s)", photo.Upload.URL, c.s.StorageURL)
	}
	began := time.Now()
	producttest.Upload(t, photo, picturetest.WithGPS(t, picturetest.JPEG(t, 1200, 900)))
	producttest.Upload(t, text, []byte("not a photo at all"))
	eventually(t, 30*time.Second, "the photo shown on the product", func() bool {
		c.must("GET", "/api/v1/products/"+p.ProductID.String(), nil, seller.token, 200, &p)
		return len(p.Photos) == 1
	})
	t.Logf("upload to visible through the gateway: %v", time.Since(began).Round(time.Millisecond))
	res := producttest.Fetch(t, p.Photos[0].ThumbnailURL, nil)
	if res.Status != 200 || res.Header.Get("Cache-Control") != products.PhotoCache || bytes.Contains(res.Body, []byte("Exif")) {
		t.Errorf("thumbnail: %d %q, %d bytes", res.Status, res.Header.Get("Cache-Control"), len(res.Body))
	}
	var states []products.PhotoState
	eventually(t, 30*time.Second, "the text file rejected", func() bool {
		c.must("GET", "/api/v1/products/"+p.ProductID.String()+"/photos", nil, seller.token, 200, &states)
		return len(states) == 2 && states[1].Status == products.PhotoRejected
	})
	if states[1].Rejection == nil || states[1].Rejection.Code != "NOT_AN_IMAGE" {
		t.Errorf("rejected photo %+v", states[1])
	}
}

// sale is the deal as it moves through the chain.
type sale struct {
	seller        user
	buyers        []user
	productID     uuid.UUID
	reservationID uuid.UUID
	buyer         user // the winner
	trade         trades.Trade
}

func deal(t *testing.T, c client) sale {
	d := sale{seller: c.signup()}
	for range 4 {
		d.buyers = append(d.buyers, c.signup())
	}
	start := time.Now().Add(3 * time.Second).UTC().Truncate(time.Millisecond)
	var p products.View
	c.must("POST", "/api/v1/products", map[string]any{
		"name": "Bicycle", "price": 5000,
		"startTime": start.Format(time.RFC3339Nano), "endTime": start.Add(time.Hour).Format(time.RFC3339Nano),
	}, d.seller.token, 201, &p)
	d.productID = p.ProductID

	// product-created travels the backbone to reservations-product-created.
	eventually(t, 20*time.Second, "the reservation opened from product-created", func() bool {
		res := c.do("GET", "/api/v1/reservations?productId="+d.productID.String(), nil, d.seller.token)
		if res.Status != 200 {
			return false
		}
		var sum reservations.Summary
		res.Data(t, &sum)
		d.reservationID = sum.ReservationID
		return true
	})

	// The race: every buyer applies at the start instant.
	time.Sleep(time.Until(start))
	apps := make([]reservations.Application, len(d.buyers))
	var wg sync.WaitGroup
	for i, b := range d.buyers {
		wg.Go(func() {
			for {
				res := stacktest.Do(t, c.http, "PATCH", c.s.URL+"/api/v1/reservations/"+d.reservationID.String(), nil, b.token)
				if res.Status == 200 {
					res.Data(t, &apps[i])
					return
				}
				if res.Status != 409 || time.Now().After(start.Add(5*time.Second)) { // R-code "not open yet" races the clock
					t.Errorf("buyer %d applies: status %d: %s", i, res.Status, res.Body)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	var places []int64
	for i, a := range apps {
		switch a.Status {
		case "SELECTED":
			if d.buyer.token != "" {
				t.Fatalf("two buyers selected: %+v", apps)
			}
			d.buyer = d.buyers[i]
		case "WAITING":
			places = append(places, a.Position)
		default:
			t.Fatalf("application %d: %+v", i, a)
		}
	}
	slices.Sort(places)
	if d.buyer.token == "" || !slices.Equal(places, []int64{1, 2, 3}) {
		t.Fatalf("applications %+v: want one buyer and places 1, 2, 3", apps)
	}

	c.must("PATCH", "/api/v1/reservations/"+d.reservationID.String()+"/paymentconfirm", nil, c.admin, 200, nil)
	c.must("PATCH", "/api/v1/reservations/"+d.reservationID.String()+"/complete", nil, d.seller.token, 200, nil)

	// reservation-completed opens the trade; trade-created reaches the chat server, whose
	// chat-room-created the trade records.
	eventually(t, 30*time.Second, "a trade with its chat room", func() bool {
		var page struct {
			Content []trades.Trade `json:"content"`
		}
		c.must("GET", "/api/v1/trades", nil, d.buyer.token, 200, &page)
		for _, tr := range page.Content {
			if tr.ReservationID == d.reservationID && tr.ChatRoomID != nil {
				d.trade = tr
				return true
			}
		}
		return false
	})
	if d.trade.BuyerID != d.buyer.id || d.trade.SellerID != d.seller.id || d.trade.Status != trades.Trading {
		t.Fatalf("trade %+v", d.trade)
	}
	return d
}

// dial opens a chat WebSocket on the chat server's own URL, as a client does.
func dial(t *testing.T, c client, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(c.s.ChatURL, "http", "ws", 1)+"/api/v1/chat/ws", &websocket.DialOptions{
		Subprotocols: []string{chatserver.Subprotocol},
		HTTPHeader:   http.Header{"Authorization": {"Bearer " + token}},
	})
	if err != nil {
		t.Fatalf("chat websocket: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws
}

// next reads frames until one of typ arrives.
func next(t *testing.T, ws *websocket.Conn, typ string) chatserver.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		var f chatserver.Frame
		if err := wsjson.Read(ctx, ws, &f); err != nil {
			t.Fatalf("waiting for a %s frame: %v", typ, err)
		}
		if f.Type == typ {
			return f
		}
		if f.Type == chatserver.TypeError {
			t.Fatalf("chat error while waiting for %s: %+v", typ, f)
		}
	}
}

func talk(t *testing.T, c client, d sale) {
	room := *d.trade.ChatRoomID
	zero := int64(0)
	buyer, seller := dial(t, c, d.buyer.token), dial(t, c, d.seller.token)
	for _, ws := range []*websocket.Conn{buyer, seller} {
		if err := wsjson.Write(t.Context(), ws, chatserver.Frame{Type: chatserver.TypeJoin, RoomID: &room, LastID: &zero}); err != nil {
			t.Fatal(err)
		}
		next(t, ws, chatserver.TypeJoined)
	}
	for _, m := range []struct {
		from, to *websocket.Conn
		text     string
		sender   uuid.UUID
	}{
		{buyer, seller, "Is it still available?", d.buyer.id},
		{seller, buyer, "Yes, see you at six.", d.seller.id},
	} {
		if err := wsjson.Write(t.Context(), m.from, chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room, ClientID: uuid.NewString(), Content: m.text}); err != nil {
			t.Fatal(err)
		}
		// Each member also gets its own messages back: read past them.
		got := next(t, m.to, chatserver.TypeMessage)
		for got.Message != nil && got.Message.SenderID != m.sender {
			got = next(t, m.to, chatserver.TypeMessage)
		}
		if got.Message == nil || got.Message.Content != m.text {
			t.Fatalf("received %+v, want %q from %s", got.Message, m.text, m.sender)
		}
	}
	var history chat.History
	c.must("GET", "/api/v1/chat/rooms/"+room.String()+"/messages", nil, d.seller.token, 200, &history)
	if len(history.Messages) != 2 {
		t.Fatalf("history through the gateway: %+v", history.Messages)
	}
}

func finish(t *testing.T, c client, d sale) {
	path := "/api/v1/trades/" + d.trade.ID.String() + "/complete"
	c.must("PATCH", path, nil, d.buyer.token, 200, nil)
	c.must("PATCH", path, nil, d.seller.token, 200, nil)
	eventually(t, 30*time.Second, "product COMPLETED, reservation CLOSED, room COMPLETED", func() bool {
		var p products.View
		c.must("GET", "/api/v1/products/"+d.productID.String(), nil, d.seller.token, 200, &p)
		var r struct {
			Status reservations.Status `json:"status"`
		}
		c.must("GET", "/api/v1/reservations/"+d.reservationID.String(), nil, d.seller.token, 200, &r)
		var room chat.Room
		c.must("GET", "/api/v1/chat/rooms/"+d.trade.ChatRoomID.String(), nil, d.buyer.token, 200, &room)
		return p.Status == products.Completed && r.Status == reservations.Closed && room.Status == chat.Completed
	})
}

// forgeries sends every internal endpoint (each consumer's and job's own service, the
// chat server's hosted consumers) a well-formed delivery about this deal without the
// credential, with a wrong one, and with a user's access token: each is refused with 401,
// and nothing is recorded or changed. The gateway does not route internal paths at all.
func forgeries(t *testing.T, c client, d sale) {
	ctx := t.Context()
	db, err := pgx.Connect(ctx, c.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	count := func() (n int64) {
		t.Helper()
		if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM messaging.inbox) + (SELECT count(*) FROM messaging.outbox)
			+ (SELECT count(*) FROM trades.trades) + (SELECT count(*) FROM chat.rooms)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	data := map[string]any{
		"productId": d.productID, "reservationId": uuid.New(), "tradeId": uuid.New(), "sellerId": d.seller.id,
		"buyerId": d.buyers[1].id, "version": 99, "status": "FAILED", "price": 1, "reason": "forged",
	}
	credentials := []struct{ name, query, bearer string }{
		{"anonymous", "", ""},
		{"a wrong token", "?token=" + strings.Repeat("f", 64), ""},
		{"the token in a header", "", c.s.PushToken},
		{"a user's access token", "", d.seller.token},
	}
	for _, f := range c.manifest.Functions {
		if f.Kind == registry.KindHTTP {
			continue
		}
		endpoint := c.s.Functions[f.Name] + "/"
		if f.Host != "" {
			endpoint = c.s.ChatURL + "/internal/functions/" + f.Name
		}
		for _, cred := range credentials {
			req, err := stacktest.EventRequest(ctx, endpoint+cred.query, f.Topic, "forger", uuid.New(), data)
			if err != nil {
				t.Fatal(err)
			}
			if cred.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+cred.bearer)
			}
			res, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s with %s: status %d, want 401", f.Name, cred.name, res.StatusCode)
			}
		}
		if res := c.do("POST", "/internal/functions/"+f.Name, nil, ""); res.Status != http.StatusNotFound {
			t.Errorf("the gateway routes POST /internal/functions/%s: status %d", f.Name, res.Status)
		}
	}
	if after := count(); after != before {
		t.Errorf("forged deliveries changed rows: %d before, %d after", before, after)
	}
	// Cloud Scheduler's stand-in calls a job with the credential, and it runs.
	for _, f := range c.manifest.Functions {
		if f.Kind != registry.KindScheduled {
			continue
		}
		if res := stacktest.Do(t, c.http, "POST", c.s.Endpoint(f.Name), nil, ""); res.Status != http.StatusOK {
			t.Errorf("%s called as the scheduler calls it: status %d: %s", f.Name, res.Status, res.Body)
		}
	}
	var p products.View
	c.must("GET", "/api/v1/products/"+d.productID.String(), nil, d.seller.token, 200, &p)
	if p.Status != products.Completed {
		t.Errorf("product after forgeries: %s", p.Status)
	}
}

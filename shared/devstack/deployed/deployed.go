// Package deployed runs the platform on one machine in the shape users meet on GCP, as
// `make up` and the deployed-shape tests start it: every function of the manifest
// (infra/terraform/functions.json, what Terraform reads) as a process of its own running
// the functions binary with FUNCTION_TARGET; the chat server and the outbox relay as their
// own processes; Cloud Storage's stand-in (cmd/objectstore) as its own process; a
// method-and-path router in front like API Gateway; the backbone as
// deployed: the Google Pub/Sub emulator with the topics, dead-letter topics and push
// subscriptions Terraform declares, or Kafka as a standalone broker (kfake in its own
// process, or KAFKA_BROKERS) with the relay's push bridge; and Cloud Scheduler's calls.
//
// Locally no Google ID token exists, so every internal endpoint checks the local delivery
// credential (PUSH_AUTH=token) that the push subscriptions, the bridge and the scheduler
// stand-in carry in their URLs. Nothing here is linked into a deployable.
package deployed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/pushauth"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/serve"
)

// Binaries are the programs the shape runs, built by Build into one directory.
var Binaries = map[string]string{
	"functions":    "./cmd/functions",
	"outbox-relay": "./outbox-relay/cmd/outbox-relay",
	"chat-server":  "./chat-server/cmd/chat-server",
	"migrate":      "./cmd/migrate",
	"kfake":        "./cmd/kfake",
	"objectstore":  "./cmd/objectstore",
}

// Build compiles the binaries into dir from the module at root. It uses the go command's
// default flags, so it reuses what go test and go run have compiled (the images add
// -trimpath and CGO_ENABLED=0, which change nothing the shape exercises).
func Build(ctx context.Context, root, dir string) error {
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, pkg := range Binaries {
		args = append(args, pkg)
	}
	slices.Sort(args[3:])
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// Options say what to run and where.
type Options struct {
	// Config is the platform's configuration: DATABASE_URL, REDIS_URL, the JWT keys, the
	// bootstrap administrator, BACKBONE, TOPIC_PREFIX, PUBSUB_PROJECT_ID, and
	// KAFKA_BROKERS or PUBSUB_EMULATOR_HOST for a broker already running (else one is
	// started).
	Config config.Config
	// Manifest is the function manifest (infra/terraform/functions.json).
	Manifest registry.ManifestFile
	// Bin holds the built binaries (Build); Dir receives one log file per process.
	Bin, Dir string
	// Listen is the gateway's address (e.g. 127.0.0.1:8080; port 0 for a free one).
	Listen string
	// ChatAddr is the chat server's address (host:port); empty for a free port.
	ChatAddr string
	// DatabaseMaxConns is each function's pool; the relay and the chat server get 4.
	DatabaseMaxConns int
	// Delivery is the push subscriptions' retry policy (DefaultDelivery when zero).
	Delivery Delivery
	// Schedules runs Cloud Scheduler's stand-in (tests trigger jobs themselves).
	Schedules bool
	// Env adds variables to every application process (LOG_LEVEL, chat limits, …).
	Env map[string]string
}

// Shape is the running platform.
type Shape struct {
	// URL is the gateway, ChatURL the chat server (its own URL: API Gateway carries no
	// WebSocket), Functions each function's own URL.
	URL, ChatURL string
	Functions    map[string]string
	// PushToken is the local delivery credential.
	PushToken string
	// Started is how long Start took, from the first process to everything answering.
	Started time.Duration
	// StorageURL is Cloud Storage's stand-in: signed uploads go there, photos are read
	// from there.
	StorageURL string

	opts    Options
	cfg     config.Config
	dir     string
	infra   []*proc // backbone processes, stopped last
	apps    []*proc // services, stopped first
	gateway *serve.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	// storageEnv is the file storage's settings of every application process.
	storageEnv map[string]string
}

// Start brings the shape up: migration job, backbone, subscriptions, services, gateway.
// On an error everything started is stopped again.
func Start(ctx context.Context, opts Options) (s *Shape, err error) {
	began := time.Now()
	if opts.Delivery == (Delivery{}) {
		opts.Delivery = DefaultDelivery
	}
	if opts.DatabaseMaxConns == 0 {
		opts.DatabaseMaxConns = 2
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s = &Shape{opts: opts, cfg: opts.Config, dir: opts.Dir, Functions: map[string]string{}, cancel: cancel,
		PushToken: auth.NewTokenID() + auth.NewTokenID()}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	if err := s.migrate(); err != nil {
		return nil, err
	}
	// Ports first: the subscriptions and the bridge name every endpoint before it runs.
	for _, f := range s.opts.Manifest.Functions {
		if f.Host == "" {
			addr, err := freeAddr()
			if err != nil {
				return nil, err
			}
			s.Functions[f.Name] = "http://" + addr
		}
	}
	chatAddr := opts.ChatAddr
	if chatAddr == "" {
		if chatAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	s.ChatURL = "http://" + chatAddr

	switch s.cfg.Backbone {
	case "pubsub":
		if s.cfg.PubSubEmulatorHost == "" {
			if s.cfg.PubSubEmulatorHost, err = s.startEmulator(); err != nil {
				return nil, err
			}
		}
		if err := s.pushSubscriptions(ctx, s.cfg.PubSubEmulatorHost); err != nil {
			return nil, err
		}
	case "kafka":
		if len(s.cfg.KafkaBrokers) == 0 {
			if s.cfg.KafkaBrokers, err = s.startKafka(); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("backbone %q", s.cfg.Backbone)
	}

	if err := s.startStorage(); err != nil {
		return nil, err
	}
	if err := s.startServices(); err != nil {
		return nil, err
	}
	if s.gateway, err = serve.Listen(opts.Listen, s.routes()); err != nil {
		return nil, err
	}
	s.URL = s.gateway.URL()
	s.wg.Go(func() {
		if err := s.gateway.Run(runCtx, 5*time.Second); err != nil {
			slog.Warn("deployed: gateway", "error", err.Error())
		}
	})
	if opts.Schedules {
		jobs := []devstack.Job{}
		for _, f := range s.opts.Manifest.Functions {
			if f.Kind == registry.KindScheduled {
				jobs = append(jobs, devstack.Job{Name: f.Name, Schedule: f.Schedule, URL: s.Endpoint(f.Name)})
			}
		}
		s.wg.Go(func() {
			if err := devstack.Schedule(runCtx, jobs); err != nil {
				slog.Warn("deployed: scheduler", "error", err.Error())
			}
		})
	}
	s.Started = time.Since(began)
	return s, nil
}

// Endpoint is where a deliverer reaches the internal function name, credential included:
// its own service, or /internal/functions/<name> on the service hosting it.
func (s *Shape) Endpoint(name string) string {
	base := s.Functions[name] + "/"
	if _, own := s.Functions[name]; !own {
		base = s.ChatURL + "/internal/functions/" + name
	}
	u, err := pushauth.URL(base, s.PushToken)
	if err != nil {
		panic(err) // the bases are the shape's own URLs
	}
	return u
}

// migrate runs the migration job, as the deploy does before any service.
func (s *Shape) migrate() error {
	p, err := start(s.dir, "migrate", filepath.Join(s.opts.Bin, "migrate"), []string{"up"}, s.env(map[string]string{
		"BOOTSTRAP_ADMIN_USERNAME": s.cfg.BootstrapAdminUsername,
		"BOOTSTRAP_ADMIN_PASSWORD": s.cfg.BootstrapAdminPassword,
	}))
	if err != nil {
		return err
	}
	<-p.done
	if p.err != nil {
		return fmt.Errorf("migration job: %w\n%s", p.err, p.tail())
	}
	return nil
}

// startServices starts every function, the chat server and the relay, and waits until
// each listens.
func (s *Shape) startServices() error {
	fns := map[string]registry.ManifestEntry{}
	for _, f := range s.opts.Manifest.Functions {
		fns[f.Name] = f
	}
	type service struct {
		name, bin, addr string
		env             map[string]string
	}
	var services []service
	for name, url := range s.Functions {
		f := fns[name]
		env := map[string]string{"FUNCTION_TARGET": name, "DATABASE_MAX_CONNS": strconv.Itoa(s.opts.DatabaseMaxConns)}
		switch f.Kind {
		case registry.KindHTTP:
			env["TRUSTED_PROXY_HOPS"] = "1" // the gateway appends the client's address
			if f.Signs {
				env["JWT_SIGNING_KEY"] = s.cfg.JWTSigningKey
			}
		default:
			env["PUSH_AUTH"], env["PUSH_TOKEN"] = "token", s.PushToken
		}
		services = append(services, service{name, "functions", strings.TrimPrefix(url, "http://"), env})
	}
	services = append(services, service{"chat-server", "chat-server", strings.TrimPrefix(s.ChatURL, "http://"), map[string]string{
		"PUSH_AUTH": "token", "PUSH_TOKEN": s.PushToken, "DATABASE_MAX_CONNS": "4",
	}})
	relayAddr, err := freeAddr()
	if err != nil {
		return err
	}
	relayEnv := map[string]string{"DATABASE_MAX_CONNS": "4"}
	if s.cfg.Backbone == "kafka" {
		targets, err := s.bridgeTargets()
		if err != nil {
			return err
		}
		relayEnv["BRIDGE_TARGETS"], relayEnv["BRIDGE_AUTH"], relayEnv["PUSH_TOKEN"] = targets, "token", s.PushToken
	}
	services = append(services, service{"outbox-relay", "outbox-relay", relayAddr, relayEnv})

	for _, svc := range services {
		_, port, _ := net.SplitHostPort(svc.addr)
		svc.env["PORT"], svc.env["LISTEN_HOST"] = port, "127.0.0.1"
		p, err := start(s.dir, svc.name, filepath.Join(s.opts.Bin, svc.bin), nil, s.env(svc.env))
		if err != nil {
			return err
		}
		s.apps = append(s.apps, p)
	}
	errs := make([]error, len(services))
	var wg sync.WaitGroup
	for i, svc := range services {
		wg.Go(func() { errs[i] = s.apps[i].waitListening(svc.addr, 60*time.Second) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// bridgeTargets is BRIDGE_TARGETS as Terraform writes it from the manifest, written to a
// file (the relay reads a path as well as inline JSON).
func (s *Shape) bridgeTargets() (string, error) {
	targets := map[string]bridge.Target{}
	for _, f := range s.opts.Manifest.Functions {
		if f.Kind != registry.KindEvent {
			continue
		}
		url := s.Functions[f.Name] + "/"
		if f.Host != "" {
			url = s.ChatURL + "/internal/functions/" + f.Name
		}
		targets[f.Name] = bridge.Target{Topic: f.Topic, URL: url}
	}
	raw, err := json.MarshalIndent(targets, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(s.dir, "bridge-targets.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// baseEnv is what every process gets from the host: enough to run, nothing of the caller's
// platform settings.
func (s *Shape) baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// env is an application process's environment: the common settings Terraform gives
// every container (locals.common_env and the secrets), then extra, then Options.Env.
func (s *Shape) env(extra map[string]string) []string {
	c := s.cfg
	vars := map[string]string{
		"DATABASE_URL":      c.DatabaseURL,
		"REDIS_URL":         c.RedisURL,
		"JWT_PUBLIC_KEYS":   c.JWTPublicKeys,
		"BACKBONE":          c.Backbone,
		"TOPIC_PREFIX":      c.TopicPrefix,
		"PUBSUB_PROJECT_ID": c.PubSubProject,
		"LOG_FORMAT":        "json",
		"LOG_LEVEL":         c.LogLevel,
		"SHUTDOWN_TIMEOUT":  "5s",
		// The functions' CORS and the chat server's, as Terraform's var.cors_allowed_origins.
		"CORS_ALLOWED_ORIGINS": strings.Join(c.CORSAllowedOrigins, ","),
	}
	if c.Backbone == "pubsub" {
		vars["PUBSUB_EMULATOR_HOST"] = c.PubSubEmulatorHost
	} else {
		vars["KAFKA_BROKERS"] = strings.Join(c.KafkaBrokers, ",")
	}
	for k, v := range s.storageEnv {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	for k, v := range s.opts.Env {
		vars[k] = v
	}
	env := s.baseEnv()
	for k, v := range vars {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Memory is the resident memory of every process of the shape, in bytes, by process.
func (s *Shape) Memory() map[string]int64 {
	out := map[string]int64{}
	for _, p := range slices.Concat(s.apps, s.infra) {
		out[p.name] = p.rss()
	}
	return out
}

// Processes is how many processes the shape runs.
func (s *Shape) Processes() int { return len(s.apps) + len(s.infra) }

// Exited names the processes that have ended on their own.
func (s *Shape) Exited() []string {
	var out []string
	for _, p := range slices.Concat(s.apps, s.infra) {
		if p.exited() {
			out = append(out, p.name+": "+p.tail())
		}
	}
	return out
}

// Close stops the gateway and the scheduler, then every service with SIGTERM (as Cloud
// Run does), then the backbone. It reports services that did not stop cleanly.
func (s *Shape) Close() error {
	s.cancel()
	s.wg.Wait()
	var mu sync.Mutex
	var errs []error
	stopAll := func(ps []*proc) {
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Go(func() {
				if err := p.stop(15 * time.Second); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	stopAll(s.apps)
	stopAll(s.infra)
	return errors.Join(errs...)
}

// Healthy waits until the gateway and the chat server answer /healthz.
func (s *Shape) Healthy(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for _, u := range []string{s.URL + "/healthz", s.ChatURL + "/healthz"} {
		for {
			res, err := client.Get(u)
			if err == nil {
				_ = res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not healthy: %w", u, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

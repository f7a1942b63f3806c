package infra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"go.yaml.in/yaml/v3"

	"github.com/8949market/market/infra/compose"
	"github.com/8949market/market/infra/dashboards"
	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/telemetry"
)

// composeFile is the part of a compose file the tests read.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image    string   `yaml:"image"`
	Profiles []string `yaml:"profiles"`
	Build    struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
		Target     string `yaml:"target"`
	} `yaml:"build"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Restart     string `yaml:"restart"`
	Healthcheck struct {
		Test     []string `yaml:"test"`
		Interval string   `yaml:"interval"`
		Retries  int      `yaml:"retries"`
	} `yaml:"healthcheck"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// published returns the host port a service publishes for container port, and checks it
// is bound to loopback only.
func published(t *testing.T, ports []string, container string) string {
	t.Helper()
	for _, p := range ports {
		parts := strings.Split(p, ":")
		if len(parts) != 3 {
			t.Errorf("port %q: want 127.0.0.1:HOST:CONTAINER", p)
			continue
		}
		if parts[0] != "127.0.0.1" {
			t.Errorf("port %q is published beyond loopback", p)
		}
		if parts[2] == container {
			return parts[1]
		}
	}
	t.Fatalf("container port %s is not published (%v)", container, ports)
	return ""
}

// The services, their images, ports and health checks.
func TestComposeServices(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	want := map[string]struct {
		image *regexp.Regexp
		port  string
	}{
		"postgres": {regexp.MustCompile(`^postgres:17(\.\d+)?(-[a-z0-9]+)?$`), "5432"},
		"redis":    {regexp.MustCompile(`^redis:7(\.\d+)*(-[a-z0-9]+)?$`), "6379"},
		"kafka":    {regexp.MustCompile(`^apache/kafka:[34]\.\d+\.\d+$`), "9092"},
		"pubsub":   {regexp.MustCompile(`^gcr\.io/google\.com/cloudsdktool/google-cloud-cli:.*emulators`), "8085"},
	}
	var names []string
	for name := range c.Services {
		names = append(names, name)
	}
	assertSet(t, "compose services", names, slices.Concat([]string{"postgres", "redis", "kafka", "pubsub"}, slices.Collect(maps.Keys(appServices)), slices.Collect(maps.Keys(observabilityServices))))
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := c.Services[name]
			if len(s.Profiles) > 0 {
				t.Errorf("profiles %v: a backing service starts with a plain up (make dev's)", s.Profiles)
			}
			if !w.image.MatchString(s.Image) {
				t.Errorf("image %q, want %s", s.Image, w.image)
			}
			published(t, s.Ports, w.port)
			if len(s.Healthcheck.Test) < 2 || !slices.Contains([]string{"CMD", "CMD-SHELL"}, s.Healthcheck.Test[0]) || s.Healthcheck.Retries < 1 {
				t.Errorf("healthcheck %+v: up --wait needs one", s.Healthcheck)
			}
		})
	}
}

// Kafka runs in KRaft mode as one node that is its own controller, tells host clients
// the published address, and gives new topics the relay's partition count.
func TestComposeKafka(t *testing.T) {
	t.Parallel()
	env := loadCompose(t).Services["kafka"].Environment
	if _, ok := loadCompose(t).Services["zookeeper"]; ok {
		t.Error("a zookeeper service: KRaft needs none")
	}
	roles := strings.Split(env["KAFKA_PROCESS_ROLES"], ",")
	if !slices.Contains(roles, "broker") || !slices.Contains(roles, "controller") {
		t.Errorf("KAFKA_PROCESS_ROLES %q: a single KRaft node is broker and controller", env["KAFKA_PROCESS_ROLES"])
	}
	if !strings.HasPrefix(env["KAFKA_CONTROLLER_QUORUM_VOTERS"], env["KAFKA_NODE_ID"]+"@") {
		t.Errorf("quorum %q does not name node %q", env["KAFKA_CONTROLLER_QUORUM_VOTERS"], env["KAFKA_NODE_ID"])
	}
	for _, k := range []string{"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"} {
		if env[k] != "1" {
			t.Errorf("%s = %q: one node holds one replica", k, env[k])
		}
	}
	if env["KAFKA_NUM_PARTITIONS"] != "4" || bus.KafkaPartitions != 4 {
		t.Errorf("KAFKA_NUM_PARTITIONS %q, the relay creates %d", env["KAFKA_NUM_PARTITIONS"], bus.KafkaPartitions)
	}
}

// The variables infra/README.md exports for make dev reach the compose services, and
// shared/config reads them.
func TestComposeVariablesInReadme(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	vars, assigned := exportedVariables(t, "README.md")
	known := environmentNames(t)
	for _, name := range slices.Concat(slices.Collect(maps.Keys(vars)), assigned) {
		if !known[name] {
			t.Errorf("infra/README.md exports %s, which neither shared/config nor shared/telemetry reads", name)
		}
	}
	cfg, err := config.Parse(vars)
	if err != nil {
		t.Fatalf("the README's variables: %v", err)
	}

	pg := c.Services["postgres"]
	db, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := db.User.Password()
	if db.Hostname() != "127.0.0.1" || db.Port() != published(t, pg.Ports, "5432") || db.User.Username() != pg.Environment["POSTGRES_USER"] ||
		pw != pg.Environment["POSTGRES_PASSWORD"] || strings.TrimPrefix(db.Path, "/") != pg.Environment["POSTGRES_DB"] {
		t.Errorf("DATABASE_URL %s does not reach the compose postgres", cfg.DatabaseURL)
	}
	rd, err := url.Parse(cfg.RedisURL)
	if err != nil || rd.Hostname() != "127.0.0.1" || rd.Port() != published(t, c.Services["redis"].Ports, "6379") {
		t.Errorf("REDIS_URL %s does not reach the compose redis", cfg.RedisURL)
	}

	kafka := c.Services["kafka"]
	hostListener := ""
	for _, l := range strings.Split(kafka.Environment["KAFKA_ADVERTISED_LISTENERS"], ",") {
		if strings.Contains(l, "://127.0.0.1:") {
			hostListener = l[strings.Index(l, "://")+3:]
		}
	}
	if want := "127.0.0.1:" + published(t, kafka.Ports, "9092"); len(cfg.KafkaBrokers) != 1 || cfg.KafkaBrokers[0] != want || hostListener != want {
		t.Errorf("KAFKA_BROKERS %v, advertised %q, published %s", cfg.KafkaBrokers, hostListener, want)
	}

	ps := c.Services["pubsub"]
	if cfg.PubSubEmulatorHost != "127.0.0.1:"+published(t, ps.Ports, "8085") || cfg.Backbone != "pubsub" {
		t.Errorf("PUBSUB_EMULATOR_HOST %q, BACKBONE %q", cfg.PubSubEmulatorHost, cfg.Backbone)
	}
	if !slices.Contains(ps.Command, "--project="+cfg.PubSubProject) || !slices.Contains(ps.Command, "--host-port=0.0.0.0:8085") {
		t.Errorf("emulator command %v: want --project=%s and --host-port=0.0.0.0:8085", ps.Command, cfg.PubSubProject)
	}
}

var exportLine = regexp.MustCompile(`^export\s+(.+)$`)

// exportedVariables reads the `export` lines in the shell blocks of a Markdown file: the
// NAME=value pairs, and the bare NAMEs, which export a variable an earlier line assigned
// (a generated secret, say) and so have no value to check.
func exportedVariables(t *testing.T, path string) (vars map[string]string, assigned []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars = map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		m := exportLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		for _, pair := range strings.Fields(m[1]) {
			name, value, ok := strings.Cut(pair, "=")
			if !ok {
				if !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(pair) {
					t.Fatalf("%s: export %q", path, pair)
				}
				assigned = append(assigned, pair)
				continue
			}
			vars[name] = strings.Trim(value, `'"`)
		}
	}
	if len(vars) == 0 {
		t.Fatalf("%s exports no variables", path)
	}
	return vars, assigned
}

// otelVariable is an OpenTelemetry variable named in shared/telemetry.
var otelVariable = regexp.MustCompile(`OTEL_[A-Z0-9_]*[A-Z0-9]`)

// environmentNames are the variables a process of the platform reads: shared/config's
// (configNames), and the standard OTEL_* ones shared/telemetry reads or hands to the
// OpenTelemetry SDK, as its source names them.
func environmentNames(t *testing.T) map[string]bool {
	t.Helper()
	names := configNames()
	for _, name := range otelVariable.FindAllString(readGo(t, "../shared/telemetry"), -1) {
		names[name] = true
	}
	return names
}

// appServices are the platform's services in the compose file (profile app), by the
// Dockerfile target each is built from.
var appServices = map[string]string{
	"migrate":      "functions",
	"functions":    "functions",
	"chat-server":  "chat-server",
	"outbox-relay": "outbox-relay",
	"storage":      "objectstore", // Cloud Storage's stand-in, a development image
}

// appProfile is the compose profile that runs the platform next to the backing services.
const appProfile = "app"

// reference is a value compose takes from the environment of `docker compose`: the
// variable of the same name, empty when unset (never required, see TestComposeNoRequiredVariables).
var reference = regexp.MustCompile(`^\$\{([A-Z][A-Z0-9_]*):-\}$`)

// dockerImages reads the stages of infra/docker/Dockerfile: the entrypoint of each and the
// binaries copied into it.
func dockerImages(t *testing.T) map[string]struct {
	entrypoint string
	binaries   []string
} {
	t.Helper()
	raw, err := os.ReadFile("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]struct {
		entrypoint string
		binaries   []string
	}{}
	stage := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\\\n", " "), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		img := out[stage]
		switch strings.ToUpper(f[0]) {
		case "FROM":
			stage = f[len(f)-1]
			continue
		case "ENTRYPOINT":
			img.entrypoint = strings.Trim(f[1], `["]`)
		case "COPY":
			if strings.HasPrefix(f[1], "--from=") {
				for _, src := range f[2 : len(f)-1] {
					img.binaries = append(img.binaries, "/"+path.Base(src))
				}
			}
		}
		out[stage] = img
	}
	return out
}

// binaryOf is the program a compose service runs: its entrypoint, or its image's.
func binaryOf(t *testing.T, s composeService) string {
	t.Helper()
	if len(s.Entrypoint) > 0 {
		return s.Entrypoint[0]
	}
	return dockerImages(t)[s.Build.Target].entrypoint
}

// appConfig is what shared/config makes of an app service's environment, each reference
// standing for a value the user gives (one long enough for a PUSH_TOKEN).
func appConfig(t *testing.T, name string, s composeService) config.Config {
	t.Helper()
	env := map[string]string{}
	for k, v := range s.Environment {
		if m := reference.FindStringSubmatch(v); m != nil {
			env[k] = strings.Repeat("0", 2*config.MinPushTokenLength)
			continue
		}
		if strings.Contains(v, "$") {
			t.Errorf("%s: %s = %q is neither a literal nor ${%s:-}", name, k, v, k)
		}
		env[k] = v
	}
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg
}

// The platform's services run only with the app profile, each from its image of
// infra/docker/Dockerfile; the migration job runs once, before anything else starts.
func TestComposeAppServices(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	images := dockerImages(t)
	for name, target := range appServices {
		s := c.Services[name]
		if !slices.Equal(s.Profiles, []string{appProfile}) {
			t.Errorf("%s: profiles %v, want [%s] (a plain up starts only the backing services)", name, s.Profiles, appProfile)
		}
		if s.Build.Target != target || s.Build.Context != ".." || s.Build.Dockerfile != "infra/docker/Dockerfile" {
			t.Errorf("%s: build %+v, want target %s of infra/docker/Dockerfile with the repository as context", name, s.Build, target)
		}
		if s.Image != "" {
			t.Errorf("%s: image %q: app services are built from the checkout", name, s.Image)
		}
		bin := binaryOf(t, s)
		if bin == "" || !slices.Contains(images[target].binaries, bin) {
			t.Errorf("%s runs %q, which image %s lacks (%v)", name, bin, target, images[target].binaries)
		}
		if len(s.Healthcheck.Test) > 0 {
			t.Errorf("%s: health check %v: the distroless images have no shell or curl to run it", name, s.Healthcheck.Test)
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") || strings.Count(p, ":") != 2 {
				t.Errorf("%s: port %q, want 127.0.0.1:HOST:CONTAINER (loopback only)", name, p)
			}
		}
		if name == "migrate" || name == "storage" { // the storage stand-in keeps no rows
			continue
		}
		if d, ok := s.DependsOn["migrate"]; !ok || d.Condition != "service_completed_successfully" {
			t.Errorf("%s: depends_on migrate %+v, want service_completed_successfully: the schema comes first", name, d)
		}
	}

	m := c.Services["migrate"]
	if binaryOf(t, m) != "/migrate" || !slices.Equal(m.Command, []string{"up"}) || m.Restart != "no" || len(m.Ports) > 0 {
		t.Errorf("migrate: entrypoint %v command %v restart %q ports %v, want a one-off /migrate up", m.Entrypoint, m.Command, m.Restart, m.Ports)
	}
	if m.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("migrate: depends_on %+v, want postgres service_healthy", m.DependsOn)
	}
	for svc, deps := range map[string][]string{"functions": {"redis", "kafka"}, "chat-server": {"redis"}, "outbox-relay": {"kafka"}, "storage": {"kafka"}} {
		for _, d := range deps {
			if c.Services[svc].DependsOn[d].Condition != "service_healthy" {
				t.Errorf("%s: depends_on %s %+v, want service_healthy", svc, d, c.Services[svc].DependsOn[d])
			}
		}
	}
	if _, ok := c.Services["functions"].Environment["FUNCTION_TARGET"]; ok {
		t.Error("functions sets FUNCTION_TARGET: the compose service serves every function on one origin")
	}
}

// Compose interpolates the whole file before it applies profiles, so a required variable
// (${NAME:?...} or ${NAME?...}) would stop every compose command without it, the plain
// `up` of the backing services included.
func TestComposeNoRequiredVariables(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	required := regexp.MustCompile(`\$\{[A-Za-z0-9_]+:?\?[^}]*\}`)
	for i, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue // comments are not interpolated
		}
		for _, m := range required.FindAllString(line, -1) {
			t.Errorf("docker-compose.yml:%d requires %s: every compose command would fail without it, profile app or not; use ${NAME:-} and let the service refuse", i+1, m)
		}
	}
}

// Every variable an app service sets is shared/config's, the literal ones are valid, and
// they reach the other compose services: the database, Redis, Kafka's listener for
// containers, the chat server.
func TestComposeAppEnvironment(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	known := environmentNames(t)
	vars, exported := exportedVariables(t, "README.md")
	exported = append(exported, slices.Collect(maps.Keys(vars))...)
	cfgs := map[string]config.Config{}
	for name := range appServices {
		s := c.Services[name]
		for k, v := range s.Environment {
			if !known[k] {
				t.Errorf("%s sets %s, which neither shared/config nor shared/telemetry reads", name, k)
			}
			if m := reference.FindStringSubmatch(v); m != nil {
				if m[1] != k {
					t.Errorf("%s: %s takes ${%s}: a reference names the variable it sets", name, k, m[1])
				}
				if !slices.Contains(exported, m[1]) {
					t.Errorf("%s takes %s from the environment, which infra/README.md does not export", name, m[1])
				}
			}
		}
		cfgs[name] = appConfig(t, name, s)
	}

	pg := c.Services["postgres"]
	published(t, pg.Ports, "5432")
	for name, cfg := range cfgs {
		if name == "storage" {
			continue // the storage stand-in uses neither PostgreSQL nor Redis
		}
		db, err := url.Parse(cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		pw, _ := db.User.Password()
		if db.Hostname() != "postgres" || db.Port() != "5432" || db.User.Username() != pg.Environment["POSTGRES_USER"] ||
			pw != pg.Environment["POSTGRES_PASSWORD"] || strings.TrimPrefix(db.Path, "/") != pg.Environment["POSTGRES_DB"] {
			t.Errorf("%s: DATABASE_URL %s does not reach the compose postgres", name, cfg.DatabaseURL)
		}
		// The functions and the chat server keep the denylist, rate limits and chat fan-out
		// in Redis; the relay and the migration job do not use it.
		_, set := c.Services[name].Environment["REDIS_URL"]
		if set != (name == "functions" || name == "chat-server") {
			t.Errorf("%s: REDIS_URL set %v", name, set)
		}
		if rd, err := url.Parse(cfg.RedisURL); set && (err != nil || rd.Hostname() != "redis" || rd.Port() != "6379") {
			t.Errorf("%s: REDIS_URL %s does not reach the compose redis", name, cfg.RedisURL)
		}
	}

	// Containers reach Kafka at the listener it advertises under its service name.
	kafka := c.Services["kafka"].Environment
	docker := ""
	for _, l := range strings.Split(kafka["KAFKA_ADVERTISED_LISTENERS"], ",") {
		if name, addr, ok := strings.Cut(l, "://"); ok && strings.HasPrefix(addr, "kafka:") {
			docker = addr
			if !strings.Contains(kafka["KAFKA_LISTENERS"], name+"://0.0.0.0:"+strings.TrimPrefix(addr, "kafka:")) {
				t.Errorf("listener %s is advertised but not listened on (%s)", l, kafka["KAFKA_LISTENERS"])
			}
		}
	}
	for _, name := range []string{"functions", "outbox-relay", "storage"} {
		cfg := cfgs[name]
		if cfg.Backbone != "kafka" || !slices.Equal(cfg.KafkaBrokers, []string{docker}) || docker == "" {
			t.Errorf("%s: BACKBONE %q KAFKA_BROKERS %v, want kafka at the containers' listener %q", name, cfg.Backbone, cfg.KafkaBrokers, docker)
		}
	}
	if f, r, st := cfgs["functions"].TopicPrefix, cfgs["outbox-relay"].TopicPrefix, cfgs["storage"].TopicPrefix; f != r || f != st ||
		c.Services["outbox-relay"].Environment["TOPIC_PREFIX"] == "" {
		t.Errorf("TOPIC_PREFIX: functions %q, relay %q, storage %q: one prefix, set", f, r, st)
	}
	// The functions sign uploads for the storage stand-in and share its files: one
	// directory (one volume), one key, its published URL.
	fn, st := cfgs["functions"], cfgs["storage"]
	host := published(t, c.Services["storage"].Ports, strconv.Itoa(st.Port))
	if fn.StorageBackend != "local" || fn.StorageDir != st.StorageDir || fn.StorageURL != st.StorageURL ||
		fn.StorageURL != "http://127.0.0.1:"+host+"/storage" || c.Services["storage"].Environment["STORAGE_SIGNING_KEY"] != "${STORAGE_SIGNING_KEY:-}" ||
		c.Services["functions"].Environment["STORAGE_SIGNING_KEY"] != "${STORAGE_SIGNING_KEY:-}" {
		t.Errorf("functions and storage disagree on the files: %s %s %s / %s %s", fn.StorageBackend, fn.StorageDir, fn.StorageURL, st.StorageDir, st.StorageURL)
	}
	for _, name := range []string{"functions", "storage"} {
		if !slices.Contains(c.Services[name].Volumes, "storage:"+st.StorageDir) {
			t.Errorf("%s does not mount the storage volume at %s (%v)", name, st.StorageDir, c.Services[name].Volumes)
		}
	}

	// The functions service proxies /api/v1/chat/ to the chat server's own port; the
	// published ports are the ones the servers listen on.
	chat, err := url.Parse(cfgs["functions"].ChatServerURL)
	if err != nil || chat.Hostname() != "chat-server" || chat.Port() != strconv.Itoa(cfgs["chat-server"].Port) {
		t.Errorf("CHAT_SERVER_URL %s, want the chat-server service on port %d", cfgs["functions"].ChatServerURL, cfgs["chat-server"].Port)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"functions", "chat-server"} {
		host := published(t, c.Services[name].Ports, strconv.Itoa(cfgs[name].Port))
		if !strings.Contains(string(readme), "127.0.0.1:"+host) {
			t.Errorf("infra/README.md does not say where %s answers (127.0.0.1:%s)", name, host)
		}
	}
	if !strings.Contains(string(readme), "docker compose -f infra/docker-compose.yml --profile "+appProfile+" up") {
		t.Errorf("infra/README.md does not show the --profile %s up command", appProfile)
	}
}

// Only the service serving the functions that issue tokens holds the signing key; every
// service serving internal endpoints checks PUSH_TOKEN, and the bridge presents it.
func TestComposeAppSecrets(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	srv := served(t)
	for name := range appServices {
		s := c.Services[name]
		fns := srv[path.Base(binaryOf(t, s))]
		signs, internal := false, false
		for _, fn := range fns {
			f, _ := registry.Lookup(fn)
			signs = signs || f.Signs
			internal = internal || f.Kind != registry.KindHTTP
		}
		if _, has := s.Environment["JWT_SIGNING_KEY"]; has != signs {
			t.Errorf("%s: JWT_SIGNING_KEY set: %v; serves a function that signs: %v (only signers hold the key)", name, has, signs)
		}
		if internal && (s.Environment["PUSH_AUTH"] != "token" || s.Environment["PUSH_TOKEN"] != "${PUSH_TOKEN:-}") {
			t.Errorf("%s serves internal endpoints with PUSH_AUTH %q PUSH_TOKEN %q, want token and ${PUSH_TOKEN:-}", name, s.Environment["PUSH_AUTH"], s.Environment["PUSH_TOKEN"])
		}
		if len(fns) > 0 && s.Environment["JWT_PUBLIC_KEYS"] != "${JWT_PUBLIC_KEYS:-}" {
			t.Errorf("%s serves functions without JWT_PUBLIC_KEYS from the environment", name)
		}
	}
	if _, ok := c.Services["chat-server"].Environment["JWT_SIGNING_KEY"]; ok {
		t.Error("chat-server gets JWT_SIGNING_KEY: it never signs")
	}
	relay := c.Services["outbox-relay"].Environment
	if relay["BRIDGE_AUTH"] != "token" || relay["PUSH_TOKEN"] != "${PUSH_TOKEN:-}" {
		t.Errorf("outbox-relay: BRIDGE_AUTH %q PUSH_TOKEN %q, want token and ${PUSH_TOKEN:-}", relay["BRIDGE_AUTH"], relay["PUSH_TOKEN"])
	}
}

// The relay reads BRIDGE_TARGETS from infra/compose/bridge-targets.json, mounted read-only:
// what `make manifest` generates from the registry now, a target for every consumer, each
// at the compose service that serves it.
func TestComposeBridgeTargets(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	relay := c.Services["outbox-relay"]
	file := ""
	for _, v := range relay.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) == 3 && parts[1] == relay.Environment["BRIDGE_TARGETS"] && parts[2] == "ro" {
			file = parts[0]
		}
	}
	if file != "./"+strings.TrimPrefix(compose.BridgeTargetsFile, "infra/") {
		t.Fatalf("outbox-relay: BRIDGE_TARGETS %q is not %s mounted read-only (volumes %v)", relay.Environment["BRIDGE_TARGETS"], compose.BridgeTargetsFile, relay.Volumes)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := compose.BridgeTargets(registry.All())
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != string(want) {
		t.Errorf("%s is stale: run make manifest", compose.BridgeTargetsFile)
	}
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^manifest:\n(\t.*\n)*\t.*-compose ` + regexp.QuoteMeta(compose.BridgeTargetsFile)).Match(makefile) {
		t.Errorf("make manifest does not write %s", compose.BridgeTargetsFile)
	}

	targets, err := bridge.ParseTargets(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := registryTruth(t)
	var consumers []string
	for name, f := range tr.fns {
		if f.Kind == registry.KindEvent {
			consumers = append(consumers, name)
		}
	}
	assertSet(t, "bridge targets", slices.Collect(maps.Keys(targets)), consumers)

	srv := served(t)
	for name, target := range targets {
		f, ok := tr.fns[name]
		if !ok {
			continue
		}
		if target.Topic != f.Topic || !slices.Contains(events.Topics(), target.Topic) {
			t.Errorf("%s: topic %q, it consumes %q", name, target.Topic, f.Topic)
		}
		u, err := url.Parse(target.URL)
		if err != nil {
			t.Fatal(err)
		}
		svc, ok := c.Services[u.Hostname()]
		if _, app := appServices[u.Hostname()]; !ok || !app {
			t.Errorf("%s: %s is not an app service of the compose file", name, target.URL)
			continue
		}
		bin := path.Base(binaryOf(t, svc))
		if !slices.Contains(srv[bin], name) {
			t.Errorf("%s: %s, but service %s (%s) does not serve it", name, target.URL, u.Hostname(), bin)
		}
		if port := strconv.Itoa(appConfig(t, u.Hostname(), svc).Port); u.Scheme != "http" || u.Port() != port || u.Path != "/internal/functions/"+name || u.RawQuery != "" {
			t.Errorf("%s: %s, want http://%s:%s/internal/functions/%s with no credential", name, target.URL, u.Hostname(), port, name)
		}
	}
}

// observabilityProfile runs the telemetry stack: the collector, the stores and Grafana.
const observabilityProfile = "observability"

// observabilityServices are the services of the observability profile, by the container
// ports each publishes on loopback (the collector's OTLP for make dev, the UIs).
var observabilityServices = map[string][]string{
	"otel-collector": {"4317", "4318"},
	"jaeger":         {"16686"},
	"prometheus":     {"9090"},
	"grafana":        {"3000"},
	"loki":           nil,
	"alloy":          nil,
}

// pinnedImage is an image with a full release tag: no latest, no moving major or minor.
var pinnedImage = regexp.MustCompile(`^[a-z0-9]+(?:[./_-][a-z0-9]+)*:v?\d+\.\d+\.\d+$`)

// The telemetry services run only with their profile, from pinned images, and publish
// their ports on loopback only, on the numbers infra/README.md gives.
func TestComposeObservabilityServices(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, ports := range observabilityServices {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("no %s service", name)
			continue
		}
		if !slices.Equal(s.Profiles, []string{observabilityProfile}) {
			t.Errorf("%s: profiles %v, want [%s]", name, s.Profiles, observabilityProfile)
		}
		if !pinnedImage.MatchString(s.Image) {
			t.Errorf("%s: image %q is not pinned to a release", name, s.Image)
		}
		var published []string
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			if len(parts) != 3 || parts[0] != "127.0.0.1" {
				t.Errorf("%s: port %q, want 127.0.0.1:HOST:CONTAINER (loopback only)", name, p)
				continue
			}
			published = append(published, parts[2])
			if !strings.Contains(string(readme), "127.0.0.1:"+parts[1]) {
				t.Errorf("infra/README.md does not say where %s answers (127.0.0.1:%s)", name, parts[1])
			}
		}
		assertSet(t, name+" published ports", published, ports)
	}
	if !strings.Contains(string(readme), "docker compose -f infra/docker-compose.yml --profile "+observabilityProfile+" up") {
		t.Errorf("infra/README.md does not show the --profile %s up command", observabilityProfile)
	}
}

// bindMount is a volume of a compose service that is a path of the checkout (relative to
// infra/, where the compose file is) or of the host.
type bindMount struct {
	source, target string
	readOnly       bool
}

// bindMounts are s's volumes that are paths, not named volumes.
func bindMounts(t *testing.T, s composeService) []bindMount {
	t.Helper()
	var out []bindMount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 {
			t.Errorf("volume %q: want SOURCE:TARGET[:ro]", v)
			continue
		}
		if !strings.HasPrefix(parts[0], ".") && !strings.HasPrefix(parts[0], "/") {
			continue // a named volume
		}
		out = append(out, bindMount{source: parts[0], target: parts[1], readOnly: len(parts) == 3 && parts[2] == "ro"})
	}
	return out
}

// mountOf is where service name mounts the checkout's path source (relative to infra/).
func mountOf(t *testing.T, c composeFile, name, source string) string {
	t.Helper()
	for _, m := range bindMounts(t, c.Services[name]) {
		if filepath.Clean(m.source) == filepath.Clean(source) {
			return m.target
		}
	}
	t.Fatalf("%s does not mount %s", name, source)
	return ""
}

// Every path of the checkout a service mounts exists, read-only; the only host path is
// the Docker socket Alloy reads the containers' logs from.
func TestComposeObservabilityMounts(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	for name, s := range c.Services {
		for _, m := range bindMounts(t, s) {
			if strings.HasPrefix(m.source, "/") {
				if name != "alloy" || m.source != "/var/run/docker.sock" || !m.readOnly {
					t.Errorf("%s mounts the host's %s (read-only %v): only alloy reads the Docker socket, read-only", name, m.source, m.readOnly)
				}
				continue
			}
			if _, err := os.Stat(m.source); err != nil {
				t.Errorf("%s mounts %s, which is not in the repository: %v", name, m.source, err)
			}
			if !m.readOnly {
				t.Errorf("%s mounts %s read-write: a container must not write to the checkout", name, m.source)
			}
		}
	}
}

// hostPort splits the host and port of an endpoint: host:port or a URL.
func hostPort(t *testing.T, endpoint string) (string, string) {
	t.Helper()
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		return u.Hostname(), u.Port()
	}
	host, port, ok := strings.Cut(endpoint, ":")
	if !ok {
		t.Errorf("endpoint %q has no port", endpoint)
	}
	return host, port
}

// collectorConfig is the part of the collector's configuration the tests read.
type collectorConfig struct {
	Receivers map[string]struct {
		Protocols map[string]struct {
			Endpoint string `yaml:"endpoint"`
		} `yaml:"protocols"`
	} `yaml:"receivers"`
	Processors map[string]any `yaml:"processors"`
	Exporters  map[string]struct {
		Endpoint string `yaml:"endpoint"`
		TLS      struct {
			Insecure bool `yaml:"insecure"`
		} `yaml:"tls"`
	} `yaml:"exporters"`
	Connectors map[string]any `yaml:"connectors"`
	Extensions map[string]any `yaml:"extensions"`
	Service    struct {
		Extensions []string `yaml:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

// componentType is the type of a collector component id: otlp_grpc of otlp_grpc/jaeger.
func componentType(id string) string {
	typ, _, _ := strings.Cut(id, "/")
	return typ
}

// loadYAML decodes the file at path (relative to infra/) into v.
func loadYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// collectorFile is the collector's configuration, from infra/.
const collectorFile = "./compose/observability/collector.yaml"

// loadCollector reads the configuration the collector service is started with.
func loadCollector(t *testing.T, c composeFile) collectorConfig {
	t.Helper()
	col := c.Services["otel-collector"]
	target := mountOf(t, c, "otel-collector", collectorFile)
	if !slices.Contains(col.Command, "--config="+target) {
		t.Errorf("otel-collector: command %v does not read the mounted %s", col.Command, target)
	}
	var cfg collectorConfig
	loadYAML(t, collectorFile, &cfg)
	return cfg
}

// The collector's pipelines name only components it defines; it takes OTLP on the ports
// it publishes, from every interface; traces go to Jaeger, metrics to the endpoint
// Prometheus scrapes, logs to Loki.
func TestComposeObservabilityCollector(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	cfg := loadCollector(t, c)

	for _, ext := range cfg.Service.Extensions {
		if _, ok := cfg.Extensions[ext]; !ok {
			t.Errorf("service.extensions names %s, which extensions does not define", ext)
		}
	}
	exportersOf := map[string][]string{} // by signal
	for name, p := range cfg.Service.Pipelines {
		if len(p.Receivers) == 0 || len(p.Exporters) == 0 {
			t.Errorf("pipeline %s: receivers %v exporters %v, want both", name, p.Receivers, p.Exporters)
		}
		for _, r := range p.Receivers {
			_, rec := cfg.Receivers[r]
			_, con := cfg.Connectors[r]
			if !rec && !con {
				t.Errorf("pipeline %s receives from %s, which is not defined", name, r)
			}
		}
		for _, proc := range p.Processors {
			if _, ok := cfg.Processors[proc]; !ok {
				t.Errorf("pipeline %s uses the processor %s, which is not defined", name, proc)
			}
		}
		for _, e := range p.Exporters {
			_, exp := cfg.Exporters[e]
			_, con := cfg.Connectors[e]
			if !exp && !con {
				t.Errorf("pipeline %s exports to %s, which is not defined", name, e)
			}
		}
		signal := componentType(name)
		exportersOf[signal] = append(exportersOf[signal], p.Exporters...)
		if signal != "traces" && signal != "metrics" && signal != "logs" {
			t.Errorf("pipeline %s: not a signal the collector knows", name)
		}
	}

	// OTLP in: on 0.0.0.0 (the receiver's default is localhost, which neither the other
	// containers nor the published ports reach), on the ports the service publishes.
	otlp, ok := cfg.Receivers["otlp"]
	if !ok {
		t.Fatal("no otlp receiver")
	}
	for protocol, port := range map[string]string{"grpc": "4317", "http": "4318"} {
		if got := otlp.Protocols[protocol].Endpoint; got != "0.0.0.0:"+port {
			t.Errorf("otlp %s endpoint %q, want 0.0.0.0:%s", protocol, got, port)
		}
		published(t, c.Services["otel-collector"].Ports, port)
	}
	for signal, p := range cfg.Service.Pipelines {
		if componentType(signal) == "traces" || componentType(signal) == "metrics" {
			if !slices.Contains(p.Receivers, "otlp") {
				t.Errorf("pipeline %s does not receive OTLP", signal)
			}
		}
	}

	// Traces to Jaeger's OTLP/gRPC port, in plain text inside the compose network.
	traced := false
	for _, e := range exportersOf["traces"] {
		exp := cfg.Exporters[e]
		host, port := hostPort(t, exp.Endpoint)
		if typ := componentType(e); (typ == "otlp_grpc" || typ == "otlp") && host == "jaeger" && port == "4317" && exp.TLS.Insecure {
			traced = true
		}
	}
	if _, ok := c.Services["jaeger"]; !traced || !ok {
		t.Errorf("no traces pipeline exports OTLP/gRPC to jaeger:4317 without TLS (traces exporters %v)", exportersOf["traces"])
	}
	// Metrics to a Prometheus endpoint, which Prometheus scrapes (TestComposeObservabilityPrometheus).
	if collectorMetricsPort(t, cfg) == "" {
		t.Errorf("no metrics pipeline exports to a prometheus exporter (metrics exporters %v)", exportersOf["metrics"])
	}
	for _, e := range exportersOf["logs"] {
		if host, port := hostPort(t, cfg.Exporters[e].Endpoint); host != "loki" || port != lokiPort(t) {
			t.Errorf("logs exporter %s: %s, want Loki at loki:%s", e, cfg.Exporters[e].Endpoint, lokiPort(t))
		}
	}
}

// collectorMetricsPort is the port of the prometheus exporter a metrics pipeline uses.
func collectorMetricsPort(t *testing.T, cfg collectorConfig) string {
	t.Helper()
	for name, p := range cfg.Service.Pipelines {
		if componentType(name) != "metrics" {
			continue
		}
		for _, e := range p.Exporters {
			if componentType(e) == "prometheus" {
				host, port := hostPort(t, cfg.Exporters[e].Endpoint)
				if host != "0.0.0.0" {
					t.Errorf("prometheus exporter %s on %q: Prometheus scrapes it from another container", e, host)
				}
				return port
			}
		}
	}
	return ""
}

// lokiPort is the port Loki listens on with the image's configuration the compose file
// starts it with (-config.file=/etc/loki/local-config.yaml: server.http_listen_port).
func lokiPort(t *testing.T) string {
	t.Helper()
	if cmd := loadCompose(t).Services["loki"].Command; !slices.Equal(cmd, []string{"-config.file=/etc/loki/local-config.yaml"}) {
		t.Errorf("loki: command %v, want the image's own -config.file=/etc/loki/local-config.yaml (port 3100)", cmd)
	}
	return "3100"
}

// Prometheus reads the mounted configuration, which scrapes the collector's exporter and
// keeps the job label the exporter sets from service.name (the dashboards' service label).
func TestComposeObservabilityPrometheus(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	const file = "./compose/observability/prometheus.yml"
	prom := c.Services["prometheus"]
	target := mountOf(t, c, "prometheus", file)
	if len(prom.Command) > 0 && !slices.Contains(prom.Command, "--config.file="+target) || len(prom.Command) == 0 && target != "/etc/prometheus/prometheus.yml" {
		t.Errorf("prometheus: command %v does not read the mounted %s (the image reads /etc/prometheus/prometheus.yml)", prom.Command, target)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			HonorLabels   bool   `yaml:"honor_labels"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	loadYAML(t, file, &cfg)
	want := "otel-collector:" + collectorMetricsPort(t, loadCollector(t, c))
	scraped := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			if slices.Contains(st.Targets, want) {
				scraped = true
				if !sc.HonorLabels {
					t.Errorf("scrape job %s: honor_labels false: every series would be job=%q, not the service's", sc.JobName, sc.JobName)
				}
			}
		}
	}
	if !scraped {
		t.Errorf("prometheus.yml does not scrape the collector's exporter at %s", want)
	}
}

// grafanaProvisioning is the provisioning directory, from infra/.
const grafanaProvisioning = "./compose/observability/grafana/provisioning"

// grafanaDatasource is a provisioned datasource.
type grafanaDatasource struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type"`
	UID      string `yaml:"uid"`
	URL      string `yaml:"url"`
	JSONData struct {
		DerivedFields []struct {
			Name          string `yaml:"name"`
			MatcherType   string `yaml:"matcherType"`
			MatcherRegex  string `yaml:"matcherRegex"`
			DatasourceUID string `yaml:"datasourceUid"`
			URL           string `yaml:"url"`
		} `yaml:"derivedFields"`
		TracesToLogsV2 struct {
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"tracesToLogsV2"`
	} `yaml:"jsonData"`
}

// provisioningFiles reads every YAML file of a provisioning subdirectory into v, one each.
func provisioningFiles[T any](t *testing.T, dir string) []T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(grafanaProvisioning, dir, "*.y*ml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no provisioning files in %s/%s (%v)", grafanaProvisioning, dir, err)
	}
	var out []T
	for _, f := range files {
		var v T
		loadYAML(t, f, &v)
		out = append(out, v)
	}
	return out
}

// Grafana reads the provisioning directory where it looks by default; its datasources are
// the compose services, the Prometheus one with the uid every generated dashboard names;
// Loki's lines link their traceId to the trace store and spans link back; the dashboard
// provider reads the directory the generated dashboards are mounted at.
func TestComposeObservabilityGrafana(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	g := c.Services["grafana"]
	if target := mountOf(t, c, "grafana", grafanaProvisioning); target != "/etc/grafana/provisioning" {
		t.Errorf("grafana: provisioning mounted at %s, not Grafana's /etc/grafana/provisioning", target)
	}
	if p, ok := g.Environment["GF_PATHS_PROVISIONING"]; ok {
		t.Errorf("grafana: GF_PATHS_PROVISIONING %q moves the provisioning away from the mount", p)
	}

	// Grafana expands $NAME and ${NAME} in provisioning files from its environment: a
	// Grafana variable such as ${__value.raw} is written $${__value.raw}.
	err := filepath.WalkDir(grafanaProvisioning, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := regexp.MustCompile(`(^|[^$])\$\{[^}]*\}`).FindString(string(raw)); m != "" {
			t.Errorf("%s: %q: Grafana would take it from its environment (write $$ for a literal $)", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	byUID := map[string]grafanaDatasource{}
	for _, f := range provisioningFiles[struct {
		Datasources []grafanaDatasource `yaml:"datasources"`
	}](t, "datasources") {
		for _, ds := range f.Datasources {
			if _, dup := byUID[ds.UID]; dup || ds.UID == "" {
				t.Errorf("datasource %s: uid %q missing or repeated", ds.Name, ds.UID)
			}
			byUID[ds.UID] = ds
		}
	}
	// Each store at its compose service and port.
	stores := map[string]string{"prometheus": "prometheus:9090", "jaeger": "jaeger:16686", "loki": "loki:" + lokiPort(t)}
	for typ, addr := range stores {
		found := false
		for _, ds := range byUID {
			if ds.Type != typ {
				continue
			}
			found = true
			host, port := hostPort(t, ds.URL)
			if host+":"+port != addr {
				t.Errorf("datasource %s: %s, want http://%s", ds.Name, ds.URL, addr)
			}
			if s, ok := c.Services[host]; !ok || !slices.Contains(s.Profiles, observabilityProfile) {
				t.Errorf("datasource %s: %s is not a service of the %s profile", ds.Name, host, observabilityProfile)
			}
		}
		if !found {
			t.Errorf("no %s datasource", typ)
		}
	}
	if ds := byUID[dashboards.GrafanaDatasource]; ds.Type != "prometheus" {
		t.Errorf("datasource uid %q (the dashboards'): type %q, want prometheus", dashboards.GrafanaDatasource, ds.Type)
	}

	// Every datasource a generated dashboard names is provisioned.
	files, err := filepath.Glob(filepath.Join("..", dashboards.GrafanaDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d any
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, uid := range datasourceUIDs(d) {
			if _, ok := byUID[uid]; !ok {
				t.Errorf("%s reads the datasource uid %q, which Grafana is not provisioned with", filepath.Base(f), uid)
			}
		}
	}

	// A log line's traceId opens its trace; a span opens its lines.
	line := tracedLogLine(t)
	linked := false
	for _, ds := range byUID {
		if ds.Type != "loki" {
			continue
		}
		for _, f := range ds.JSONData.DerivedFields {
			re, err := regexp.Compile(f.MatcherRegex)
			if err != nil {
				t.Errorf("derived field %s: %v", f.Name, err)
				continue
			}
			m := re.FindStringSubmatch(line.text)
			if f.MatcherType != "regex" || len(m) != 2 || m[1] != line.traceID {
				t.Errorf("derived field %s: %s does not take the trace id %s from the log line %s", f.Name, f.MatcherRegex, line.traceID, line.text)
				continue
			}
			trace := byUID[f.DatasourceUID]
			if trace.Type != "jaeger" && trace.Type != "tempo" {
				t.Errorf("derived field %s links to datasource %q, not the trace store", f.Name, f.DatasourceUID)
				continue
			}
			if f.URL != "$${__value.raw}" {
				t.Errorf("derived field %s: url %q, want $${__value.raw} (the matched id, as a query of the trace datasource)", f.Name, f.URL)
			}
			if byUID[trace.JSONData.TracesToLogsV2.DatasourceUID].UID != ds.UID {
				t.Errorf("datasource %s: tracesToLogsV2 goes to %q, not to Loki (%s)", trace.Name, trace.JSONData.TracesToLogsV2.DatasourceUID, ds.UID)
			}
			linked = true
		}
	}
	if !linked {
		t.Error("no Loki datasource links a log line's traceId to the trace store")
	}

	// The dashboard provider reads the generated dashboards where they are mounted.
	target := mountOf(t, c, "grafana", "./"+strings.TrimPrefix(dashboards.GrafanaDir, "infra/"))
	var paths []string
	for _, f := range provisioningFiles[struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}](t, "dashboards") {
		for _, p := range f.Providers {
			if p.Type == "file" {
				paths = append(paths, p.Options.Path)
			}
		}
	}
	if !slices.Contains(paths, target) {
		t.Errorf("the dashboard providers read %v, but the generated dashboards are mounted at %s", paths, target)
	}
}

// datasourceUIDs are the uids of every "datasource" object in a dashboard's JSON.
func datasourceUIDs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if ds, ok := e.(map[string]any); ok && k == "datasource" {
				if uid, ok := ds["uid"].(string); ok {
					out = append(out, uid)
				}
			}
			out = append(out, datasourceUIDs(e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, datasourceUIDs(e)...)
		}
	}
	return out
}

// tracedLogLine is a line as a service logs it (shared/telemetry's JSON) inside a trace.
func tracedLogLine(t *testing.T) (line struct{ text, traceID string }) {
	t.Helper()
	tid, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	if err != nil {
		t.Fatal(err)
	}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	var b bytes.Buffer
	telemetry.NewLogger(&b, "json", "info", "").InfoContext(ctx, "request", "status", 200)
	line.text, line.traceID = strings.TrimSpace(b.String()), tid.String()
	if !strings.Contains(line.text, line.traceID) {
		t.Fatalf("the log line %s does not carry the trace id", line.text)
	}
	return line
}

// Alloy reads this compose project's containers through the Docker socket and pushes
// their lines to Loki.
func TestComposeObservabilityAlloy(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	const file = "./compose/observability/alloy/config.alloy"
	target := mountOf(t, c, "alloy", file)
	if cmd := c.Services["alloy"].Command; len(cmd) == 0 || cmd[0] != "run" || cmd[len(cmd)-1] != target {
		t.Errorf("alloy: command %v does not run the mounted %s", cmd, target)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	if !strings.Contains(cfg, `"com.docker.compose.project=`+c.Name+`"`) {
		t.Errorf("%s does not select the containers of the compose project %q", file, c.Name)
	}
	socket := mountOf(t, c, "alloy", "/var/run/docker.sock")
	hosts := regexp.MustCompile(`(?m)^\s*host\s*=\s*"([^"]*)"`).FindAllStringSubmatch(cfg, -1)
	if len(hosts) == 0 {
		t.Errorf("%s names no Docker host", file)
	}
	for _, h := range hosts {
		if h[1] != "unix://"+socket {
			t.Errorf("%s reads the Docker daemon at %s, but the socket is mounted at %s", file, h[1], socket)
		}
	}
	m := regexp.MustCompile(`url\s*=\s*"([^"]+)"`).FindAllStringSubmatch(cfg, -1)
	if len(m) != 1 {
		t.Fatalf("%s: want one Loki url, got %v", file, m)
	}
	if u, err := url.Parse(m[0][1]); err != nil || u.Host != "loki:"+lokiPort(t) || u.Path != "/loki/api/v1/push" {
		t.Errorf("%s pushes to %s, want http://loki:%s/loki/api/v1/push", file, m[0][1], lokiPort(t))
	}
}

// telemetryMains are the main packages of the app services' binaries (by binary name)
// whose processes start shared/telemetry, and so export OTLP when told where.
func telemetryMains(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, d := range deployables {
		out[d.name] = strings.Contains(readGo(t, "../"+strings.TrimPrefix(d.pkg, "github.com/8949market/market/")), "telemetry.Start(")
	}
	return out
}

// The app services that start telemetry take OTEL_EXPORTER_OTLP_ENDPOINT from the
// environment of docker compose, empty unless set (a set endpoint with no collector
// logs a failed export every interval); infra/README.md exports it as the collector's
// address inside the compose network, and gives make dev the published one.
func TestComposeObservabilityAppExport(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	const name = "OTEL_EXPORTER_OTLP_ENDPOINT"
	exports := telemetryMains(t)
	for svc := range appServices {
		s := c.Services[svc]
		bin := path.Base(binaryOf(t, s))
		v, set := s.Environment[name]
		switch {
		case exports[bin] && v != "${"+name+":-}":
			t.Errorf("%s runs %s, which starts telemetry: %s = %q, want ${%s:-}", svc, bin, name, v, name)
		case !exports[bin] && set:
			t.Errorf("%s sets %s, but %s starts no telemetry", svc, name, bin)
		}
	}
	if !slices.ContainsFunc(slices.Collect(maps.Values(exports)), func(b bool) bool { return b }) {
		t.Error("no deployable starts telemetry: telemetryMains no longer finds telemetry.Start")
	}

	vars, _ := exportedVariables(t, "README.md")
	endpoint, err := url.Parse(vars[name])
	if err != nil || endpoint.Scheme != "http" || endpoint.Host != "otel-collector:4318" {
		t.Errorf("infra/README.md exports %s=%q, want the collector's OTLP/HTTP inside the compose network, http://otel-collector:4318", name, vars[name])
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	dev := name + "=http://127.0.0.1:" + published(t, c.Services["otel-collector"].Ports, "4318") + " make dev"
	if !strings.Contains(string(readme), dev) {
		t.Errorf("infra/README.md does not show make dev sending to the published collector (%s)", dev)
	}
}

package infra_test

import (
	"maps"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/8949market/market/infra/compose"
	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/registry"
)

// composeFile is the part of a compose file the tests read.
type composeFile struct {
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
	assertSet(t, "compose services", names, append([]string{"postgres", "redis", "kafka", "pubsub"}, slices.Collect(maps.Keys(appServices))...))
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
	known := configNames()
	for _, name := range slices.Concat(slices.Collect(maps.Keys(vars)), assigned) {
		if !known[name] {
			t.Errorf("infra/README.md exports %s, which shared/config does not read", name)
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

// appServices are the platform's services in the compose file (profile app), by the
// Dockerfile target each is built from.
var appServices = map[string]string{
	"migrate":      "functions",
	"functions":    "functions",
	"chat-server":  "chat-server",
	"outbox-relay": "outbox-relay",
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
		if name == "migrate" {
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
	for svc, deps := range map[string][]string{"functions": {"redis", "kafka"}, "chat-server": {"redis"}, "outbox-relay": {"kafka"}} {
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
	known := configNames()
	vars, exported := exportedVariables(t, "README.md")
	exported = append(exported, slices.Collect(maps.Keys(vars))...)
	cfgs := map[string]config.Config{}
	for name := range appServices {
		s := c.Services[name]
		for k, v := range s.Environment {
			if !known[k] {
				t.Errorf("%s sets %s, which shared/config does not read", name, k)
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
	for _, name := range []string{"functions", "outbox-relay"} {
		cfg := cfgs[name]
		if cfg.Backbone != "kafka" || !slices.Equal(cfg.KafkaBrokers, []string{docker}) || docker == "" {
			t.Errorf("%s: BACKBONE %q KAFKA_BROKERS %v, want kafka at the containers' listener %q", name, cfg.Backbone, cfg.KafkaBrokers, docker)
		}
	}
	if f, r := cfgs["functions"].TopicPrefix, cfgs["outbox-relay"].TopicPrefix; f != r || c.Services["outbox-relay"].Environment["TOPIC_PREFIX"] == "" {
		t.Errorf("TOPIC_PREFIX: functions %q, relay %q: one prefix, set", f, r)
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

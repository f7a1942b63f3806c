package infra_test

import (
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
)

// composeFile is the part of a compose file the tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Healthcheck struct {
			Test     []string `yaml:"test"`
			Interval string   `yaml:"interval"`
			Retries  int      `yaml:"retries"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
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
	assertSet(t, "compose services", names, []string{"postgres", "redis", "kafka", "pubsub"})
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := c.Services[name]
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
	vars := exportedVariables(t, "README.md")
	known := configNames()
	for name := range vars {
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

// exportedVariables reads the NAME=value pairs of the `export` lines in the shell blocks
// of a Markdown file.
func exportedVariables(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		m := exportLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		for _, pair := range strings.Fields(m[1]) {
			name, value, ok := strings.Cut(pair, "=")
			if !ok {
				t.Fatalf("%s: export %q", path, pair)
			}
			vars[name] = strings.Trim(value, `'"`)
		}
	}
	if len(vars) == 0 {
		t.Fatalf("%s exports no variables", path)
	}
	return vars
}

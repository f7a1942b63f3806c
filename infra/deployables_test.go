package infra_test

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/devstack/deployed"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/router"
)

// deployable is a binary the infrastructure runs, and how it picks what it serves from
// the functions linked into it (the code each binary runs at start).
type deployable struct {
	name   string // the image
	pkg    string // its main package
	serves func([]registry.Function) []registry.Function
}

var deployables = []deployable{
	{"functions", "github.com/8949market/market/cmd/functions", router.Served},
	{chatserver.Service, "github.com/8949market/market/chat-server/cmd/chat-server", func(fns []registry.Function) []registry.Function {
		return slices.DeleteFunc(slices.Clone(fns), func(f registry.Function) bool { return f.Host != chatserver.Service })
	}},
	{"outbox-relay", "github.com/8949market/market/outbox-relay/cmd/outbox-relay", func([]registry.Function) []registry.Function { return nil }},
	{"migrate", "github.com/8949market/market/cmd/migrate", func([]registry.Function) []registry.Function { return nil }},
}

// deps lists the packages linked into pkg.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// harness says why a linked package is test or dev code, or "" if it is not.
func harness(pkg string) string {
	const module = "github.com/8949market/market/"
	switch {
	case pkg == "testing" || strings.HasPrefix(pkg, "testing/"):
		return "the testing package"
	case pkg == "net/http/httptest":
		return "a test server"
	case strings.HasSuffix(pkg, "/kfake"):
		return "the in-process Kafka"
	case strings.HasSuffix(pkg, "/pstest"):
		return "the in-process Pub/Sub"
	case strings.HasPrefix(pkg, module+"shared/devstack"):
		return "the dev stack"
	case pkg == module+"functions/all":
		return "every function (a deployable states what it serves)"
	case strings.HasPrefix(pkg, module) && (strings.HasSuffix(pkg, "test") ||
		strings.Contains(pkg, "/testenv") || strings.Contains(pkg, "/testfactory")):
		return "a test kit"
	}
	return ""
}

// operatorTools are the production binaries that are not deployed as services: an operator
// runs them against production (cmd/deadletters) or at build time (cmd/manifest, which
// reads the whole registry and so links functions/all). They too link no test kit, dev
// stack or in-process broker; .golangci.yaml's depguard rule not-test says the same per file.
var operatorTools = []string{
	"github.com/8949market/market/cmd/deadletters",
	"github.com/8949market/market/cmd/manifest",
}

func TestOperatorToolsLinkNoHarness(t *testing.T) {
	t.Parallel()
	for _, pkg := range operatorTools {
		t.Run(pkg[strings.LastIndex(pkg, "/")+1:], func(t *testing.T) {
			t.Parallel()
			for _, p := range deps(t, pkg) {
				if p == "github.com/8949market/market/functions/all" {
					continue // the registry, read whole: these tools serve nothing
				}
				if why := harness(p); why != "" {
					t.Errorf("%s links %s: %s", pkg, p, why)
				}
			}
		})
	}
}

// served is what each deployable serves, by function name, as its binary would choose.
func served(t *testing.T) map[string][]string {
	t.Helper()
	byPackage := map[string]registry.Function{}
	for _, f := range registry.All() {
		byPackage[f.Package] = f
	}
	out := map[string][]string{}
	for _, d := range deployables {
		var linked []registry.Function
		for _, p := range deps(t, d.pkg) {
			if f, ok := byPackage[p]; ok {
				linked = append(linked, f)
			}
		}
		serves := d.serves(linked)
		for _, f := range linked {
			if !slices.ContainsFunc(serves, func(s registry.Function) bool { return s.Name == f.Name }) {
				t.Errorf("%s links %s but does not serve it (it belongs to %q)", d.name, f.Name, f.Host)
			}
		}
		for _, f := range serves {
			out[d.name] = append(out[d.name], f.Name)
		}
	}
	return out
}

// Deployables link nothing of the test or dev harness.
func TestDeployablesLinkNoHarness(t *testing.T) {
	t.Parallel()
	for _, d := range deployables {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range deps(t, d.pkg) {
				if why := harness(p); why != "" {
					t.Errorf("%s links %s: %s", d.pkg, p, why)
				}
			}
		})
	}
}

// Every function is served by exactly one binary, the one the manifest names (its host,
// or the functions image), and every route, push endpoint, bridge target and scheduler
// job Terraform declares lands on a binary that serves it; no binary serves a function
// nothing routes to.
func TestDeployablesServeWhatInfraRoutes(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	srv := served(t)
	owner := map[string]string{}
	for name, fns := range srv {
		for _, f := range fns {
			if other, dup := owner[f]; dup {
				t.Errorf("%s is served by %s and %s", f, other, name)
			}
			owner[f] = name
		}
	}
	for name, f := range tr.fns {
		want := "functions"
		if f.Host != "" {
			want = f.Host
		}
		if owner[name] != want {
			t.Errorf("%s (host %q) is served by %q, want %q", name, f.Host, owner[name], want)
		}
	}

	for _, backbone := range backbones {
		t.Run(backbone, func(t *testing.T) {
			t.Parallel()
			e := evaluateFor(t, backbone)
			chat := runURL(chatserver.Service)
			// A URL reaches a binary: a function's own service runs the functions image
			// with FUNCTION_TARGET; the chat server serves /internal/functions/<name>.
			lands := func(what, url, want string) {
				t.Helper()
				var binary, fn string
				if rest, ok := strings.CutPrefix(url, chat+"/internal/functions/"); ok {
					binary, fn = chatserver.Service, rest
				} else {
					for name := range e.instances(t, "google_cloud_run_v2_service.function") {
						if url == runURL(name) {
							binary, fn = "functions", name
						}
					}
				}
				if fn != want {
					t.Errorf("%s goes to %q, which reaches %q, want %s", what, url, fn, want)
					return
				}
				if !slices.Contains(srv[binary], fn) {
					t.Errorf("%s reaches %s on %s, which does not serve it", what, fn, binary)
				}
			}
			routed := map[string]bool{}
			for name, svc := range e.instances(t, "google_cloud_run_v2_service.function") {
				if got := svc.env(t, "template", "containers")["FUNCTION_TARGET"].value; !slices.Contains(srv["functions"], got) {
					t.Errorf("service %s runs FUNCTION_TARGET=%q, which the functions image does not serve", name, got)
				}
				routed[name] = true
			}
			for name, job := range e.instances(t, "google_cloud_scheduler_job.function") {
				lands("scheduler job "+name, job.str(t, "http_target", "uri"), name)
			}
			for path, ops := range e.local(t, "openapi").GetAttr("paths").AsValueMap() {
				for method, op := range ops.AsValueMap() {
					backend := op.GetAttr("x-google-backend").GetAttr("address").AsString()
					route := strings.ToUpper(method) + " " + path
					if backend == chat || method == "options" {
						continue // the chat server's REST routes (TestGatewayChatRoutes); a preflight (TestGatewayOpenAPI)
					}
					name := strings.TrimPrefix(strings.TrimSuffix(backend, "-"+testProjectNo+"."+testRegion+".run.app"), "https://")
					if f := tr.fns[name]; f.Route() != route {
						t.Errorf("gateway route %s goes to %s, whose route is %q", route, name, f.Route())
					}
					lands("gateway route "+route, backend, name)
				}
			}
			consumers := tr.events
			// Push subscriptions: every consumer's on Pub/Sub, the storage topics' consumers'
			// on Kafka too (Cloud Storage notifies Pub/Sub only), who are no bridge targets.
			subs := e.instances(t, "google_pubsub_subscription.push")
			for name, sub := range subs {
				lands("push subscription "+name, sub.str(t, "push_config", "push_endpoint"), name)
				if strings.HasPrefix(sub.str(t, "push_config", "push_endpoint"), chat) {
					routed[name] = true
				}
			}
			storageConsumers := storageConsumerNames(t)
			if backbone == "pubsub" {
				assertSet(t, "push subscriptions", slices.Collect(maps.Keys(subs)), consumers)
			} else {
				assertSet(t, "push subscriptions", slices.Collect(maps.Keys(subs)), slices.Collect(maps.Keys(storageConsumers)))
				consumers = slices.DeleteFunc(slices.Clone(consumers), func(n string) bool { return storageConsumers[n] })
				env := e.instances(t, "google_cloud_run_v2_service.relay")[""].env(t, "template", "containers")
				targets, err := bridge.ParseTargets(env["BRIDGE_TARGETS"].value)
				if err != nil {
					t.Fatal(err)
				}
				for name, target := range targets {
					lands("bridge target "+name, target.URL, name)
					if target.Topic != tr.fns[name].Topic {
						t.Errorf("bridge target %s consumes %q, registered %q", name, target.Topic, tr.fns[name].Topic)
					}
					if strings.HasPrefix(target.URL, chat) {
						routed[name] = true
					}
				}
				assertSet(t, "bridge targets", slices.Collect(maps.Keys(targets)), consumers)
			}
			for binary, fns := range srv {
				for _, f := range fns {
					if !routed[f] {
						t.Errorf("%s serves %s, which the infrastructure never routes to it", binary, f)
					}
				}
			}
		})
	}
}

// The local deployed shape's push subscriptions retry as Terraform's do by default, and the
// bridge's defaults are the same policy.
func TestLocalDeliveryIsTerraforms(t *testing.T) {
	t.Parallel()
	e := evaluateFor(t, "pubsub")
	var sub *instance
	for _, s := range e.instances(t, "google_pubsub_subscription.push") {
		sub = s
		break
	}
	minBackoff, err1 := time.ParseDuration(sub.str(t, "retry_policy", "minimum_backoff"))
	maxBackoff, err2 := time.ParseDuration(sub.str(t, "retry_policy", "maximum_backoff"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	tf := deployed.Delivery{
		MaxAttempts: int32(sub.number(t, "dead_letter_policy", "max_delivery_attempts")),
		MinBackoff:  minBackoff, MaxBackoff: maxBackoff,
		AckDeadline: time.Duration(sub.number(t, "ack_deadline_seconds")) * time.Second,
	}
	local := deployed.DefaultDelivery
	local.Retention = 0
	if local != tf {
		t.Errorf("make up's push subscriptions %+v, Terraform's %+v", local, tf)
	}
	if int32(bridge.DefaultMaxAttempts) != tf.MaxAttempts || bridge.DefaultBackoffBase != tf.MinBackoff || bridge.DefaultBackoffMax != tf.MaxBackoff {
		t.Errorf("the bridge's default policy %d/%s/%s, Terraform's %+v", bridge.DefaultMaxAttempts, bridge.DefaultBackoffBase, bridge.DefaultBackoffMax, tf)
	}
}

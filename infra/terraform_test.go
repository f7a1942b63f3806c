package infra_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	_ "github.com/8949market/market/functions/all" // every function registers itself
	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/registry"
)

// backbones are the module evaluated once per backbone; most checks run on both.
var backbones = []string{"pubsub", "kafka"}

func evaluateFor(t *testing.T, backbone string) *eval {
	t.Helper()
	return evaluateWith(t, backbone, nil)
}

// evaluateWith evaluates the module on a backbone with more variables set, by name.
func evaluateWith(t *testing.T, backbone string, inputs map[string]cty.Value) *eval {
	t.Helper()
	all := map[string]cty.Value{
		"project_id": cty.StringVal(testProject),
		"region":     cty.StringVal(testRegion),
		"image_tag":  cty.StringVal("test"),
		"backbone":   cty.StringVal(backbone),
	}
	maps.Copy(all, inputs)
	return loadModule(t).evaluate(t, all)
}

// account is the email of the module's service account with this account id.
func account(id string) string { return id + "@" + testProject + ".iam.gserviceaccount.com" }

// plainEnv reads a container's plain (not secret) variables as the code does.
func plainEnv(t *testing.T, env map[string]envVar) config.Config {
	t.Helper()
	plain := map[string]string{}
	for name, v := range env {
		if v.secret == "" {
			plain[name] = v.value
		}
	}
	cfg, err := config.Parse(plain)
	if err != nil {
		t.Fatalf("the code refuses the environment %v: %v", plain, err)
	}
	return cfg
}

// receiverURL is the SERVICE_URL of the server that receives a consumer's events: its
// own service's, or its host's. The ID tokens minted for the consumer must carry it as
// their audience, or the server refuses them.
func receiverURL(t *testing.T, e *eval, f registry.Function) string {
	t.Helper()
	svc := e.instances(t, "google_cloud_run_v2_service.chat")[""]
	if f.Host == "" {
		svc = e.instances(t, "google_cloud_run_v2_service.function")[f.Name]
	}
	if svc == nil {
		t.Fatalf("%s: no server receives its events", f.Name)
	}
	return svc.env(t, "template", "containers")["SERVICE_URL"].value
}

// truth is what the registry and the event catalogue say, the way the tests compare it.
type truth struct {
	fns       map[string]registry.Function
	own       []string // functions with a Cloud Run service of their own
	http      []string
	events    []string // every consumer, hosted ones included
	consumers []string // consumers with their own service
	scheduled []string
	hosts     []string
}

func registryTruth(t *testing.T) truth {
	t.Helper()
	if err := registry.Validate(); err != nil {
		t.Fatal(err)
	}
	tr := truth{fns: map[string]registry.Function{}}
	hosts := map[string]bool{}
	for _, f := range registry.All() {
		tr.fns[f.Name] = f
		if f.Host != "" {
			hosts[f.Host] = true
		} else {
			tr.own = append(tr.own, f.Name)
		}
		switch f.Kind {
		case registry.KindHTTP:
			tr.http = append(tr.http, f.Name)
		case registry.KindEvent:
			tr.events = append(tr.events, f.Name)
			if f.Host == "" {
				tr.consumers = append(tr.consumers, f.Name)
			}
		case registry.KindScheduled:
			tr.scheduled = append(tr.scheduled, f.Name)
		}
	}
	tr.hosts = slices.Sorted(maps.Keys(hosts))
	return tr
}

func runURL(service string) string {
	return "https://" + service + "-" + testProjectNo + "." + testRegion + ".run.app"
}

func assertSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		var missing, extra []string
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing = append(missing, w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				extra = append(extra, g)
			}
		}
		t.Errorf("%s: missing %v, not in the registry %v", what, missing, extra)
	}
}

// The module reads the generated manifest, and the manifest is the registry.
func TestTerraformReadsTheManifest(t *testing.T) {
	t.Parallel()
	m := loadModule(t)
	src := strings.Join(strings.Fields(string(m.locals["manifest"].SrcRange.SliceBytes(m.sources["locals.tf"]))), " ")
	if src != `manifest = jsondecode(file("${path.module}/functions.json"))` {
		t.Fatalf("local.manifest is %q, want jsondecode(file(\"${path.module}/functions.json\"))", src)
	}
	e := evaluateFor(t, "pubsub")
	tr := registryTruth(t)

	var names []string
	for _, f := range e.local(t, "manifest").GetAttr("functions").AsValueSlice() {
		names = append(names, f.GetAttr("name").AsString())
	}
	assertSet(t, "functions in functions.json", names, slices.Collect(maps.Keys(tr.fns)))
	var topics []string
	for _, v := range e.local(t, "manifest").GetAttr("topics").AsValueSlice() {
		topics = append(topics, v.AsString())
	}
	assertSet(t, "topics in functions.json", topics, events.Topics())
	if got := e.local(t, "dead_letter_suffix").AsString(); got != events.DeadLetterSuffix {
		t.Errorf("dead-letter suffix %q, want %q", got, events.DeadLetterSuffix)
	}
	for _, h := range tr.hosts {
		if !e.local(t, "host_urls").Type().HasAttribute(h) {
			t.Errorf("functions are hosted by %s, which local.host_urls does not know", h)
		}
	}
}

// One Cloud Run service per function with its own service account, FUNCTION_TARGET, the
// one image, secrets by need, ingress by kind, and sizes.
func TestFunctionServices(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	for _, backbone := range backbones {
		t.Run(backbone, func(t *testing.T) {
			t.Parallel()
			e := evaluateFor(t, backbone)
			services := e.instances(t, "google_cloud_run_v2_service.function")
			assertSet(t, "Cloud Run function services", slices.Collect(maps.Keys(services)), tr.own)
			accounts := e.instances(t, "google_service_account.function")
			assertSet(t, "function service accounts", slices.Collect(maps.Keys(accounts)), tr.own)

			image := e.local(t, "images").GetAttr("functions").AsString()
			seenAccounts := map[string]string{}
			for name, svc := range services {
				f := tr.fns[name]
				if got := svc.str(t, "name"); got != name {
					t.Errorf("service %s is named %q", name, got)
				}
				if got := svc.str(t, "template", "containers", "image"); got != image {
					t.Errorf("%s: image %q, want the functions image %q", name, got, image)
				}
				env := svc.env(t, "template", "containers")
				if env["FUNCTION_TARGET"].value != name {
					t.Errorf("%s: FUNCTION_TARGET %q", name, env["FUNCTION_TARGET"].value)
				}
				for _, v := range []string{"DATABASE_URL", "REDIS_URL", "JWT_PUBLIC_KEYS"} {
					if env[v].secret == "" {
						t.Errorf("%s: %s is not from Secret Manager", name, v)
					}
				}
				if got := env["JWT_SIGNING_KEY"].secret != ""; got != f.Signs {
					t.Errorf("%s: has the signing key %v, registered Signs() %v", name, got, f.Signs)
				}
				if env["BACKBONE"].value != backbone || env["TOPIC_PREFIX"].value != "prod-" {
					t.Errorf("%s: BACKBONE %q, TOPIC_PREFIX %q", name, env["BACKBONE"].value, env["TOPIC_PREFIX"].value)
				}
				// Its own URL is the audience of every ID token it accepts.
				cfg := plainEnv(t, env)
				if cfg.ServiceURL != runURL(name) {
					t.Errorf("%s: SERVICE_URL %q, want its URL %s", name, cfg.ServiceURL, runURL(name))
				}
				size := e.local(t, "function_sizes").GetAttr(name).GetAttr("database_max_conns")
				if n, _ := size.AsBigFloat().Int64(); int64(cfg.DatabaseMaxConns) != n {
					t.Errorf("%s: DATABASE_MAX_CONNS %d, its size says %d", name, cfg.DatabaseMaxConns, n)
				}

				wantIngress := "INGRESS_TRAFFIC_INTERNAL_ONLY"
				if f.Kind == registry.KindHTTP {
					wantIngress = "INGRESS_TRAFFIC_ALL"
				}
				if got := svc.str(t, "ingress"); got != wantIngress {
					t.Errorf("%s (%s): ingress %s, want %s", name, f.Kind, got, wantIngress)
				}

				minN, maxN := svc.number(t, "template", "scaling", "min_instance_count"), svc.number(t, "template", "scaling", "max_instance_count")
				if minN < 0 || maxN < 1 || minN > maxN {
					t.Errorf("%s: instances %d..%d", name, minN, maxN)
				}
				if name == "reservations-apply" && minN < 1 {
					t.Errorf("reservations-apply: min instances %d, want at least 1 (no cold start at a deal's opening)", minN)
				}
				if svc.number(t, "template", "max_instance_request_concurrency") < 1 {
					t.Errorf("%s: no concurrency", name)
				}
				if svc.value(t, "template", "containers", "resources", "startup_cpu_boost").True() != true {
					t.Errorf("%s: no startup CPU boost", name)
				}
				if svc.block(t, "template", "vpc_access", "network_interfaces") == nil {
					t.Errorf("%s: no Direct VPC egress", name)
				}

				account := svc.str(t, "template", "service_account")
				if account != accounts[name].str(t, "account_id")+"@"+testProject+".iam.gserviceaccount.com" {
					t.Errorf("%s runs as %s, not as its own account", name, account)
				}
				if other, dup := seenAccounts[account]; dup {
					t.Errorf("%s and %s share the account %s", name, other, account)
				}
				seenAccounts[account] = name
			}
			idRule := regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
			for name, a := range accounts {
				if id := a.str(t, "account_id"); !idRule.MatchString(id) {
					t.Errorf("%s: account id %q is not a valid service account id", name, id)
				}
			}
		})
	}
}

// Every account reads exactly the secrets its function's container names.
func TestSecretAccess(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	e := evaluateFor(t, "pubsub")
	want := map[string][]string{}
	for name, svc := range e.instances(t, "google_cloud_run_v2_service.function") {
		for _, v := range svc.env(t, "template", "containers") {
			if v.secret != "" {
				want[name] = append(want[name], v.secret)
			}
		}
	}
	got := map[string][]string{}
	accounts := e.instances(t, "google_service_account.function")
	for key, grant := range e.instances(t, "google_secret_manager_secret_iam_member.function") {
		fn, secret := grant.each(t).GetAttr("function").AsString(), grant.each(t).GetAttr("secret").AsString()
		if key != fn+"/"+secret {
			t.Errorf("grant %s is for %s/%s", key, fn, secret)
		}
		if _, ok := tr.fns[fn]; !ok {
			t.Errorf("grant %s: no function %s in the registry", key, fn)
		}
		if member := grant.str(t, "member"); member != "serviceAccount:"+accounts[fn].str(t, "account_id")+"@"+testProject+".iam.gserviceaccount.com" {
			t.Errorf("grant %s goes to %s, not to the function's account", key, member)
		}
		got[fn] = append(got[fn], secret)
	}
	for _, name := range tr.own {
		assertSet(t, name+" secret grants", got[name], want[name])
	}
}

// Who may invoke what: IAM's run.invoker and the caller check in code (shared/pushauth)
// name the same account for every service, and nothing reaches a function around them.
// REST functions: allUsers without API Gateway; with it, the gateway's account only, and
// the function checks the gateway's token (GATEWAY_INVOKER). Consumers: the deliverer.
// Scheduled functions: Cloud Scheduler. Nothing else is open to allUsers but the chat
// server.
func TestInvokers(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	for _, backbone := range backbones {
		for _, gateway := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/gateway=%v", backbone, gateway), func(t *testing.T) {
				t.Parallel()
				e := evaluateWith(t, backbone, map[string]cty.Value{"api_gateway": cty.BoolVal(gateway)})
				wantPublic, wantGateway := tr.http, []string(nil)
				if gateway {
					wantPublic, wantGateway = nil, tr.http
				}
				assertSet(t, "REST functions invoked by allUsers", slices.Collect(maps.Keys(e.instances(t, "google_cloud_run_v2_service_iam_member.public"))), wantPublic)
				assertSet(t, "REST functions invoked by the gateway", slices.Collect(maps.Keys(e.instances(t, "google_cloud_run_v2_service_iam_member.gateway"))), wantGateway)
				assertSet(t, "consumer invokers", slices.Collect(maps.Keys(e.instances(t, "google_cloud_run_v2_service_iam_member.deliverer"))), tr.consumers)
				assertSet(t, "scheduler invokers", slices.Collect(maps.Keys(e.instances(t, "google_cloud_run_v2_service_iam_member.scheduler"))), tr.scheduled)

				deliverer := account("pubsub-push")
				if backbone == "kafka" {
					deliverer = account("outbox-relay")
				}
				want := map[string]string{"google_cloud_run_v2_service_iam_member.public": "allUsers",
					"google_cloud_run_v2_service_iam_member.gateway":   "serviceAccount:" + account("api-gateway"),
					"google_cloud_run_v2_service_iam_member.deliverer": "serviceAccount:" + deliverer,
					"google_cloud_run_v2_service_iam_member.scheduler": "serviceAccount:" + account("scheduler")}
				storageConsumers := storageConsumerNames(t)
				invoker := map[string]string{} // function => the member IAM lets invoke it
				for r, member := range want {
					for name, in := range e.instances(t, r) {
						member := member
						if r == "google_cloud_run_v2_service_iam_member.deliverer" && storageConsumers[name] {
							// Cloud Storage notifies Pub/Sub only: pushed by Pub/Sub on either backbone.
							member = "serviceAccount:" + account("pubsub-push")
						}
						if got := in.str(t, "member"); got != member {
							t.Errorf("%s[%s] grants %s, want %s", r, name, got, member)
						}
						if other, dup := invoker[name]; dup {
							t.Errorf("%s is invoked by %s and by %s", name, other, member)
						}
						invoker[name] = member
					}
				}

				// The code checks the same account IAM admits, for the service's own URL.
				for name, svc := range e.instances(t, "google_cloud_run_v2_service.function") {
					cfg := plainEnv(t, svc.env(t, "template", "containers"))
					var accepts string
					switch f := tr.fns[name]; f.Kind {
					case registry.KindHTTP:
						if cfg.PushAuth != "" {
							t.Errorf("%s: a REST function with PUSH_AUTH %q", name, cfg.PushAuth)
						}
						if !gateway && cfg.GatewayInvoker != "" {
							t.Errorf("%s: GATEWAY_INVOKER %q without the gateway", name, cfg.GatewayInvoker)
						}
						accepts = "serviceAccount:" + cfg.GatewayInvoker
						if cfg.GatewayInvoker == "" {
							accepts = "allUsers"
						}
					default:
						if cfg.PushAuth != "oidc" || len(cfg.PushInvokers) != 1 || cfg.GatewayInvoker != "" {
							t.Errorf("%s (%s): PUSH_AUTH %q, PUSH_INVOKERS %v, GATEWAY_INVOKER %q; want oidc and one invoker", name, f.Kind, cfg.PushAuth, cfg.PushInvokers, cfg.GatewayInvoker)
							continue
						}
						accepts = "serviceAccount:" + cfg.PushInvokers[0]
					}
					if accepts != invoker[name] {
						t.Errorf("%s accepts calls from %s, IAM lets %s invoke it", name, accepts, invoker[name])
					}
				}

				for key, b := range e.m.resources {
					if !strings.Contains(key, "iam") {
						continue
					}
					for ik, in := range e.instancesOf(t, key, b) {
						member, ok := in.body.Attributes["member"]
						if !ok {
							continue
						}
						v, _ := member.Expr.Value(in.ctx)
						if v.IsKnown() && v.Type() == cty.String && v.AsString() == "allUsers" &&
							key != "google_cloud_run_v2_service_iam_member.public" && key != "google_cloud_run_v2_service_iam_member.chat_public" &&
							key != "google_storage_bucket_iam_member.photos_public" {
							t.Errorf("%s[%s] grants allUsers", key, ik)
						}
					}
				}
				relay := e.instances(t, "google_cloud_run_v2_service.relay")[""]
				if got := relay.str(t, "ingress"); got != "INGRESS_TRAFFIC_INTERNAL_ONLY" {
					t.Errorf("relay ingress %s", got)
				}
				if got := relay.number(t, "template", "scaling", "min_instance_count"); got < 1 {
					t.Errorf("relay min instances %d", got)
				}
			})
		}
	}
}

// A Cloud Scheduler job per scheduled function: its schedule, POST, OIDC for its URL.
func TestSchedulerJobs(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	e := evaluateFor(t, "pubsub")
	jobs := e.instances(t, "google_cloud_scheduler_job.function")
	assertSet(t, "scheduler jobs", slices.Collect(maps.Keys(jobs)), tr.scheduled)
	for name, job := range jobs {
		if got := job.str(t, "schedule"); got != tr.fns[name].Schedule {
			t.Errorf("%s: schedule %q, registered %q", name, got, tr.fns[name].Schedule)
		}
		if got := job.str(t, "http_target", "http_method"); got != "POST" {
			t.Errorf("%s: method %s", name, got)
		}
		if got := job.str(t, "http_target", "uri"); got != runURL(name) {
			t.Errorf("%s: calls %s, want %s", name, got, runURL(name))
		}
		if got := job.str(t, "http_target", "oidc_token", "audience"); got != runURL(name) || got != receiverURL(t, e, tr.fns[name]) {
			t.Errorf("%s: OIDC audience %s, want its SERVICE_URL %s", name, got, receiverURL(t, e, tr.fns[name]))
		}
		if got := job.str(t, "http_target", "oidc_token", "service_account_email"); got != account("scheduler") {
			t.Errorf("%s: calls as %s, want the scheduler account", name, got)
		}
	}
}

// Pub/Sub: a topic and a dead-letter topic per event type; a push subscription per
// consumer with OIDC, ordering, retries and dead-lettering, to its own service or to its
// host. Nothing of it on the Kafka backbone.
func TestPubSub(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	e := evaluateFor(t, "pubsub")
	topics := e.instances(t, "google_pubsub_topic.event")
	assertSet(t, "Pub/Sub topics", slices.Collect(maps.Keys(topics)), events.Topics())
	dead := e.instances(t, "google_pubsub_topic.dead_letter")
	assertSet(t, "Pub/Sub dead-letter topics", slices.Collect(maps.Keys(dead)), events.Topics())
	assertSet(t, "dead-letter hold subscriptions", slices.Collect(maps.Keys(e.instances(t, "google_pubsub_subscription.dead_letter"))), events.Topics())
	for topic, in := range topics {
		if got := in.str(t, "name"); got != "prod-"+topic {
			t.Errorf("topic %s is named %s", topic, got)
		}
		if got := dead[topic].str(t, "name"); got != "prod-"+topic+events.DeadLetterSuffix {
			t.Errorf("dead-letter topic of %s is named %s", topic, got)
		}
	}

	subs := e.instances(t, "google_pubsub_subscription.push")
	assertSet(t, "push subscriptions", slices.Collect(maps.Keys(subs)), tr.events)
	chat := e.local(t, "chat_url").AsString()
	for name, sub := range subs {
		f := tr.fns[name]
		if got := sub.each(t).GetAttr("topic").AsString(); got != f.Topic {
			t.Errorf("%s subscribes to %s, registered for %s", name, got, f.Topic)
		}
		wantEndpoint, wantAudience := runURL(name), runURL(name)
		if f.Host != "" {
			wantEndpoint, wantAudience = chat+"/internal/functions/"+name, chat
		}
		if got := sub.str(t, "push_config", "push_endpoint"); got != wantEndpoint {
			t.Errorf("%s pushes to %s, want %s", name, got, wantEndpoint)
		}
		if got := sub.str(t, "push_config", "oidc_token", "audience"); got != wantAudience || got != receiverURL(t, e, f) {
			t.Errorf("%s: OIDC audience %s, want %s, its server's SERVICE_URL %s", name, got, wantAudience, receiverURL(t, e, f))
		}
		if got := sub.str(t, "push_config", "oidc_token", "service_account_email"); got != "pubsub-push@"+testProject+".iam.gserviceaccount.com" {
			t.Errorf("%s: pushes as %s", name, got)
		}
		if !sub.value(t, "push_config", "no_wrapper", "write_metadata").True() {
			t.Errorf("%s: without metadata the CloudEvent attributes are lost", name)
		}
		if !sub.value(t, "enable_message_ordering").True() {
			t.Errorf("%s: unordered", name)
		}
		if sub.block(t, "retry_policy") == nil || sub.block(t, "dead_letter_policy") == nil {
			t.Errorf("%s: no retry policy or dead-letter policy", name)
		}
		if n := sub.number(t, "dead_letter_policy", "max_delivery_attempts"); n < 5 || n > 100 {
			t.Errorf("%s: %d delivery attempts (Pub/Sub allows 5-100)", name, n)
		}
	}

	// On Kafka, only what Cloud Storage's notifications need (storage_test.go checks it).
	k := evaluateFor(t, "kafka")
	storageTopics, storageConsumers := committedManifest(t).storageTopics, slices.Collect(maps.Keys(storageConsumerNames(t)))
	for r, want := range map[string][]string{"google_pubsub_topic.event": storageTopics, "google_pubsub_topic.dead_letter": storageTopics,
		"google_pubsub_subscription.push": storageConsumers, "google_pubsub_subscription.dead_letter": storageTopics,
		"google_pubsub_topic_iam_member.relay": nil} {
		assertSet(t, "kafka backbone: "+r, slices.Collect(maps.Keys(k.instances(t, r))), want)
	}
}

// Kafka: the cluster, a topic and a dead-letter topic per event type with the relay's
// partition count, and the push bridge's targets: every consumer, to its service or host.
func TestKafka(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	e := evaluateFor(t, "kafka")
	if n := len(e.instances(t, "google_managed_kafka_cluster.main")); n != 1 {
		t.Fatalf("%d Kafka clusters", n)
	}
	for _, r := range []string{"google_managed_kafka_topic.event", "google_managed_kafka_topic.dead_letter"} {
		topics := e.instances(t, r)
		assertSet(t, r, slices.Collect(maps.Keys(topics)), events.Topics())
		for topic, in := range topics {
			if got := in.number(t, "partition_count"); got != bus.KafkaPartitions {
				t.Errorf("%s %s: %d partitions, the relay uses %d", r, topic, got, bus.KafkaPartitions)
			}
			want := "prod-" + topic
			if strings.HasSuffix(r, "dead_letter") {
				want += events.DeadLetterSuffix
			}
			if got := in.str(t, "topic_id"); got != want {
				t.Errorf("%s %s is named %s, want %s", r, topic, got, want)
			}
		}
	}
	env := e.instances(t, "google_cloud_run_v2_service.relay")[""].env(t, "template", "containers")
	targets, err := bridge.ParseTargets(env["BRIDGE_TARGETS"].value)
	if err != nil {
		t.Fatal(err)
	}
	// Every consumer but the storage topics' (Pub/Sub pushes to those: storage_test.go).
	storageConsumers := storageConsumerNames(t)
	assertSet(t, "bridge targets", slices.Collect(maps.Keys(targets)), slices.DeleteFunc(slices.Clone(tr.events), func(n string) bool { return storageConsumers[n] }))
	chat := e.local(t, "chat_url").AsString()
	for name, target := range targets {
		f := tr.fns[name]
		want := runURL(name)
		if f.Host != "" {
			want = chat + "/internal/functions/" + name
		}
		if target.URL != want {
			t.Errorf("bridge target %s: %s, want %s", name, target.URL, want)
		}
		if target.Topic != f.Topic {
			t.Errorf("bridge target %s consumes %q, registered for %q", name, target.Topic, f.Topic)
		}
		if got := receiverURL(t, e, f); target.Audience != got {
			t.Errorf("bridge target %s: audience %s, its server's SERVICE_URL is %s", name, target.Audience, got)
		}
	}
	if env["BRIDGE_AUTH"].value != "oidc" || env["KAFKA_BROKERS"].value == "" || env["BACKBONE"].value != "kafka" {
		t.Errorf("relay on kafka: BRIDGE_AUTH %q, KAFKA_BROKERS %q, BACKBONE %q", env["BRIDGE_AUTH"].value, env["KAFKA_BROKERS"].value, env["BACKBONE"].value)
	}
	cfg, err := config.Parse(map[string]string{"BACKBONE": "kafka", "KAFKA_BROKERS": env["KAFKA_BROKERS"].value})
	if err != nil || len(cfg.KafkaBrokers) != 1 || !strings.HasSuffix(cfg.KafkaBrokers[0], ":9092") {
		t.Errorf("KAFKA_BROKERS %q reads as %v, %v", env["KAFKA_BROKERS"].value, cfg.KafkaBrokers, err)
	}
	// Managed Kafka accepts only SASL over TLS: the relay authenticates as its service
	// account, which needs the client role (managedkafka.clusters.connect).
	kafkaEnv := map[string]string{}
	for name, v := range env {
		if strings.HasPrefix(name, "KAFKA_") {
			kafkaEnv[name] = v.value
		}
	}
	cfg, err = config.Parse(kafkaEnv)
	if err != nil || !cfg.KafkaTLS || cfg.KafkaSASL != "gcp" {
		t.Errorf("relay's Kafka settings %v read as TLS %v, SASL %q, %v; want TLS and gcp", kafkaEnv, cfg.KafkaTLS, cfg.KafkaSASL, err)
	}
	grants := e.instances(t, "google_project_iam_member.relay_kafka_client")
	if g, ok := grants["0"]; !ok || len(grants) != 1 || g.str(t, "role") != "roles/managedkafka.client" ||
		g.str(t, "member") != "serviceAccount:outbox-relay@"+testProject+".iam.gserviceaccount.com" {
		t.Errorf("%d relay_kafka_client grants; want one, of roles/managedkafka.client to the relay's account", len(grants))
	}

	p := evaluateFor(t, "pubsub")
	if n := len(p.instances(t, "google_managed_kafka_topic.event")) + len(p.instances(t, "google_managed_kafka_cluster.main")); n != 0 {
		t.Errorf("pubsub backbone: %d Kafka resources", n)
	}
	pubsubEnv := p.instances(t, "google_cloud_run_v2_service.relay")[""].env(t, "template", "containers")
	if _, ok := pubsubEnv["BRIDGE_TARGETS"]; ok {
		t.Error("pubsub backbone: the relay runs a push bridge")
	}
	if _, ok := pubsubEnv["KAFKA_SASL"]; ok {
		t.Error("pubsub backbone: the relay has Kafka credentials")
	}
}

// One retry policy for event delivery on both backbones (var.delivery): the relay's push
// bridge retries and dead-letters as the push subscriptions do, for the defaults and for
// any other values.
func TestDeliveryRetryPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		delivery cty.Value // nil: the default
	}{
		{"default", cty.NilVal},
		{"custom", cty.ObjectVal(map[string]cty.Value{
			"max_delivery_attempts": cty.NumberIntVal(7), "minimum_backoff": cty.StringVal("5s"),
			"maximum_backoff": cty.StringVal("300s"), "ack_deadline_seconds": cty.NumberIntVal(30),
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inputs := map[string]cty.Value{}
			if tt.delivery != cty.NilVal {
				inputs["delivery"] = tt.delivery
			}
			p, k := evaluateWith(t, "pubsub", inputs), evaluateWith(t, "kafka", inputs)
			relay := plainEnv(t, k.instances(t, "google_cloud_run_v2_service.relay")[""].env(t, "template", "containers"))
			subs := p.instances(t, "google_pubsub_subscription.push")
			if len(subs) == 0 {
				t.Fatal("no push subscriptions")
			}
			for name, sub := range subs {
				minBackoff, err1 := time.ParseDuration(sub.str(t, "retry_policy", "minimum_backoff"))
				maxBackoff, err2 := time.ParseDuration(sub.str(t, "retry_policy", "maximum_backoff"))
				attempts := sub.number(t, "dead_letter_policy", "max_delivery_attempts")
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: back-off %v, %v", name, err1, err2)
				}
				if int64(relay.BridgeMaxAttempts) != attempts || relay.BridgeMinBackoff != minBackoff || relay.BridgeMaxBackoff != maxBackoff {
					t.Errorf("%s retries %d times, %v to %v; the bridge %d times, %v to %v", name, attempts, minBackoff, maxBackoff,
						relay.BridgeMaxAttempts, relay.BridgeMinBackoff, relay.BridgeMaxBackoff)
				}
			}
			if tt.delivery == cty.NilVal {
				// Unset, the bridge's own defaults (shared/config) are the same policy.
				defaults, err := config.Parse(nil)
				if err != nil {
					t.Fatal(err)
				}
				if defaults.BridgeMaxAttempts != relay.BridgeMaxAttempts || defaults.BridgeMinBackoff != relay.BridgeMinBackoff || defaults.BridgeMaxBackoff != relay.BridgeMaxBackoff {
					t.Errorf("var.delivery's default %d, %v to %v; the bridge's default %d, %v to %v", relay.BridgeMaxAttempts, relay.BridgeMinBackoff,
						relay.BridgeMaxBackoff, defaults.BridgeMaxAttempts, defaults.BridgeMinBackoff, defaults.BridgeMaxBackoff)
				}
			}
			if len(refusalsOf(t, p)) != 0 || len(refusalsOf(t, k)) != 0 {
				t.Errorf("the plan refuses these values: %v %v", refusalsOf(t, p), refusalsOf(t, k))
			}
		})
	}
}

// The chat server: WebSockets (affinity, long timeout), public, and the push check for
// the functions it hosts, set to what the subscriptions or the bridge use.
func TestChatServer(t *testing.T) {
	t.Parallel()
	for _, backbone := range backbones {
		t.Run(backbone, func(t *testing.T) {
			t.Parallel()
			e := evaluateFor(t, backbone)
			chat := e.instances(t, "google_cloud_run_v2_service.chat")[""]
			if !chat.value(t, "template", "session_affinity").True() {
				t.Error("no session affinity")
			}
			if got := chat.str(t, "template", "timeout"); got != "3600s" {
				t.Errorf("request timeout %s, want 3600s for WebSockets", got)
			}
			if got := chat.str(t, "ingress"); got != "INGRESS_TRAFFIC_ALL" {
				t.Errorf("ingress %s", got)
			}
			env := chat.env(t, "template", "containers")
			wantInvoker := "pubsub-push@" + testProject + ".iam.gserviceaccount.com"
			if backbone == "kafka" {
				wantInvoker = "outbox-relay@" + testProject + ".iam.gserviceaccount.com"
			}
			cfg := plainEnv(t, env)
			if cfg.PushAuth != "oidc" || cfg.ServiceURL != runURL("chat-server") || !slices.Equal(cfg.PushInvokers, []string{wantInvoker}) {
				t.Errorf("PUSH_AUTH %q, SERVICE_URL %q, PUSH_INVOKERS %q", cfg.PushAuth, cfg.ServiceURL, cfg.PushInvokers)
			}
			if cfg.GatewayInvoker != "" {
				t.Errorf("GATEWAY_INVOKER %q: the chat server takes clients directly (WebSockets)", cfg.GatewayInvoker)
			}
			// Set, not the code's default: its pools are part of the connection budget.
			if env["DATABASE_MAX_CONNS"].value != fmt.Sprint(cfg.DatabaseMaxConns) {
				t.Errorf("DATABASE_MAX_CONNS %q is not set", env["DATABASE_MAX_CONNS"].value)
			}
			if env["JWT_SIGNING_KEY"].secret != "" || env["JWT_PUBLIC_KEYS"].secret == "" {
				t.Error("the chat server verifies tokens only")
			}
		})
	}
}

// The API Gateway config: one operation per REST function, to its own URL with the full
// path, the chat server's REST routes to the chat server, and nothing else.
func TestGatewayOpenAPI(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	e := evaluateFor(t, "pubsub")
	raw, err := ctyjson.Marshal(e.local(t, "openapi"), e.local(t, "openapi").Type())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Swagger string `json:"swagger"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name     string `json:"name"`
				In       string `json:"in"`
				Required bool   `json:"required"`
				Schema   any    `json:"schema"`
			} `json:"parameters"`
			Backend struct {
				Address         string `json:"address"`
				PathTranslation string `json:"path_translation"`
				DisableAuth     bool   `json:"disable_auth"`
				JWTAudience     string `json:"jwt_audience"`
			} `json:"x-google-backend"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger %q, API Gateway takes 2.0", doc.Swagger)
	}
	routes := map[string]string{} // "METHOD shape" => function
	for _, name := range tr.http {
		f := tr.fns[name]
		routes[f.Method+" "+f.Pattern.Shape()] = name
		op, ok := doc.Paths[f.Pattern.String()][strings.ToLower(f.Method)]
		if !ok {
			t.Errorf("%s: no operation %s %s", name, f.Method, f.Pattern)
			continue
		}
		if op.Backend.Address != runURL(name) {
			t.Errorf("%s: backend %s, want %s", name, op.Backend.Address, runURL(name))
		}
		// The gateway calls with its own ID token for the function's SERVICE_URL (and moves
		// the client's Authorization to X-Forwarded-Authorization): the function admits
		// nothing else.
		if service := e.instances(t, "google_cloud_run_v2_service.function")[name]; op.Backend.DisableAuth ||
			op.Backend.JWTAudience != service.env(t, "template", "containers")["SERVICE_URL"].value {
			t.Errorf("%s: disable_auth %v, jwt_audience %q; want the gateway's token for its SERVICE_URL", name, op.Backend.DisableAuth, op.Backend.JWTAudience)
		}
	}
	chat := e.local(t, "chat_url").AsString()
	ids := map[string]bool{}
	operations, preflights, chatOps, bodies := 0, 0, 0, 0
	for path, ops := range doc.Paths {
		pattern, err := registry.ParsePattern(path)
		if err != nil {
			t.Errorf("path %s: %v", path, err)
			continue
		}
		for method, op := range ops {
			operations++
			fn, isFunction := routes[strings.ToUpper(method)+" "+pattern.Shape()]
			switch {
			case method == "options":
				// A CORS preflight: to a service of one of the path's operations, which answers
				// it for every method.
				preflights++
				served := false
				for m, other := range ops {
					served = served || (m != "options" && other.Backend == op.Backend)
				}
				if !served {
					t.Errorf("OPTIONS %s: to %s, which serves no other operation of the path", path, op.Backend.Address)
				}
			case isFunction && tr.fns[fn].Pattern.String() != path:
				t.Errorf("%s %s: shadows %s's route %s", method, path, fn, tr.fns[fn].Pattern)
			case !isFunction && !strings.HasPrefix(path, "/api/v1/chat/"):
				t.Errorf("%s %s: no function of the registry has this route (orphan)", method, path)
			case !isFunction && op.Backend.Address != chat:
				t.Errorf("%s %s: a chat route to %s, not the chat server", method, path, op.Backend.Address)
			case !isFunction && (!op.Backend.DisableAuth || op.Backend.JWTAudience != ""):
				// The chat server checks the client's access token itself.
				t.Errorf("%s %s: a chat route with disable_auth %v, jwt_audience %q", method, path, op.Backend.DisableAuth, op.Backend.JWTAudience)
			case !isFunction:
				chatOps++
			}
			if op.Backend.PathTranslation != "APPEND_PATH_TO_ADDRESS" {
				t.Errorf("%s %s: path_translation %q", method, path, op.Backend.PathTranslation)
			}
			if ids[op.OperationID] || op.OperationID == "" {
				t.Errorf("%s %s: operationId %q empty or repeated", method, path, op.OperationID)
			}
			ids[op.OperationID] = true
			var params []string
			for _, p := range op.Parameters {
				if p.In == "body" && p.Schema != nil {
					bodies++ // the gateway knows the body's schema
				}
				if p.In == "query" || p.In == "body" {
					continue
				}
				if p.In != "path" || !p.Required {
					t.Errorf("%s %s: parameter %s in %s, required %v", method, path, p.Name, p.In, p.Required)
				}
				params = append(params, p.Name)
			}
			if !slices.Equal(params, pattern.Params()) {
				t.Errorf("%s %s: parameters %v, want %v", method, path, params, pattern.Params())
			}
		}
	}
	if bodies == 0 {
		t.Error("no operation gives its body's schema")
	}
	if want := len(tr.http) + chatOps + preflights; operations != want || preflights != len(doc.Paths) || chatOps == 0 {
		t.Errorf("%d operations, want %d (REST functions, %d chat routes and a preflight for each of %d paths, %d)",
			operations, want, chatOps, len(doc.Paths), preflights)
	}
	// The gateway mints its tokens as the account the functions admit (GATEWAY_INVOKER).
	config, ok := e.instances(t, "google_api_gateway_api_config.api")["0"]
	if !ok {
		t.Fatal("no API config with the gateway on")
	}
	if got := config.str(t, "gateway_config", "backend_config", "google_service_account"); got != account("api-gateway") {
		t.Errorf("the gateway calls as %s, want %s", got, account("api-gateway"))
	}
}

// Every for_each whose keys are functions or topics is derived from the manifest (a
// local), and every key it yields exists in the registry or the catalogue: nothing in the
// module names a function or a topic by hand, and nothing outlives its removal.
func TestNothingHardCoded(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	m := loadModule(t)
	topics := events.Topics()
	known := func(s string) bool { _, ok := tr.fns[s]; return ok || slices.Contains(topics, s) }
	for _, backbone := range backbones {
		e := evaluateFor(t, backbone)
		for key, b := range m.resources {
			fe, ok := b.Body.Attributes["for_each"]
			if !ok {
				continue
			}
			fromManifest := false
			for _, tr := range fe.Expr.Variables() {
				fromManifest = fromManifest || tr.RootName() == "local"
			}
			for k := range e.instancesOf(t, key, b) {
				parts := strings.Split(k, "/") // composite keys: function/secret
				if !known(parts[0]) {
					if looksLikeFunctionOrTopic(parts[0]) && !infraNames[parts[0]] {
						t.Errorf("%s[%q] (%s): not a function or topic of the registry (orphan)", key, k, backbone)
					}
					continue
				}
				if !fromManifest {
					t.Errorf("%s: for_each names function or topic %s without going through the manifest", key, k)
				}
			}
		}
	}

	// String literals anywhere: a function name may appear only as a size override, and a
	// topic or dead-letter topic name nowhere.
	overrides := m.variables["function_overrides"].Body.Attributes["default"]
	for file, body := range m.bodies {
		for _, lit := range stringLiterals(body) {
			switch {
			case slices.Contains(topics, lit.value) || strings.HasSuffix(lit.value, events.DeadLetterSuffix):
				t.Errorf("%s:%d: topic %q named by hand", file, lit.line, lit.value)
			case known(lit.value) && (file != "variables.tf" || !overrides.SrcRange.ContainsOffset(lit.offset)):
				t.Errorf("%s:%d: function %q named by hand (only function_overrides may)", file, lit.line, lit.value)
			case !known(lit.value) && looksLikeFunctionOrTopic(lit.value) && !infraNames[lit.value]:
				t.Errorf("%s:%d: %q looks like a function but the registry has none (orphan)", file, lit.line, lit.value)
			}
		}
	}
	e := evaluateFor(t, "pubsub")
	for _, name := range keysOf(t, e.vars["function_overrides"]) {
		if _, ok := tr.fns[name]; !ok {
			t.Errorf("function_overrides names %s, which the registry does not have", name)
		}
	}
}

// infraNames are names of the deployment itself that share the functions' shape.
var infraNames = map[string]bool{"chat-server": true, "outbox-relay": true, "outbox-lag": true, "pubsub-push": true, "api-gateway": true}

var domainName = regexp.MustCompile(`^(auth|users|products|reservations|trades|chat|platform|product|reservation|trade)-[a-z0-9-]+$`)

func looksLikeFunctionOrTopic(s string) bool { return domainName.MatchString(s) }

type literal struct {
	value  string
	line   int
	offset int
}

// stringLiterals returns every literal string of body: template parts and object keys.
func stringLiterals(body *hclsyntax.Body) []literal {
	var out []literal
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch x := n.(type) {
		case *hclsyntax.LiteralValueExpr:
			if x.Val.Type() == cty.String && x.Val.IsKnown() && !x.Val.IsNull() {
				out = append(out, literal{x.Val.AsString(), x.SrcRange.Start.Line, x.SrcRange.Start.Byte})
			}
		case *hclsyntax.ObjectConsKeyExpr:
			if name := hcl.ExprAsKeyword(x.Wrapped); name != "" && !x.ForceNonLiteral {
				r := x.Range()
				out = append(out, literal{name, r.Start.Line, r.Start.Byte})
			}
		}
		return nil
	})
	return out
}

// Outputs, variables and state that the deployment guide relies on.
func TestModuleInterface(t *testing.T) {
	t.Parallel()
	m := loadModule(t)
	for _, name := range []string{"api_url", "function_urls", "chat_url", "topics", "dead_letter_topics"} {
		if _, ok := m.outputs[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
	for _, name := range []string{"project_id", "region", "environment", "image_tag", "backbone", "function_defaults", "function_overrides", "database", "redis", "relay", "chat", "delivery", "api_gateway_region"} {
		if _, ok := m.variables[name]; !ok {
			t.Errorf("no variable %s", name)
		}
	}
	e := evaluateFor(t, "pubsub")
	if got := e.vars["backbone"]; got.AsString() != "pubsub" {
		t.Errorf("backbone %s", got.AsString())
	}
	if def, _ := m.variables["backbone"].Body.Attributes["default"].Expr.Value(nil); def.AsString() != "pubsub" {
		t.Errorf("backbone defaults to %s, want pubsub", def.AsString())
	}
	backend := false
	for _, b := range m.terraform {
		for _, inner := range b.Body.Blocks {
			backend = backend || (inner.Type == "backend" && inner.Labels[0] == "gcs")
		}
	}
	if !backend {
		t.Error("no gcs backend: state must be remote")
	}
}

// Every .tf is in terraform fmt's layout (hclwrite is its formatter), so the check holds
// where terraform is not installed.
func TestTerraformFormatted(t *testing.T) {
	t.Parallel()
	m := loadModule(t)
	for name, src := range m.sources {
		if formatted := hclwrite.Format(src); string(formatted) != string(src) {
			t.Errorf("%s is not formatted: run terraform fmt infra/terraform", name)
		}
	}
}

// Every environment variable the module sets is one the code reads: shared/config's, or
// an OpenTelemetry one that shared/telemetry reads (or hands to the SDK, which does).
func TestEnvironmentNames(t *testing.T) {
	t.Parallel()
	known := configNames()
	telemetry := readGo(t, "../shared/telemetry")
	for name := range evaluateFor(t, "pubsub").local(t, "common_env").AsValueMap() {
		if strings.HasPrefix(name, "OTEL_") && strings.Contains(telemetry, name) {
			known[name] = true
		}
	}
	for _, backbone := range backbones {
		e := evaluateFor(t, backbone)
		for _, r := range []string{"google_cloud_run_v2_service.function", "google_cloud_run_v2_service.relay", "google_cloud_run_v2_service.chat"} {
			for key, in := range e.instances(t, r) {
				for name := range in.env(t, "template", "containers") {
					if !known[name] {
						t.Errorf("%s[%s] sets %s, which shared/config does not read", r, key, name)
					}
				}
			}
		}
		for _, r := range []string{"google_cloud_run_v2_job.migrate", "google_cloud_run_v2_job.outbox_lag"} {
			for name := range e.instances(t, r)[""].env(t, "template", "template", "containers") {
				if !known[name] {
					t.Errorf("%s sets %s, which shared/config does not read", r, name)
				}
			}
		}
	}
}

// configNames are the environment variables of shared/config, plus FUNCTION_TARGET, which
// cmd/functions reads itself.
func configNames() map[string]bool {
	names := map[string]bool{"FUNCTION_TARGET": true}
	ty := reflect.TypeFor[config.Config]()
	for i := range ty.NumField() {
		if tag := ty.Field(i).Tag.Get("env"); tag != "" {
			names[tag] = true
		}
	}
	return names
}

// The log line the outbox-lag probe's metric counts is the one the probe writes.
func TestMonitoringMatchesTheLogs(t *testing.T) {
	t.Parallel()
	m := loadModule(t)
	a := m.resources["google_logging_metric.outbox_lag"].Body.Attributes["filter"]
	filter := string(a.Expr.Range().SliceBytes(m.sources[filepath.Base(a.SrcRange.Filename)]))
	if !strings.Contains(filter, `jsonPayload.message=\"outbox lag\"`) {
		t.Errorf("the outbox lag metric's filter %s does not match the probe's line", filter)
	}
	probe := readGo(t, "cmd/outbox-lag")
	for _, s := range []string{`"outbox lag"`, `"outboxLagSeconds"`} {
		if !strings.Contains(probe, s) {
			t.Errorf("the outbox lag metric expects %s from infra/cmd/outbox-lag", s)
		}
	}
}

// readGo concatenates the non-test Go files of dir and its subdirectories.
func readGo(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		raw, err := os.ReadFile(path)
		b.Write(raw)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A consumer hosted by the chat server (registry.HostedBy) has no service, account or
// invoker of its own; its events go to the chat server's /internal/functions/<name>,
// signed for the chat server's audience, on either backbone. The registry may have no
// such function yet, so the module is evaluated with one added to the manifest.
func TestHostedConsumers(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(terraformDir, "functions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest map[string]any
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	const hosted = "chat-test-trade-created"
	manifest["functions"] = append(manifest["functions"].([]any), map[string]any{
		"name": hosted, "kind": "event", "public": false, "topic": events.TradeCreated, "host": "chat-server", "package": "test",
	})
	raw, err = json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, backbone := range backbones {
		t.Run(backbone, func(t *testing.T) {
			t.Parallel()
			e := loadModule(t).evaluateWithFiles(t, map[string]cty.Value{
				"project_id": cty.StringVal(testProject), "region": cty.StringVal(testRegion),
				"image_tag": cty.StringVal("test"), "backbone": cty.StringVal(backbone),
			}, map[string][]byte{"functions.json": raw})
			for _, r := range []string{"google_cloud_run_v2_service.function", "google_service_account.function", "google_cloud_run_v2_service_iam_member.deliverer"} {
				if _, ok := e.instances(t, r)[hosted]; ok {
					t.Errorf("%s has an instance for the hosted %s", r, hosted)
				}
			}
			chat := runURL("chat-server")
			if got := e.local(t, "consumer_endpoints").GetAttr(hosted).AsString(); got != chat+"/internal/functions/"+hosted {
				t.Errorf("endpoint %s", got)
			}
			if backbone == "pubsub" {
				sub, ok := e.instances(t, "google_pubsub_subscription.push")[hosted]
				if !ok {
					t.Fatal("no push subscription for the hosted consumer")
				}
				if got := sub.str(t, "push_config", "push_endpoint"); got != chat+"/internal/functions/"+hosted {
					t.Errorf("pushes to %s", got)
				}
				if got := sub.str(t, "push_config", "oidc_token", "audience"); got != chat {
					t.Errorf("audience %s, want the chat server's SERVICE_URL %s", got, chat)
				}
				return
			}
			env := e.instances(t, "google_cloud_run_v2_service.relay")[""].env(t, "template", "containers")
			targets, err := bridge.ParseTargets(env["BRIDGE_TARGETS"].value)
			if err != nil {
				t.Fatal(err)
			}
			if got := targets[hosted]; got.URL != chat+"/internal/functions/"+hosted || got.Audience != chat || got.Topic != events.TradeCreated {
				t.Errorf("bridge target %+v, want the chat server's endpoint and audience", got)
			}
		})
	}
}

// The gateway's chat routes are the chat server's REST routes: all of them but the
// WebSocket (API Gateway carries none) and its health check.
func TestGatewayChatRoutes(t *testing.T) {
	t.Parallel()
	e := evaluateFor(t, "pubsub")
	route := regexp.MustCompile(`\.Handle(?:Func)?\("([A-Z]+ /api/v1/chat/[^"]*)"`)
	var served []string
	for _, m := range route.FindAllStringSubmatch(readGo(t, "../chat-server"), -1) {
		if r := m[1]; r != "GET /api/v1/chat/ws" && r != "GET /api/v1/chat/healthz" {
			served = append(served, r)
		}
	}
	if len(served) == 0 {
		t.Fatal("found no chat-server routes: the pattern no longer matches chat-server/")
	}
	chat := e.local(t, "chat_url").AsString()
	var routed []string
	for path, ops := range e.local(t, "openapi").GetAttr("paths").AsValueMap() {
		for method, op := range ops.AsValueMap() {
			if method != "options" && op.GetAttr("x-google-backend").GetAttr("address").AsString() == chat {
				routed = append(routed, strings.ToUpper(method)+" "+path)
			}
		}
	}
	assertSet(t, "chat routes in the gateway", routed, served)
}

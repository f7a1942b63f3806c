package infra_test

// Product photos on Cloud Storage (storage.tf, and the buckets' share of iam.tf,
// pubsub.tf and functions.tf): the two buckets, the upload notification and its topic,
// the consumers of storage topics pushed by Pub/Sub on either backbone, each function's
// bucket roles from the manifest's "buckets", and the functions' storage settings. Every
// check runs on the committed manifest and on one with the photo functions added (when it
// lacks them), so it holds before and after they are registered.

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/registry"
)

// storageManifest is what the tests read from a manifest: its functions' bucket uses and
// topics, and the topics Cloud Storage publishes to.
type storageManifest struct {
	raw           []byte
	storageTopics []string
	functions     map[string]manifestFunction
}

type manifestFunction struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Topic   string   `json:"topic"`
	Host    string   `json:"host"`
	Buckets []string `json:"buckets"`
}

func parseStorageManifest(t *testing.T, raw []byte) storageManifest {
	t.Helper()
	var m struct {
		Functions     []manifestFunction `json:"functions"`
		StorageTopics []string           `json:"storageTopics"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out := storageManifest{raw: raw, storageTopics: m.StorageTopics, functions: map[string]manifestFunction{}}
	for _, f := range m.Functions {
		out.functions[f.Name] = f
	}
	return out
}

// committedManifest is functions.json as committed.
func committedManifest(t *testing.T) storageManifest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(terraformDir, "functions.json"))
	if err != nil {
		t.Fatal(err)
	}
	return parseStorageManifest(t, raw)
}

// storageConsumerNames are the registry's consumers of the storage topics
// (events.StorageTopics): Pub/Sub pushes to them on either backbone, never the Kafka
// bridge.
func storageConsumerNames(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range registry.All() {
		if f.Kind == registry.KindEvent && slices.Contains(events.StorageTopics(), f.Topic) {
			out[f.Name] = true
		}
	}
	return out
}

// The manifest carries what the registry says of storage: the storage topics (each one a
// topic of the catalogue too) and each function's bucket uses, all of them uses Terraform
// knows; and the registry has the photo functions' consumer and signer.
func TestStorageManifest(t *testing.T) {
	t.Parallel()
	m := committedManifest(t)
	assertSet(t, "storage topics in functions.json", m.storageTopics, events.StorageTopics())
	for _, topic := range events.StorageTopics() {
		if !slices.Contains(events.Topics(), topic) {
			t.Errorf("storage topic %s is not a topic of the catalogue: it would get no Pub/Sub topic", topic)
		}
	}
	signers := 0
	for _, f := range registry.All() {
		assertSet(t, f.Name+" buckets in functions.json", m.functions[f.Name].Buckets, f.Buckets)
		for _, use := range f.Buckets {
			if _, ok := bucketRoles[use]; !ok {
				t.Errorf("%s: bucket use %q, which Terraform grants nothing for", f.Name, use)
			}
			if use == registry.SignUploads {
				signers++
			}
			if f.Host != "" {
				t.Errorf("%s: a hosted function with buckets; its host's account has no bucket role", f.Name)
			}
		}
	}
	if len(storageConsumerNames(t)) == 0 || signers == 0 {
		t.Errorf("%d consumers of storage topics, %d upload URL signers: the photo functions are missing", len(storageConsumerNames(t)), signers)
	}
}

// bucketRoles is the bucket and role each use of the buckets (registry.UsesBuckets) gets.
var bucketRoles = map[string][2]string{
	registry.SignUploads: {"uploads", "roles/storage.objectCreator"},
	registry.UseUploads:  {"uploads", "roles/storage.objectUser"},
	registry.UsePhotos:   {"photos", "roles/storage.objectUser"},
}

// The photo functions as the registry declares them (registry.UsesBuckets), added to a
// manifest that does not have them (the committed one has them since they were
// registered; the copy keeps the checks on a manifest of known shape).
const uploadFinalized = "upload-finalized"

var photoFunctions = []map[string]any{
	{"name": "products-photo-upload", "kind": "http", "method": "POST", "path": "/api/v1/products/{productId}/photos", "public": false, "buckets": []string{"uploads:sign"}, "package": "test"},
	{"name": "products-photos", "kind": "http", "method": "GET", "path": "/api/v1/products/{productId}/photos", "public": false, "package": "test"},
	{"name": "products-photo-order", "kind": "http", "method": "PATCH", "path": "/api/v1/products/{productId}/photos", "public": false, "package": "test"},
	{"name": "products-photo-remove", "kind": "http", "method": "DELETE", "path": "/api/v1/products/{productId}/photos/{photoId}", "public": false, "package": "test"},
	{"name": "products-upload-finalized", "kind": "event", "public": false, "topic": uploadFinalized, "buckets": []string{"uploads", "photos"}, "package": "test"},
	{"name": "products-photo-sweep", "kind": "scheduled", "schedule": "*/10 * * * *", "public": false, "buckets": []string{"uploads", "photos"}, "package": "test"},
}

// withPhotos is the committed manifest with the photo functions and the storage topic
// added where missing.
func withPhotos(t *testing.T) storageManifest {
	t.Helper()
	committed := committedManifest(t)
	var m map[string]any
	if err := json.Unmarshal(committed.raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range photoFunctions {
		if _, ok := committed.functions[f["name"].(string)]; !ok {
			m["functions"] = append(m["functions"].([]any), f)
		}
	}
	for _, key := range []string{"topics", "storageTopics"} {
		list, _ := m[key].([]any)
		if !slices.Contains(list, any(uploadFinalized)) {
			m[key] = append(list, uploadFinalized)
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return parseStorageManifest(t, raw)
}

// manifests are the two the storage tests run on.
func storageManifests(t *testing.T) map[string]storageManifest {
	t.Helper()
	return map[string]storageManifest{"committed": committedManifest(t), "with-photos": withPhotos(t)}
}

const testOrigin = "https://app.example.com"

// evaluateStorage evaluates the module on a manifest, with a browser origin, and stubs what
// the providers would know (the buckets' and topics' names and ids, Cloud Storage's service
// agent, the accounts' resource names) so the storage resources' references can be read.
func evaluateStorage(t *testing.T, backbone string, m storageManifest, inputs map[string]cty.Value) *eval {
	t.Helper()
	all := map[string]cty.Value{
		"project_id": cty.StringVal(testProject), "region": cty.StringVal(testRegion),
		"image_tag": cty.StringVal("test"), "backbone": cty.StringVal(backbone),
		"cors_allowed_origins": cty.ListVal([]cty.Value{cty.StringVal(testOrigin)}),
	}
	maps.Copy(all, inputs)
	e := loadModule(t).evaluateWithFiles(t, all, map[string][]byte{"functions.json": m.raw})

	buckets := map[string]cty.Value{}
	for _, b := range []string{"uploads", "photos"} {
		name := e.instances(t, "google_storage_bucket."+b)[""].str(t, "name")
		buckets[b] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name)})
	}
	e.ctx.Variables["google_storage_bucket"] = cty.ObjectVal(buckets)

	topics := map[string]cty.Value{}
	for _, r := range []string{"event", "dead_letter"} {
		each := map[string]cty.Value{}
		for key, in := range e.instances(t, "google_pubsub_topic."+r) {
			name := in.str(t, "name")
			each[key] = cty.ObjectVal(map[string]cty.Value{
				"name": cty.StringVal(name), "id": cty.StringVal("projects/" + testProject + "/topics/" + name),
			})
		}
		topics[r] = cty.ObjectVal(each)
	}
	e.ctx.Variables["google_pubsub_topic"] = cty.ObjectVal(topics)

	data := e.ctx.Variables["data"].AsValueMap()
	data["google_storage_project_service_account"] = cty.ObjectVal(map[string]cty.Value{
		"this": cty.ObjectVal(map[string]cty.Value{"email_address": cty.StringVal(storageAgent)}),
	})
	e.ctx.Variables["data"] = cty.ObjectVal(data)

	// An account's resource name, for the grants on accounts.
	named := func(a cty.Value) cty.Value {
		attrs := a.AsValueMap()
		attrs["name"] = cty.StringVal("projects/" + testProject + "/serviceAccounts/" + attrs["email"].AsString())
		return cty.ObjectVal(attrs)
	}
	accounts := e.ctx.Variables["google_service_account"].AsValueMap()
	for key, a := range accounts {
		if key != "function" {
			accounts[key] = named(a)
			continue
		}
		fns := a.AsValueMap()
		for name, fn := range fns {
			fns[name] = named(fn)
		}
		accounts[key] = cty.ObjectVal(fns)
	}
	e.ctx.Variables["google_service_account"] = cty.ObjectVal(accounts)
	return e
}

const storageAgent = "service-" + testProjectNo + "@gs-project-accounts.iam.gserviceaccount.com"

func stringList(t *testing.T, v cty.Value) []string {
	t.Helper()
	if !v.IsWhollyKnown() || v.IsNull() {
		t.Fatalf("not a known list: %#v", v)
	}
	var out []string
	for _, s := range v.AsValueSlice() {
		out = append(out, s.AsString())
	}
	return out
}

// dependsOn returns the resources a resource's depends_on names.
func dependsOn(in *instance) []string {
	a, ok := in.body.Attributes["depends_on"]
	if !ok {
		return nil
	}
	var out []string
	for _, tr := range a.Expr.Variables() {
		if len(tr) > 1 {
			out = append(out, tr.RootName()+"."+tr[1].(hcl.TraverseAttr).Name)
		}
	}
	return out
}

// The buckets: uniform access, the uploads private with browser PUTs from the API's
// origins and nothing kept (a day at most, no soft delete), the photos public by default
// (and private with public access prevented when not), neither destroyed with its
// objects unless asked.
func TestStorageBuckets(t *testing.T) {
	t.Parallel()
	e := evaluateStorage(t, "pubsub", committedManifest(t), nil)
	uploads := e.instances(t, "google_storage_bucket.uploads")[""]
	photos := e.instances(t, "google_storage_bucket.photos")[""]
	names := map[string]bool{}
	for b, in := range map[string]*instance{"uploads": uploads, "photos": photos} {
		name := in.str(t, "name")
		if !strings.Contains(name, testProject) || !strings.Contains(name, "prod") || len(name) > 63 || names[name] {
			t.Errorf("%s bucket named %q: want the project and the environment in it, unique, at most 63 characters", b, name)
		}
		names[name] = true
		if !in.value(t, "uniform_bucket_level_access").True() {
			t.Errorf("%s bucket: no uniform bucket-level access", b)
		}
		if in.value(t, "force_destroy").True() {
			t.Errorf("%s bucket: force_destroy by default", b)
		}
		if got := in.str(t, "location"); got != testRegion {
			t.Errorf("%s bucket in %s, want the region %s", b, got, testRegion)
		}
		if got := in.value(t, "labels"); !got.Equals(e.local(t, "labels")).True() {
			t.Errorf("%s bucket labels %#v, want local.labels", b, got)
		}
		cors := in.blocks("cors")
		if len(cors) != 1 {
			t.Fatalf("%s bucket: %d CORS rules, want one", b, len(cors))
		}
		c := &instance{body: cors[0].Body, ctx: in.ctx}
		if got := stringList(t, c.value(t, "origin")); !slices.Equal(got, []string{testOrigin}) {
			t.Errorf("%s bucket: CORS origins %v, want cors_allowed_origins %v", b, got, []string{testOrigin})
		}
		if got := c.number(t, "max_age_seconds"); got != 3600 {
			t.Errorf("%s bucket: CORS max age %d", b, got)
		}
		if !slices.Contains(stringList(t, c.value(t, "response_header")), "Content-Type") {
			t.Errorf("%s bucket: CORS without Content-Type", b)
		}
		wantMethods := []string{"GET", "HEAD"}
		if b == "uploads" {
			wantMethods = []string{"PUT"}
			// The signed upload's headers (shared/storage) are not CORS-safelisted: the
			// preflight must allow them all.
			if got := stringList(t, c.value(t, "response_header")); !slices.Contains(got, "x-goog-content-length-range") {
				t.Errorf("uploads bucket: CORS headers %v: a browser cannot send the signed size range", got)
			}
		}
		if got := stringList(t, c.value(t, "method")); !slices.Equal(got, wantMethods) {
			t.Errorf("%s bucket: CORS methods %v, want %v", b, got, wantMethods)
		}
	}

	if got := uploads.str(t, "public_access_prevention"); got != "enforced" {
		t.Errorf("uploads bucket: public access prevention %q, want enforced", got)
	}
	rules := map[string]int64{}
	for _, r := range uploads.blocks("lifecycle_rule") {
		rule := &instance{body: r.Body, ctx: uploads.ctx}
		rules[rule.str(t, "action", "type")] = rule.number(t, "condition", "age")
	}
	if want := map[string]int64{"Delete": 1, "AbortIncompleteMultipartUpload": 1}; !maps.Equal(rules, want) {
		t.Errorf("uploads bucket lifecycle %v, want %v", rules, want)
	}
	if got := uploads.number(t, "soft_delete_policy", "retention_duration_seconds"); got != 0 {
		t.Errorf("uploads bucket keeps deleted originals %ds (soft delete): they hold GPS data", got)
	}

	if got := photos.str(t, "public_access_prevention"); got != "inherited" {
		t.Errorf("photos bucket: public access prevention %q, want inherited (public read)", got)
	}
	if n := len(photos.blocks("lifecycle_rule")); n != 0 {
		t.Errorf("photos bucket: %d lifecycle rules; photos are deleted by the functions only", n)
	}
	public := e.instances(t, "google_storage_bucket_iam_member.photos_public")
	if g, ok := public["0"]; !ok || len(public) != 1 || g.str(t, "role") != "roles/storage.objectViewer" ||
		g.str(t, "member") != "allUsers" || g.str(t, "bucket") != photos.str(t, "name") {
		t.Errorf("photos bucket: %d public grants, want one of roles/storage.objectViewer to allUsers", len(public))
	}

	private := evaluateStorage(t, "pubsub", committedManifest(t), map[string]cty.Value{"photos_public": cty.False})
	if n := len(private.instances(t, "google_storage_bucket_iam_member.photos_public")); n != 0 {
		t.Errorf("photos_public = false: %d public grants", n)
	}
	if got := private.instances(t, "google_storage_bucket.photos")[""].str(t, "public_access_prevention"); got != "enforced" {
		t.Errorf("photos_public = false: public access prevention %q, want enforced", got)
	}
	if refusals := refusalsOf(t, e); len(refusals) != 0 {
		t.Errorf("the defaults are refused: %v", refusals)
	}
}

// Cloud Storage announces finished uploads on each storage topic, a Pub/Sub topic on
// either backbone, and its service agent may publish there and nowhere else.
func TestStorageNotification(t *testing.T) {
	t.Parallel()
	for label, m := range storageManifests(t) {
		for _, backbone := range backbones {
			t.Run(label+"/"+backbone, func(t *testing.T) {
				t.Parallel()
				e := evaluateStorage(t, backbone, m, nil)
				uploads := e.instances(t, "google_storage_bucket.uploads")[""].str(t, "name")
				notes := e.instances(t, "google_storage_notification.uploads")
				assertSet(t, "storage notifications", slices.Collect(maps.Keys(notes)), m.storageTopics)
				grants := e.instances(t, "google_pubsub_topic_iam_member.storage_agent")
				assertSet(t, "Cloud Storage agent's publisher grants", slices.Collect(maps.Keys(grants)), m.storageTopics)
				topics := e.instances(t, "google_pubsub_topic.event")
				for _, topic := range m.storageTopics {
					in, ok := topics[topic]
					if !ok {
						t.Errorf("storage topic %s: no Pub/Sub topic", topic)
						continue
					}
					name := in.str(t, "name")
					if name != "prod-"+topic {
						t.Errorf("storage topic %s is named %s", topic, name)
					}
					note := notes[topic]
					if note == nil {
						continue
					}
					if got := note.str(t, "bucket"); got != uploads {
						t.Errorf("%s: notifies from %s, want the uploads bucket %s", topic, got, uploads)
					}
					if got := note.str(t, "topic"); got != "projects/"+testProject+"/topics/"+name {
						t.Errorf("%s: notifies %s", topic, got)
					}
					if got := note.str(t, "payload_format"); got != "JSON_API_V1" {
						t.Errorf("%s: payload %s, shared/objectevent reads JSON_API_V1", topic, got)
					}
					if got := stringList(t, note.value(t, "event_types")); !slices.Equal(got, []string{"OBJECT_FINALIZE"}) {
						t.Errorf("%s: event types %v, want OBJECT_FINALIZE", topic, got)
					}
					if !slices.Contains(dependsOn(note), "google_pubsub_topic_iam_member.storage_agent") {
						t.Errorf("%s: the notification does not wait for the agent's publisher grant (the API refuses it before)", topic)
					}
					g := grants[topic]
					if g == nil {
						continue
					}
					if g.str(t, "topic") != name || g.str(t, "role") != "roles/pubsub.publisher" || g.str(t, "member") != "serviceAccount:"+storageAgent {
						t.Errorf("%s: agent grant %s of %s to %s, want publisher on its topic to Cloud Storage's agent", topic,
							g.str(t, "topic"), g.str(t, "role"), g.str(t, "member"))
					}
				}
				// The agent publishes nothing else.
				for key, b := range e.m.resources {
					if !strings.Contains(key, "iam") || key == "google_pubsub_topic_iam_member.storage_agent" {
						continue
					}
					for ik, in := range e.instancesOf(t, key, b) {
						if a, ok := in.body.Attributes["member"]; ok {
							if v, _ := a.Expr.Value(in.ctx); v.IsKnown() && v.Type() == cty.String && strings.Contains(v.AsString(), "gs-project-accounts") {
								t.Errorf("%s[%s] grants Cloud Storage's agent", key, ik)
							}
						}
					}
				}
			})
		}
	}
}

// A consumer of a storage topic is pushed by a Pub/Sub subscription on either backbone, as
// the push account (whose tokens Pub/Sub's agent may mint), which is the only account it
// admits, and the Kafka bridge never calls it. On Kafka the storage topics are the only
// Pub/Sub topics, each with its dead-letter topic and hold subscription.
func TestStorageConsumers(t *testing.T) {
	t.Parallel()
	for label, m := range storageManifests(t) {
		for _, backbone := range backbones {
			t.Run(label+"/"+backbone, func(t *testing.T) {
				t.Parallel()
				e := evaluateStorage(t, backbone, m, nil)
				var consumers []string
				for name, f := range m.functions {
					if f.Kind == "event" && slices.Contains(m.storageTopics, f.Topic) {
						consumers = append(consumers, name)
					}
				}
				if label == "with-photos" && len(consumers) == 0 {
					t.Fatal("no consumer of a storage topic in the manifest with the photo functions")
				}
				subs := e.instances(t, "google_pubsub_subscription.push")
				push := account("pubsub-push")
				services := e.instances(t, "google_cloud_run_v2_service.function")
				invokers := e.instances(t, "google_cloud_run_v2_service_iam_member.deliverer")
				for _, name := range consumers {
					sub, ok := subs[name]
					if !ok {
						t.Errorf("%s: no push subscription", name)
						continue
					}
					f := m.functions[name]
					if got := sub.each(t).GetAttr("topic").AsString(); got != f.Topic {
						t.Errorf("%s: subscribes to %s, not %s", name, got, f.Topic)
					}
					endpoint := e.local(t, "consumer_endpoints").GetAttr(name).AsString()
					if got := sub.str(t, "push_config", "push_endpoint"); got != endpoint {
						t.Errorf("%s: pushes to %s, want %s", name, got, endpoint)
					}
					if got := sub.str(t, "push_config", "oidc_token", "service_account_email"); got != push {
						t.Errorf("%s: pushes as %s, want %s", name, got, push)
					}
					if got := sub.str(t, "push_config", "oidc_token", "audience"); got != e.local(t, "consumer_audiences").GetAttr(name).AsString() {
						t.Errorf("%s: audience %s", name, got)
					}
					if !sub.value(t, "push_config", "no_wrapper", "write_metadata").True() {
						t.Errorf("%s: without metadata the notification's attributes are lost", name)
					}
					if f.Host != "" {
						continue
					}
					env := services[name].env(t, "template", "containers")
					if got := env["PUSH_INVOKERS"].value; got != push || env["PUSH_AUTH"].value != "oidc" {
						t.Errorf("%s: PUSH_AUTH %q, PUSH_INVOKERS %q; want oidc and the push account %s", name, env["PUSH_AUTH"].value, got, push)
					}
					if in, ok := invokers[name]; !ok || in.str(t, "member") != "serviceAccount:"+push {
						t.Errorf("%s: run.invoker is not the push account", name)
					}
				}
				if len(consumers) > 0 {
					tc := e.instances(t, "google_service_account_iam_member.pubsub_agent_token_creator")
					if g, ok := tc["0"]; !ok || len(tc) != 1 || g.str(t, "role") != "roles/iam.serviceAccountTokenCreator" ||
						g.str(t, "service_account_id") != "projects/"+testProject+"/serviceAccounts/"+push {
						t.Errorf("%d token creator grants for Pub/Sub's agent; want one, on the push account", len(tc))
					}
				}

				if backbone != "kafka" {
					return
				}
				env := e.instances(t, "google_cloud_run_v2_service.relay")[""].env(t, "template", "containers")
				var targets map[string]json.RawMessage
				if err := json.Unmarshal([]byte(env["BRIDGE_TARGETS"].value), &targets); err != nil {
					t.Fatal(err)
				}
				var wantTargets []string
				for name, f := range m.functions {
					if f.Kind == "event" && !slices.Contains(consumers, name) {
						wantTargets = append(wantTargets, name)
					}
				}
				assertSet(t, "bridge targets on kafka", slices.Collect(maps.Keys(targets)), wantTargets)
				assertSet(t, "push subscriptions on kafka", slices.Collect(maps.Keys(subs)), consumers)
				for _, r := range []string{"google_pubsub_topic.event", "google_pubsub_topic.dead_letter", "google_pubsub_subscription.dead_letter", "google_pubsub_topic_iam_member.pubsub_agent_dead_letter"} {
					assertSet(t, r+" on kafka", slices.Collect(maps.Keys(e.instances(t, r))), m.storageTopics)
				}
				if n := len(e.instances(t, "google_pubsub_topic_iam_member.relay")); n != 0 {
					t.Errorf("kafka: %d relay grants on Pub/Sub topics", n)
				}
			})
		}
	}
}

// Each function's account has exactly the bucket roles its manifest entry's "buckets"
// says, on the right bucket; a signer may mint tokens for its own account only; nobody has
// a storage role on the project, and no other grant names a storage role.
func TestStorageIAM(t *testing.T) {
	t.Parallel()
	roles := bucketRoles
	for label, m := range storageManifests(t) {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			e := evaluateStorage(t, "pubsub", m, nil)
			bucketName := map[string]string{}
			for _, b := range []string{"uploads", "photos"} {
				bucketName[b] = e.instances(t, "google_storage_bucket."+b)[""].str(t, "name")
			}
			accounts := e.instances(t, "google_service_account.function")
			member := func(fn string) string { return "serviceAccount:" + account(accounts[fn].str(t, "account_id")) }

			want, got := map[string][]string{}, map[string][]string{}
			signers := []string{}
			for name, f := range m.functions {
				if f.Host != "" {
					continue
				}
				for _, use := range f.Buckets {
					r, ok := roles[use]
					if !ok {
						t.Errorf("%s: bucket use %q unknown to this test", name, use)
						continue
					}
					want[member(name)] = append(want[member(name)], bucketName[r[0]]+" "+r[1])
					if use == "uploads:sign" {
						signers = append(signers, name)
					}
				}
			}
			for key, b := range e.m.resources {
				if !strings.Contains(key, "iam_member") {
					continue
				}
				for ik, in := range e.instancesOf(t, key, b) {
					a, ok := in.body.Attributes["role"]
					if !ok {
						continue
					}
					role, _ := a.Expr.Value(in.ctx)
					if !role.IsKnown() || role.Type() != cty.String || !strings.HasPrefix(role.AsString(), "roles/storage.") {
						continue
					}
					switch key {
					case "google_storage_bucket_iam_member.function":
						got[in.str(t, "member")] = append(got[in.str(t, "member")], in.str(t, "bucket")+" "+role.AsString())
					case "google_storage_bucket_iam_member.photos_public":
					default:
						t.Errorf("%s[%s] grants %s: storage roles go on a bucket, from the manifest's buckets", key, ik, role.AsString())
					}
				}
			}
			who := map[string]bool{}
			for k := range want {
				who[k] = true
			}
			for k := range got {
				who[k] = true
			}
			for _, w := range slices.Sorted(maps.Keys(who)) {
				assertSet(t, w+" bucket roles", got[w], want[w])
			}
			if label == "with-photos" && len(got) == 0 {
				t.Error("no bucket grants in the manifest with the photo functions")
			}

			tc := e.instances(t, "google_service_account_iam_member.url_signer")
			assertSet(t, "URL signers' token creator grants", slices.Collect(maps.Keys(tc)), signers)
			for name, g := range tc {
				own := "projects/" + testProject + "/serviceAccounts/" + account(accounts[name].str(t, "account_id"))
				if g.str(t, "service_account_id") != own || g.str(t, "member") != member(name) || g.str(t, "role") != "roles/iam.serviceAccountTokenCreator" {
					t.Errorf("%s: token creator on %s for %s, want on its own account for itself", name, g.str(t, "service_account_id"), g.str(t, "member"))
				}
			}
		})
	}
}

// Every function knows the buckets and where photos are served from; a signer signs as
// its own account; the functions that process uploads are sized for images unless
// function_overrides says otherwise.
func TestStorageEnvironment(t *testing.T) {
	t.Parallel()
	for label, m := range storageManifests(t) {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			for _, photosURL := range []string{"", "https://photos.example.com"} {
				e := evaluateStorage(t, "pubsub", m, map[string]cty.Value{"photos_url": cty.StringVal(photosURL)})
				uploads := e.instances(t, "google_storage_bucket.uploads")[""].str(t, "name")
				photos := e.instances(t, "google_storage_bucket.photos")[""].str(t, "name")
				wantURL := photosURL
				if wantURL == "" {
					wantURL = "https://storage.googleapis.com/" + photos
				}
				accounts := e.instances(t, "google_service_account.function")
				for name, svc := range e.instances(t, "google_cloud_run_v2_service.function") {
					env := svc.env(t, "template", "containers")
					for k, v := range map[string]string{"STORAGE_BACKEND": "gcs", "UPLOADS_BUCKET": uploads, "PHOTOS_BUCKET": photos, "PHOTOS_URL": wantURL} {
						if env[k].value != v {
							t.Errorf("%s: %s %q, want %q", name, k, env[k].value, v)
						}
					}
					signer := ""
					if slices.Contains(m.functions[name].Buckets, "uploads:sign") {
						signer = account(accounts[name].str(t, "account_id"))
					}
					if got := env["STORAGE_SIGNER"].value; got != signer {
						t.Errorf("%s: STORAGE_SIGNER %q, want %q", name, got, signer)
					}
				}
			}

			e := evaluateStorage(t, "pubsub", m, nil)
			sizes := e.local(t, "function_sizes")
			for name, f := range m.functions {
				if f.Host != "" || !slices.Contains(f.Buckets, "uploads") {
					continue
				}
				size := sizes.GetAttr(name)
				got := []string{size.GetAttr("cpu").AsString(), size.GetAttr("memory").AsString(), size.GetAttr("concurrency").AsBigFloat().String(), size.GetAttr("timeout").AsString()}
				if want := []string{"1", "1Gi", "2", "120s"}; !slices.Equal(got, want) {
					t.Errorf("%s (reads uploads): cpu, memory, concurrency, timeout %v, want %v", name, got, want)
				}
			}
			// function_overrides comes last.
			if _, ok := m.functions["products-upload-finalized"]; ok {
				overrides := e.vars["function_overrides"].AsValueMap()
				overrides["products-upload-finalized"] = cty.ObjectVal(map[string]cty.Value{
					"cpu": cty.NullVal(cty.String), "memory": cty.StringVal("2Gi"), "concurrency": cty.NullVal(cty.Number),
					"min_instances": cty.NullVal(cty.Number), "max_instances": cty.NullVal(cty.Number),
					"timeout": cty.NullVal(cty.String), "database_max_conns": cty.NullVal(cty.Number),
				})
				o := evaluateStorage(t, "pubsub", m, map[string]cty.Value{"function_overrides": cty.MapVal(overrides)})
				size := o.local(t, "function_sizes").GetAttr("products-upload-finalized")
				if size.GetAttr("memory").AsString() != "2Gi" || size.GetAttr("timeout").AsString() != "120s" {
					t.Errorf("overridden: memory %s, timeout %s; want the override's 2Gi and the image size's 120s",
						size.GetAttr("memory").AsString(), size.GetAttr("timeout").AsString())
				}
			}
		})
	}
}

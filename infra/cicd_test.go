package infra_test

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// The CI/CD of cicd.tf: GitHub Actions deploys as the deployer account through Workload
// Identity Federation, and the deployer holds exactly what the release (or, when asked,
// the whole apply) needs.

const (
	testRepository  = "octo-org/market-8949"
	cicdFile        = "cicd.tf"
	githubIssuer    = "https://token.actions.githubusercontent.com"
	testPoolName    = "projects/" + testProjectNo + "/locations/global/workloadIdentityPools/github"
	deployerAccount = "deployer"
)

var deployerMember = "serviceAccount:" + account(deployerAccount)

// evaluateCICD evaluates the module on the Pub/Sub backbone with the CI/CD variables.
func evaluateCICD(t *testing.T, repository, stateBucket string, appliesInfra bool) *eval {
	t.Helper()
	return evaluateWith(t, "pubsub", map[string]cty.Value{
		"github_repository":      cty.StringVal(repository),
		"tf_state_bucket":        cty.StringVal(stateBucket),
		"deployer_applies_infra": cty.BoolVal(appliesInfra),
	})
}

// cicdResources are the resources cicd.tf declares.
func cicdResources(t *testing.T, m *module) []string {
	t.Helper()
	var out []string
	for _, b := range m.bodies[cicdFile].Blocks {
		if b.Type == "resource" {
			out = append(out, b.Labels[0]+"."+b.Labels[1])
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s declares no resources", cicdFile)
	}
	return out
}

// outputValue evaluates an output of the module.
func outputValue(t *testing.T, e *eval, name string) cty.Value {
	t.Helper()
	b, ok := e.m.outputs[name]
	if !ok {
		t.Fatalf("no output %s", name)
	}
	v, diags := b.Body.Attributes["value"].Expr.Value(e.ctx)
	if diags.HasErrors() {
		t.Fatalf("output %s: %v", name, diags)
	}
	return v
}

// Without github_repository there is no pool, no provider, no grant and no API to enable:
// only the deployer account, disabled (it cannot authenticate), whatever else is set. Set,
// everything is there, and the outputs name it.
func TestCICDOnlyWithARepository(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		repository   string
		stateBucket  string
		appliesInfra bool
	}{
		{"unset", "", "", false},
		{"unset, other variables set", "", "my-project-tfstate", true},
		{"set", testRepository, "", false},
		{"set, applying the infrastructure", testRepository, "my-project-tfstate", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := evaluateCICD(t, tt.repository, tt.stateBucket, tt.appliesInfra)
			on := tt.repository != ""
			if r := refusalsOf(t, e); len(r) != 0 {
				t.Fatalf("the plan refuses %+v: %v", tt, r)
			}
			for _, key := range cicdResources(t, e.m) {
				n := len(e.instances(t, key))
				switch {
				case key == "google_service_account.deployer":
					in := e.instances(t, key)[""]
					if got := in.str(t, "account_id"); got != deployerAccount {
						t.Errorf("the deployer's account id is %q, want %q", got, deployerAccount)
					}
					if disabled := in.value(t, "disabled").True(); disabled == on {
						t.Errorf("github_repository %q: the deployer account disabled %v", tt.repository, disabled)
					}
				case key == "google_storage_bucket_iam_member.deployer_state":
					if want := on && tt.stateBucket != ""; (n > 0) != want {
						t.Errorf("%s: %d instances, want some %v", key, n, want)
					}
				case !on && n > 0:
					t.Errorf("github_repository unset: %s has %d instances", key, n)
				case on && n == 0:
					t.Errorf("github_repository %q: no %s", tt.repository, key)
				}
			}

			outputs := map[string]cty.Value{
				"workload_identity_provider": cty.UnknownVal(cty.String), // the provider's name, known after apply
				"deployer_service_account":   cty.StringVal(account(deployerAccount)),
				"artifact_registry":          cty.StringVal(testRegion + "-docker.pkg.dev/" + testProject + "/market"),
			}
			for name, want := range outputs {
				got := outputValue(t, e, name)
				switch {
				case !on && !got.IsNull():
					t.Errorf("github_repository unset: output %s is %#v, want null", name, got)
				case on && !want.IsKnown() && (got.IsKnown() && got.IsNull()):
					t.Errorf("output %s is null", name)
				case on && want.IsKnown() && (!got.IsKnown() || got.IsNull() || !got.RawEquals(want)):
					t.Errorf("output %s is %#v, want %#v", name, got, want)
				}
			}
		})
	}
}

// The pool admits GitHub's OIDC tokens of the repository's main branch and v* tags only,
// and only the repository's runs may act as the deployer.
func TestCICDWorkloadIdentity(t *testing.T) {
	t.Parallel()
	e := evaluateCICD(t, testRepository, "", false)
	providers := e.instances(t, "google_iam_workload_identity_pool_provider.github")
	if len(providers) != 1 {
		t.Fatalf("%d workload identity providers, want 1", len(providers))
	}
	p := providers["0"]
	if got := p.str(t, "oidc", "issuer_uri"); got != githubIssuer {
		t.Errorf("issuer %s, want %s", got, githubIssuer)
	}
	if _, ok := p.body.Attributes["allowed_audiences"]; ok {
		// The default audience is the provider's own name, which the auth action asks for.
		t.Error("allowed_audiences set: the auth action requests the provider's default audience")
	}
	mapping := p.value(t, "attribute_mapping").AsValueMap()
	for attr, want := range map[string]string{
		"google.subject": "assertion.sub", "attribute.repository": "assertion.repository",
		"attribute.repository_owner": "assertion.repository_owner", "attribute.ref": "assertion.ref",
	} {
		if got, ok := mapping[attr]; !ok || got.AsString() != want {
			t.Errorf("attribute_mapping[%s] = %#v, want %s", attr, got, want)
		}
	}

	cond := p.str(t, "attribute_condition")
	for _, want := range []string{
		"assertion.repository == '" + testRepository + "'",
		"assertion.ref == 'refs/heads/main'",
		"assertion.ref.startsWith('refs/tags/v')",
	} {
		if !strings.Contains(cond, want) {
			t.Errorf("attribute_condition %q does not require %s", cond, want)
		}
	}
	// The repository is required (&&) of every token, whichever ref it is for.
	if first, _, ok := strings.Cut(cond, " && "); !ok || first != "assertion.repository == '"+testRepository+"'" {
		t.Errorf("attribute_condition %q: the repository is not required of every token", cond)
	}
	if strings.Count(cond, "||") != 1 || strings.Count(cond, "assertion.ref") != 2 {
		t.Errorf("attribute_condition %q admits more than main and v* tags", cond)
	}

	// The principalSet of the binding names the pool and the repository.
	bindings := e.instances(t, "google_service_account_iam_member.deployer_workload_identity")
	if len(bindings) != 1 {
		t.Fatalf("%d workload identity bindings, want 1", len(bindings))
	}
	b := bindings["0"]
	ctx := b.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{"google_iam_workload_identity_pool": cty.ObjectVal(map[string]cty.Value{
		"github": cty.TupleVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(testPoolName)})}),
	})}
	stubbed := &instance{key: b.key, body: b.body, ctx: ctx}
	want := "principalSet://iam.googleapis.com/" + testPoolName + "/attribute.repository/" + testRepository
	if got := stubbed.str(t, "member"); got != want {
		t.Errorf("workloadIdentityUser granted to %s, want %s", got, want)
	}
	if got := b.str(t, "role"); got != "roles/iam.workloadIdentityUser" {
		t.Errorf("the binding grants %s, want roles/iam.workloadIdentityUser", got)
	}
	if got := refersTo(b.body.Attributes["service_account_id"].Expr.Variables()); !slices.Equal(got, []string{"google_service_account.deployer"}) {
		t.Errorf("the binding is on %v, want the deployer account", got)
	}
	if pool := e.instances(t, "google_iam_workload_identity_pool.github")["0"]; pool.str(t, "workload_identity_pool_id") != "github" {
		t.Errorf("pool id %s, want github (the outputs and docs name it)", pool.str(t, "workload_identity_pool_id"))
	}

	// Nobody else may mint the deployer's tokens or act as it.
	for _, g := range allGrants(t, e) {
		if g.role == "roles/iam.workloadIdentityUser" && g.key != "google_service_account_iam_member.deployer_workload_identity" {
			t.Errorf("%s grants roles/iam.workloadIdentityUser to %s", g.key, g.member)
		}
	}
}

// refersTo returns the resources ("type.name") a set of references names.
func refersTo(trs []hcl.Traversal) []string {
	var out []string
	for _, tr := range trs {
		if len(tr) > 1 {
			if a, ok := tr[1].(hcl.TraverseAttr); ok {
				out = append(out, tr.RootName()+"."+a.Name)
			}
		}
	}
	return out
}

// grant is one IAM member grant of the plan.
type grant struct {
	key, instance string
	role, member  string
	in            *instance
}

// allGrants returns every *_iam_member instance whose role and member are known.
func allGrants(t *testing.T, e *eval) []grant {
	t.Helper()
	var out []grant
	for _, key := range sortedKeys(e.m.resources) {
		b := e.m.resources[key]
		if b.Type != "resource" || !strings.HasSuffix(b.Labels[0], "_iam_member") {
			continue
		}
		for ik, in := range e.instancesOf(t, key, b) {
			role, d1 := in.body.Attributes["role"].Expr.Value(in.ctx)
			member, d2 := in.body.Attributes["member"].Expr.Value(in.ctx)
			if d1.HasErrors() || d2.HasErrors() || !role.IsKnown() || !member.IsKnown() || role.IsNull() || member.IsNull() ||
				role.Type() != cty.String || member.Type() != cty.String {
				continue
			}
			out = append(out, grant{key: key, instance: ik, role: role.AsString(), member: member.AsString(), in: in})
		}
	}
	return out
}

// roleForResource is the predefined role that manages each kind of resource the module
// declares, by type prefix (as resourceAPIs): what `terraform apply` of the module needs.
// A resource type missing here fails TestDeployerRoles: say which role manages it, and
// add that role to local.deployer_infra_roles.
var roleForResource = []struct{ prefix, role string }{
	{"data.google_project", ""},                         // resourcemanager.projects.get: in projectIamAdmin
	{"data.google_storage_project_service_account", ""}, // the same
	{"google_api_gateway_", "roles/apigateway.admin"},
	{"google_artifact_registry_", "roles/artifactregistry.admin"},
	{"google_cloud_run_v2_", "roles/run.admin"},
	{"google_cloud_scheduler_", "roles/cloudscheduler.admin"},
	{"google_compute_", "roles/compute.networkAdmin"},
	{"google_iam_workload_identity_pool", "roles/iam.workloadIdentityPoolAdmin"},
	{"google_logging_metric", "roles/logging.configWriter"},
	{"google_managed_kafka_", "roles/managedkafka.admin"},
	{"google_monitoring_", "roles/monitoring.editor"},
	{"google_project_iam_custom_role", "roles/iam.roleAdmin"},
	{"google_project_iam_member", "roles/resourcemanager.projectIamAdmin"},
	{"google_project_service", "roles/serviceusage.serviceUsageAdmin"},
	{"google_pubsub_", "roles/pubsub.admin"},
	{"google_redis_", "roles/redis.admin"},
	{"google_secret_manager_", "roles/secretmanager.admin"},
	{"google_service_account", "roles/iam.serviceAccountAdmin"},
	{"google_service_networking_", "roles/servicenetworking.networksAdmin"},
	{"google_sql_", "roles/cloudsql.admin"},
	{"google_storage_", "roles/storage.admin"},
	{"random_", ""}, {"time_", ""}, // Terraform's own
	{"terraform_data.migrate", "roles/run.admin"}, // gcloud run jobs execute
}

// applyRoles are the project roles applying the whole module needs: the role of every
// resource type it declares, and acting as the accounts its services, jobs, subscriptions,
// scheduler jobs and gateway use.
func applyRoles(t *testing.T, m *module) []string {
	t.Helper()
	roles := map[string]bool{"roles/iam.serviceAccountUser": true}
	for key := range m.resources {
		i := slices.IndexFunc(roleForResource, func(r struct{ prefix, role string }) bool { return strings.HasPrefix(key, r.prefix) })
		if i < 0 {
			t.Errorf("%s: which role manages it? Add its type to roleForResource (and the role to local.deployer_infra_roles)", key)
			continue
		}
		if r := roleForResource[i].role; r != "" {
			roles[r] = true
		}
	}
	return slices.Sorted(maps.Keys(roles))
}

// The deployer's grants, all of them: the release's least privilege, plus the state
// bucket when named, plus the apply's admin roles only when deployer_applies_infra.
func TestDeployerRoles(t *testing.T) {
	t.Parallel()
	m := loadModule(t)
	tests := []struct {
		name         string
		stateBucket  string
		appliesInfra bool
		project      []string // the deployer's project roles
	}{
		{"release", "", false, []string{"roles/run.developer"}},
		{"release with the state bucket", "my-project-tfstate", false, []string{"roles/run.developer"}},
		{"applying the infrastructure", "my-project-tfstate", true, applyRoles(t, m)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := evaluateCICD(t, testRepository, tt.stateBucket, tt.appliesInfra)

			// The accounts every Cloud Run service and job runs as.
			var runtime []string
			for _, r := range []string{"google_cloud_run_v2_service", "google_cloud_run_v2_job"} {
				for key, b := range e.m.resources {
					if b.Type != "resource" || b.Labels[0] != r {
						continue
					}
					for _, in := range e.instancesOf(t, key, b) {
						path := []string{"template", "service_account"}
						if r == "google_cloud_run_v2_job" {
							path = []string{"template", "template", "service_account"}
						}
						runtime = append(runtime, "projects/"+testProject+"/serviceAccounts/"+in.str(t, path...))
					}
				}
			}
			runtime = slices.Compact(slices.Sorted(slices.Values(runtime)))
			if len(runtime) < 5 {
				t.Fatalf("only %d runtime accounts found", len(runtime))
			}

			var project, actAs []string
			for _, g := range allGrants(t, e) {
				if g.role == "roles/editor" || g.role == "roles/owner" {
					t.Errorf("%s[%s] grants %s to %s", g.key, g.instance, g.role, g.member)
				}
				if g.member != deployerMember {
					continue
				}
				switch g.key {
				case "google_project_iam_member.deployer":
					if got := g.in.str(t, "project"); got != testProject {
						t.Errorf("%s in project %s", g.role, got)
					}
					project = append(project, g.role)
				case "google_artifact_registry_repository_iam_member.deployer":
					if g.role != "roles/artifactregistry.writer" {
						t.Errorf("%s on the repository, want roles/artifactregistry.writer", g.role)
					}
					if got := refersTo(g.in.body.Attributes["repository"].Expr.Variables()); !slices.Equal(got, []string{"google_artifact_registry_repository.images"}) {
						t.Errorf("the writer grant is on %v, want the images repository", got)
					}
				case "google_service_account_iam_member.deployer_act_as":
					if g.role != "roles/iam.serviceAccountUser" {
						t.Errorf("%s on %s, want roles/iam.serviceAccountUser", g.role, g.instance)
					}
					actAs = append(actAs, g.in.str(t, "service_account_id"))
				case "google_storage_bucket_iam_member.deployer_state":
					if g.role != "roles/storage.objectUser" || g.in.str(t, "bucket") != tt.stateBucket {
						t.Errorf("%s on %s, want roles/storage.objectUser on %s", g.role, g.in.str(t, "bucket"), tt.stateBucket)
					}
					if tt.stateBucket == "" {
						t.Error("a state bucket grant without tf_state_bucket")
					}
				default:
					t.Errorf("%s[%s] grants the deployer %s: not one of its grants", g.key, g.instance, g.role)
				}
			}
			assertSet(t, "the deployer's project roles", project, tt.project)
			assertSet(t, "the accounts the deployer acts as", actAs, runtime)
			if !tt.appliesInfra {
				for _, r := range project {
					if r != "roles/run.developer" {
						t.Errorf("the release holds the project role %s: only roles/run.developer without deployer_applies_infra", r)
					}
				}
			}
		})
	}

	// The module's list is the one derived from its resource types.
	e := evaluateCICD(t, testRepository, "", true)
	var declared []string
	for _, v := range e.local(t, "deployer_infra_roles").AsValueSlice() {
		declared = append(declared, v.AsString())
	}
	assertSet(t, "local.deployer_infra_roles", declared, applyRoles(t, m))
}

// No key file: the module declares no service account key anywhere.
func TestNoServiceAccountKeys(t *testing.T) {
	t.Parallel()
	m := loadModule(t)
	for key := range m.resources {
		if strings.HasPrefix(key, "google_service_account_key.") || strings.HasPrefix(key, "data.google_service_account_key.") {
			t.Errorf("%s: credentials come from Workload Identity Federation, never from a key", key)
		}
	}
	if len(cicdResources(t, m)) == 0 {
		t.Error("no CI/CD resources")
	}
}

// The repository and state bucket variables refuse what would break the condition, the
// principalSet or the grant, at plan time.
func TestCICDVariables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		variable, value string
		ok              bool
	}{
		{"github_repository", "", true},
		{"github_repository", testRepository, true},
		{"github_repository", "Octo/repo.name_1", true},
		{"github_repository", "octo-org", false},
		{"github_repository", "https://github.com/octo-org/market", false},
		{"github_repository", "octo-org/market/extra", false},
		{"github_repository", "octo-org/market' || true || '", false},
		{"github_repository", "-octo/market", false},
		{"tf_state_bucket", "", true},
		{"tf_state_bucket", "my-project-tfstate", true},
		{"tf_state_bucket", "gs://my-project-tfstate", false},
		{"tf_state_bucket", "My_Bucket", false},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			e := evaluateWith(t, "pubsub", map[string]cty.Value{tt.variable: cty.StringVal(tt.value)})
			if refused := refusedBy(t, e, "var."+tt.variable); (len(refused) == 0) != tt.ok {
				t.Errorf("%s = %q: refusals %v, want accepted %v", tt.variable, tt.value, refused, tt.ok)
			}
		})
	}
}

// Every CI/CD resource comes after the APIs it calls are enabled, and the APIs the
// pipeline calls (the token exchange, IAM Credentials, Artifact Registry) are enabled.
func TestCICDWaitsForItsAPIs(t *testing.T) {
	t.Parallel()
	deploy, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, appliesInfra := range []bool{false, true} {
		e := evaluateCICD(t, testRepository, "my-project-tfstate", appliesInfra)
		enabled := map[string]bool{} // by Terraform, or by hand before it (docs/deploy.md)
		for _, m := range enabledByHand.FindAllStringSubmatch(string(deploy), -1) {
			for _, api := range strings.Fields(m[1]) {
				enabled[api] = true
			}
		}
		for _, r := range []string{enablement, "google_project_service.cicd"} {
			for _, in := range e.instances(t, r) {
				enabled[in.str(t, "service")] = true
			}
		}
		for _, api := range []string{"sts.googleapis.com", "iamcredentials.googleapis.com", "artifactregistry.googleapis.com", "iam.googleapis.com"} {
			if !enabled[api] {
				t.Errorf("%s is not enabled", api)
			}
		}
		apis := append([]struct{ prefix, api string }{{"google_iam_workload_identity_pool", "iam.googleapis.com"}}, resourceAPIs...)
		g := dependencyGraph(t, e)
		for _, key := range cicdResources(t, e.m) {
			if _, present := g[key]; !present || strings.HasPrefix(key, "google_project_service.") {
				continue // enabling an API needs Service Usage, which step 1 enables by hand
			}
			i := slices.IndexFunc(apis, func(r struct{ prefix, api string }) bool { return strings.HasPrefix(key, r.prefix) })
			if i < 0 {
				t.Errorf("%s: which API does it call?", key)
				continue
			}
			if !enabled[apis[i].api] {
				t.Errorf("%s calls %s, which is not enabled", key, apis[i].api)
			}
			if !reaches(g, key, enablement) {
				t.Errorf("%s does not wait for %s", key, enablement)
			}
		}
		if !reaches(g, "google_iam_workload_identity_pool_provider.github", "google_project_service.cicd") {
			t.Error("the pool provider does not wait for the token exchange API")
		}
	}
}

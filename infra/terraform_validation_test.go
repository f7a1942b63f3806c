package infra_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// refusedBy returns the plan's refusals that concern where ("var.name" or a resource's
// "type.name").
func refusedBy(t *testing.T, e *eval, where string) []refusal {
	t.Helper()
	var out []refusal
	for _, r := range e.refusals(t) {
		if r.where == where || strings.HasPrefix(r.where, where+"[") {
			out = append(out, r)
		}
	}
	return out
}

// The defaults plan without a refusal, on both backbones, with and without the gateway
// and a bootstrap administrator: every validation and precondition holds.
func TestPlanAcceptsTheDefaults(t *testing.T) {
	t.Parallel()
	for _, backbone := range backbones {
		for _, gateway := range []bool{true, false} {
			for _, admin := range []string{"", "master01"} {
				t.Run(fmt.Sprintf("%s/gateway=%v/admin=%q", backbone, gateway, admin), func(t *testing.T) {
					t.Parallel()
					e := evaluateWith(t, backbone, map[string]cty.Value{
						"api_gateway": cty.BoolVal(gateway), "bootstrap_admin_username": cty.StringVal(admin),
					})
					if r := refusalsOf(t, e); len(r) != 0 {
						t.Errorf("the plan refuses the defaults: %v", r)
					}
				})
			}
		}
	}
}

// apiGatewayRegions are the regions API Gateway deploys gateways to, as
// https://cloud.google.com/api-gateway/docs/deployment-model lists them ("Choosing a GCP
// region"). asia-northeast3 (Seoul), the default region, is not among them.
var apiGatewayRegions = []string{
	"asia-northeast1", "australia-southeast1", "europe-west1", "europe-west2", "us-east1",
	"us-east4", "us-central1", "us-west2", "us-west3", "us-west4",
}

// The gateway goes to a region API Gateway runs in: the default is one (the nearest to
// Seoul), the documented ones pass, and any other fails the plan instead of the apply.
func TestAPIGatewayRegion(t *testing.T) {
	t.Parallel()
	def := evaluateFor(t, "pubsub")
	if got := def.vars["api_gateway_region"]; got.IsNull() || got.AsString() != "asia-northeast1" {
		t.Errorf("api_gateway_region defaults to %#v, want asia-northeast1 (Tokyo, the nearest to Seoul)", got)
	}
	if r := refusedBy(t, def, "var.api_gateway_region"); len(r) != 0 {
		t.Errorf("the default is refused: %v", r)
	}
	gw := def.instances(t, "google_api_gateway_gateway.api")["0"]
	if gw == nil || gw.str(t, "region") != def.vars["api_gateway_region"].AsString() {
		t.Error("the gateway is not in api_gateway_region")
	}

	tests := []struct {
		region cty.Value
		ok     bool
	}{
		{cty.StringVal("asia-northeast3"), false}, // Seoul: Cloud Run, not API Gateway
		{cty.StringVal("us-central2"), false},
		{cty.StringVal("ASIA-NORTHEAST1"), false},
		{cty.StringVal(""), false},
		{cty.NullVal(cty.String), true}, // not nullable: null means the default
	}
	for _, r := range apiGatewayRegions {
		tests = append(tests, struct {
			region cty.Value
			ok     bool
		}{cty.StringVal(r), true})
	}
	for _, tt := range tests {
		t.Run(tt.region.GoString(), func(t *testing.T) {
			t.Parallel()
			e := evaluateWith(t, "pubsub", map[string]cty.Value{"api_gateway_region": tt.region})
			refused := refusedBy(t, e, "var.api_gateway_region")
			if ok := len(refused) == 0; ok != tt.ok {
				t.Fatalf("accepted %v, want %v (%v)", ok, tt.ok, refused)
			}
			for _, r := range refused {
				for _, region := range apiGatewayRegions {
					if !strings.Contains(r.message, region) {
						t.Errorf("the refusal %q does not name %s", r.message, region)
					}
				}
			}
		})
	}
}

// The bootstrap administrator's name passes the accounts' username rule, or the plan
// refuses it (the migration job would fail after the database is built): the module's
// check agrees with shared/users on every case.
func TestBootstrapAdminUsername(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"master01", "Admin2026", "abcdefghijkl", "abcdefghijklm", "short", "master-01", "master 01", "마스터계정입니다"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := evaluateWith(t, "pubsub", map[string]cty.Value{"bootstrap_admin_username": cty.StringVal(name)})
			moduleOK := len(refusedBy(t, e, "var.bootstrap_admin_username")) == 0
			if usersOK, _ := usersAccept(t, name, "Abcdefgh12!#"); moduleOK != usersOK {
				t.Errorf("the module accepts %q: %v; shared/users: %v", name, moduleOK, usersOK)
			}
		})
	}
	if r := refusedBy(t, evaluateFor(t, "pubsub"), "var.bootstrap_admin_username"); len(r) != 0 {
		t.Errorf("empty (no bootstrap) is refused: %v", r)
	}
}

// var.delivery takes only what both backbones accept: Pub/Sub's ranges and whole-second
// durations, with the bridge's 0 < minimum <= maximum.
func TestDeliveryValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		attempts   int64
		min, max   string
		ackSeconds int64
		ok         bool
	}{
		{"default", 10, "10s", "600s", 60, true},
		{"the extremes", 5, "1s", "1s", 10, true},
		{"the other extremes", 100, "600s", "600s", 600, true},
		{"too few attempts", 4, "10s", "600s", 60, false},
		{"too many attempts", 101, "10s", "600s", 60, false},
		{"no back-off", 10, "0s", "600s", 60, false},
		{"not a duration", 10, "10", "600s", 60, false},
		{"minutes", 10, "10s", "10m", 60, false},
		{"fractions", 10, "0.5s", "600s", 60, false},
		{"minimum above maximum", 10, "60s", "30s", 60, false},
		{"beyond Pub/Sub's maximum", 10, "10s", "601s", 60, false},
		{"ack deadline too short", 10, "10s", "600s", 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := evaluateWith(t, "kafka", map[string]cty.Value{"delivery": cty.ObjectVal(map[string]cty.Value{
				"max_delivery_attempts": cty.NumberIntVal(tt.attempts), "minimum_backoff": cty.StringVal(tt.min),
				"maximum_backoff": cty.StringVal(tt.max), "ack_deadline_seconds": cty.NumberIntVal(tt.ackSeconds),
			})})
			refused := refusedBy(t, e, "var.delivery")
			if ok := len(refused) == 0; ok != tt.ok {
				t.Fatalf("accepted %v, want %v (%v)", ok, tt.ok, refused)
			}
			if tt.ok {
				// What the module accepts, the relay accepts too.
				plainEnv(t, e.instances(t, "google_cloud_run_v2_service.relay")[""].env(t, "template", "containers"))
			}
			if slices.ContainsFunc(refused, func(r refusal) bool { return strings.HasPrefix(r.message, "condition:") }) {
				t.Errorf("a condition fails to evaluate instead of refusing: %v", refused)
			}
		})
	}
}

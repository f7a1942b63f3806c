package infra_test

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// jobPool reads the fixed pool size a job's main package connects with
// (postgres.Connect(ctx, cfg.DatabaseURL, N)).
func jobPool(t *testing.T, mainGo string) int64 {
	t.Helper()
	src, err := os.ReadFile(mainGo)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`postgres\.Connect\(ctx, cfg\.DatabaseURL, (\d+)\)`).FindAllSubmatch(src, -1)
	if len(m) != 1 {
		t.Fatalf("%s: %d postgres.Connect calls with a fixed pool, want one", mainGo, len(m))
	}
	n, _ := strconv.ParseInt(string(m[0][1]), 10, 64)
	return n
}

// connections is the most connections the planned services can open, counted from what
// they are given: each service's max instances times its DATABASE_MAX_CONNS, the jobs'
// pools from their code, and the reserve.
func connections(t *testing.T, e *eval) map[string]int64 {
	t.Helper()
	pool := func(in *instance) int64 {
		cfg := plainEnv(t, in.env(t, "template", "containers"))
		if _, set := in.env(t, "template", "containers")["DATABASE_MAX_CONNS"]; !set {
			t.Fatalf("DATABASE_MAX_CONNS is not set: the pool would be the code's default")
		}
		return in.number(t, "template", "scaling", "max_instance_count") * int64(cfg.DatabaseMaxConns)
	}
	out := map[string]int64{}
	for _, svc := range e.instances(t, "google_cloud_run_v2_service.function") {
		out["functions"] += pool(svc)
	}
	out["relay"] = pool(e.instances(t, "google_cloud_run_v2_service.relay")[""])
	out["chat"] = pool(e.instances(t, "google_cloud_run_v2_service.chat")[""])
	out["migrate"] = jobPool(t, "../cmd/migrate/main.go")
	out["outbox_lag"] = jobPool(t, "cmd/outbox-lag/main.go")
	reserved, _ := e.vars["database"].GetAttr("reserved_connections").AsBigFloat().Int64()
	out["reserved"] = reserved
	return out
}

func total(parts map[string]int64) int64 {
	var n int64
	for _, v := range parts {
		n += v
	}
	return n
}

// The module's budget counts what the services are actually given, and the defaults fit
// database.max_connections.
func TestConnectionBudget(t *testing.T) {
	t.Parallel()
	for _, backbone := range backbones {
		t.Run(backbone, func(t *testing.T) {
			t.Parallel()
			e := evaluateFor(t, backbone)
			want := connections(t, e)
			budget := e.local(t, "database_connections")
			for _, part := range slices.Sorted(maps.Keys(want)) {
				got, _ := budget.GetAttr(part).AsBigFloat().Int64()
				if got != want[part] {
					t.Errorf("the budget counts %d connections for %s, the services can open %d", got, part, want[part])
				}
			}
			if n := len(budget.Type().AttributeTypes()); n != len(want) {
				t.Errorf("the budget has %d parts, the test counts %d", n, len(want))
			}
			got, _ := e.local(t, "database_connections_total").AsBigFloat().Int64()
			limit, _ := e.vars["database"].GetAttr("max_connections").AsBigFloat().Int64()
			if got != total(want) || got > limit {
				t.Errorf("total %d (counted %d), max_connections %d", got, total(want), limit)
			}
			if r := refusedBy(t, e, "google_sql_database_instance.main"); len(r) != 0 {
				t.Errorf("the defaults are refused: %v", r)
			}
			t.Logf("defaults: %d of %d connections: %v", got, limit, want)
		})
	}
}

// with returns object v with attribute name set to x (added if missing).
func with(v cty.Value, name string, x cty.Value) cty.Value {
	attrs := v.AsValueMap()
	if attrs == nil {
		attrs = map[string]cty.Value{}
	}
	attrs[name] = x
	return cty.ObjectVal(attrs)
}

// Sizes whose pools could add up to more than database.max_connections fail the plan,
// with the figures; sizes that fit pass.
func TestConnectionBudgetRefusesOverflow(t *testing.T) {
	t.Parallel()
	def := evaluateFor(t, "pubsub")
	overrides := def.vars["function_overrides"]
	override := func(fn string, attrs map[string]cty.Value) cty.Value {
		all := overrides.AsValueMap()
		all[fn] = cty.ObjectVal(attrs)
		return cty.ObjectVal(all) // converted to the variable's type, optional attributes filled
	}
	n := cty.NumberIntVal
	tests := []struct {
		name   string
		inputs map[string]cty.Value
		ok     bool
	}{
		{"the defaults", nil, true},
		{"a function scaled out within the budget", map[string]cty.Value{
			"function_overrides": override("products-search", map[string]cty.Value{"max_instances": n(20)})}, true},
		{"a function scaled out past it", map[string]cty.Value{
			"function_overrides": override("products-search", map[string]cty.Value{"max_instances": n(100)})}, false},
		{"the hot path's pool doubled", map[string]cty.Value{
			"function_overrides": override("reservations-apply", map[string]cty.Value{"min_instances": n(1), "max_instances": n(20), "database_max_conns": n(16)})}, false},
		{"every function's default pool", map[string]cty.Value{
			"function_defaults": with(def.vars["function_defaults"], "database_max_conns", n(5))}, false},
		{"every function's default instances", map[string]cty.Value{
			"function_defaults": with(def.vars["function_defaults"], "max_instances", n(20))}, false},
		{"the chat server's code default pool", map[string]cty.Value{
			"chat": with(def.vars["chat"], "database_max_conns", n(20))}, true},
		{"the chat server scaled out", map[string]cty.Value{
			"chat": with(with(def.vars["chat"], "database_max_conns", n(20)), "max_instances", n(30))}, false},
		{"the relay scaled out", map[string]cty.Value{
			"relay": with(with(def.vars["relay"], "database_max_conns", n(20)), "max_instances", n(10))}, false},
		{"a smaller database", map[string]cty.Value{
			"database": with(def.vars["database"], "max_connections", n(400))}, false},
		{"a larger database", map[string]cty.Value{
			"database":          with(def.vars["database"], "max_connections", n(2000)),
			"function_defaults": with(def.vars["function_defaults"], "max_instances", n(10))}, true},
		{"a larger reserve", map[string]cty.Value{
			"database": with(def.vars["database"], "reserved_connections", n(300))}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := evaluateWith(t, "pubsub", tt.inputs)
			want := connections(t, e)
			limit, _ := e.vars["database"].GetAttr("max_connections").AsBigFloat().Int64()
			if fits := total(want) <= limit; fits != tt.ok {
				t.Fatalf("the case is wrong: %d connections for %d", total(want), limit)
			}
			refused := refusedBy(t, e, "google_sql_database_instance.main")
			if ok := len(refused) == 0; ok != tt.ok {
				t.Fatalf("%d connections of %d: accepted %v, want %v (%v)", total(want), limit, ok, tt.ok, refused)
			}
			for _, r := range refused {
				for _, s := range []string{fmt.Sprint(total(want)), fmt.Sprint(limit), "database.max_connections"} {
					if !strings.Contains(r.message, s) {
						t.Errorf("the refusal %q does not say %s", r.message, s)
					}
				}
			}
			if r := refusalsOf(t, e); len(r) != len(refused) {
				t.Errorf("refused for another reason too: %v", r)
			}
		})
	}
}

// Package compose writes what infra/docker-compose.yml mounts into the platform's
// containers (its `app` profile) from the function registry: the push bridge's targets,
// bridge-targets.json beside this file. `make manifest` writes it (cmd/manifest -compose);
// a test in infra/ fails when the committed file differs from what BridgeTargets makes now.
package compose

import (
	"encoding/json"
	"fmt"

	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/registry"
)

// BridgeTargetsFile is the generated file, from the repository root.
const BridgeTargetsFile = "infra/compose/bridge-targets.json"

// FunctionsService is the compose service that runs the functions image without
// FUNCTION_TARGET: every function no other service hosts, on one origin.
const FunctionsService = "functions"

// Port is where every app container listens inside the compose network (PORT's default).
const Port = "8080"

// Service is the compose service that serves f: the service the registry says hosts it
// (registry.HostedBy, the compose service of the same name), else the functions service.
func Service(f registry.Function) string {
	if f.Host != "" {
		return f.Host
	}
	return FunctionsService
}

// Endpoint is where the bridge reaches the event function f inside the compose network:
// both the all-in-one functions binary and a hosting service serve an internal function at
// POST /internal/functions/<name>. It carries no credential: under BRIDGE_AUTH=token the
// relay adds PUSH_TOKEN to every URL itself.
func Endpoint(f registry.Function) string {
	return "http://" + Service(f) + ":" + Port + "/internal/functions/" + f.Name
}

// BridgeTargets is BRIDGE_TARGETS for the compose relay: every event function of fns,
// with its topic (without prefix) and Endpoint, as indented JSON.
func BridgeTargets(fns []registry.Function) ([]byte, error) {
	targets := map[string]bridge.Target{}
	for _, f := range fns {
		if f.Kind == registry.KindEvent {
			targets[f.Name] = bridge.Target{Topic: f.Topic, URL: Endpoint(f)}
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("compose bridge targets: no event function registered")
	}
	out, err := json.MarshalIndent(targets, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode compose bridge targets: %w", err)
	}
	return append(out, '\n'), nil
}

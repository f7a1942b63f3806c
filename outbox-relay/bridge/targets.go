package bridge

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Target is where the bridge delivers one consumer function's events: BRIDGE_TARGETS maps
// each consumer's name to one. The relay needs no function's code, only this.
type Target struct {
	Topic    string `json:"topic"`              // the consumed topic, without prefix
	URL      string `json:"url"`                // where to POST its CloudEvents
	Audience string `json:"audience,omitempty"` // of its ID token (BRIDGE_AUTH=oidc); default URL
}

// ParseTargets reads BRIDGE_TARGETS: a JSON object of consumer name to Target, inline or
// in the file the value names (as JWT keys are given).
func ParseTargets(raw string) (map[string]Target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("BRIDGE_TARGETS is empty: the bridge would deliver to no consumer")
	}
	if !strings.HasPrefix(raw, "{") {
		b, err := os.ReadFile(raw)
		if err != nil {
			return nil, fmt.Errorf("BRIDGE_TARGETS: %w", err)
		}
		raw = string(b)
	}
	var targets map[string]Target
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&targets); err != nil {
		return nil, fmt.Errorf("BRIDGE_TARGETS: %w", err)
	}
	names := make([]string, 0, len(targets))
	for name := range targets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := targets[name]
		if t.Topic == "" || t.URL == "" {
			return nil, fmt.Errorf("BRIDGE_TARGETS: consumer %s needs a topic and a url", name)
		}
		if t.Audience == "" {
			t.Audience = t.URL
			targets[name] = t
		}
	}
	return targets, nil
}

package registry

import (
	"encoding/json"
	"fmt"

	"github.com/8949market/market/shared/events"
)

// ManifestEntry is one function as the infrastructure sees it.
type ManifestEntry struct {
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	Method   string `json:"method,omitempty"`
	Path     string `json:"path,omitempty"`
	Public   bool   `json:"public"`
	Signs    bool   `json:"signs,omitempty"`
	Topic    string `json:"topic,omitempty"`
	Schedule string `json:"schedule,omitempty"`
	Host     string `json:"host,omitempty"`
	// Buckets are the function's uses of the buckets (UsesBuckets).
	Buckets []string `json:"buckets,omitempty"`
	Package string   `json:"package"`
}

// Manifest is the registry as JSON for Terraform (infra/terraform/functions.json): one
// Cloud Run service per entry, a route per HTTP entry, a subscription per event entry and
// a scheduler job per scheduled entry. It also carries the event catalogue's topics (every
// topic gets a stream topic and a dead-letter topic, consumed or not), so Terraform reads
// one file for all of it. `make manifest` writes it; a test fails when the committed file
// differs.
func Manifest(fns []Function) ([]byte, error) {
	entries := make([]ManifestEntry, 0, len(fns))
	for _, f := range fns {
		e := ManifestEntry{Name: f.Name, Kind: f.Kind, Public: f.Public, Signs: f.Signs, Topic: f.Topic, Schedule: f.Schedule, Host: f.Host, Buckets: f.Buckets, Package: f.Package}
		if f.Kind == KindHTTP {
			e.Method, e.Path = f.Method, f.Pattern.String()
		}
		entries = append(entries, e)
	}
	out, err := json.MarshalIndent(ManifestFile{
		Comment:   "Generated from the function registry by `make manifest`; do not edit.",
		Functions: entries, Topics: events.Topics(), StorageTopics: events.StorageTopics(), DeadLetterSuffix: events.DeadLetterSuffix,
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(out, '\n'), nil
}

// ManifestFile is the manifest as written: what Terraform reads, and what the local
// deployed shape (make up) wires its processes, subscriptions and routes from.
type ManifestFile struct {
	Comment   string          `json:"//"`
	Functions []ManifestEntry `json:"functions"`
	Topics    []string        `json:"topics"`
	// StorageTopics are the topics Cloud Storage notifies (events.StorageTopics): Pub/Sub
	// ones with push subscriptions whatever the backbone.
	StorageTopics    []string `json:"storageTopics"`
	DeadLetterSuffix string   `json:"deadLetterSuffix"`
}

// ParseManifest reads a manifest written by Manifest.
func ParseManifest(raw []byte) (ManifestFile, error) {
	var m ManifestFile
	if err := json.Unmarshal(raw, &m); err != nil {
		return ManifestFile{}, fmt.Errorf("read manifest: %w", err)
	}
	if len(m.Functions) == 0 {
		return ManifestFile{}, fmt.Errorf("read manifest: no functions")
	}
	return m, nil
}

package main

import (
	"slices"
	"testing"

	"github.com/8949market/market/infra/terraform"
	relay "github.com/8949market/market/outbox-relay"
)

// The service reconciles against the manifest built into it, hosted consumers included
// (the infra tests hold the manifest to the registry).
func TestReconcilesAgainstTheEmbeddedManifest(t *testing.T) {
	t.Parallel()
	consumers, err := relay.ConsumersFromManifest(terraform.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{
		"product-created": "reservations-product-created",
		"trade-created":   "chat-trade-created",
	} {
		if !slices.Contains(consumers[topic], want) {
			t.Errorf("consumers of %s = %v, want %s among them", topic, consumers[topic], want)
		}
	}
	if _, ok := consumers["chat-message-sent"]; ok {
		t.Errorf("chat-message-sent has consumers %v; the catalogue says none", consumers["chat-message-sent"])
	}
}

// Package terraform embeds the function manifest this module reads (functions.json,
// written by `make manifest` from the function registry), so a binary built from the same
// commit knows what Terraform deploys without linking any function: the outbox relay
// reads from it which consumers subscribe to each topic, and cmd/deadletters which
// consumers must have recorded an event.
package terraform

import _ "embed" // the manifest

// Manifest is functions.json as committed.
//
//go:embed functions.json
var Manifest []byte

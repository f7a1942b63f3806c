// Command openapi writes the API reference (`make openapi`): the OpenAPI 3.1 document
// generated from the function registry and the chat server's routes
// (shared/apidocs/openapi.json, served at /api/v1/docs/), and the Swagger 2.0 config API
// Gateway is deployed with (infra/terraform/gateway.json). -check compares instead of
// writing and fails when a committed file is stale.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	chatserver "github.com/8949market/market/chat-server"
	_ "github.com/8949market/market/functions/all" // every function registers itself
	"github.com/8949market/market/shared/openapi"
	"github.com/8949market/market/shared/registry"
)

func main() {
	doc := flag.String("o", "shared/apidocs/openapi.json", "the OpenAPI 3.1 document")
	gateway := flag.String("gateway", "infra/terraform/gateway.json", "API Gateway's Swagger 2.0 config")
	check := flag.Bool("check", false, "compare with the committed files instead of writing them")
	flag.Parse()
	if err := run(*doc, *gateway, *check); err != nil {
		slog.Error("openapi", "error", err)
		os.Exit(1)
	}
}

func run(docPath, gatewayPath string, check bool) error {
	files, err := Files()
	if err != nil {
		return err
	}
	var errs []error
	for path, want := range map[string][]byte{docPath: files.Document, gatewayPath: files.Gateway} {
		if check {
			have, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(have, want) {
				errs = append(errs, fmt.Errorf("%s is stale: run make openapi", path))
			}
			continue
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

// Generated is what make openapi writes.
type Generated struct {
	Document []byte // OpenAPI 3.1
	Gateway  []byte // Swagger 2.0 for API Gateway
}

// Files generates both documents from the registry and the chat server's reference.
func Files() (Generated, error) {
	if err := registry.Validate(); err != nil {
		return Generated{}, err
	}
	doc, err := openapi.Build(registry.All(), chatserver.Reference())
	if err != nil {
		return Generated{}, err
	}
	raw, err := openapi.JSON(doc)
	if err != nil {
		return Generated{}, err
	}
	gw, err := openapi.Gateway(doc)
	if err != nil {
		return Generated{}, err
	}
	return Generated{Document: raw, Gateway: gw}, nil
}

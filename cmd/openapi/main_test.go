package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/registry"
)

// The committed documents are what the code generates: a route, a type, a fault or a
// description changed without make openapi fails here.
func TestCommittedFilesAreFresh(t *testing.T) {
	t.Parallel()
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{"../../shared/apidocs/openapi.json": files.Document, "../../infra/terraform/gateway.json": files.Gateway} {
		have, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(have, want) {
			t.Errorf("%s is stale: run make openapi", path)
		}
	}
}

// Every route has its operation and every operation its route: the registry's REST
// functions and the chat server's routes, both ways.
func TestEveryRouteHasItsOperation(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../shared/apidocs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the committed document is not valid OpenAPI 3.1: %v", err)
	}
	routes := map[string]string{}
	for _, f := range registry.All() {
		if f.Kind == registry.KindHTTP {
			routes[f.Route()] = f.Name
		}
	}
	for _, e := range chatserver.Reference() {
		routes[e.Method+" "+e.Path] = e.Name
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			route := method + " " + path
			documented[route] = true
			name, ok := routes[route]
			if !ok {
				t.Errorf("%s is documented (%s) but nothing serves it", route, op.OperationID)
				continue
			}
			if op.Summary == "" || op.Responses.Len() == 0 {
				t.Errorf("%s (%s): no summary or no responses", route, name)
			}
			if !strings.Contains(op.OperationID, strings.Split(name, "-")[0]) {
				t.Errorf("%s: operationId %s does not name %s", route, op.OperationID, name)
			}
		}
	}
	for route, name := range routes {
		if !documented[route] {
			t.Errorf("%s (%s) has no operation in the reference", route, name)
		}
	}
}

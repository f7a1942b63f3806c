// Command manifest writes the function registry for the infrastructure: the manifest
// Terraform reads (-o) and the push bridge's targets of the docker compose stack
// (-compose). `make manifest` writes both.
//
//	manifest [-o infra/terraform/functions.json] [-compose infra/compose/bridge-targets.json]
//
// "-" writes to stdout; an empty value writes nothing (-compose is empty unless given).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	_ "github.com/8949market/market/functions/all" // every function registers itself
	"github.com/8949market/market/infra/compose"
	"github.com/8949market/market/shared/registry"
)

func main() {
	out := flag.String("o", "infra/terraform/functions.json", "the Terraform manifest: file to write (- for stdout, empty for none)")
	composeOut := flag.String("compose", "", "the compose stack's BRIDGE_TARGETS, "+compose.BridgeTargetsFile+": file to write (- for stdout, empty for none)")
	flag.Parse()
	if err := run(*out, *composeOut); err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(1)
	}
}

func run(out, composeOut string) error {
	if out == "-" && composeOut == "-" {
		return errors.New("-o and -compose cannot both write to stdout")
	}
	if err := registry.Validate(); err != nil {
		return err
	}
	fns := registry.All()
	if out != "" {
		b, err := registry.Manifest(fns)
		if err != nil {
			return err
		}
		if err := write(out, b); err != nil {
			return err
		}
	}
	if composeOut != "" {
		b, err := compose.BridgeTargets(fns)
		if err != nil {
			return err
		}
		if err := write(composeOut, b); err != nil {
			return err
		}
	}
	return nil
}

func write(path string, b []byte) error {
	if path == "-" {
		_, err := os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

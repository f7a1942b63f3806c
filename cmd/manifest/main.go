// Command manifest writes the function registry as JSON for Terraform.
//
//	manifest [-o infra/terraform/functions.json]
package main

import (
	"flag"
	"fmt"
	"os"

	_ "github.com/8949market/market/functions/all" // every function registers itself
	"github.com/8949market/market/shared/registry"
)

func main() {
	out := flag.String("o", "infra/terraform/functions.json", "file to write (- for stdout)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := registry.Validate(); err != nil {
		return err
	}
	b, err := registry.Manifest(registry.All())
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

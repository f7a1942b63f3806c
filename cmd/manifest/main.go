// Command manifest writes what the infrastructure derives from the function registry: the
// manifest Terraform reads (-o), the push bridge's targets of the docker compose stack
// (-compose), and the dashboards (infra/dashboards): Cloud Monitoring's, which Terraform
// creates (-dashboards), and Grafana's on a local Prometheus (-grafana). `make manifest`
// writes them all.
//
//	manifest [-o infra/terraform/functions.json] [-compose infra/compose/bridge-targets.json]
//		[-dashboards infra/terraform/dashboards] [-grafana infra/compose/observability/grafana/dashboards]
//
// For -o and -compose "-" writes to stdout; an empty value writes nothing (every flag but
// -o is empty unless given). A dashboards directory holds generated files only: a .json
// file in it that is no longer generated is removed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/8949market/market/functions/all" // every function registers itself
	"github.com/8949market/market/infra/compose"
	"github.com/8949market/market/infra/dashboards"
	"github.com/8949market/market/shared/registry"
)

// outputs are where each generated file goes; empty: not written.
type outputs struct {
	manifest, compose, dashboards, grafana string
}

func main() {
	var o outputs
	flag.StringVar(&o.manifest, "o", "infra/terraform/functions.json", "the Terraform manifest: file to write (- for stdout, empty for none)")
	flag.StringVar(&o.compose, "compose", "", "the compose stack's BRIDGE_TARGETS, "+compose.BridgeTargetsFile+": file to write (- for stdout, empty for none)")
	flag.StringVar(&o.dashboards, "dashboards", "", "the Cloud Monitoring dashboards, "+dashboards.CloudMonitoringDir+": directory to write (empty for none)")
	flag.StringVar(&o.grafana, "grafana", "", "the Grafana dashboards, "+dashboards.GrafanaDir+": directory to write (empty for none)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(1)
	}
}

func run(o outputs) error {
	if o.manifest == "-" && o.compose == "-" {
		return errors.New("-o and -compose cannot both write to stdout")
	}
	if err := registry.Validate(); err != nil {
		return err
	}
	fns := registry.All()
	if o.manifest != "" {
		b, err := registry.Manifest(fns)
		if err != nil {
			return err
		}
		if err := write(o.manifest, b); err != nil {
			return err
		}
	}
	if o.compose != "" {
		b, err := compose.BridgeTargets(fns)
		if err != nil {
			return err
		}
		if err := write(o.compose, b); err != nil {
			return err
		}
	}
	if o.dashboards == "" && o.grafana == "" {
		return nil
	}
	cloud, grafana, err := dashboards.Files(fns)
	if err != nil {
		return err
	}
	if err := writeDir(o.dashboards, cloud); err != nil {
		return err
	}
	return writeDir(o.grafana, grafana)
}

func write(path string, b []byte) error {
	if path == "-" {
		_, err := os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// writeDir makes dir hold exactly files among its .json files.
func writeDir(dir string, files map[string][]byte) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, path := range old {
		if _, ok := files[filepath.Base(path)]; !ok {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

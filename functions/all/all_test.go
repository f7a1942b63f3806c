package all_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/8949market/market/functions/all"
	"github.com/8949market/market/shared/registry"
)

const module = "github.com/8949market/market"

// Every package under functions/ must register, through functions/all, and the
// registrations must be valid: unique names, no colliding routes.
func TestEveryFunctionPackageIsRegistered(t *testing.T) {
	t.Parallel()
	if err := registry.Validate(); err != nil {
		t.Fatalf("registry: %v", err)
	}
	registered := map[string]bool{}
	for _, f := range registry.All() {
		registered[f.Package] = true
	}
	var missing []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if (d.Name() == "all" || d.Name() == "image") && filepath.Dir(path) == ".." {
			return filepath.SkipDir
		}
		if !hasGoCode(t, path) {
			return nil
		}
		rel, _ := filepath.Rel("..", path)
		pkg := module + "/functions/" + filepath.ToSlash(rel)
		if !registered[pkg] {
			missing = append(missing, pkg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("function packages not registered (import them in functions/all and call registry.HTTP/Event/Scheduled in init): %v", missing)
	}
	for pkg := range registered {
		if !strings.HasPrefix(pkg, module+"/functions/") {
			t.Errorf("function registered outside functions/: %s", pkg)
		}
	}
}

// Each function package registers exactly one function: one package, one Cloud Run
// service.
func TestOneFunctionPerPackage(t *testing.T) {
	t.Parallel()
	seen := map[string][]string{}
	for _, f := range registry.All() {
		seen[f.Package] = append(seen[f.Package], f.Name)
	}
	for pkg, names := range seen {
		if len(names) != 1 {
			t.Errorf("%s registers %v; want exactly one function", pkg, names)
		}
	}
}

// Terraform reads infra/terraform/functions.json; it must be what the registry says.
func TestManifestIsCurrent(t *testing.T) {
	t.Parallel()
	want, err := registry.Manifest(registry.All())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../infra/terraform/functions.json")
	if err != nil {
		t.Fatalf("%v (run make manifest)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("infra/terraform/functions.json is stale: run make manifest")
	}
}

func hasGoCode(t *testing.T, dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(entries, func(e fs.DirEntry) bool {
		return !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go")
	})
}

package infra_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// deployDocs are the documents an operator follows.
var deployDocs = []string{"README.md", "../docs/deploy.md"}

// notConfig are upper-case names in the documents that are not the platform's
// configuration: the Makefile's own variables and a Terraform setting's value.
var notConfig = map[string]bool{"IMAGE_REPO": true, "IMAGE_TAG": true, "APPEND_PATH_TO_ADDRESS": true}

// What the documents tell an operator to type exists: environment variables in
// shared/config, make targets in the Makefile, Terraform variables, outputs, targets and
// secrets in the module, and the tools they run.
func TestDocsMatchTheCode(t *testing.T) {
	t.Parallel()
	m := loadModule(t)
	e := evaluateFor(t, "pubsub")
	known := configNames()
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, v := range e.local(t, "secrets").AsValueMap() {
		secrets = append(secrets, v.AsString())
	}

	checks := []struct {
		what  string
		re    *regexp.Regexp
		valid func(string) bool
	}{
		{"environment variable", regexp.MustCompile("`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`"), func(s string) bool { return known[s] || notConfig[s] }},
		{"make target", regexp.MustCompile("(?m)(?:^\\s*|`)make ([a-z][a-z-]*)"), func(s string) bool {
			return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s) + `:`).Match(makefile)
		}},
		{"terraform variable", regexp.MustCompile(`-var=([a-z_]+)=`), func(s string) bool { _, ok := m.variables[s]; return ok }},
		{"terraform variable in a tfvars file", regexp.MustCompile(`(?m)^\s{3}([a-z_]+)\s+= `), func(s string) bool { _, ok := m.variables[s]; return ok }},
		{"terraform output", regexp.MustCompile(`terraform output (?:-raw )?([a-z_]+)`), func(s string) bool { _, ok := m.outputs[s]; return ok }},
		{"terraform target", regexp.MustCompile(`-target=([a-z0-9_]+\.[a-z0-9_]+)`), func(s string) bool { _, ok := m.resources[s]; return ok }},
		{"secret", regexp.MustCompile(`(?:--secret=|versions add |versions list )(market-[a-z0-9-]+)`), func(s string) bool { return slices.Contains(secrets, s) }},
		{"Go command", regexp.MustCompile(`go run (\./[a-z0-9/_-]+)`), func(s string) bool {
			_, err := os.Stat(filepath.Join("..", s, "main.go"))
			return err == nil
		}},
	}
	for _, doc := range deployDocs {
		raw, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, c := range checks {
			for _, match := range c.re.FindAllStringSubmatch(string(raw), -1) {
				found++
				if !c.valid(match[1]) {
					t.Errorf("%s names the %s %q, which does not exist", doc, c.what, match[1])
				}
			}
		}
		if found < 10 {
			t.Errorf("%s: only %d references found; the patterns no longer match the document", doc, found)
		}
	}
}

// The Dockerfile builds the binaries Terraform runs, into the images it names, on a
// distroless base as a non-root user; make images builds every target.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	type stage struct {
		base, user, entrypoint string
		copied                 []string
	}
	stages := map[string]*stage{}
	var cur *stage
	var built []string
	lines := strings.Split(strings.ReplaceAll(string(raw), "\\\n", " "), "\n")
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			if len(f) != 4 || !strings.EqualFold(f[2], "AS") {
				t.Fatalf("FROM without a stage name: %q", line)
			}
			cur = &stage{base: f[1]}
			stages[f[3]] = cur
		case "USER":
			cur.user = f[1]
		case "ENTRYPOINT":
			cur.entrypoint = strings.Trim(f[1], `["]`)
		case "COPY":
			if strings.HasPrefix(f[1], "--from=") {
				for _, src := range f[2 : len(f)-1] {
					// Options, and the directory the compose stack's storage volume takes
					// its owner from, are not binaries.
					if !strings.HasPrefix(src, "--") && src != "/data" {
						cur.copied = append(cur.copied, src)
					}
				}
			}
		case "RUN":
			if i := slices.Index(f, "build"); i > 0 && f[i-1] == "go" {
				for _, arg := range f[i+1:] {
					if strings.HasPrefix(arg, "./") {
						built = append(built, arg)
					}
				}
			}
		}
	}
	binaries := map[string]bool{}
	for _, pkg := range built {
		src, err := os.ReadFile(filepath.Join("..", pkg, "main.go"))
		if err != nil || !strings.Contains(string(src), "package main") {
			t.Errorf("go build %s: not a main package", pkg)
		}
		binaries["/out/"+filepath.Base(pkg)] = true
	}

	e := evaluateFor(t, "pubsub")
	images := keysOf(t, e.local(t, "images"))
	// Development images (the compose stack's storage stand-in) are built by compose only:
	// not deployed, not pushed, not in make images.
	devImages := []string{"objectstore"}
	var targets []string
	for name := range stages {
		if name != "build" && !slices.Contains(devImages, name) {
			targets = append(targets, name)
		}
	}
	repos := map[string]string{}
	for _, k := range images {
		ref := e.local(t, "images").GetAttr(k).AsString()
		repos[k] = ref[strings.LastIndex(ref, "/")+1 : strings.LastIndex(ref, ":")]
	}
	assertSet(t, "image targets", targets, slices.Collect(func(yield func(string) bool) {
		for _, r := range repos {
			if !yield(r) {
				return
			}
		}
	}))
	for name, s := range stages {
		if name == "build" {
			continue
		}
		if !strings.HasPrefix(s.base, "gcr.io/distroless/static") || !strings.HasPrefix(s.user, "nonroot") {
			t.Errorf("stage %s: FROM %s as %q, want distroless/static as nonroot", name, s.base, s.user)
		}
		for _, c := range s.copied {
			if !binaries[c] {
				t.Errorf("stage %s copies %s, which the build stage does not build", name, c)
			}
		}
		if !slices.Contains(s.copied, "/out"+s.entrypoint) {
			t.Errorf("stage %s: entrypoint %s is not copied in", name, s.entrypoint)
		}
	}
	// The jobs run binaries of the functions image.
	for _, job := range []string{"google_cloud_run_v2_job.migrate", "google_cloud_run_v2_job.outbox_lag"} {
		in := e.instances(t, job)[""]
		cmd := in.value(t, "template", "template", "containers", "command").Index(cty.NumberIntVal(0)).AsString()
		if !slices.Contains(stages["functions"].copied, "/out"+cmd) {
			t.Errorf("%s runs %s, which the functions image lacks", job, cmd)
		}
	}
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range targets {
		if !regexp.MustCompile(`for target in [a-z -]*\b` + target + `\b`).Match(makefile) {
			t.Errorf("make images does not build %s", target)
		}
	}
}

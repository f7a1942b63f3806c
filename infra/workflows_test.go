package infra_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// workflowDir holds the GitHub Actions workflows: ci.yml (what .ci/run does) and
// release.yml (ko images, the migration job, Terraform).
const workflowDir = "../.github/workflows"

// workflow is the part of a workflow file the tests read.
type workflow struct {
	Permissions yaml.Node              `yaml:"permissions"`
	Jobs        map[string]workflowJob `yaml:"jobs"`
}

type workflowJob struct {
	Steps []struct {
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
	} `yaml:"steps"`
}

// runLines returns the job's shell lines, in order, trimmed, without blanks and comments.
func (j workflowJob) runLines() []string {
	var lines []string
	for _, s := range j.Steps {
		for l := range strings.SplitSeq(s.Run, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

func workflowFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(workflowDir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no workflow in %s", workflowDir)
	}
	return files
}

// loadWorkflow reads a workflow as the struct and as the YAML tree (for comments and keys
// anywhere in it).
func loadWorkflow(t *testing.T, name string) (workflow, *yaml.Node) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(workflowDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(raw, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w, &root
}

// keyValues calls f with every key of the given name in the tree and its value.
func keyValues(n *yaml.Node, key string, f func(k, v *yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				f(n.Content[i], n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		keyValues(c, key, f)
	}
}

// actionlint is the linter TestWorkflowsLint runs. Not a dependency in go.mod: v1.7.12,
// its latest release, is built against go.yaml.in/yaml/v4 v4.0.0-rc.3, whose error types
// v4.0.0 removed, and this module needs v4.0.0 (kin-openapi); in one build list it does
// not compile (rhysd/actionlint#730). `go run pkg@version` builds it apart, with its own
// go.mod, from the module cache (the proxy the first time).
const actionlint = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// actionlintError is one finding of actionlint -format '{{json .}}'.
type actionlintError struct {
	Message  string `json:"message"`
	Filepath string `json:"filepath"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Kind     string `json:"kind"`
}

// Every workflow passes actionlint: the syntax, the expressions and their contexts, the
// events, the runner labels, job dependencies. The shellcheck and pyflakes integrations are
// off (those programs may be missing here).
func TestWorkflowsLint(t *testing.T) {
	t.Parallel()
	files := workflowFiles(t)
	args := []string{"run", actionlint, "-shellcheck=", "-pyflakes=", "-format", "{{json .}}"}
	for _, f := range files {
		args = append(args, filepath.ToSlash(strings.TrimPrefix(f, "../")))
	}
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = ".." // the repository: actionlint finds it by .git and reports paths from it
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var found []actionlintError
	if out := bytes.TrimSpace(stdout.Bytes()); len(out) > 0 {
		if err := json.Unmarshal(out, &found); err != nil {
			t.Fatalf("actionlint output: %v\n%s\n%s", err, out, stderr.Bytes())
		}
	}
	// Exit status 1 is "problems found"; anything else, or 1 with none reported, is go run
	// or actionlint failing.
	if runErr != nil && (len(found) == 0 || cmd.ProcessState.ExitCode() != 1) {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), runErr, stderr.Bytes())
	}

	for _, file := range files {
		name := filepath.ToSlash(strings.TrimPrefix(file, "../"))
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			for _, e := range found {
				if filepath.ToSlash(e.Filepath) == name {
					t.Errorf("%s:%d:%d: %s [%s]", name, e.Line, e.Column, e.Message, e.Kind)
				}
			}
		})
	}
	for _, e := range found {
		if !slices.ContainsFunc(files, func(f string) bool {
			return filepath.ToSlash(strings.TrimPrefix(f, "../")) == filepath.ToSlash(e.Filepath)
		}) {
			t.Errorf("%s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
		}
	}
}

// ciSteps are the lines of .ci/run and of the CI job that must match one for one: the make
// targets and the scripts that install and start what they need.
var ciSteps = regexp.MustCompile(`^(make|bash scripts/)\s*\S`)

// The workflows are what they claim: CI runs what .ci/run runs, in its order; every
// action is pinned to a commit; each workflow sets its permissions; the release signs in
// to GCP by Workload Identity Federation, never a key, and passes Terraform only
// variables the module has.
func TestWorkflowCIParity(t *testing.T) {
	t.Parallel()
	ci, _ := loadWorkflow(t, "ci.yml")
	release, _ := loadWorkflow(t, "release.yml")

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"ci.yml runs .ci/run's make targets and scripts in its order", func(t *testing.T) {
			raw, err := os.ReadFile("../.ci/run")
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for l := range strings.SplitSeq(string(raw), "\n") {
				if l = strings.TrimSpace(l); ciSteps.MatchString(l) {
					want = append(want, l)
				}
			}
			job, ok := ci.Jobs["test"]
			if !ok {
				t.Fatal("ci.yml has no job test")
			}
			got := slices.DeleteFunc(job.runLines(), func(l string) bool { return !ciSteps.MatchString(l) })
			makes := func(lines []string) []string {
				return slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return !strings.HasPrefix(l, "make ") })
			}
			wantMake, gotMake := makes(want), makes(got)
			if len(wantMake) == 0 {
				t.Fatal(".ci/run runs no make target: has the file changed shape?")
			}
			if !slices.Equal(gotMake, wantMake) {
				t.Errorf("ci.yml job test runs %q, .ci/run runs %q", gotMake, wantMake)
			}
			if !slices.Equal(got, want) {
				t.Errorf("ci.yml job test runs the steps\n  %s\n.ci/run runs\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		}},
		{"every action is pinned to a commit, its version in a comment", func(t *testing.T) {
			pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
			version := regexp.MustCompile(`^#\s*v\d+(\.\d+)*\b`)
			for _, file := range workflowFiles(t) {
				_, tree := loadWorkflow(t, filepath.Base(file))
				var unpinned []string
				keyValues(tree, "uses", func(_, v *yaml.Node) {
					switch {
					case strings.HasPrefix(v.Value, "./"): // this repository's own, at this commit
					case !pinned.MatchString(v.Value):
						unpinned = append(unpinned, v.Value)
					case !version.MatchString(v.LineComment):
						t.Errorf("%s:%d: %s has no `# vX.Y.Z` comment saying which release the commit is", filepath.Base(file), v.Line, v.Value)
					}
				})
				if len(unpinned) > 0 {
					t.Errorf("%s: actions not pinned to a full commit SHA: %s", filepath.Base(file), strings.Join(unpinned, ", "))
				}
			}
		}},
		{"each workflow sets its permissions at the top", func(t *testing.T) {
			for _, file := range workflowFiles(t) {
				w, _ := loadWorkflow(t, filepath.Base(file))
				switch p := w.Permissions; {
				case p.Kind == 0:
					t.Errorf("%s: no top-level permissions (the token would get the repository's default)", filepath.Base(file))
				case p.Kind == yaml.ScalarNode && p.Value == "write-all":
					t.Errorf("%s: permissions write-all", filepath.Base(file))
				}
			}
			var perms map[string]string
			if err := ci.Permissions.Decode(&perms); err != nil || len(perms) != 1 || perms["contents"] != "read" {
				t.Errorf("ci.yml permissions = %v, want contents: read only", perms)
			}
		}},
		{"the release signs in by Workload Identity Federation, never a key", func(t *testing.T) {
			var perms map[string]string
			if err := release.Permissions.Decode(&perms); err != nil {
				t.Fatalf("release.yml permissions: %v", err)
			}
			if perms["id-token"] != "write" || perms["contents"] != "read" {
				t.Errorf("release.yml permissions = %v, want id-token: write and contents: read", perms)
			}
			for _, file := range workflowFiles(t) {
				_, tree := loadWorkflow(t, filepath.Base(file))
				keyValues(tree, "credentials_json", func(k, _ *yaml.Node) {
					t.Errorf("%s:%d: credentials_json: a service account key; use workload_identity_provider", filepath.Base(file), k.Line)
				})
			}
			auths := 0
			for _, j := range release.Jobs {
				for _, s := range j.Steps {
					if strings.HasPrefix(s.Uses, "google-github-actions/auth@") {
						auths++
						if s.With["workload_identity_provider"] == "" || s.With["service_account"] == "" {
							t.Errorf("release.yml: google-github-actions/auth without workload_identity_provider and service_account: %v", s.With)
						}
					}
				}
			}
			if auths == 0 {
				t.Error("release.yml does not sign in to GCP (google-github-actions/auth)")
			}
		}},
		{"the release passes Terraform only variables the module declares", func(t *testing.T) {
			m := loadModule(t)
			tfVar := regexp.MustCompile(`-var[= ]"?([a-z_][a-z0-9_]*)=`)
			n := 0
			for _, j := range release.Jobs {
				for _, s := range j.Steps {
					for _, v := range tfVar.FindAllStringSubmatch(s.Run, -1) {
						n++
						if _, ok := m.variables[v[1]]; !ok {
							t.Errorf("release.yml passes -var %s=, which infra/terraform does not declare", v[1])
						}
					}
				}
			}
			if n == 0 {
				t.Error("release.yml passes no -var to Terraform: how does it choose the images?")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t)
		})
	}
}

// koConfig is the part of .ko.yaml the tests read.
type koConfig struct {
	DefaultBaseImage string `yaml:"defaultBaseImage"`
	Builds           []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
	} `yaml:"builds"`
}

// dockerDeployedImages reads infra/docker/Dockerfile: the packages its go build builds, and for
// each deployed stage (the targets make images builds) its base image and the binaries it
// copies from the build.
func dockerDeployedImages(t *testing.T) (pkgs []string, bases map[string]string, binaries map[string][]string) {
	t.Helper()
	raw, err := os.ReadFile("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`for target in ([a-z -]+);`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("Makefile: the images target's `for target in ...;` loop is not found")
	}
	deployed := strings.Fields(string(m[1]))

	// One instruction a line: join the continued ones.
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	bases, binaries = map[string]string{}, map[string][]string{}
	from := regexp.MustCompile(`(?i)^FROM\s+(\S+)\s+AS\s+(\S+)`)
	copyBuild := regexp.MustCompile(`^COPY\s+(?:--\S+\s+)*--from=build\s+(.+)\s+\S+$`)
	stage := ""
	for l := range strings.SplitSeq(text, "\n") {
		l = strings.TrimSpace(l)
		if f := from.FindStringSubmatch(l); f != nil {
			stage = f[2]
			if slices.Contains(deployed, stage) {
				bases[stage] = f[1]
			}
			continue
		}
		if i := strings.Index(l, "go build "); i >= 0 && stage == "build" {
			for _, w := range strings.Fields(l[i:]) {
				if strings.HasPrefix(w, "./") {
					pkgs = append(pkgs, w)
				}
			}
		}
		if c := copyBuild.FindStringSubmatch(l); c != nil && slices.Contains(deployed, stage) {
			for _, src := range strings.Fields(c[1]) {
				if strings.HasPrefix(src, "/out/") {
					binaries[stage] = append(binaries[stage], path.Base(src))
				}
			}
		}
	}
	if len(pkgs) == 0 || len(bases) != len(deployed) {
		t.Fatalf("Dockerfile: read packages %q and deployed stages %v (want %v): has it changed shape?", pkgs, bases, deployed)
	}
	return pkgs, bases, binaries
}

// .ko.yaml builds exactly the binaries the Dockerfile puts in the deployed images (not
// cmd/objectstore, the compose stack's development stand-in), on the same base, with the
// same settings, and the release builds each.
func TestWorkflowKoImages(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../.ko.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ko koConfig
	if err := yaml.Unmarshal(raw, &ko); err != nil {
		t.Fatalf(".ko.yaml: %v", err)
	}
	pkgs, bases, binaries := dockerDeployedImages(t)
	release, _ := loadWorkflow(t, "release.yml")
	var releaseRun []string
	for _, j := range release.Jobs {
		releaseRun = append(releaseRun, j.runLines()...)
	}

	var want []string
	for _, bins := range binaries {
		for _, b := range bins {
			i := slices.IndexFunc(pkgs, func(p string) bool { return path.Base(p) == b })
			if i < 0 {
				t.Fatalf("Dockerfile: a deployed image copies /out/%s, which its go build does not build", b)
			}
			want = append(want, pkgs[i])
		}
	}
	slices.Sort(want)
	var got []string
	for _, b := range ko.Builds {
		got = append(got, b.Main)
	}
	slices.Sort(got)

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"the deployed binaries", func(t *testing.T) {
			if !slices.Equal(got, want) {
				t.Errorf(".ko.yaml builds %q; the Dockerfile's deployed images hold %q", got, want)
			}
		}},
		{"the base image", func(t *testing.T) {
			for stage, base := range bases {
				if base != ko.DefaultBaseImage {
					t.Errorf(".ko.yaml defaultBaseImage %s; the Dockerfile's %s image is on %s", ko.DefaultBaseImage, stage, base)
				}
			}
		}},
	}
	for _, b := range ko.Builds {
		tests = append(tests, struct {
			name  string
			check func(t *testing.T)
		}{b.Main, func(t *testing.T) {
			if !slices.Contains(b.Env, "CGO_ENABLED=0") {
				t.Errorf("env %q: want CGO_ENABLED=0 (a static binary on distroless/static)", b.Env)
			}
			if !slices.Contains(b.Flags, "-trimpath") {
				t.Errorf("flags %q: want -trimpath", b.Flags)
			}
			if ld := strings.Fields(strings.Join(b.Ldflags, " ")); !slices.Contains(ld, "-s") || !slices.Contains(ld, "-w") {
				t.Errorf("ldflags %q: want -s -w", b.Ldflags)
			}
			built := slices.ContainsFunc(releaseRun, func(l string) bool {
				return slices.Contains(strings.Fields(l), b.Main)
			})
			if !built {
				t.Errorf("release.yml does not build %s", b.Main)
			}
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t)
		})
	}
}

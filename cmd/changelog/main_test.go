package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// repo is a temporary git repository whose commits carry fixed dates.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) repo {
	t.Helper()
	r := repo{t: t, dir: t.TempDir()}
	r.git(nil, "init", "-q", "-b", "main")
	return r
}

// git runs git in the repository, with the committer and author dates of env when given.
func (r repo) git(env []string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Tester", "GIT_AUTHOR_EMAIL=tester@example.com",
		"GIT_COMMITTER_NAME=Tester", "GIT_COMMITTER_EMAIL=tester@example.com")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit commits a change to file at date (RFC 3339) and returns its hash.
func (r repo) commit(date, file, subject string) string {
	r.t.Helper()
	f, err := os.OpenFile(filepath.Join(r.dir, file), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := f.WriteString(subject + "\n"); err != nil {
		r.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		r.t.Fatal(err)
	}
	env := []string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}
	r.git(env, "add", file)
	r.git(env, "commit", "-q", "-m", subject, "-m", "A body the changelog leaves out.")
	return r.git(nil, "rev-parse", "HEAD")
}

func TestChangelog(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	h1 := r.commit("2026-11-24T09:00:00Z", "a.go", "registry: every function registers itself")
	h2 := r.commit("2026-11-24T23:30:00+09:00", "a.go", "outbox: the relay publishes in order") // 14:30 UTC
	r.git(nil, "tag", "-a", "v0.1.0", "-m", "first release")
	r.git(nil, "tag", "not-a-release")
	h3 := r.commit("2026-12-02T23:59:59Z", "b.go", "photos: at most 10 *per* product_id <b>")
	// A merged branch: its own commits are not on main's first-parent line.
	r.git(nil, "checkout", "-q", "-b", "topic")
	r.commit("2026-12-02T12:00:00Z", "c.go", "topic: work in progress")
	r.git(nil, "checkout", "-q", "main")
	date := []string{"GIT_AUTHOR_DATE=2026-12-03T01:00:00Z", "GIT_COMMITTER_DATE=2026-12-03T01:00:00Z"}
	r.git(date, "merge", "-q", "--no-ff", "-m", "Merge topic: chat reconnects", "topic")
	h4 := r.git(nil, "rev-parse", "HEAD")

	var got strings.Builder
	if err := run(r.dir, &got); err != nil {
		t.Fatal(err)
	}
	want := `# Changelog

Generated from the history of main by ` + "`go run ./cmd/changelog > CHANGELOG.md`" + `: a section
per release tag (v*), newest first, the commits since the last one under Unreleased,
grouped by the day they were committed (UTC); each entry is a commit's subject and hash.

## Unreleased

### 2026-12-03

- Merge topic: chat reconnects (` + h4[:7] + `)

### 2026-12-02

- photos: at most 10 \*per\* product\_id \<b> (` + h3[:7] + `)

## v0.1.0 (2026-11-24)

### 2026-11-24

- outbox: the relay publishes in order (` + h2[:7] + `)
- registry: every function registers itself (` + h1[:7] + `)
`
	if got.String() != want {
		t.Fatalf("changelog:\n%s\nwant:\n%s", got.String(), want)
	}

	// Tagging HEAD closes Unreleased; a lightweight tag is a release too.
	r.git(nil, "tag", "v0.2.0")
	got.Reset()
	if err := run(r.dir, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.String(), "## Unreleased") || !strings.Contains(got.String(), "\n## v0.2.0 (2026-12-03)\n\n### 2026-12-03\n\n- Merge topic") {
		t.Fatalf("after tagging HEAD v0.2.0:\n%s", got.String())
	}
}

func TestChangelogOutsideARepository(t *testing.T) {
	t.Parallel()
	var got strings.Builder
	if err := run(t.TempDir(), &got); err == nil {
		t.Fatalf("run outside a repository: no error, wrote %q", got.String())
	}
}

// TestChangelogCommitted holds CHANGELOG.md to the tool's format: its header is the one the
// tool writes (regenerating it is `go run ./cmd/changelog > CHANGELOG.md`).
func TestChangelogCommitted(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	var header strings.Builder
	if err := render(&header, nil, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), header.String()) {
		t.Fatalf("CHANGELOG.md does not start with the tool's header:\n%s", header.String())
	}
	entry := regexp.MustCompile(`^- .+ \([0-9a-f]{7}\)$`)
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSuffix(line, "\n"); strings.HasPrefix(line, "- ") && !entry.MatchString(line) {
			t.Errorf("not an entry: %q", line)
		}
	}
}

// TestRenovateConfig checks renovate.json: valid JSON with the policy the repository
// relies on (weekly, three days' release age, no automerge, go mod tidy, the groups, digests).
func TestRenovateConfig(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../renovate.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Extends           []string `json:"extends"`
		Description       []string `json:"description"`
		Schedule          []string `json:"schedule"`
		MinimumReleaseAge string   `json:"minimumReleaseAge"`
		Labels            []string `json:"labels"`
		Automerge         *bool    `json:"automerge"`
		Gomod             struct {
			PostUpdateOptions []string `json:"postUpdateOptions"`
		} `json:"gomod"`
		PackageRules []struct {
			MatchManagers     []string `json:"matchManagers"`
			MatchDatasources  []string `json:"matchDatasources"`
			MatchPackageNames []string `json:"matchPackageNames"`
			MatchFileNames    []string `json:"matchFileNames"`
			GroupName         string   `json:"groupName"`
			PinDigests        bool     `json:"pinDigests"`
		} `json:"packageRules"`
		CustomManagers []struct {
			ManagerFilePatterns []string `json:"managerFilePatterns"`
			MatchStrings        []string `json:"matchStrings"`
		} `json:"customManagers"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("renovate.json: %v", err)
	}
	if !slices.Contains(cfg.Extends, "config:recommended") {
		t.Errorf("extends = %q, want config:recommended", cfg.Extends)
	}
	if len(cfg.Description) == 0 || len(cfg.Schedule) == 0 {
		t.Errorf("description %q and schedule %q must be set", cfg.Description, cfg.Schedule)
	}
	if cfg.MinimumReleaseAge != "3 days" {
		t.Errorf("minimumReleaseAge = %q, want 3 days", cfg.MinimumReleaseAge)
	}
	if !slices.Equal(cfg.Labels, []string{"dependencies"}) {
		t.Errorf("labels = %q", cfg.Labels)
	}
	if cfg.Automerge == nil || *cfg.Automerge {
		t.Error("automerge must be false, as the description says")
	}
	if !slices.Contains(cfg.Gomod.PostUpdateOptions, "gomodTidy") {
		t.Errorf("gomod.postUpdateOptions = %q, want gomodTidy", cfg.Gomod.PostUpdateOptions)
	}
	groups := map[string][]string{ // group: a package name each must list
		"OpenTelemetry":       {"go.opentelemetry.io/**", "github.com/GoogleCloudPlatform/opentelemetry-operations-go/**"},
		"Google Cloud":        {"cloud.google.com/go/**", "google.golang.org/**"},
		"franz-go":            {"github.com/twmb/franz-go/**"},
		"golang.org/x":        {"golang.org/x/**"},
		"GitHub Actions":      nil,
		"Docker base images":  nil,
		"Terraform providers": nil,
	}
	for _, r := range cfg.PackageRules {
		want, ok := groups[r.GroupName]
		if !ok {
			continue
		}
		delete(groups, r.GroupName)
		for _, name := range want {
			if !slices.Contains(r.MatchPackageNames, name) {
				t.Errorf("group %s: matchPackageNames %q lacks %s", r.GroupName, r.MatchPackageNames, name)
			}
		}
		switch r.GroupName {
		case "GitHub Actions":
			if !slices.Equal(r.MatchManagers, []string{"github-actions"}) || !r.PinDigests {
				t.Errorf("GitHub Actions: want the github-actions manager with pinDigests")
			}
		case "Docker base images":
			if !slices.Contains(r.MatchFileNames, "infra/docker/Dockerfile") || !r.PinDigests {
				t.Errorf("Docker base images: want infra/docker/Dockerfile with pinDigests")
			}
		}
	}
	for g := range groups {
		t.Errorf("no package rule groups %s", g)
	}
	// While the build stage's image is named through ARG GO_VERSION, which only the custom
	// manager reads, its pattern must match the Dockerfile's line.
	dockerfile, err := os.ReadFile("../../infra/docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^FROM \S*\$\{GO_VERSION\}`).Match(dockerfile) {
		return
	}
	var read bool
	for _, m := range cfg.CustomManagers {
		for _, p := range m.MatchStrings {
			re, err := regexp.Compile(p) // Renovate's patterns are RE2-compatible here
			if err != nil {
				t.Fatalf("custom manager pattern %q: %v", p, err)
			}
			if re.Match(dockerfile) {
				read = true
			}
		}
	}
	if !read {
		t.Error("no custom manager matches infra/docker/Dockerfile's ARG GO_VERSION")
	}
}

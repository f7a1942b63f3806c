// Command changelog writes CHANGELOG.md from the repository's history:
//
//	go run ./cmd/changelog > CHANGELOG.md
//
// The commits of HEAD's first-parent line (what landed on main, in order) are grouped into
// one section per release tag v*, newest first, with the commits after the last tag under
// "Unreleased"; within a section, by the day (UTC) they were committed, each entry its
// subject line and short hash. The same history always gives the same file.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	out := bufio.NewWriter(os.Stdout)
	if err := run(".", out); err != nil {
		fmt.Fprintln(os.Stderr, "changelog:", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "changelog:", err)
		os.Exit(1)
	}
}

// commit is one commit of the first-parent line.
type commit struct {
	hash    string
	when    time.Time // committer date, UTC
	subject string
}

// hashLen is the length of an entry's hash: fixed, so that a file regenerated when the
// repository has grown does not rewrite every entry (git's own %h lengthens with it).
const hashLen = 7

// run writes the changelog of the repository in dir.
func run(dir string, w io.Writer) error {
	commits, err := history(dir)
	if err != nil {
		return err
	}
	tags, err := releaseTags(dir)
	if err != nil {
		return err
	}
	return render(w, commits, tags)
}

// history lists HEAD's first-parent commits, newest first.
func history(dir string) ([]commit, error) {
	out, err := git(dir, "log", "--first-parent", "--no-show-signature", "--format=%H%x1f%ct%x1f%s%x1e", "HEAD")
	if err != nil {
		return nil, err
	}
	var commits []commit
	for rec := range strings.SplitSeq(out, "\x1e") {
		rec = strings.TrimPrefix(rec, "\n")
		if rec == "" {
			continue
		}
		f := strings.Split(rec, "\x1f")
		if len(f) != 3 {
			return nil, fmt.Errorf("git log: unexpected record %q", rec)
		}
		sec, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("git log: commit %s: date %q: %w", f[0], f[1], err)
		}
		commits = append(commits, commit{hash: f[0], when: time.Unix(sec, 0).UTC(), subject: f[2]})
	}
	return commits, nil
}

// releaseTags maps a commit's hash to the release tags (v*) that name it, in order.
func releaseTags(dir string) (map[string][]string, error) {
	// %(*objectname) is an annotated tag's commit; a lightweight tag is its own objectname.
	out, err := git(dir, "for-each-ref", "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)", "refs/tags/v*")
	if err != nil {
		return nil, err
	}
	tags := map[string][]string{}
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("git for-each-ref: unexpected line %q", line)
		}
		target := f[1]
		if f[2] != "" {
			target = f[2]
		}
		tags[target] = append(tags[target], f[0])
	}
	for _, names := range tags {
		slices.Sort(names)
	}
	return tags, nil
}

// git runs git in dir and returns what it printed.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-c", "core.quotePath=false"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// render writes the changelog of commits (newest first) with the release tags at theirs.
func render(w io.Writer, commits []commit, tags map[string][]string) error {
	var b strings.Builder
	b.WriteString("# Changelog\n\n")
	b.WriteString("Generated from the history of main by `go run ./cmd/changelog > CHANGELOG.md`: a section\n")
	b.WriteString("per release tag (v*), newest first, the commits since the last one under Unreleased,\n")
	b.WriteString("grouped by the day they were committed (UTC); each entry is a commit's subject and hash.\n")
	day := ""
	for i, c := range commits {
		if names := tags[c.hash]; len(names) > 0 {
			fmt.Fprintf(&b, "\n## %s (%s)\n", strings.Join(names, ", "), c.when.Format(time.DateOnly))
			day = ""
		} else if i == 0 {
			b.WriteString("\n## Unreleased\n")
		}
		if d := c.when.Format(time.DateOnly); d != day {
			fmt.Fprintf(&b, "\n### %s\n\n", d)
			day = d
		}
		fmt.Fprintf(&b, "- %s (%s)\n", escape(c.subject), c.hash[:min(hashLen, len(c.hash))])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escaper keeps a subject's characters from being read as Markdown.
var escaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `<`, `\<`, `[`, `\[`, `]`, `\]`)

// escape makes a subject literal text in Markdown.
func escape(s string) string { return escaper.Replace(s) }

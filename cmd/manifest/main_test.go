package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A dashboards directory ends up holding exactly the generated files: new ones written,
// changed ones replaced, a .json file no longer generated removed, anything else left.
func TestWriteDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dashboards")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"functions.json": "old", "gone.json": "old", "README": "kept"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeDir(dir, map[string][]byte{"functions.json": []byte("new"), "chat.json": []byte("new")}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"README", "chat.json", "functions.json"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "functions.json")); string(b) != "new" {
		t.Errorf("functions.json holds %q", b)
	}
	if err := writeDir("", nil); err != nil {
		t.Errorf("no directory: %v", err)
	}
}

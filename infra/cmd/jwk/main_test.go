package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/8949market/market/shared/auth"
)

// The whole rotation as docs/deploy.md runs it: new, rotate, retire, each output loaded
// the way the functions load it.
func TestRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := run([]string{"new", "-kid", "k1", "-out", dir}); err != nil {
		t.Fatal(err)
	}
	first := loadSigningKey(t, dir)
	if info, err := os.Stat(filepath.Join(dir, "signing-key.json")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file: %v, %v; want mode 0600", info, err)
	}
	assertKids(t, filepath.Join(dir, "jwks.json"), "k1")

	next := t.TempDir()
	if err := run([]string{"rotate", "-kid", "k2", "-jwks", filepath.Join(dir, "jwks.json"), "-out", next}); err != nil {
		t.Fatal(err)
	}
	second := loadSigningKey(t, next)
	if second.Kid != "k2" || second.Key.Equal(first.Key) {
		t.Fatalf("rotated key %q is not a new k2", second.Kid)
	}
	keys := assertKids(t, filepath.Join(next, "jwks.json"), "k1", "k2")
	if !keys["k1"].Equal(first.Key.Public()) || !keys["k2"].Equal(second.Key.Public()) {
		t.Fatal("the rotated key set does not hold both public keys")
	}

	last := t.TempDir()
	if err := run([]string{"retire", "-kid", "k1", "-jwks", filepath.Join(next, "jwks.json"), "-out", last}); err != nil {
		t.Fatal(err)
	}
	assertKids(t, filepath.Join(last, "jwks.json"), "k2")
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := run([]string{"new", "-kid", "k1", "-out", dir}); err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(dir, "jwks.json")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"no kid", []string{"new", "-out", dir}},
		{"rotate without a key set", []string{"rotate", "-kid", "k2", "-out", dir}},
		{"rotate to a kid in use", []string{"rotate", "-kid", "k1", "-jwks", set, "-out", dir}},
		{"retire an unknown kid", []string{"retire", "-kid", "k9", "-jwks", set, "-out", dir}},
		{"retire the last key", []string{"retire", "-kid", "k1", "-jwks", set, "-out", dir}},
		{"unknown command", []string{"print", "-kid", "k1", "-jwks", set}},
		{"a signing key given as the key set", []string{"rotate", "-kid", "k2", "-jwks", filepath.Join(dir, "signing-key.json"), "-out", dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := run(tc.args); err == nil {
				t.Fatalf("jwk %v succeeded, want an error", tc.args)
			}
		})
	}
}

// A private key in the input set never reaches the output.
func TestRotateDropsPrivateParts(t *testing.T) {
	t.Parallel()
	old, err := auth.GenerateSigningKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	set, _, err := rotate(auth.JWKS{Keys: []auth.JWK{old.Private()}}, "k2")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.D != "" {
			t.Fatalf("key %s kept its private part", k.Kid)
		}
	}
}

func loadSigningKey(t *testing.T, dir string) auth.SigningKey {
	t.Helper()
	key, err := auth.ParseSigningKey(filepath.Join(dir, "signing-key.json"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func assertKids(t *testing.T, path string, want ...string) auth.PublicKeys {
	t.Helper()
	keys, err := auth.ParsePublicKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(want) {
		t.Fatalf("%s has %d keys, want %v", path, len(keys), want)
	}
	for _, kid := range want {
		if _, ok := keys[kid]; !ok {
			t.Fatalf("%s lacks kid %s", path, kid)
		}
	}
	return keys
}

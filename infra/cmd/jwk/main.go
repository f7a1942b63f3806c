// Command jwk makes and rotates the JWT keys kept in Secret Manager (docs/deploy.md):
//
//	jwk new    -kid K -out DIR               # DIR/signing-key.json and DIR/jwks.json with K only
//	jwk rotate -kid K -jwks FILE -out DIR    # a new signing key K; DIR/jwks.json = FILE's keys + K
//	jwk retire -kid K -jwks FILE -out DIR    # DIR/jwks.json = FILE's keys without K
//
// signing-key.json is the private JWK for market-jwt-signing-key (JWT_SIGNING_KEY), written
// with mode 0600; jwks.json is the key set for market-jwt-public-keys (JWT_PUBLIC_KEYS).
// Rotation publishes the new public key before anything signs with it, and retires the old
// one only after the tokens it signed have expired, so no valid token is ever refused.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/8949market/market/shared/auth"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "jwk:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: jwk new|rotate|retire -kid K [-jwks FILE] -out DIR")
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	kid := fs.String("kid", "", "key id (for example the month it starts signing, 2026-07)")
	jwksPath := fs.String("jwks", "", "the current key set (rotate, retire)")
	out := fs.String("out", ".", "directory to write into")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *kid == "" {
		return errors.New("-kid is required")
	}
	var current auth.JWKS
	if cmd != "new" {
		if *jwksPath == "" {
			return fmt.Errorf("%s: -jwks is required", cmd)
		}
		var err error
		if current, err = readJWKS(*jwksPath); err != nil {
			return err
		}
	}
	switch cmd {
	case "new", "rotate":
		set, key, err := rotate(current, *kid)
		if err != nil {
			return err
		}
		if err := writeJSON(filepath.Join(*out, "signing-key.json"), key.Private(), 0o600); err != nil {
			return err
		}
		return writeJSON(filepath.Join(*out, "jwks.json"), set, 0o644)
	case "retire":
		set, err := retire(current, *kid)
		if err != nil {
			return err
		}
		return writeJSON(filepath.Join(*out, "jwks.json"), set, 0o644)
	default:
		return fmt.Errorf("unknown command %q: want new, rotate or retire", cmd)
	}
}

// rotate returns a fresh signing key with id kid and the key set that verifies both it
// and every key of current.
func rotate(current auth.JWKS, kid string) (auth.JWKS, auth.SigningKey, error) {
	if slices.ContainsFunc(current.Keys, func(j auth.JWK) bool { return j.Kid == kid }) {
		return auth.JWKS{}, auth.SigningKey{}, fmt.Errorf("kid %q is already in the key set", kid)
	}
	key, err := auth.GenerateSigningKey(kid)
	if err != nil {
		return auth.JWKS{}, auth.SigningKey{}, err
	}
	set := auth.JWKS{Keys: append(publicOnly(current.Keys), key.Public())}
	return set, key, check(set)
}

// retire returns current without kid. The last key cannot go: every function would refuse
// every token.
func retire(current auth.JWKS, kid string) (auth.JWKS, error) {
	keys := slices.DeleteFunc(publicOnly(current.Keys), func(j auth.JWK) bool { return j.Kid == kid })
	switch {
	case len(keys) == len(current.Keys):
		return auth.JWKS{}, fmt.Errorf("kid %q is not in the key set", kid)
	case len(keys) == 0:
		return auth.JWKS{}, fmt.Errorf("kid %q is the only key: rotate to a new one first", kid)
	}
	set := auth.JWKS{Keys: keys}
	return set, check(set)
}

// publicOnly copies keys without private parts: a key set pasted from the wrong file must
// not publish a private key.
func publicOnly(keys []auth.JWK) []auth.JWK {
	out := make([]auth.JWK, len(keys))
	for i, k := range keys {
		k.D = ""
		out[i] = k
	}
	return out
}

// check parses set as the functions will, so a set they would refuse is never written.
func check(set auth.JWKS) error {
	raw, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("encode key set: %w", err)
	}
	if _, err := auth.ParsePublicKeys(string(raw)); err != nil {
		return fmt.Errorf("key set would not load: %w", err)
	}
	return nil
}

func readJWKS(path string) (auth.JWKS, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return auth.JWKS{}, fmt.Errorf("read key set: %w", err)
	}
	var set auth.JWKS
	if err := json.Unmarshal(raw, &set); err != nil {
		return auth.JWKS{}, fmt.Errorf("parse key set %s: %w", path, err)
	}
	return set, check(set)
}

func writeJSON(path string, v any, mode os.FileMode) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(raw, '\n'), mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Println("wrote", path)
	return nil
}

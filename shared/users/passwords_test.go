package users_test

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/8949market/market/shared/users"
)

func TestPasswordsCheck(t *testing.T) {
	t.Parallel()
	pw := newPasswords(t)
	hash, err := pw.Hash("Right-Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != users.MinCost {
		t.Errorf("cost = %d, %v; want %d", cost, err, users.MinCost)
	}
	tests := []struct {
		name, hash, password string
		want                 bool
	}{
		{"right password", hash, "Right-Passw0rd", true},
		{"wrong password", hash, "Wrong-Passw0rd", false},
		{"empty password", hash, "", false},
		// No user: checked against the dummy hash, never true, whatever is typed.
		{"unknown user", "", "Right-Passw0rd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := pw.Check(tt.hash, tt.password)
			if err != nil || got != tt.want {
				t.Errorf("Check = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	t.Run("malformed hash", func(t *testing.T) {
		t.Parallel()
		if ok, err := pw.Check("not-a-bcrypt-hash", "Right-Passw0rd"); ok || err == nil {
			t.Errorf("Check(malformed) = %v, %v; want false and an error", ok, err)
		}
	})
}

// An unknown username must cost what a wrong password costs, or timing tells which
// usernames exist. Runs alternate so a load change affects both sides alike.
func TestPasswordsCheckUnknownUserTakesAsLong(t *testing.T) {
	t.Parallel()
	pw := newPasswords(t)
	hash, err := pw.Hash("Right-Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	const runs = 3
	var wrong, unknown []time.Duration
	measure := func(h string) time.Duration {
		start := time.Now()
		ok, err := pw.Check(h, "Wrong-Passw0rd")
		d := time.Since(start)
		if ok || err != nil {
			t.Fatalf("Check(%q) = %v, %v", h, ok, err)
		}
		return d
	}
	for range runs {
		wrong = append(wrong, measure(hash))
		unknown = append(unknown, measure(""))
	}
	// The fastest run of each: load from parallel tests only ever adds time, so the
	// minimum is the check's own cost.
	w, u := slices.Min(wrong), slices.Min(unknown)
	if ratio := float64(u) / float64(w); ratio < 0.5 || ratio > 2 {
		t.Errorf("fastest check: unknown user %v, wrong password %v (ratio %.2f, want 0.5 to 2)", u, w, ratio)
	}
}

func TestNewPasswordsRefusesCost(t *testing.T) {
	t.Parallel()
	for _, cost := range []int{0, users.MinCost - 1, bcrypt.MaxCost + 1} {
		if pw, err := users.NewPasswords(cost); err == nil || pw != nil {
			t.Errorf("NewPasswords(%d) = %v, %v; want an error", cost, pw, err)
		}
	}
}

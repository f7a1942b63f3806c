package users

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/8949market/market/shared/auth"
)

// MinCost is the lowest bcrypt cost accepted.
const MinCost = 10

// Passwords hashes and checks passwords with bcrypt.
type Passwords struct {
	cost int
	// dummy is a hash of a random password at the same cost: a login for an unknown user
	// is checked against it, so it costs what a wrong password costs.
	dummy []byte
}

// NewPasswords returns a hasher at cost (at least MinCost).
func NewPasswords(cost int) (*Passwords, error) {
	if cost < MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d: want %d to %d", cost, MinCost, bcrypt.MaxCost)
	}
	dummy, err := dummyHash(cost)
	if err != nil {
		return nil, err
	}
	return &Passwords{cost: cost, dummy: dummy}, nil
}

// MustPasswords is NewPasswords for a cost the configuration already validated
// (config.Load refuses BCRYPT_COST out of range); it panics otherwise.
func MustPasswords(cost int) *Passwords {
	pw, err := NewPasswords(cost)
	if err != nil {
		panic("users: " + err.Error())
	}
	return pw
}

// dummies holds one dummy hash per cost for the process: every function that checks or
// sets passwords (signup, login, update-me) shares it, so a process serving them all
// pays the bcrypt round once.
var dummies sync.Map // int → []byte

func dummyHash(cost int) ([]byte, error) {
	if d, ok := dummies.Load(cost); ok {
		return d.([]byte), nil
	}
	d, err := bcrypt.GenerateFromPassword([]byte("no user has this password: "+auth.NewTokenID()), cost)
	if err != nil {
		return nil, fmt.Errorf("hash dummy password: %w", err)
	}
	got, _ := dummies.LoadOrStore(cost, d)
	return got.([]byte), nil
}

// Hash returns the bcrypt hash of password.
func (p *Passwords) Hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Check reports whether password matches hash. An empty hash (no such user) is checked
// against the dummy, so the answer takes as long and is always false.
func (p *Passwords) Check(hash, password string) (bool, error) {
	h := []byte(hash)
	if hash == "" {
		h = p.dummy
	}
	err := bcrypt.CompareHashAndPassword(h, []byte(password))
	switch {
	case err == nil:
		return hash != "", nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("check password: %w", err)
	}
}

package login_test

import (
	"net/http"
	"testing"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/users"
)

// BenchmarkLogin is login throughput over HTTP at the configured bcrypt cost, with as
// many concurrent clients as cores: what one instance of auth-login sustains.
func BenchmarkLogin(b *testing.B) {
	stacktest.Quiet(b)
	cfg, signer := testenv.Config(b)
	cfg.LoginMaxPerClient = 1 << 40 // every request comes from 127.0.0.1
	st := stacktest.StartWith(b, cfg, signer)
	u := st.NewUser(b, auth.RoleUser)
	body := map[string]string{"username": u.Username, "password": u.Password}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := st.Do(b, "POST", "/api/v1/auth/login", body, ""); res.Status != http.StatusOK {
				b.Fatalf("login: %d %s", res.Status, res.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	b.ReportMetric(float64(cfg.BcryptCost), "bcrypt-cost")
}

// BenchmarkLoginPasswordCheck is the bcrypt comparison alone at the same cost and
// concurrency: the baseline the HTTP figure is read against.
func BenchmarkLoginPasswordCheck(b *testing.B) {
	cfg, _ := testenv.Config(b)
	pw, err := users.NewPasswords(cfg.BcryptCost)
	if err != nil {
		b.Fatal(err)
	}
	hash, err := pw.Hash("Secret!12345")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := pw.Check(hash, "Secret!12345"); err != nil || !ok {
				b.Fatalf("Check = %v, %v", ok, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

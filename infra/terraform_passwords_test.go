package infra_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/zclconf/go-cty/cty"

	"github.com/8949market/market/shared/users"
)

// candidates is how many passwords each random_password is tried with: a rule its
// arguments break is broken by nearly every value, and a rare character class shows up
// in a few hundred.
const candidates = 2000

// passwordParams are a random_password's arguments, with the provider's defaults for
// those the module leaves out.
type passwordParams struct {
	length                                     int
	upper, lower, numeric, special             bool
	minUpper, minLower, minNumeric, minSpecial int
	overrideSpecial                            string
}

func randomPasswordParams(t *testing.T, in *instance) passwordParams {
	t.Helper()
	p := passwordParams{upper: true, lower: true, numeric: true, special: true}
	num := func(name string, into *int) {
		if _, ok := in.body.Attributes[name]; ok {
			*into = int(in.number(t, name))
		}
	}
	flag := func(name string, into *bool) {
		if _, ok := in.body.Attributes[name]; ok {
			*into = in.value(t, name).True()
		}
	}
	if _, ok := in.body.Attributes["length"]; !ok {
		t.Fatal("random_password without length")
	}
	num("length", &p.length)
	flag("upper", &p.upper)
	flag("lower", &p.lower)
	flag("numeric", &p.numeric)
	flag("special", &p.special)
	num("min_upper", &p.minUpper)
	num("min_lower", &p.minLower)
	num("min_numeric", &p.minNumeric)
	num("min_special", &p.minSpecial)
	if _, ok := in.body.Attributes["override_special"]; ok {
		p.overrideSpecial = in.str(t, "override_special")
	}
	return p
}

// check is what the provider itself refuses at plan time.
func (p passwordParams) check() error {
	if p.length < 1 {
		return fmt.Errorf("length %d", p.length)
	}
	if mins := p.minUpper + p.minLower + p.minNumeric + p.minSpecial; mins > p.length {
		return fmt.Errorf("length %d is less than the minimums' sum %d", p.length, mins)
	}
	return nil
}

// generate makes a password as hashicorp/random 3.x does (CreateString in its
// internal/random/string.go): the minimum of each class drawn from that class (whether or
// not the class is enabled), the rest from every enabled class, then shuffled.
func (p passwordParams) generate(r *rand.Rand) string {
	const (
		numChars   = "0123456789"
		lowerChars = "abcdefghijklmnopqrstuvwxyz"
		upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	)
	specialChars := "!@#$%&*()-_=+[]{}<>:?"
	if p.overrideSpecial != "" {
		specialChars = p.overrideSpecial
	}
	var chars string
	for _, c := range []struct {
		on  bool
		set string
	}{{p.upper, upperChars}, {p.lower, lowerChars}, {p.numeric, numChars}, {p.special, specialChars}} {
		if c.on {
			chars += c.set
		}
	}
	draw := func(set string, n int) []byte {
		out := make([]byte, n)
		for i := range out {
			out[i] = set[r.IntN(len(set))]
		}
		return out
	}
	// The provider keys its minimums by character set, so equal sets share one minimum.
	mins := map[string]int{numChars: p.minNumeric, lowerChars: p.minLower, upperChars: p.minUpper}
	mins[specialChars] = p.minSpecial
	var result []byte
	for set, n := range mins {
		result = append(result, draw(set, n)...)
	}
	result = append(result, draw(chars, p.length-len(result))...)
	order := make([]byte, len(result))
	for i := range order {
		order[i] = byte(r.Uint32())
	}
	sort.Slice(result, func(i, j int) bool { return order[i] < order[j] })
	return string(result)
}

// usersAccept runs the accounts' own checks (shared/users) on a username and a password
// and says which it accepts. users.New checks the username, then the password, then the
// role: with no role, an account that passes both stops there, before hashing anything.
// The migration job's bootstrap (users.Bootstrap) applies the same two checks.
func usersAccept(t *testing.T, username, password string) (usernameOK, passwordOK bool) {
	t.Helper()
	_, err := users.New(users.Signup{Username: &username, Password: &password}, nil, nil, time.Time{})
	switch {
	case errors.Is(err, users.ErrUsernameRequired), errors.Is(err, users.ErrUsernamePattern):
		return false, false
	case errors.Is(err, users.ErrPasswordRequired), errors.Is(err, users.ErrPasswordPattern):
		return true, false
	case errors.Is(err, users.ErrRoleRequired):
		return true, true
	default:
		t.Fatalf("users.New(%q, %q): %v; the probe no longer stops at the role check", username, password, err)
		return false, false
	}
}

// The probe reaches the password check: it tells a good password from bad ones.
func TestUsersProbe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		username, password     string
		usernameOK, passwordOK bool
	}{
		{"master01", "Abcdefgh12!#", true, true},
		{"master01", "short1!", true, false},
		{"master01", "Abcdefgh12!#Abcdefgh1", true, false}, // 21 characters
		{"master01", "Abcdefgh12~~", true, false},          // ~ is not allowed
		{"short", "Abcdefgh12!#", false, false},
	}
	for _, tt := range tests {
		u, p := usersAccept(t, tt.username, tt.password)
		if u != tt.usernameOK || p != tt.passwordOK {
			t.Errorf("users accept %q/%q: username %v, password %v; want %v, %v", tt.username, tt.password, u, p, tt.usernameOK, tt.passwordOK)
		}
	}
}

// passwordConsumer is the code that takes a generated password, and its rule.
type passwordConsumer struct {
	what   string
	accept func(t *testing.T, e *eval, password string) error
}

// passwordConsumers names, for every random_password of the module, what consumes it; a
// new one must say here what its value has to satisfy.
var passwordConsumers = map[string]passwordConsumer{
	"random_password.bootstrap_admin": {
		"the first administrator's password: the accounts' password rule, which the migration job applies, and the JSON login body of docs/deploy.md, which embeds it as is",
		func(t *testing.T, _ *eval, password string) error {
			if _, ok := usersAccept(t, "master01", password); !ok {
				return errors.New("the accounts' password rule refuses it (U004): the migration job would fail")
			}
			if quoted, _ := json.Marshal(password); string(quoted) != `"`+password+`"` {
				return errors.New("JSON would need it escaped")
			}
			return nil
		},
	},
	"random_password.database": {
		"the database user's password: the DATABASE_URL secret of secrets.tf embeds it unescaped, and pgx must read it back",
		databaseURLKeeps,
	},
}

// databaseURLKeeps builds the DATABASE_URL secret as secrets.tf does, with password as the
// database password, and checks that pgx reads back the same password, user, host and
// database.
func databaseURLKeeps(t *testing.T, e *eval, password string) error {
	t.Helper()
	version := e.instances(t, "google_secret_manager_secret_version.database_url")[""]
	user := e.instances(t, "google_sql_user.app")[""].str(t, "name")
	database := e.instances(t, "google_sql_database.market")[""].str(t, "name")
	const host = "10.20.32.3"
	ctx := version.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{
		"random_password": cty.ObjectVal(map[string]cty.Value{
			"database": cty.ObjectVal(map[string]cty.Value{"result": cty.StringVal(password)}),
		}),
		"google_sql_user": cty.ObjectVal(map[string]cty.Value{
			"app": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(user)}),
		}),
		"google_sql_database": cty.ObjectVal(map[string]cty.Value{
			"market": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(database)}),
		}),
		"google_sql_database_instance": cty.ObjectVal(map[string]cty.Value{
			"main": cty.ObjectVal(map[string]cty.Value{"private_ip_address": cty.StringVal(host)}),
		}),
	}
	dsn := (&instance{body: version.body, ctx: ctx}).str(t, "secret_data")
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("pgx cannot read the URL: %w", err)
	}
	if cfg.Password != password || cfg.User != user || cfg.Host != host || cfg.Database != database {
		return fmt.Errorf("pgx reads user %q, password %q, host %q, database %q", cfg.User, cfg.Password, cfg.Host, cfg.Database)
	}
	return nil
}

// Every generated secret satisfies the code that consumes it: candidates made from each
// random_password's arguments the way the random provider makes them all pass the
// consumer's own check.
func TestGeneratedPasswords(t *testing.T) {
	t.Parallel()
	// With a bootstrap administrator, so that its password exists.
	e := evaluateWith(t, "pubsub", map[string]cty.Value{"bootstrap_admin_username": cty.StringVal("master01")})
	found := 0
	for _, key := range sortedKeys(e.m.resources) {
		if e.m.resources[key].Type != "resource" || e.m.resources[key].Labels[0] != "random_password" {
			continue
		}
		consumer, ok := passwordConsumers[key]
		if !ok {
			t.Errorf("%s: nothing says what consumes it; add it to passwordConsumers with its rule", key)
			continue
		}
		instances := e.instances(t, key)
		if len(instances) == 0 {
			t.Errorf("%s: no instance to check", key)
		}
		for ik, in := range instances {
			found++
			p := randomPasswordParams(t, in)
			if err := p.check(); err != nil {
				t.Errorf("%s[%s]: the provider refuses it: %v", key, ik, err)
				continue
			}
			r := rand.New(rand.NewPCG(uint64(len(key)), uint64(p.length)))
			for range candidates {
				pw := p.generate(r)
				if err := consumer.accept(t, e, pw); err != nil {
					t.Errorf("%s[%s] (%s) may generate %q: %v", key, ik, consumer.what, pw, err)
					break
				}
			}
		}
	}
	for key := range passwordConsumers {
		if _, ok := e.m.resources[key]; !ok {
			t.Errorf("passwordConsumers names %s, which the module no longer has", key)
		}
	}
	if found == 0 {
		t.Fatal("no random_password found")
	}
}

// The generator is the provider's: length, minimums, classes and override_special hold.
func TestPasswordGenerator(t *testing.T) {
	t.Parallel()
	p := passwordParams{length: 12, upper: true, lower: true, numeric: false, special: true, minUpper: 3, minNumeric: 2, overrideSpecial: "#"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		pw := p.generate(r)
		var upper, digits int
		for _, c := range pw {
			switch {
			case c >= 'A' && c <= 'Z':
				upper++
			case c >= '0' && c <= '9':
				digits++
			case c >= 'a' && c <= 'z', c == '#':
			default:
				t.Fatalf("%q has %q, outside the classes", pw, c)
			}
		}
		// numeric off still draws min_numeric digits, as the provider does.
		if len(pw) != 12 || upper < 3 || digits != 2 {
			t.Fatalf("%q: length %d, %d upper, %d digits", pw, len(pw), upper, digits)
		}
	}
}

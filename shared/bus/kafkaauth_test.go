package bus_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
)

// The SASL/PLAIN account of the test clusters.
const saslUser, saslPass = "relay", "s3cret"

// plainEnv configures SASL/PLAIN with user and pass.
func plainEnv(user, pass string) map[string]string {
	return map[string]string{"KAFKA_SASL": "plain", "KAFKA_SASL_USERNAME": user, "KAFKA_SASL_PASSWORD": pass}
}

// connect makes the relay's producer for env's configuration, as the relay does.
func connect(t *testing.T, brokers []string, env map[string]string) *bus.Kafka {
	t.Helper()
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := bus.KafkaAuth(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	k, err := bus.NewKafka(brokers, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Close() })
	return k
}

func message(topic string) bus.Message {
	return bus.Message{ID: uuid.NewString(), Type: "product-created", Source: "products", Subject: "agg-1",
		Time: time.Now().UTC(), Data: []byte(`{"n":1}`), Topic: topic}
}

func TestKafkaSASLPlain(t *testing.T) {
	t.Parallel()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(bus.KafkaPartitions),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", saslUser, saslPass))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := cluster.ListenAddrs()
	topic := "sasl-" + uuid.NewString()

	good := connect(t, brokers, plainEnv(saslUser, saslPass))
	if err := good.EnsureTopics(t.Context(), []string{topic}); err != nil {
		t.Fatalf("ensure topics with the right credentials: %v", err)
	}
	sent := message(topic)
	if err := good.Publish(t.Context(), []bus.Message{sent})[0]; err != nil {
		t.Fatalf("publish with the right credentials: %v", err)
	}

	refused := map[string]map[string]string{
		"wrong password": plainEnv(saslUser, "guess"),
		"unknown user":   plainEnv("mallory", saslPass),
		"no sasl":        {},
	}
	// A group of parallel subtests returns when all of them have: the count below sees
	// every refused attempt.
	t.Run("refused", func(t *testing.T) {
		for name, env := range refused {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				k := connect(t, brokers, env)
				// The broker closes the connection and the producer retries: refused means
				// no acknowledgement, however long it tries.
				ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
				defer cancel()
				if err := k.Publish(ctx, []bus.Message{message(topic)})[0]; err == nil {
					t.Fatal("published without valid credentials")
				}
			})
		}
	})

	ends, err := kadm.NewClient(good.Client()).ListEndOffsets(t.Context(), topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	if n != 1 {
		t.Errorf("%d records on %s, want only the authenticated one", n, topic)
	}
}

// With KAFKA_TLS the producer dials TLS and verifies the broker's certificate: a broker
// whose certificate no system root signed is refused.
func TestKafkaTLSVerifiesTheBroker(t *testing.T) {
	t.Parallel()
	serverTLS := selfSigned(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(serverTLS))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	k := connect(t, cluster.ListenAddrs(), map[string]string{"KAFKA_TLS": "true"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = k.EnsureTopics(ctx, []string{"tls-" + uuid.NewString()})
	if unknown := (x509.UnknownAuthorityError{}); !errors.As(err, &unknown) {
		t.Fatalf("EnsureTopics on a self-signed broker = %v, want an unknown authority error", err)
	}

	// The same broker answers a client that trusts its certificate: the refusal was the
	// verification, not the listener.
	pool := x509.NewCertPool()
	pool.AddCert(serverTLS.Certificates[0].Leaf)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("a client trusting the certificate: %v", err)
	}
}

// selfSigned is a TLS configuration with a certificate for 127.0.0.1 that signs itself.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}}
}

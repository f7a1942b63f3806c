package deployed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/8949market/market/outbox-relay/deadletter"
	"github.com/8949market/market/shared/bus"
)

// Delivery is the push subscriptions' retry policy: Terraform's var.delivery, so the
// local shape retries and dead-letters as production does (the infra test compares).
type Delivery struct {
	MaxAttempts int32
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
	AckDeadline time.Duration
	Retention   time.Duration
}

// DefaultDelivery is Terraform's default policy.
var DefaultDelivery = Delivery{MaxAttempts: 10, MinBackoff: 10 * time.Second, MaxBackoff: 600 * time.Second,
	AckDeadline: 60 * time.Second, Retention: 7 * 24 * time.Hour}

// emulatorScript finds the Pub/Sub emulator's launcher in the Google Cloud SDK (it execs
// Java, so the process this shape starts is the emulator itself, not a gcloud wrapper).
func emulatorScript() (string, error) {
	if p := os.Getenv("PUBSUB_EMULATOR_BIN"); p != "" {
		return p, nil
	}
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		return "", errors.New("the Pub/Sub emulator needs the Google Cloud CLI (gcloud) with its pubsub-emulator component, or PUBSUB_EMULATOR_HOST")
	}
	if real, err := filepath.EvalSymlinks(gcloud); err == nil {
		gcloud = real
	}
	script := filepath.Join(filepath.Dir(gcloud), "..", "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("no Pub/Sub emulator at %s: install the google-cloud-cli-pubsub-emulator package (or gcloud components install pubsub-emulator)", script)
	}
	return script, nil
}

// startEmulator runs the Google Pub/Sub emulator on a free port.
func (s *Shape) startEmulator() (string, error) {
	script, err := emulatorScript()
	if err != nil {
		return "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	host, port, _ := strings.Cut(addr, ":")
	p, err := start(s.dir, "pubsub-emulator", script, []string{"--host=" + host, "--port=" + port}, os.Environ())
	if err != nil {
		return "", err
	}
	p.javaExit = true
	s.infra = append(s.infra, p)
	if err := p.waitListening(addr, 90*time.Second); err != nil {
		return "", err
	}
	return addr, nil
}

// startKafka runs kfake as a broker process of its own.
func (s *Shape) startKafka() ([]string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := start(s.dir, "kafka", filepath.Join(s.opts.Bin, "kfake"), []string{"-listen", addr}, s.baseEnv())
	if err != nil {
		return nil, err
	}
	s.infra = append(s.infra, p)
	if err := p.waitListening(addr, 20*time.Second); err != nil {
		return nil, err
	}
	return []string{addr}, nil
}

// pushSubscriptions creates what Terraform's pubsub.tf creates from the same manifest: a
// topic and a dead-letter topic per event type, a pull subscription holding each
// dead-letter topic, and one ordered push subscription per consumer, no-wrapper with
// metadata (a binary-mode CloudEvent), its retry policy and dead-letter topic, pushing to
// the consumer's endpoint (credential in the URL, as the emulator sends no ID token).
func (s *Shape) pushSubscriptions(ctx context.Context, host string) error {
	ps, err := bus.NewPubSub(ctx, s.cfg.PubSubProject, host)
	if err != nil {
		return err
	}
	defer ps.Close()
	prefix := s.cfg.TopicPrefix
	var topics []string
	for _, t := range s.opts.Manifest.Topics {
		topics = append(topics, prefix+t, prefix+t+s.opts.Manifest.DeadLetterSuffix)
	}
	if err := ps.EnsureTopics(ctx, topics); err != nil {
		return err
	}
	admin := ps.Client().SubscriptionAdminClient
	create := func(sub *pubsubpb.Subscription) error {
		_, err := admin.CreateSubscription(ctx, sub)
		if status.Code(err) == codes.AlreadyExists && sub.PushConfig != nil {
			// A restart on a running emulator: the endpoint moved with the new ports.
			err = admin.ModifyPushConfig(ctx, &pubsubpb.ModifyPushConfigRequest{Subscription: sub.Name, PushConfig: sub.PushConfig})
		} else if status.Code(err) == codes.AlreadyExists {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("subscription %s: %w", sub.Name, err)
		}
		return nil
	}
	for _, t := range s.opts.Manifest.Topics {
		dlt := prefix + t + s.opts.Manifest.DeadLetterSuffix
		if err := create(&pubsubpb.Subscription{Name: ps.SubscriptionName(deadletter.HoldSubscription(dlt)), Topic: ps.TopicName(dlt),
			AckDeadlineSeconds: 60, MessageRetentionDuration: durationpb.New(s.opts.Delivery.Retention)}); err != nil {
			return err
		}
	}
	d := s.opts.Delivery
	for _, f := range s.opts.Manifest.Functions {
		if f.Kind != "event" {
			continue
		}
		if err := create(&pubsubpb.Subscription{
			Name:                     ps.SubscriptionName(prefix + f.Name),
			Topic:                    ps.TopicName(prefix + f.Topic),
			AckDeadlineSeconds:       int32(d.AckDeadline.Seconds()),
			MessageRetentionDuration: durationpb.New(d.Retention),
			EnableMessageOrdering:    true,
			RetryPolicy:              &pubsubpb.RetryPolicy{MinimumBackoff: durationpb.New(d.MinBackoff), MaximumBackoff: durationpb.New(d.MaxBackoff)},
			DeadLetterPolicy:         &pubsubpb.DeadLetterPolicy{DeadLetterTopic: ps.TopicName(prefix + f.Topic + s.opts.Manifest.DeadLetterSuffix), MaxDeliveryAttempts: d.MaxAttempts},
			PushConfig: &pubsubpb.PushConfig{
				PushEndpoint: s.Endpoint(f.Name),
				Wrapper:      &pubsubpb.PushConfig_NoWrapper_{NoWrapper: &pubsubpb.PushConfig_NoWrapper{WriteMetadata: true}},
			},
		}); err != nil {
			return err
		}
	}
	return nil
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/telemetry"
)

// PubSub publishes to Google Cloud Pub/Sub with message ordering on, the ordering key
// being the aggregate id.
type PubSub struct {
	client  *pubsub.Client
	project string

	mu         sync.Mutex
	publishers map[string]*pubsub.Publisher
}

// NewPubSub connects to Pub/Sub in project; with emulatorHost set (the Google emulator
// or an in-process pstest server) it talks to that instead, without credentials. The
// client's own OpenTelemetry tracing is on (create, batch and publish RPC spans under
// each message's Traceparent; receive and process spans on a subscriber), with the
// global tracer provider.
func NewPubSub(ctx context.Context, project, emulatorHost string) (*PubSub, error) {
	var opts []option.ClientOption
	if emulatorHost != "" {
		opts = append(opts,
			option.WithEndpoint(emulatorHost),
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
			option.WithTelemetryDisabled(),
		)
	}
	c, err := pubsub.NewClientWithConfig(ctx, project, &pubsub.ClientConfig{EnableOpenTelemetryTracing: true}, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub client: %w", err)
	}
	return &PubSub{client: c, project: project, publishers: map[string]*pubsub.Publisher{}}, nil
}

// Client is the underlying client (the local push delivery subscribes with it).
func (p *PubSub) Client() *pubsub.Client { return p.client }

func (p *PubSub) publisher(topic string) *pubsub.Publisher {
	p.mu.Lock()
	defer p.mu.Unlock()
	pub, ok := p.publishers[topic]
	if !ok {
		pub = p.client.Publisher(topic)
		pub.EnableMessageOrdering = true
		p.publishers[topic] = pub
	}
	return pub
}

// Publish publishes msgs and waits for every acknowledgement. After a failure Pub/Sub
// pauses the ordering key (later messages of that aggregate fail too, keeping the order);
// Publish resumes it so the relay's retry can go through. The client's spans of a message
// continue its Traceparent.
func (p *PubSub) Publish(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	results := make([]*pubsub.PublishResult, len(msgs))
	for i, m := range msgs {
		results[i] = p.publisher(m.Topic).Publish(telemetry.WithTraceparent(ctx, m.Traceparent), PubSubMessage(m))
	}
	for i, r := range results {
		if _, err := r.Get(ctx); err != nil {
			errs[i] = fmt.Errorf("publish to %s: %w", msgs[i].Topic, err)
		}
	}
	for i, err := range errs {
		if err != nil {
			p.publisher(msgs[i].Topic).ResumePublish(msgs[i].Subject)
		}
	}
	return errs
}

// PubSubMessage encodes m in the CloudEvents Pub/Sub binding (attributes ce-*). A push
// subscription without wrapper that writes metadata turns those attributes into HTTP
// headers: a binary-mode CloudEvent.
func PubSubMessage(m Message) *pubsub.Message {
	attrs := make(map[string]string, 8)
	for k, v := range m.attributes() {
		attrs["ce-"+k] = v
	}
	attrs["content-type"] = "application/json"
	return &pubsub.Message{Data: m.Data, Attributes: attrs, OrderingKey: m.Subject}
}

// FromPubSub decodes a message written by PubSubMessage, or a Cloud Storage notification
// (shared/objectevent) as the CloudEvent it stands for.
func FromPubSub(topic string, msg *pubsub.Message) (Message, error) {
	if e, ok, err := objectevent.Event(func(name string) string { return msg.Attributes[name] }, msg.Data); ok {
		if err != nil {
			return Message{}, fmt.Errorf("storage notification: %w", err)
		}
		return FromEvent(topic, e), nil
	}
	a := make(map[string]string, len(msg.Attributes))
	for k, v := range msg.Attributes {
		if name, ok := strings.CutPrefix(k, "ce-"); ok {
			a[name] = v
		}
	}
	return fromAttributes(topic, a, msg.Data)
}

// TopicName is the full resource name of a topic.
func (p *PubSub) TopicName(topic string) string {
	return "projects/" + p.project + "/topics/" + topic
}

// SubscriptionName is the full resource name of a subscription.
func (p *PubSub) SubscriptionName(sub string) string {
	return "projects/" + p.project + "/subscriptions/" + sub
}

// EnsureTopics creates the topics that are missing.
func (p *PubSub) EnsureTopics(ctx context.Context, topics []string) error {
	for _, t := range topics {
		_, err := p.client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: p.TopicName(t)})
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("create pubsub topic %s: %w", t, err)
		}
	}
	return nil
}

// EnsureSubscription creates an ordered pull subscription sub on topic if it is missing.
func (p *PubSub) EnsureSubscription(ctx context.Context, sub, topic string) error {
	_, err := p.client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:                  p.SubscriptionName(sub),
		Topic:                 p.TopicName(topic),
		EnableMessageOrdering: true,
		AckDeadlineSeconds:    60,
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create pubsub subscription %s: %w", sub, err)
	}
	return nil
}

// Close stops the publishers (flushing what they hold) and the client.
func (p *PubSub) Close() error {
	p.mu.Lock()
	for _, pub := range p.publishers {
		pub.Stop()
	}
	p.mu.Unlock()
	return errors.Join(p.client.Close())
}

// PublishNotice publishes a Cloud Storage notification as Cloud Storage does: its
// attributes and data as they are, no CloudEvents binding (the local storage stand-in).
func (p *PubSub) PublishNotice(ctx context.Context, topic string, attrs map[string]string, data []byte) error {
	pub := p.client.Publisher(topic)
	defer pub.Stop()
	if _, err := pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs}).Get(ctx); err != nil {
		return fmt.Errorf("publish notice to %s: %w", topic, err)
	}
	return nil
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaPartitions is the partition count of topics the platform creates.
const KafkaPartitions = 4

// Kafka publishes to a Kafka cluster with an idempotent producer and acks from all
// in-sync replicas; the record key is the aggregate id, so one aggregate's events share a
// partition and keep their order.
type Kafka struct {
	cl *kgo.Client
}

// NewKafka connects a producer to brokers, instrumented (KafkaTelemetry).
func NewKafka(brokers []string, opts ...kgo.Opt) (*Kafka, error) {
	base := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		KafkaTelemetry(),
		kgo.RequiredAcks(kgo.AllISRAcks()), // with idempotence, which is franz-go's default
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordDeliveryTimeout(30 * time.Second),
		kgo.AllowAutoTopicCreation(),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &Kafka{cl: cl}, nil
}

// Publish produces msgs and waits for every acknowledgement.
func (k *Kafka) Publish(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	records := make([]*kgo.Record, len(msgs))
	index := make(map[*kgo.Record]int, len(msgs))
	for i, m := range msgs {
		records[i] = KafkaRecord(m)
		index[records[i]] = i
	}
	for _, res := range k.cl.ProduceSync(ctx, records...) {
		if res.Err != nil {
			errs[index[res.Record]] = fmt.Errorf("produce to %s: %w", res.Record.Topic, res.Err)
		}
	}
	return errs
}

// KafkaRecord encodes m in the CloudEvents Kafka binary binding.
func KafkaRecord(m Message) *kgo.Record {
	r := &kgo.Record{Topic: m.Topic, Key: []byte(m.Subject), Value: m.Data}
	for k, v := range m.attributes() {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "ce_" + k, Value: []byte(v)})
	}
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: "content-type", Value: []byte("application/json")})
	return r
}

// FromKafka decodes a record written by KafkaRecord.
func FromKafka(r *kgo.Record) (Message, error) {
	a := make(map[string]string, len(r.Headers))
	for _, h := range r.Headers {
		if name, ok := strings.CutPrefix(h.Key, "ce_"); ok {
			a[name] = string(h.Value)
		}
	}
	return fromAttributes(r.Topic, a, r.Value)
}

// EnsureTopics creates the topics that are missing.
func (k *Kafka) EnsureTopics(ctx context.Context, topics []string) error {
	return EnsureKafkaTopics(ctx, k.cl, topics)
}

// EnsureKafkaTopics creates the topics that are missing, with KafkaPartitions partitions.
func EnsureKafkaTopics(ctx context.Context, cl *kgo.Client, topics []string) error {
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, KafkaPartitions, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("create kafka topics: %w", err)
	}
	for _, t := range resp.Sorted() {
		if t.Err != nil && !errors.Is(t.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create kafka topic %s: %w", t.Topic, t.Err)
		}
	}
	return nil
}

// Client is the underlying client (the push bridge shares its configuration).
func (k *Kafka) Client() *kgo.Client { return k.cl }

// Close flushes and closes the producer.
func (k *Kafka) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := k.cl.Flush(ctx)
	k.cl.Close()
	if err != nil {
		return fmt.Errorf("flush kafka producer: %w", err)
	}
	return nil
}

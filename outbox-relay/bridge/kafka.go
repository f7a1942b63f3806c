package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/pushauth"
)

// Kafka delivers Kafka records to consumer functions, one consumer group per function.
type Kafka struct {
	brokers []string
	subs    []Subscription
	dlq     bus.Publisher
	opts    Options
	groupOf func(Subscription) string
}

// NewKafka returns a bridge for subs on brokers, parking poison events through dlq.
// groupPrefix is put before each function name to make its group id.
func NewKafka(brokers []string, groupPrefix string, subs []Subscription, dlq bus.Publisher, opts Options) *Kafka {
	opts.defaults()
	return &Kafka{brokers: brokers, subs: subs, dlq: dlq, opts: opts,
		groupOf: func(s Subscription) string { return groupPrefix + s.Name }}
}

// Run consumes until ctx ends.
func (k *Kafka) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, sub := range k.subs {
		g.Go(func() error { return k.consume(gctx, sub) })
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (k *Kafka) consume(ctx context.Context, sub Subscription) error {
	cl, err := k.client(
		bus.KafkaTelemetry(),
		kgo.ConsumerGroup(k.groupOf(sub)),
		kgo.ConsumeTopics(sub.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Only marked records (delivered or parked) are ever committed.
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxWait(250*time.Millisecond),
	)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", sub.Name, err)
	}
	// With BlockRebalanceOnPoll, a plain Close would wait for a rebalance we hold.
	defer cl.CloseAllowingRebalance()
	slog.InfoContext(ctx, "push bridge consuming", "consumer", sub.Name, "topic", sub.Topic, "group", k.groupOf(sub), "url", pushauth.Redact(sub.URL))
	for {
		fetches := cl.PollRecords(ctx, 500)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			slog.WarnContext(ctx, "push bridge fetch", "consumer", sub.Name, "topic", topic, "partition", partition, "error", err.Error())
		})
		// Partitions are independent: each goes on in its own order, so one slow or
		// failing partition does not hold the others.
		var wg sync.WaitGroup
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			wg.Go(func() {
				for _, rec := range p.Records {
					if err := k.handle(ctx, sub, rec); err != nil {
						return // ctx ended: leave the rest uncommitted for redelivery
					}
					cl.MarkCommitRecords(rec)
				}
			})
		})
		wg.Wait()
		if err := cl.CommitMarkedOffsets(context.WithoutCancel(ctx)); err != nil {
			slog.WarnContext(ctx, "push bridge commit", "consumer", sub.Name, "error", err.Error())
		}
		cl.AllowRebalance()
	}
}

// client connects to the bridge's brokers with Options.KafkaOpts and then opts.
func (k *Kafka) client(opts ...kgo.Opt) (*kgo.Client, error) {
	base := append([]kgo.Opt{kgo.SeedBrokers(k.brokers...)}, k.opts.KafkaOpts...)
	return kgo.NewClient(append(base, opts...)...)
}

// handle delivers one record, parking it when it is undecodable or keeps failing. It
// returns an error only when ctx ended before the record was settled.
func (k *Kafka) handle(ctx context.Context, sub Subscription, rec *kgo.Record) error {
	m, err := bus.FromKafka(rec)
	if err != nil {
		m = bus.Message{ID: fmt.Sprintf("%s/%d/%d", rec.Topic, rec.Partition, rec.Offset), Type: "undecodable",
			Source: "push-bridge", Subject: string(rec.Key), Time: rec.Timestamp, Data: rec.Value}
		return park(ctx, k.dlq, sub, m, err)
	}
	err = deliver(ctx, k.opts, sub, m)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		return park(ctx, k.dlq, sub, m, err)
	}
}

// Lag returns how many records the bridge's groups have not committed yet. It counts from
// the groups' commits (a partition without a commit lags from its start, where the bridge
// begins), not from group membership, so it is right while the bridge is starting,
// restarting or down.
func (k *Kafka) Lag(ctx context.Context) (int64, error) {
	cl, err := k.client()
	if err != nil {
		return 0, fmt.Errorf("bridge lag: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var total int64
	var errs []error
	for _, s := range k.subs {
		group := k.groupOf(s)
		commits, err := adm.FetchOffsets(ctx, group)
		if errors.Is(err, kerr.GroupIDNotFound) { // no commits yet
			commits, err = nil, nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("offsets of group %s: %w", group, err))
			continue
		}
		starts, err := adm.ListStartOffsets(ctx, s.Topic)
		if err == nil {
			err = starts.Error()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("start offsets of %s: %w", s.Topic, err))
			continue
		}
		ends, err := adm.ListEndOffsets(ctx, s.Topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("end offsets of %s: %w", s.Topic, err))
			continue
		}
		ends.Each(func(end kadm.ListedOffset) {
			from := starts[s.Topic][end.Partition].Offset
			if c, ok := commits.Lookup(s.Topic, end.Partition); ok {
				if c.Err != nil {
					errs = append(errs, fmt.Errorf("offset of group %s on %s/%d: %w", group, s.Topic, end.Partition, c.Err))
					return
				}
				if c.At >= 0 {
					from = c.At
				}
			}
			total += max(end.Offset-from, 0)
		})
	}
	return total, errors.Join(errs...)
}

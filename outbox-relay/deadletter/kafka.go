package deadletter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/events"
)

// Kafka reads the dead-letter topics of Kafka from where the group DeadLetterGroup has
// committed (the start of the topic before any replay) to their end. Replaying publishes
// each record to its topic and then commits the group past it. Kafka deletes nothing on a
// commit: a record that is not a CloudEvent is reported, committed past like the others,
// and stays readable at its offset until the topic's retention removes it.
type Kafka struct {
	cl     *kgo.Client
	adm    *kadm.Client
	pub    *bus.Kafka
	prefix string
}

// NewKafka connects to brokers with opts (bus.KafkaAuth) and reads the dead-letter topics
// under prefix.
func NewKafka(brokers []string, prefix string, opts ...kgo.Opt) (*Kafka, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	pub, err := bus.NewKafka(brokers, opts...)
	if err != nil {
		cl.Close()
		return nil, err
	}
	return &Kafka{cl: cl, adm: kadm.NewClient(cl), pub: pub, prefix: prefix}, nil
}

// record is one dead-lettered record and its letter.
type record struct {
	rec    *kgo.Record
	letter Letter
	msg    bus.Message // valid when letter.Replayable
}

// List returns the records waiting on the dead-letter topics of topics.
func (k *Kafka) List(ctx context.Context, topics []string) ([]Letter, error) {
	recs, err := k.read(ctx, topics)
	out := make([]Letter, len(recs))
	for i, r := range recs {
		out[i] = r.letter
	}
	return out, err
}

// Replay publishes the replayable records to their topics and commits the group past
// every record of a partition up to the first that could not be published.
func (k *Kafka) Replay(ctx context.Context, topics []string) (replayed, left []Letter, err error) {
	recs, err := k.read(ctx, topics)
	if err != nil {
		return nil, nil, err
	}
	var send []record
	for _, r := range recs {
		if r.letter.Replayable {
			send = append(send, r)
		}
	}
	batch := make([]bus.Message, len(send))
	for i, r := range send {
		batch[i] = r.msg
	}
	failed := map[*kgo.Record]error{}
	for i, err := range k.pub.Publish(ctx, batch) {
		if err != nil {
			failed[send[i].rec] = err
		}
	}
	// Records are in offset order per partition: commit up to the first failure.
	commit := kadm.Offsets{}
	stopped := map[string]map[int32]bool{}
	var errs []error
	for _, r := range recs {
		tp := stopped[r.rec.Topic]
		if tp == nil {
			tp = map[int32]bool{}
			stopped[r.rec.Topic] = tp
		}
		if tp[r.rec.Partition] {
			continue
		}
		if err := failed[r.rec]; err != nil {
			tp[r.rec.Partition] = true
			errs = append(errs, fmt.Errorf("replay %s: %w", r.letter.EventID, err))
			continue
		}
		if r.letter.Replayable {
			replayed = append(replayed, r.letter)
		} else {
			left = append(left, r.letter)
		}
		commit.Add(kadm.Offset{Topic: r.rec.Topic, Partition: r.rec.Partition, At: r.rec.Offset + 1, LeaderEpoch: -1})
	}
	if len(commit) > 0 {
		res, err := k.adm.CommitOffsets(ctx, DeadLetterGroup(k.prefix), commit)
		if err == nil {
			err = res.Error()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("commit group %s: %w", DeadLetterGroup(k.prefix), err))
		}
	}
	return replayed, left, errors.Join(errs...)
}

// read returns the records of the dead-letter topics of topics after the group's commits,
// in offset order per partition.
func (k *Kafka) read(ctx context.Context, topics []string) ([]record, error) {
	byDLT := map[string]string{}
	var dlts []string
	for _, t := range topics {
		dlt := k.prefix + t + events.DeadLetterSuffix
		byDLT[dlt] = t
		dlts = append(dlts, dlt)
	}
	group := DeadLetterGroup(k.prefix)
	commits, err := k.adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		commits, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("offsets of group %s: %w", group, err)
	}
	starts, err := k.adm.ListStartOffsets(ctx, dlts...)
	if err != nil {
		return nil, fmt.Errorf("start offsets of the dead-letter topics: %w", err)
	}
	ends, err := k.adm.ListEndOffsets(ctx, dlts...)
	if err != nil {
		return nil, fmt.Errorf("end offsets of the dead-letter topics: %w", err)
	}
	from := map[string]map[int32]kgo.Offset{}
	last := map[string]map[int32]int64{} // the last offset to read, per partition
	ends.Each(func(end kadm.ListedOffset) {
		if end.Err != nil {
			return // a topic nobody created yet holds nothing
		}
		at := int64(0)
		if s, ok := starts.Lookup(end.Topic, end.Partition); ok && s.Err == nil {
			at = s.Offset
		}
		if c, ok := commits.Lookup(end.Topic, end.Partition); ok && c.Err == nil && c.At > at {
			at = c.At
		}
		if at >= end.Offset {
			return
		}
		if from[end.Topic] == nil {
			from[end.Topic], last[end.Topic] = map[int32]kgo.Offset{}, map[int32]int64{}
		}
		from[end.Topic][end.Partition] = kgo.NewOffset().At(at)
		last[end.Topic][end.Partition] = end.Offset - 1
	})
	if len(from) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(append(k.cl.Opts(), kgo.ConsumePartitions(from), kgo.FetchMaxWait(200*time.Millisecond))...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	remaining := 0
	for _, ps := range last {
		remaining += len(ps)
	}
	var out []record
	for remaining > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("read the dead-letter topics: %w", err)
		}
		var errs []error
		fetches.EachError(func(topic string, p int32, err error) {
			errs = append(errs, fmt.Errorf("fetch %s/%d: %w", topic, p, err))
		})
		if len(errs) > 0 {
			return out, errors.Join(errs...)
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			end, ok := last[rec.Topic][rec.Partition]
			if !ok || rec.Offset > end {
				return
			}
			out = append(out, k.recordOf(byDLT[rec.Topic], rec))
			if rec.Offset == end {
				delete(last[rec.Topic], rec.Partition)
				remaining--
			}
		})
	}
	return out, nil
}

// recordOf reads a dead-lettered record.
func (k *Kafka) recordOf(topic string, rec *kgo.Record) record {
	l := Letter{Kind: DeadLettered, Topic: topic, Subject: string(rec.Key), At: rec.Timestamp,
		Where: fmt.Sprintf("%s/%d@%d", rec.Topic, rec.Partition, rec.Offset)}
	m, err := bus.FromKafka(rec)
	if err != nil {
		l.EventID = fmt.Sprintf("%s/%d/%d", rec.Topic, rec.Partition, rec.Offset)
		l.Error = "not a CloudEvent (" + err.Error() + "): cannot be replayed"
		return record{rec: rec, letter: l}
	}
	if m.Type == "undecodable" {
		// The bridge parks what it could not decode under this type, with the raw value.
		l.EventID, l.Error = m.ID, m.Reason+": cannot be replayed"
		return record{rec: rec, letter: l}
	}
	l.EventID, l.Subject, l.Error, l.Replayable = m.ID, m.Subject, m.Reason, true
	if l.Error == "" {
		l.Error = "dead-lettered (no reason recorded)"
	}
	m.Topic, m.Reason = k.prefix+topic, ""
	return record{rec: rec, letter: l, msg: m}
}

// Close closes the clients.
func (k *Kafka) Close() error {
	k.cl.Close()
	return k.pub.Close()
}

package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/events"
)

// PubSub reads the dead-letter topics of Pub/Sub through their hold subscriptions
// (HoldSubscription): listing pulls the messages and hands them straight back (ack
// deadline 0); replaying publishes each to its topic and then acknowledges it.
type PubSub struct {
	ps     *bus.PubSub
	prefix string
	// wait bounds one pull that finds nothing: Pub/Sub answers a pull as soon as it has
	// messages, else when its own timeout passes.
	wait time.Duration
}

// NewPubSub reads the dead-letter topics under prefix through ps. The caller keeps ps and
// closes it.
func NewPubSub(ps *bus.PubSub, prefix string) *PubSub {
	return &PubSub{ps: ps, prefix: prefix, wait: 5 * time.Second}
}

// pulled is one message taken from a hold subscription, with its letter and every lease
// this listing holds on it.
type pulled struct {
	ackIDs []string
	letter Letter
	msg    bus.Message // valid when letter.Replayable
}

// List returns the messages on the dead-letter topics of topics.
func (p *PubSub) List(ctx context.Context, topics []string) ([]Letter, error) {
	var out []Letter
	err := p.each(ctx, topics, func(ctx context.Context, topic, sub string, msgs []pulled) error {
		var ids []string
		for _, m := range msgs {
			ids = append(ids, m.ackIDs...)
			out = append(out, m.letter)
		}
		return p.release(ctx, sub, ids)
	})
	return out, err
}

// Replay publishes the replayable messages to their topics and acknowledges them; the
// others are handed back.
func (p *PubSub) Replay(ctx context.Context, topics []string) (replayed, left []Letter, err error) {
	err = p.each(ctx, topics, func(ctx context.Context, topic, sub string, msgs []pulled) error {
		var send []pulled
		var keep []string
		for _, m := range msgs {
			if m.letter.Replayable {
				send = append(send, m)
			} else {
				keep = append(keep, m.ackIDs...)
				left = append(left, m.letter)
			}
		}
		batch := make([]bus.Message, len(send))
		for i, m := range send {
			batch[i] = m.msg
		}
		var acks []string
		var errs []error
		for i, err := range p.ps.Publish(ctx, batch) {
			if err != nil {
				errs = append(errs, fmt.Errorf("replay %s: %w", send[i].letter.EventID, err))
				keep = append(keep, send[i].ackIDs...)
				continue
			}
			acks = append(acks, send[i].ackIDs...)
			replayed = append(replayed, send[i].letter)
		}
		if len(acks) > 0 {
			// Published before acknowledged: a failure in between leaves a copy on the
			// dead-letter topic, which a consumer's inbox makes harmless.
			if err := p.ps.Client().SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{
				Subscription: p.ps.SubscriptionName(sub), AckIds: acks}); err != nil {
				errs = append(errs, fmt.Errorf("acknowledge on %s: %w", sub, err))
			}
		}
		errs = append(errs, p.release(ctx, sub, keep))
		return errors.Join(errs...)
	})
	return replayed, left, err
}

// each pulls every message waiting on the hold subscription of each topic's dead-letter
// topic, the topics in parallel, and hands them to f while they are leased to it.
func (p *PubSub) each(ctx context.Context, topics []string, f func(ctx context.Context, topic, sub string, msgs []pulled) error) error {
	var mu sync.Mutex // f runs for one topic at a time
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range topics {
		g.Go(func() error {
			dlt := p.prefix + t + events.DeadLetterSuffix
			sub := HoldSubscription(dlt)
			msgs, err := p.pullAll(gctx, t, dlt, sub)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			return f(gctx, t, sub, msgs)
		})
	}
	return g.Wait()
}

// pullAll pulls until the subscription has nothing more to give. A message pulled twice
// (its lease ran out during a long listing) counts once.
func (p *PubSub) pullAll(ctx context.Context, topic, dlt, sub string) ([]pulled, error) {
	admin := p.ps.Client().SubscriptionAdminClient
	seen := map[string]int{} // message id → index in out
	var out []pulled
	for {
		pctx, cancel := context.WithTimeout(ctx, p.wait)
		res, err := admin.Pull(pctx, &pubsubpb.PullRequest{Subscription: p.ps.SubscriptionName(sub), MaxMessages: 1000})
		cancel()
		switch {
		case status.Code(err) == codes.NotFound:
			return nil, nil // no hold subscription: nothing was kept
		case status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			return out, nil
		case err != nil:
			return out, fmt.Errorf("pull %s: %w", sub, err)
		}
		fresh := false
		for _, rm := range res.ReceivedMessages {
			if i, ok := seen[rm.Message.MessageId]; ok {
				out[i].ackIDs = append(out[i].ackIDs, rm.AckId)
				continue
			}
			seen[rm.Message.MessageId] = len(out)
			out = append(out, letterOf(p.prefix, topic, dlt, rm))
			fresh = true
		}
		if !fresh { // empty, or only what this listing holds already
			return out, nil
		}
	}
}

// letterOf reads a dead-lettered Pub/Sub message.
func letterOf(prefix, topic, dlt string, rm *pubsubpb.ReceivedMessage) pulled {
	pm := rm.Message
	m, err := bus.FromPubSub(dlt, &pubsub.Message{Data: pm.Data, Attributes: pm.Attributes, OrderingKey: pm.OrderingKey})
	l := Letter{Kind: DeadLettered, Topic: topic, Where: dlt, EventID: pm.MessageId, Subject: pm.OrderingKey,
		At: pm.PublishTime.AsTime()}
	if err != nil {
		l.Error = "not a CloudEvent (" + err.Error() + "): cannot be replayed"
		return pulled{ackIDs: []string{rm.AckId}, letter: l}
	}
	if m.Type == "undecodable" {
		// The local delivery parks what it could not decode under this type.
		l.EventID, l.Error = m.ID, m.Reason+": cannot be replayed"
		return pulled{ackIDs: []string{rm.AckId}, letter: l}
	}
	l.EventID, l.Subject, l.Replayable = m.ID, m.Subject, true
	l.Error = m.Reason
	if src := pm.Attributes["CloudPubSubDeadLetterSourceSubscription"]; src != "" {
		// Parked by a push subscription's dead-letter policy, which says nothing of the
		// consumer's answers: those are in the consumer's logs.
		l.Error = "push subscription " + src + " gave up after " + pm.Attributes["CloudPubSubDeadLetterSourceDeliveryCount"] +
			" deliveries (the consumer's logs say why)"
	}
	if l.Error == "" {
		l.Error = "dead-lettered (no reason recorded; delivery attempt " + strconv.Itoa(int(rm.DeliveryAttempt)) + ")"
	}
	m.Topic, m.Reason = prefix+topic, ""
	return pulled{ackIDs: []string{rm.AckId}, letter: l, msg: m}
}

// release hands leased messages back at once, so the next listing or replay sees them.
func (p *PubSub) release(ctx context.Context, sub string, ackIDs []string) error {
	if len(ackIDs) == 0 {
		return nil
	}
	err := p.ps.Client().SubscriptionAdminClient.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{
		Subscription: p.ps.SubscriptionName(sub), AckIds: ackIDs, AckDeadlineSeconds: 0})
	if err != nil {
		return fmt.Errorf("hand back %d messages on %s: %w", len(ackIDs), sub, err)
	}
	return nil
}

// EnsureHold creates the hold subscription of a dead-letter topic if it is missing:
// unordered (an ordered subscription would hold back an aggregate's later letters until
// the first is acknowledged) and kept a week, as Terraform declares it.
func EnsureHold(ctx context.Context, ps *bus.PubSub, deadLetterTopic string) error {
	_, err := ps.Client().SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:                     ps.SubscriptionName(HoldSubscription(deadLetterTopic)),
		Topic:                    ps.TopicName(deadLetterTopic),
		AckDeadlineSeconds:       60,
		MessageRetentionDuration: durationpb.New(7 * 24 * time.Hour),
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create the hold subscription of %s: %w", deadLetterTopic, err)
	}
	return nil
}

// Close closes nothing: the caller owns the client.
func (p *PubSub) Close() error { return nil }

package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"golang.org/x/sync/errgroup"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/pushauth"
)

// PubSub delivers Pub/Sub messages to consumer functions from one ordered pull
// subscription per function. On GCP push subscriptions do this instead; locally the
// emulator and pstest are pulled.
type PubSub struct {
	ps        *bus.PubSub
	subs      []Subscription
	opts      Options
	subPrefix string

	inflight atomic.Int64
	last     atomic.Int64 // unix nanos of the last message received
}

// NewPubSub returns a deliverer for subs; subPrefix is put before each function name to
// make its subscription id.
func NewPubSub(ps *bus.PubSub, subPrefix string, subs []Subscription, opts Options) *PubSub {
	opts.defaults()
	return &PubSub{ps: ps, subs: subs, opts: opts, subPrefix: subPrefix}
}

// EnsureSubscriptions creates the subscriptions. Call it before anything is published to
// their topics: Pub/Sub gives a subscription only what was published after it existed.
func (p *PubSub) EnsureSubscriptions(ctx context.Context) error {
	for _, sub := range p.subs {
		if err := p.ps.EnsureSubscription(ctx, p.subPrefix+sub.Name, sub.Topic); err != nil {
			return err
		}
	}
	return nil
}

// Run creates the subscriptions if needed and delivers until ctx ends.
func (p *PubSub) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, sub := range p.subs {
		id := p.subPrefix + sub.Name
		if err := p.ps.EnsureSubscription(ctx, id, sub.Topic); err != nil {
			return err
		}
		s := p.ps.Client().Subscriber(id)
		s.ReceiveSettings.MaxOutstandingMessages = 100
		slog.InfoContext(ctx, "pubsub delivery running", "consumer", sub.Name, "topic", sub.Topic, "subscription", id, "url", pushauth.Redact(sub.URL))
		g.Go(func() error {
			err := s.Receive(gctx, func(ctx context.Context, msg *pubsub.Message) { p.handle(ctx, sub, msg) })
			if err != nil && gctx.Err() == nil {
				return fmt.Errorf("receive %s: %w", id, err)
			}
			return nil
		})
	}
	return g.Wait()
}

func (p *PubSub) handle(ctx context.Context, sub Subscription, msg *pubsub.Message) {
	p.inflight.Add(1)
	defer p.inflight.Add(-1)
	p.last.Store(time.Now().UnixNano())
	m, err := bus.FromPubSub(sub.Topic, msg)
	if err == nil {
		err = deliver(ctx, p.opts, sub, m)
	} else {
		m = bus.Message{ID: msg.ID, Type: "undecodable", Source: "pubsub-delivery", Subject: msg.OrderingKey,
			Time: msg.PublishTime, Data: msg.Data}
	}
	switch {
	case err == nil:
		msg.Ack()
	case ctx.Err() != nil:
		msg.Nack() // redelivered after a restart; the inbox dedupes
	default:
		if park(ctx, p.ps, sub, m, err) != nil {
			msg.Nack()
			return
		}
		msg.Ack()
	}
}

// Idle reports whether nothing is being delivered and nothing arrived for quiet, counted
// from the later of since and the last message.
func (p *PubSub) Idle(since time.Time, quiet time.Duration) bool {
	last := time.Unix(0, p.last.Load())
	if since.After(last) {
		last = since
	}
	return p.inflight.Load() == 0 && time.Since(last) > quiet
}

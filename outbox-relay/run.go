package relay

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
)

// Run relays until ctx ends: it drains the outbox whenever a notification arrives or the
// poll interval passes, prunes now and then and, given Consumers, reconciles every
// ReconcileInterval. The batch in flight when ctx ends is finished; rows not yet claimed
// stay in the outbox for the next relay.
//
// While it runs, the gauges market.outbox.backlog and market.outbox.oldest.age observe the
// outbox (a count every BacklogInterval at most).
func (r *Relay) Run(ctx context.Context) error {
	defer r.observeBacklog()()
	wake := make(chan struct{}, 1)
	go r.listen(ctx, wake)
	poll := time.NewTicker(r.opts.PollInterval)
	defer poll.Stop()
	prune := time.NewTicker(r.opts.PruneInterval)
	defer prune.Stop()
	var reconcile <-chan time.Time
	if len(r.opts.Consumers) > 0 {
		t := time.NewTicker(r.opts.ReconcileInterval)
		defer t.Stop()
		reconcile = t.C
	}
	// The first pass looks at every retained row (what was sent while no relay ran is
	// covered too); each later pass starts an interval before where the previous one
	// stopped, so a row is looked at a few times at most while it stays recorded.
	var since time.Time
	slog.InfoContext(ctx, "outbox relay running", "instance", r.opts.Instance, "batch", r.opts.BatchSize,
		"reconciledTopics", len(r.opts.Consumers))
	for {
		if _, err := r.Drain(ctx); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "outbox relay", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			slog.InfoContext(context.WithoutCancel(ctx), "outbox relay stopped", "instance", r.opts.Instance)
			return nil
		case <-wake:
		case <-poll.C:
		case <-prune.C:
			o, i, err := r.Prune(ctx)
			if err != nil && ctx.Err() == nil {
				slog.ErrorContext(ctx, "prune", "error", err.Error())
			} else if o+i > 0 {
				slog.InfoContext(ctx, "pruned", "outboxRows", o, "inboxRows", i)
			}
		case <-reconcile:
			_, next, err := r.Reconcile(ctx, since, time.Time{})
			if err != nil && ctx.Err() == nil {
				slog.ErrorContext(ctx, "reconcile", "error", err.Error())
				continue
			}
			since = next.Add(-r.opts.ReconcileInterval)
		}
	}
}

// listen holds a LISTEN connection and signals wake on every notification, reconnecting
// with back-off when the connection breaks (the poll covers the gap).
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := r.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		slog.WarnContext(ctx, "outbox listener lost; polling until it is back", "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

func (r *Relay) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	conn, err := pgx.ConnectConfig(ctx, r.db.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN messaging_outbox"); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case wake <- struct{}{}:
		default: // a wake-up is already pending; one drain covers both
		}
	}
}

// Topics returns every topic and its dead-letter topic under prefix.
func Topics(prefix string, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, prefix+n, prefix+n+events.DeadLetterSuffix)
	}
	slices.Sort(out)
	return out
}

func sortBySeq[T any](s []T, seq func(T) int64) {
	slices.SortFunc(s, func(a, b T) int {
		switch {
		case seq(a) < seq(b):
			return -1
		case seq(a) > seq(b):
			return 1
		}
		return 0
	})
}

// Package outbox relays the store's transactional outbox to NATS. Whatever
// must leave the database after a commit — a submitted design for the work
// queue, a recorded or changed verdict, a failed design — is written to the
// outbox table in the same transaction as the change (by the store); the
// relay publishes it with its message id (JetStream drops repeats within the
// stream's duplicate window) and marks it sent. A process that dies between
// committing and publishing leaves the message unsent; any relay publishes
// it on its next pass (every Interval), so a committed design is enqueued
// and a recorded verdict announced within seconds, never lost.
//
// Every process that writes to the outbox runs a relay and kicks it after
// its commits, so the usual delay is one round trip, not an interval.
// Several relays share the table safely (rows are claimed with SKIP LOCKED).
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// Config tunes a relay.
type Config struct {
	// Interval between passes when not kicked (default 1s).
	Interval time.Duration
	// Batch is how many messages one transaction claims (default 100).
	Batch int
	// Retain keeps sent messages this long before they are pruned (default 24h).
	Retain time.Duration
	Logger *slog.Logger
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Retain <= 0 {
		c.Retain = 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Relay publishes the outbox.
type Relay struct {
	cfg  Config
	st   *store.Store
	q    *queue.Queue
	kick chan struct{}
}

// New returns a relay.
func New(cfg Config, st *store.Store, q *queue.Queue) *Relay {
	return &Relay{cfg: cfg.WithDefaults(), st: st, q: q, kick: make(chan struct{}, 1)}
}

// Kick asks the relay to publish now; it never blocks.
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run publishes until ctx is cancelled: when kicked, and every Interval.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		if _, err := r.Flush(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("outbox: relay", "err", err)
		}
		if time.Since(lastPrune) > time.Hour {
			if _, err := r.st.PruneOutbox(ctx, r.cfg.Retain); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Warn("outbox: prune", "err", err)
			}
			lastPrune = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-t.C:
		}
	}
}

// Flush publishes every unsent message it can claim and returns how many.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.st.RelayOutbox(ctx, r.cfg.Batch, r.publish)
		total += n
		if err != nil {
			return total, err
		}
		if n < r.cfg.Batch {
			return total, nil
		}
	}
}

// publish sends one message where its topic says.
func (r *Relay) publish(ctx context.Context, m store.OutboxMessage) error {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch m.Topic {
	case store.TopicDesignSubmitted:
		var s mustertype.DesignSubmitted
		if err := json.Unmarshal(m.Payload, &s); err != nil {
			return fmt.Errorf("outbox message %d: %w: %w", m.ID, store.ErrUnpublishable, err)
		}
		return r.q.Submit(pctx, s)
	case store.TopicVerdictEvent:
		var ev mustertype.VerdictEvent
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			return fmt.Errorf("outbox message %d: %w: %w", m.ID, store.ErrUnpublishable, err)
		}
		return r.q.PublishVerdict(pctx, ev)
	default:
		return fmt.Errorf("outbox message %d: %w: unknown topic %q", m.ID, store.ErrUnpublishable, m.Topic)
	}
}

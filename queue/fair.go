package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Fetcher hands a worker its next design, taking the tenants that have work
// in turn (round-robin over their consumers), so a tenant's backlog of 300
// designs delays another tenant's design by at most one design per worker
// slot instead of 300. JetStream stays the queue: each tenant's designs are
// a durable pull consumer on the work-queue stream, acknowledged as before;
// the Fetcher only chooses which consumer to pull one message from next.
//
// It learns which tenants have work from the submissions themselves (a core
// subscription on the work subjects wakes it) and, as a backstop for work it
// missed (a restart, a redelivery coming due), from the consumers' pending
// counts every RefreshEvery.
type Fetcher struct {
	q       *Queue
	subs    []*nats.Subscription
	wake    chan struct{}
	refresh time.Duration

	mu     sync.Mutex
	ring   []string // consumer names that may have work, in turn order
	inRing map[string]bool
	next   int
	cons   map[string]jetstream.Consumer
	last   time.Time // last refresh
}

// FetcherConfig tunes a Fetcher.
type FetcherConfig struct {
	// RefreshEvery re-reads the consumers' pending counts (default 1s).
	RefreshEvery time.Duration
}

// NewFetcher starts a Fetcher; Close releases its subscription.
func (q *Queue) NewFetcher(ctx context.Context, cfg FetcherConfig) (*Fetcher, error) {
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = time.Second
	}
	f := &Fetcher{q: q, wake: make(chan struct{}, 1), refresh: cfg.RefreshEvery, inRing: map[string]bool{}, cons: map[string]jetstream.Consumer{}}
	for _, subject := range []string{SubjectSubmitted, SubjectSubmitted + ".>"} {
		sub, err := q.nc.Subscribe(subject, func(m *nats.Msg) {
			f.activate(consumerOfSubject(m.Subject))
		})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("fetcher: subscribe: %w", err)
		}
		f.subs = append(f.subs, sub)
	}
	if err := f.refreshNow(ctx); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Close stops listening for submissions.
func (f *Fetcher) Close() {
	for _, s := range f.subs {
		_ = s.Unsubscribe()
	}
}

func consumerOfSubject(subject string) string {
	if t, ok := strings.CutPrefix(subject, SubjectSubmitted+"."); ok {
		return TenantConsumer(t)
	}
	return ConsumerWorkers
}

// activate puts a consumer in the ring (at the end, so tenants already
// waiting go first) and wakes a waiting Next.
func (f *Fetcher) activate(name string) {
	f.mu.Lock()
	if !f.inRing[name] {
		f.inRing[name] = true
		f.ring = append(f.ring, name)
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// deactivate removes a consumer that had nothing to give.
func (f *Fetcher) deactivate(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.inRing[name] {
		return
	}
	delete(f.inRing, name)
	for i, n := range f.ring {
		if n == name {
			f.ring = append(f.ring[:i], f.ring[i+1:]...)
			if i < f.next {
				f.next--
			}
			break
		}
	}
	if f.next >= len(f.ring) {
		f.next = 0
	}
}

// refreshNow adds every consumer with pending or unacknowledged messages.
func (f *Fetcher) refreshNow(ctx context.Context) error {
	f.mu.Lock()
	f.last = time.Now()
	f.mu.Unlock()
	infos := f.q.designs.ListConsumers(ctx)
	for ci := range infos.Info() {
		if ci.NumPending > 0 || ci.NumAckPending > 0 {
			f.activate(ci.Name)
		}
	}
	if err := infos.Err(); err != nil {
		return fmt.Errorf("fetcher: list consumers: %w", err)
	}
	return nil
}

// pick returns the consumer whose turn it is and advances the turn.
func (f *Fetcher) pick() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ring) == 0 {
		return "", false
	}
	if f.next >= len(f.ring) {
		f.next = 0
	}
	name := f.ring[f.next]
	f.next = (f.next + 1) % len(f.ring)
	return name, true
}

func (f *Fetcher) consumer(ctx context.Context, name string) (jetstream.Consumer, error) {
	f.mu.Lock()
	c, ok := f.cons[name]
	f.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := f.q.designs.Consumer(ctx, name)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.cons[name] = c
	f.mu.Unlock()
	return c, nil
}

// Next returns one design message from the next tenant in turn, waiting
// until there is one or ctx ends. The message is delivered at the moment it
// is returned (nothing waits in a client-side buffer while its ack deadline
// runs).
func (f *Fetcher) Next(ctx context.Context) (jetstream.Msg, error) {
	tick := time.NewTicker(f.refresh)
	defer tick.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f.mu.Lock()
		stale := time.Since(f.last) > 5*f.refresh
		f.mu.Unlock()
		if stale {
			if err := f.refreshNow(ctx); err != nil && ctx.Err() == nil {
				return nil, err
			}
		}
		name, ok := f.pick()
		if !ok {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-f.wake:
			case <-tick.C:
				if err := f.refreshNow(ctx); err != nil && ctx.Err() == nil {
					return nil, err
				}
			}
			continue
		}
		msg, err := f.fetchOne(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// A consumer that is gone, at its in-flight bound or
			// unreachable for now has nothing to give this turn; the next
			// refresh finds it again if it has work.
			if errors.Is(err, jetstream.ErrConsumerNotFound) {
				f.mu.Lock()
				delete(f.cons, name)
				f.mu.Unlock()
			}
			f.deactivate(name)
			continue
		}
		if msg == nil {
			f.deactivate(name)
			continue
		}
		return msg, nil
	}
}

func (f *Fetcher) fetchOne(ctx context.Context, name string) (jetstream.Msg, error) {
	c, err := f.consumer(ctx, name)
	if err != nil {
		return nil, err
	}
	batch, err := c.FetchNoWait(1)
	if err != nil {
		return nil, err
	}
	var msg jetstream.Msg
	for m := range batch.Messages() {
		msg = m
	}
	if err := batch.Error(); err != nil && msg == nil {
		return nil, fmt.Errorf("fetch from %s: %w", name, err)
	}
	return msg, nil
}

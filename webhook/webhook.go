// Package webhook delivers verdict events to tenants' webhook URLs from a
// durable JetStream consumer, signed with HMAC-SHA256, retried with backoff,
// every attempt recorded in webhook_deliveries (this package owns the table)
// and visible to the tenant at GET /v1/webhooks/deliveries.
//
// Deliveries run concurrently — at most Concurrency at once per process and
// PerTenant at once per tenant — so a slow or hanging receiver holds only
// its own tenant's slots: another tenant's events are fetched and delivered
// meanwhile, and the slow tenant's further events are deferred (handed back
// to JetStream for later, not counted as attempts). A message is fetched
// only when a slot is free and heartbeated while its request runs, so no
// ack deadline expires while it merely waits: no duplicate from the queue.
//
// Every delivery carries a delivery id, the same on every attempt of one
// event, in the body ("delivery_id") and the Muster-Delivery-Id header;
// receivers de-duplicate on it (a sender that dies after the receiver
// answered but before acknowledging sends the event again).
//
// The signature header is
//
//	Muster-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// so receivers can check both authenticity and freshness.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/internal/metrics"
	"github.com/muster-dev/muster/internal/netguard"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// Headers of every delivery.
const (
	// SignatureHeader carries the signature.
	SignatureHeader = "Muster-Signature"
	// DeliveryIDHeader carries the delivery id receivers de-duplicate on.
	DeliveryIDHeader = "Muster-Delivery-Id"
	// EventHeader carries the event type.
	EventHeader = "Muster-Event"
	// AttemptHeader carries the attempt number (1 for the first).
	AttemptHeader = "Muster-Attempt"
)

// Sign returns the header value for body at time t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is returned by Verify.
var ErrBadSignature = errors.New("webhook: bad signature")

// Verify checks a signature header against body, allowing tolerance of clock skew.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, kv := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside tolerance", ErrBadSignature)
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	if !hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig)) {
		return ErrBadSignature
	}
	return nil
}

// Config tunes delivery.
type Config struct {
	// Backoff between delivery attempts, indexed by attempt-1 (the last repeats).
	Backoff []time.Duration
	// Timeout of one request to a receiver (default 10s).
	Timeout time.Duration
	// MaxAttempts before an event is given up (default 10).
	MaxAttempts int
	// Concurrency is how many deliveries one process runs at once (default 32).
	Concurrency int
	// PerTenant is how many of them may be one tenant's (default 4).
	PerTenant int
	// Defer is how long an event of a tenant at its PerTenant bound is
	// handed back for (default Timeout/2).
	Defer time.Duration
	// Guard keeps deliveries away from internal addresses (checked when
	// connecting, redirects to other hosts refused). Used when Client is nil.
	Guard  netguard.Guard
	Client *http.Client
	Logger *slog.Logger
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if len(c.Backoff) == 0 {
		c.Backoff = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.PerTenant <= 0 {
		c.PerTenant = 4
	}
	if c.PerTenant > c.Concurrency {
		c.PerTenant = c.Concurrency
	}
	if c.Defer <= 0 {
		c.Defer = c.Timeout / 2
	}
	if c.Client == nil {
		c.Client = c.Guard.Client(c.Timeout)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Sender delivers webhooks.
type Sender struct {
	cfg     Config
	store   *store.Store
	queue   *queue.Queue
	log     *Log
	metrics *metrics.Metrics

	mu     sync.Mutex
	tenant map[string]int // deliveries in flight per tenant
}

// New returns a Sender.
func New(cfg Config, st *store.Store, q *queue.Queue, m *metrics.Metrics) *Sender {
	return &Sender{cfg: cfg.WithDefaults(), store: st, queue: q, log: NewLog(st.Pool()), metrics: m, tenant: map[string]int{}}
}

// Payload is the JSON body sent to the tenant.
type Payload struct {
	// DeliveryID is the same on every attempt of one event: receivers
	// de-duplicate on it.
	DeliveryID string         `json:"delivery_id"`
	Type       string         `json:"type"`
	DesignID   string         `json:"design_id"`
	Status     string         `json:"status"`
	Reason     string         `json:"reason,omitempty"`
	Verdict    *store.Verdict `json:"verdict,omitempty"`
}

// DeliveryID is the delivery id of an event: its event id, or for events
// published before event ids existed a name-based UUID of its message id.
func DeliveryID(ev queue.VerdictEvent) string {
	if ev.EventID != "" {
		return ev.EventID
	}
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("muster:event:"+ev.MsgID())).String()
}

// Run consumes verdict events until ctx is cancelled, then waits for the
// deliveries in flight.
func (s *Sender) Run(ctx context.Context) error {
	cons, err := s.queue.JetStream().Consumer(ctx, queue.StreamVerdicts, queue.ConsumerWebhooks)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return fmt.Errorf("webhook: consumer: %w", err)
	}
	slots := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		// Take at least one free slot, then as many more as are free, and
		// fetch that many events: nothing is fetched that cannot start now.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		n := 1
	more:
		for n < s.cfg.Concurrency {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		batch, err := cons.Fetch(n, jetstream.FetchContext(fctx))
		got := 0
		if err == nil {
			for msg := range batch.Messages() {
				got++
				if s.dispatch(ctx, msg, &wg, func() { <-slots }) {
					continue
				}
				<-slots
			}
			err = batch.Error()
		}
		cancel()
		for ; got < n; got++ {
			<-slots
		}
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			s.cfg.Logger.Warn("webhook: fetch", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// dispatch starts a delivery in its own goroutine and reports true, or
// settles the message at once (invalid, or its tenant at its bound) and
// reports false.
func (s *Sender) dispatch(ctx context.Context, msg jetstream.Msg, wg *sync.WaitGroup, release func()) bool {
	var ev queue.VerdictEvent
	if err := json.Unmarshal(msg.Data(), &ev); err != nil || ev.TenantID == "" {
		s.cfg.Logger.Error("webhook: invalid event", "subject", msg.Subject(), "err", err)
		_ = msg.TermWithReason("invalid event")
		return false
	}
	s.mu.Lock()
	busy := s.tenant[ev.TenantID] >= s.cfg.PerTenant
	if !busy {
		s.tenant[ev.TenantID]++
	}
	s.mu.Unlock()
	if busy {
		// Not an attempt: the tenant's receiver is busy with earlier events.
		s.metrics.Webhooks.WithLabelValues("deferred").Inc()
		_ = msg.NakWithDelay(s.cfg.Defer)
		return false
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer release()
		defer func() {
			s.mu.Lock()
			if s.tenant[ev.TenantID]--; s.tenant[ev.TenantID] <= 0 {
				delete(s.tenant, ev.TenantID)
			}
			s.mu.Unlock()
		}()
		s.deliver(context.WithoutCancel(ctx), msg, ev)
	}()
	return true
}

func (s *Sender) deliver(ctx context.Context, msg jetstream.Msg, ev queue.VerdictEvent) {
	// Heartbeat while the receiver takes its time, so the ack deadline
	// only fires for a sender that died.
	hbCtx, stopHB := context.WithCancel(ctx)
	defer stopHB()
	go func() {
		t := time.NewTicker(max(s.queue.Config().WebhookAckWait/3, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()

	t, err := s.store.Tenant(ctx, ev.TenantID)
	if err != nil {
		s.cfg.Logger.Warn("webhook: tenant", "tenant", ev.TenantID, "err", err)
		_ = msg.NakWithDelay(s.cfg.Backoff[0])
		return
	}
	if t.WebhookURL == "" {
		_ = msg.Ack()
		return
	}
	id := DeliveryID(ev)
	prev, delivered, err := s.log.Attempts(ctx, id)
	if err != nil {
		s.cfg.Logger.Warn("webhook: delivery log", "err", err)
		_ = msg.NakWithDelay(s.cfg.Backoff[0])
		return
	}
	if delivered {
		_ = msg.Ack() // answered before; the ack was lost
		return
	}
	attempt := prev + 1
	p := Payload{DeliveryID: id, Type: ev.Type, DesignID: ev.DesignID, Reason: ev.Reason}
	if d, err := s.store.Design(ctx, ev.TenantID, ev.DesignID); err == nil {
		p.Status = d.Status
	}
	if ev.VerdictID != 0 {
		if v, err := s.store.LatestVerdict(ctx, ev.DesignID); err == nil {
			p.Verdict = &v
		}
	}
	body, _ := json.Marshal(p)
	start := time.Now()
	code, err := s.post(ctx, t.WebhookURL, t.WebhookSecret(), body, ev.Type, id, attempt)
	d := Delivery{TenantID: ev.TenantID, DesignID: ev.DesignID, VerdictID: ev.VerdictID, DeliveryID: id, EventType: ev.Type,
		URL: t.WebhookURL, StatusCode: code, Attempt: attempt, DurationMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		d.Error = err.Error()
	}
	if rerr := s.log.Record(ctx, d); rerr != nil {
		s.cfg.Logger.Warn("webhook: record delivery", "err", rerr)
	}
	stopHB()
	if err != nil {
		if attempt >= s.cfg.MaxAttempts {
			s.metrics.Webhooks.WithLabelValues("gave_up").Inc()
			s.cfg.Logger.Error("webhook: giving up", "tenant", ev.TenantID, "delivery", id, "attempts", attempt, "err", err)
			_ = msg.TermWithReason("webhook delivery failed " + strconv.Itoa(attempt) + " times")
			return
		}
		s.metrics.Webhooks.WithLabelValues("error").Inc()
		s.cfg.Logger.Warn("webhook: delivery failed", "tenant", ev.TenantID, "delivery", id, "attempt", attempt, "err", err)
		_ = msg.NakWithDelay(s.cfg.Backoff[min(attempt, len(s.cfg.Backoff))-1])
		return
	}
	s.metrics.Webhooks.WithLabelValues("ok").Inc()
	_ = msg.Ack()
}

func (s *Sender) post(ctx context.Context, url, secret string, body []byte, event, id string, attempt int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Muster-Webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, time.Now(), body))
	req.Header.Set(DeliveryIDHeader, id)
	req.Header.Set(EventHeader, event)
	req.Header.Set(AttemptHeader, strconv.Itoa(attempt))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

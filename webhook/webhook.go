// Package webhook delivers verdict events to tenants' webhook URLs from a
// durable JetStream consumer, signed with HMAC-SHA256, retried with backoff
// by JetStream, every attempt recorded.
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
	"github.com/muster-dev/muster/internal/netguard"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/internal/metrics"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// SignatureHeader carries the signature.
const SignatureHeader = "Muster-Signature"

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
	Timeout time.Duration
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
	metrics *metrics.Metrics
}

// New returns a Sender.
func New(cfg Config, st *store.Store, q *queue.Queue, m *metrics.Metrics) *Sender {
	return &Sender{cfg: cfg.WithDefaults(), store: st, queue: q, metrics: m}
}

// Payload is the JSON body sent to the tenant.
type Payload struct {
	Type     string         `json:"type"`
	DesignID string         `json:"design_id"`
	Status   string         `json:"status"`
	Reason   string         `json:"reason,omitempty"`
	Verdict  *store.Verdict `json:"verdict,omitempty"`
}

// Run consumes verdict events until ctx is cancelled.
func (s *Sender) Run(ctx context.Context) error {
	cons, err := s.queue.JetStream().Consumer(ctx, queue.StreamVerdicts, queue.ConsumerWebhooks)
	if err != nil {
		return fmt.Errorf("webhook: consumer: %w", err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) { s.handle(ctx, msg) })
	if err != nil {
		return fmt.Errorf("webhook: consume: %w", err)
	}
	<-ctx.Done()
	cc.Drain()
	<-cc.Closed()
	return nil
}

func (s *Sender) handle(ctx context.Context, msg jetstream.Msg) {
	var ev queue.VerdictEvent
	if err := json.Unmarshal(msg.Data(), &ev); err != nil || ev.TenantID == "" {
		s.cfg.Logger.Error("webhook: invalid event", "subject", msg.Subject(), "err", err)
		_ = msg.TermWithReason("invalid event")
		return
	}
	t, err := s.store.Tenant(ctx, ev.TenantID)
	if err != nil {
		s.cfg.Logger.Warn("webhook: tenant", "tenant", ev.TenantID, "err", err)
		_ = msg.Nak()
		return
	}
	if t.WebhookURL == "" {
		_ = msg.Ack()
		return
	}
	p := Payload{Type: ev.Type, DesignID: ev.DesignID, Reason: ev.Reason}
	if d, err := s.store.Design(ctx, ev.TenantID, ev.DesignID); err == nil {
		p.Status = d.Status
	}
	if ev.VerdictID != 0 {
		if v, err := s.store.LatestVerdict(ctx, ev.DesignID); err == nil {
			p.Verdict = &v
		}
	}
	body, _ := json.Marshal(p)
	meta, _ := msg.Metadata()
	attempt := 1
	if meta != nil {
		attempt = int(meta.NumDelivered)
	}
	code, err := s.post(ctx, t.WebhookURL, t.WebhookSecret(), body)
	d := store.WebhookDelivery{TenantID: ev.TenantID, DesignID: ev.DesignID, VerdictID: ev.VerdictID, URL: t.WebhookURL, StatusCode: code, Attempt: attempt}
	if err != nil {
		d.Error = err.Error()
	}
	if rerr := s.store.RecordWebhookDelivery(ctx, d); rerr != nil {
		s.cfg.Logger.Warn("webhook: record delivery", "err", rerr)
	}
	if err != nil {
		s.metrics.Webhooks.WithLabelValues("error").Inc()
		s.cfg.Logger.Warn("webhook: delivery failed", "tenant", ev.TenantID, "design", ev.DesignID, "attempt", attempt, "err", err)
		_ = msg.NakWithDelay(s.cfg.Backoff[min(attempt, len(s.cfg.Backoff))-1])
		return
	}
	s.metrics.Webhooks.WithLabelValues("ok").Inc()
	_ = msg.Ack()
}

func (s *Sender) post(ctx context.Context, url, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Muster-Webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, time.Now(), body))
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

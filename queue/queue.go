// Package queue owns Muster's JetStream layout: the stream of submitted
// designs and its dead-letter stream, the verdict event stream, and the object
// store bucket that keeps design bytes, content-addressed by sha256.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Streams, subjects, consumers and buckets.
const (
	StreamDesigns    = "MUSTER_DESIGNS"
	SubjectSubmitted = "muster.designs.submitted"
	StreamDead       = "MUSTER_DESIGNS_DEAD"
	SubjectDead      = "muster.designs.dead"
	StreamVerdicts   = "MUSTER_VERDICTS"
	// SubjectVerdicts is the prefix of verdict events: muster.verdicts.<tenant>.<design>.
	SubjectVerdicts  = "muster.verdicts"
	ConsumerWorkers  = "workers"
	ConsumerWebhooks = "webhooks"
	BucketDesigns    = "muster-designs"
)

// Config tunes the JetStream layout.
type Config struct {
	// Replicas for streams and the bucket (1 embedded, 3 in a NATS cluster).
	Replicas int
	// AckWait before an unacknowledged design is redelivered; workers send
	// InProgress heartbeats during long analyses.
	AckWait time.Duration
	// MaxDeliver attempts before a design is dead-lettered.
	MaxDeliver int
	// Backoff between attempts (NakWithDelay), indexed by attempt-1.
	Backoff []time.Duration
	// DuplicateWindow for Nats-Msg-Id de-duplication of submissions.
	DuplicateWindow time.Duration
	// VerdictRetention keeps verdict events for webhooks this long.
	VerdictRetention time.Duration
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 5
	}
	if c.Backoff == nil {
		c.Backoff = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 10 * time.Minute
	}
	if c.VerdictRetention == 0 {
		c.VerdictRetention = 7 * 24 * time.Hour
	}
	return c
}

// BackoffFor returns the delay before attempt+1.
func (c Config) BackoffFor(attempt int) time.Duration {
	if len(c.Backoff) == 0 {
		return 0
	}
	if attempt-1 < len(c.Backoff) && attempt >= 1 {
		return c.Backoff[attempt-1]
	}
	return c.Backoff[len(c.Backoff)-1]
}

// Queue is a handle on the JetStream layout.
type Queue struct {
	cfg     Config
	nc      *nats.Conn
	js      jetstream.JetStream
	designs jetstream.Stream
	objects jetstream.ObjectStore
}

// Setup creates or updates the streams, consumers and bucket.
func Setup(ctx context.Context, nc *nats.Conn, cfg Config) (*Queue, error) {
	cfg = cfg.WithDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	q := &Queue{cfg: cfg, nc: nc, js: js}
	q.designs, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamDesigns,
		Description: "Designs waiting for analysis (one message per design id).",
		Subjects:    []string{SubjectSubmitted},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Duplicates:  cfg.DuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamDesigns, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamDead,
		Description: "Designs whose analysis failed MaxDeliver times.",
		Subjects:    []string{SubjectDead},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      30 * 24 * time.Hour,
	}); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamDead, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamVerdicts,
		Description: "Verdict events (recorded, changed, failed) for webhooks and waiters.",
		Subjects:    []string{SubjectVerdicts + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      cfg.VerdictRetention,
		Duplicates:  cfg.DuplicateWindow,
	}); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamVerdicts, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, StreamDesigns, jetstream.ConsumerConfig{
		Durable:       ConsumerWorkers,
		Description:   "Analysis workers.",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    cfg.MaxDeliver,
		MaxAckPending: 1000,
	}); err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", ConsumerWorkers, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, StreamVerdicts, jetstream.ConsumerConfig{
		Durable:     ConsumerWebhooks,
		Description: "Webhook delivery.",
		AckPolicy:   jetstream.AckExplicitPolicy,
		AckWait:     30 * time.Second,
		MaxDeliver:  10,
		BackOff:     []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute},
	}); err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", ConsumerWebhooks, err)
	}
	q.objects, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      BucketDesigns,
		Description: "Design bytes, keyed by sha256.",
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("create object store %s: %w", BucketDesigns, err)
	}
	return q, nil
}

// Config returns the effective configuration.
func (q *Queue) Config() Config { return q.cfg }

// JetStream returns the JetStream context.
func (q *Queue) JetStream() jetstream.JetStream { return q.js }

// Conn returns the NATS connection.
func (q *Queue) Conn() *nats.Conn { return q.nc }

var shaRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// PutBlob stores design bytes under their sha256 unless already present.
func (q *Queue) PutBlob(ctx context.Context, sha string, data []byte) error {
	if !shaRE.MatchString(sha) {
		return fmt.Errorf("put blob: bad sha256 %q", sha)
	}
	if _, err := q.objects.GetInfo(ctx, sha); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("put blob %s: %w", sha, err)
	}
	if _, err := q.objects.PutBytes(ctx, sha, data); err != nil {
		return fmt.Errorf("put blob %s: %w", sha, err)
	}
	return nil
}

// GetBlob returns design bytes by sha256.
func (q *Queue) GetBlob(ctx context.Context, sha string) ([]byte, error) {
	b, err := q.objects.GetBytes(ctx, sha)
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", sha, err)
	}
	return b, nil
}

// Submitted is the payload of a message on SubjectSubmitted.
type Submitted struct {
	DesignID string `json:"design_id"`
	TenantID string `json:"tenant_id"`
}

// Submit enqueues a design for analysis; the design id is the Nats-Msg-Id,
// so submitting twice within the duplicate window enqueues once.
func (q *Queue) Submit(ctx context.Context, s Submitted) error {
	b, _ := json.Marshal(s)
	if _, err := q.js.Publish(ctx, SubjectSubmitted, b, jetstream.WithMsgID(s.DesignID)); err != nil {
		return fmt.Errorf("submit design %s: %w", s.DesignID, err)
	}
	return nil
}

// Verdict event types.
const (
	EventVerdictRecorded = "verdict.recorded"
	EventVerdictChanged  = "verdict.changed"
	EventDesignFailed    = "design.failed"
)

// VerdictEvent is published on muster.verdicts.<tenant>.<design> when a
// design reaches a terminal state or its verdict changes.
type VerdictEvent struct {
	Type      string `json:"type"`
	TenantID  string `json:"tenant_id"`
	DesignID  string `json:"design_id"`
	VerdictID int64  `json:"verdict_id,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// VerdictSubject is the subject of a design's verdict events.
func VerdictSubject(tenantID, designID string) string {
	return SubjectVerdicts + "." + tenantID + "." + designID
}

// PublishVerdict publishes a verdict event durably (de-duplicated by type,
// design and verdict id, so a redelivered design publishes it once).
func (q *Queue) PublishVerdict(ctx context.Context, ev VerdictEvent) error {
	b, _ := json.Marshal(ev)
	id := fmt.Sprintf("%s:%s:%d", ev.Type, ev.DesignID, ev.VerdictID)
	if _, err := q.js.Publish(ctx, VerdictSubject(ev.TenantID, ev.DesignID), b, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("publish %s for design %s: %w", ev.Type, ev.DesignID, err)
	}
	return nil
}

// DeadLetter is the payload of a message on SubjectDead.
type DeadLetter struct {
	Submitted
	Reason    string    `json:"reason"`
	Attempts  int       `json:"attempts"`
	StreamSeq uint64    `json:"stream_seq"`
	At        time.Time `json:"at"`
	Original  []byte    `json:"original,omitempty"`
}

// PublishDead copies a design's message to the dead-letter stream.
func (q *Queue) PublishDead(ctx context.Context, d DeadLetter) error {
	b, _ := json.Marshal(d)
	if _, err := q.js.Publish(ctx, SubjectDead, b, jetstream.WithMsgID(fmt.Sprintf("dead:%s:%d", d.DesignID, d.StreamSeq))); err != nil {
		return fmt.Errorf("dead-letter design %s: %w", d.DesignID, err)
	}
	return nil
}

// Stats reports pending work, for /metrics and readiness.
type Stats struct {
	Pending     uint64 `json:"pending"`
	InFlight    int    `json:"in_flight"`
	DeadLetters uint64 `json:"dead_letters"`
}

// Stats reads consumer and stream state.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	c, err := q.js.Consumer(ctx, StreamDesigns, ConsumerWorkers)
	if err != nil {
		return s, err
	}
	ci, err := c.Info(ctx)
	if err != nil {
		return s, err
	}
	s.Pending, s.InFlight = ci.NumPending, ci.NumAckPending
	ds, err := q.js.Stream(ctx, StreamDead)
	if err != nil {
		return s, err
	}
	si, err := ds.Info(ctx)
	if err != nil {
		return s, err
	}
	s.DeadLetters = si.State.Msgs
	return s, nil
}

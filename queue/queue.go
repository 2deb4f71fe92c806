// Package queue owns Muster's JetStream layout: the stream of submitted
// designs and its dead-letter stream, the verdict event stream, and the object
// store bucket that keeps design bytes, content-addressed by sha256.
package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/mustertype"
)

// Streams, subjects, consumers and buckets.
const (
	StreamDesigns = "MUSTER_DESIGNS"
	// SubjectSubmitted is the legacy single work subject (consumed by the
	// "workers" consumer); designs are submitted on SubmittedSubject(tenant).
	SubjectSubmitted = "muster.designs.submitted"
	StreamDead       = "MUSTER_DESIGNS_DEAD"
	SubjectDead      = "muster.designs.dead"
	StreamVerdicts   = "MUSTER_VERDICTS"
	// SubjectVerdicts is the prefix of verdict events: muster.verdicts.<tenant>.<design>.
	SubjectVerdicts = "muster.verdicts"
	// ConsumerWorkers drains the legacy subject; each tenant's designs have
	// their own consumer, TenantConsumer(tenant).
	ConsumerWorkers  = "workers"
	ConsumerWebhooks = "webhooks"
	BucketDesigns    = "muster-designs"
	// tenantConsumerPrefix names per-tenant work consumers.
	tenantConsumerPrefix = "tenant-"
)

// SubmittedSubject is the work subject of one tenant's designs.
func SubmittedSubject(tenantID string) string { return SubjectSubmitted + "." + tenantID }

// TenantConsumer is the durable consumer of one tenant's designs. Workers
// fetch from the tenants' consumers in turn (Fetcher), so one tenant's
// backlog waits behind its own designs only.
func TenantConsumer(tenantID string) string { return tenantConsumerPrefix + tenantID }

var tenantRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z-]{0,63}$`)

// Config tunes the JetStream layout.
type Config struct {
	// Replicas for streams and the bucket (1 embedded, 3 in a NATS cluster).
	Replicas int
	// AckWait before an unacknowledged design is redelivered; workers send
	// InProgress heartbeats during long analyses.
	AckWait time.Duration
	// MaxDeliver analysis attempts before a design is dead-lettered (the
	// workers count them in the store: redeliveries after failures of
	// infrastructure are not attempts, so the consumers themselves
	// redeliver without limit).
	MaxDeliver int
	// Backoff between attempts (NakWithDelay), indexed by attempt-1.
	Backoff []time.Duration
	// DuplicateWindow for Nats-Msg-Id de-duplication of submissions.
	DuplicateWindow time.Duration
	// VerdictRetention keeps verdict events for webhooks this long.
	VerdictRetention time.Duration
	// WebhookAckWait is how long a webhook delivery may go without an ack
	// or heartbeat before JetStream redelivers it; the sender heartbeats
	// while a receiver is slow, so it only fires for a dead sender.
	WebhookAckWait time.Duration
	// TenantMaxAckPending bounds one tenant's designs in flight at once
	// across all workers.
	TenantMaxAckPending int
	// BlobVerifyTimeout bounds reading back a blob that an upload finds
	// already stored (default 10 s); an unreadable one is stored again.
	BlobVerifyTimeout time.Duration
	// Logger receives the queue's warnings (nil: discarded).
	Logger *slog.Logger
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
	if c.WebhookAckWait == 0 {
		c.WebhookAckWait = 30 * time.Second
	}
	if c.TenantMaxAckPending == 0 {
		c.TenantMaxAckPending = 1000
	}
	if c.BlobVerifyTimeout <= 0 {
		c.BlobVerifyTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
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
	// tenants whose work consumer this process has made sure of.
	tenants sync.Map
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
		Subjects:    []string{SubjectSubmitted, SubjectSubmitted + ".>"},
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
	// A work-queue stream refuses overlapping consumers: the legacy
	// consumer is narrowed to the legacy subject before any tenant's.
	if _, err := js.CreateOrUpdateConsumer(ctx, StreamDesigns, q.workConsumerConfig(ConsumerWorkers, SubjectSubmitted)); err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", ConsumerWorkers, err)
	}
	// Existing tenants' consumers follow configuration changes.
	names := q.designs.ConsumerNames(ctx)
	for name := range names.Name() {
		if tenant, ok := strings.CutPrefix(name, tenantConsumerPrefix); ok {
			if _, err := js.CreateOrUpdateConsumer(ctx, StreamDesigns, q.workConsumerConfig(name, SubmittedSubject(tenant))); err != nil {
				return nil, fmt.Errorf("update consumer %s: %w", name, err)
			}
		}
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("list consumers of %s: %w", StreamDesigns, err)
	}
	// Webhook deliveries: no consumer-level back-off (its first step would
	// become the ack deadline of every delivery, redelivering events that
	// merely wait); retries are NakWithDelay, attempts are counted by the
	// sender from its delivery log, deferrals of a busy tenant are not.
	if _, err := js.CreateOrUpdateConsumer(ctx, StreamVerdicts, jetstream.ConsumerConfig{
		Durable:       ConsumerWebhooks,
		Description:   "Webhook delivery.",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.WebhookAckWait,
		MaxDeliver:    -1,
		MaxAckPending: 50_000,
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

// PutBlob stores design bytes under their sha256 unless already present;
// it reports whether it stored them now (false: they were there before).
func (q *Queue) PutBlob(ctx context.Context, sha string, data []byte) (bool, error) {
	if !shaRE.MatchString(sha) {
		return false, fmt.Errorf("put blob: bad sha256 %q", sha)
	}
	if _, err := q.objects.GetInfo(ctx, sha); err == nil {
		// Stored before — but an upload that straddled a stream leader
		// change can leave an object whose info exists and whose chunks
		// cannot be read (a read stalls or fails). Read it back; store the
		// bytes again if it is not whole.
		verr := q.verifyBlob(ctx, sha)
		if verr == nil || ctx.Err() != nil {
			return false, nil
		}
		q.cfg.Logger.Warn("queue: stored blob unreadable, storing its bytes again", "sha256", sha, "err", verr)
		if _, err := q.objects.PutBytes(ctx, sha, data); err != nil {
			return false, fmt.Errorf("put blob %s again (it was unreadable: %v): %w", sha, verr, err)
		}
		return false, nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, fmt.Errorf("put blob %s: %w", sha, err)
	}
	if _, err := q.objects.PutBytes(ctx, sha, data); err != nil {
		return false, fmt.Errorf("put blob %s: %w", sha, err)
	}
	return true, nil
}

// verifyBlob reads a stored blob back within BlobVerifyTimeout and checks
// its bytes against their sha256.
func (q *Queue) verifyBlob(ctx context.Context, sha string) error {
	vctx, cancel := context.WithTimeout(ctx, q.cfg.BlobVerifyTimeout)
	defer cancel()
	b, err := q.objects.GetBytes(vctx, sha)
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != sha {
		return fmt.Errorf("its %d bytes do not match their sha256", len(b))
	}
	return nil
}

// HasBlob reports whether design bytes are stored.
func (q *Queue) HasBlob(ctx context.Context, sha string) (bool, error) {
	_, err := q.objects.GetInfo(ctx, sha)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("blob %s: %w", sha, err)
	}
	return true, nil
}

// DeleteBlob deletes design bytes (gone already is not an error).
func (q *Queue) DeleteBlob(ctx context.Context, sha string) error {
	if err := q.objects.Delete(ctx, sha); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("delete blob %s: %w", sha, err)
	}
	return nil
}

// BlobInfo is a stored blob's name and when it was written.
type BlobInfo struct {
	SHA256  string
	Size    uint64
	ModTime time.Time
}

// Blobs lists the stored blobs.
func (q *Queue) Blobs(ctx context.Context) ([]BlobInfo, error) {
	infos, err := q.objects.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	out := make([]BlobInfo, 0, len(infos))
	for _, i := range infos {
		if !i.Deleted {
			out = append(out, BlobInfo{SHA256: i.Name, Size: i.Size, ModTime: i.ModTime})
		}
	}
	return out, nil
}

// GetBlob returns design bytes by sha256.
func (q *Queue) GetBlob(ctx context.Context, sha string) ([]byte, error) {
	b, err := q.objects.GetBytes(ctx, sha)
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", sha, err)
	}
	return b, nil
}

// Submitted is the payload of a design's work message.
type Submitted = mustertype.DesignSubmitted

func (q *Queue) workConsumerConfig(name, subject string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Analysis workers: " + subject,
		FilterSubject: subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: q.cfg.TenantMaxAckPending,
	}
}

// ensureTenant makes sure a tenant's work consumer exists (once per process).
func (q *Queue) ensureTenant(ctx context.Context, tenantID string) error {
	if _, ok := q.tenants.Load(tenantID); ok {
		return nil
	}
	name := TenantConsumer(tenantID)
	if _, err := q.js.CreateOrUpdateConsumer(ctx, StreamDesigns, q.workConsumerConfig(name, SubmittedSubject(tenantID))); err != nil {
		return fmt.Errorf("create consumer %s: %w", name, err)
	}
	q.tenants.Store(tenantID, true)
	return nil
}

// Submit enqueues a design for analysis on its tenant's subject; the design
// id is the Nats-Msg-Id, so submitting twice within the duplicate window
// enqueues once.
func (q *Queue) Submit(ctx context.Context, s Submitted) error {
	return q.submit(ctx, s, s.DesignID)
}

// Resubmit enqueues a design again whose message may have been lost (the
// sweeper's backstop). Its message id is the design id with the minute of
// the resubmission, so the duplicate window, which still holds the first
// submission's id, does not drop it, while two sweeps in the same minute
// enqueue it once. A design enqueued twice is analysed once: the worker
// acknowledges a decided design without work.
func (q *Queue) Resubmit(ctx context.Context, s Submitted) error {
	return q.submit(ctx, s, fmt.Sprintf("%s/resubmit/%d", s.DesignID, time.Now().Unix()/60))
}

func (q *Queue) submit(ctx context.Context, s Submitted, msgID string) error {
	b, _ := json.Marshal(s)
	subject := SubjectSubmitted
	if tenantRE.MatchString(s.TenantID) {
		if err := q.ensureTenant(ctx, s.TenantID); err != nil {
			return fmt.Errorf("submit design %s: %w", s.DesignID, err)
		}
		subject = SubmittedSubject(s.TenantID)
	}
	if _, err := q.js.Publish(ctx, subject, b, jetstream.WithMsgID(msgID)); err != nil {
		return fmt.Errorf("submit design %s: %w", s.DesignID, err)
	}
	return nil
}

// Verdict event types.
const (
	EventVerdictRecorded = mustertype.EventVerdictRecorded
	EventVerdictChanged  = mustertype.EventVerdictChanged
	EventDesignFailed    = mustertype.EventDesignFailed
)

// VerdictEvent is published on muster.verdicts.<tenant>.<design> when a
// design reaches a terminal state or its verdict changes.
type VerdictEvent = mustertype.VerdictEvent

// VerdictSubject is the subject of a design's verdict events.
func VerdictSubject(tenantID, designID string) string {
	return SubjectVerdicts + "." + tenantID + "." + designID
}

// PublishVerdict publishes a verdict event durably (de-duplicated by type,
// design and verdict id, so a redelivered design publishes it once).
func (q *Queue) PublishVerdict(ctx context.Context, ev VerdictEvent) error {
	b, _ := json.Marshal(ev)
	if _, err := q.js.Publish(ctx, VerdictSubject(ev.TenantID, ev.DesignID), b, jetstream.WithMsgID(ev.MsgID())); err != nil {
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

// TenantBacklog is how many of a tenant's work messages the queue holds:
// waiting and delivered but not yet acknowledged (0 when the tenant has no
// consumer yet).
func (q *Queue) TenantBacklog(ctx context.Context, tenantID string) (uint64, error) {
	c, err := q.designs.Consumer(ctx, TenantConsumer(tenantID))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("backlog of tenant %s: %w", tenantID, err)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("backlog of tenant %s: %w", tenantID, err)
	}
	return ci.NumPending + uint64(ci.NumAckPending), nil
}

// Stats reads consumer and stream state: pending and in-flight designs
// summed over the work consumers.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	infos := q.designs.ListConsumers(ctx)
	for ci := range infos.Info() {
		s.Pending += ci.NumPending
		s.InFlight += ci.NumAckPending
	}
	if err := infos.Err(); err != nil {
		return s, err
	}
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

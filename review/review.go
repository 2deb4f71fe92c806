// Package review is the human side of moderation: review queues routed by
// what fired (routing is data, editable), items created in the same
// transaction as the verdict that needs them (a market in review, an appeal,
// a QA sample), claims with a lease, decisions recorded as new verdicts
// through the store, escalation, comments, appeals with four eyes, and a
// hash-chained audit log of every review action.
//
// It owns the review_* tables (migrations/0007_review.sql). Verdicts and
// events are written through the store, the only writer of those tables;
// the store calls this package back inside its verdict transactions through
// the hook built by NewHook (store.WithVerdictHook).
//
// The HTTP routes are in review/reviewhttp; a server-rendered console calls
// the Service directly with a Reviewer it authenticated itself.
package review

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/muster-dev/muster/internal/metrics"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/store"
)

// Item kinds.
const (
	KindFlagged  = "flagged"  // a verdict with a market in review
	KindAppeal   = "appeal"   // a merchant's appeal against a block
	KindQA       = "qa"       // a sample of automated allows and blocks
	KindRedecide = "redecide" // a new policy disagrees with a human decision
)

// Item states.
const (
	StateOpen    = "open"
	StateDecided = "decided"
	StateClosed  = "closed" // superseded by a newer verdict
)

// Queues with a fixed meaning (they may be edited, not renamed or deleted).
const (
	QueueAppeals = "appeals"
	QueueQA      = "qa"
)

// Appeal decisions.
const (
	AppealUphold   = "uphold"
	AppealOverturn = "overturn"
)

// Config tunes the review service.
type Config struct {
	// Lease is how long a claim lasts without a heartbeat (default 10 min).
	Lease time.Duration
	// QARate is the share of automated allows and blocks sampled into the
	// QA queue, 0..1 (default 0.01; negative: none).
	QARate float64
	// AppealWindow is how long after a decision it may be appealed
	// (default 6 months, DSA Art. 20(1)).
	AppealWindow func(decided time.Time) time.Time
	// BulkMax caps the ids of one bulk decision (default 1000).
	BulkMax int
	// AuditChainEvery is how often RunAuditChainer links pending audit rows
	// into the hash chain (default 250 ms).
	AuditChainEvery time.Duration
	Logger          *slog.Logger
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Lease == 0 {
		c.Lease = 10 * time.Minute
	}
	if c.QARate == 0 {
		c.QARate = 0.01
	}
	if c.QARate < 0 {
		c.QARate = 0
	}
	if c.AppealWindow == nil {
		c.AppealWindow = func(t time.Time) time.Time { return t.AddDate(0, 6, 0) }
	}
	if c.BulkMax == 0 {
		c.BulkMax = 1000
	}
	if c.AuditChainEvery <= 0 {
		c.AuditChainEvery = 250 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Service is the review workflow over the store.
type Service struct {
	st      *store.Store
	kick    func()
	metrics *metrics.Metrics
	cfg     Config
}

// New returns the service. A decision's notifications (verdict.changed,
// appeal.decided) are written to the store's outbox in its transaction;
// kick, when not nil, nudges the outbox relay after commit so they are
// published at once rather than on the relay's next pass. m may be nil (no
// metrics).
func New(st *store.Store, kick func(), m *metrics.Metrics, cfg Config) *Service {
	return &Service{st: st, kick: kick, metrics: m, cfg: cfg.WithDefaults()}
}

// Config returns the service's configuration with defaults applied.
func (s *Service) Config() Config { return s.cfg }

// Reviewer is who acts: a reviewer's API key or a console user. The caller
// authenticates; the service authorises (queue roles, tenant scope, four
// eyes).
type Reviewer struct {
	// ID names the reviewer in items, verdicts and the audit log
	// ("key:mst_…", "user:alice"). Four eyes compares IDs.
	ID string
	// Role is store.RoleReviewer, RoleLegal or RoleAdmin.
	Role string
	// TenantID is the reviewer's tenant.
	TenantID string
	// Platform is true for the platform operator's staff: they review
	// every tenant's items; other tenants' reviewers only their own.
	Platform bool
}

// FromPrincipal is the reviewer an API key stands for.
func FromPrincipal(p store.Principal) Reviewer {
	return Reviewer{ID: "key:" + p.KeyPrefix, Role: p.Role, TenantID: p.TenantID, Platform: p.Platform}
}

// Errors callers branch on. Wrapped errors keep them reachable with
// errors.Is.
var (
	// ErrEmpty: nothing is waiting in the queues the reviewer may take.
	ErrEmpty = errors.New("review: no item waiting")
	// ErrNotClaimed: the caller does not hold the item's lease (it expired
	// and someone else took it, or it was never claimed).
	ErrNotClaimed = errors.New("review: you do not hold this item's lease")
	// ErrNotOpen: the item was decided or closed.
	ErrNotOpen = errors.New("review: item is no longer open")
	// ErrFourEyes: the reviewer made the decision under appeal.
	ErrFourEyes = errors.New("review: four eyes: an appeal is decided by someone other than the reviewer who made the appealed decision")
	// ErrForbidden: the reviewer's role may not review this queue.
	ErrForbidden = errors.New("review: forbidden")
	// ErrNotFound: no such item (or queue, or appeal) in the reviewer's
	// scope; it is store.ErrNotFound, so the API answers 404.
	ErrNotFound = store.ErrNotFound
	// ErrConflict: the request conflicts with stored state (store.ErrConflict).
	ErrConflict = store.ErrConflict
)

// InputError is a request the caller must fix (a 400): Code is stable.
type InputError struct {
	Code, Message string
}

func (e *InputError) Error() string { return e.Code + ": " + e.Message }

func inputErr(code, format string, args ...any) error {
	return &InputError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Item is one unit of review work.
type Item struct {
	ID            int64  `json:"id"`
	TenantID      string `json:"tenant_id"`
	DesignID      string `json:"design_id"`
	Kind          string `json:"kind"`
	Queue         string `json:"queue"`
	State         string `json:"state"`
	Priority      int    `json:"priority"`
	VerdictID     int64  `json:"verdict_id"`
	PolicyVersion string `json:"policy_version"`
	// Codes and Rules are the rule codes and names that asked for review
	// (for QA items: every rule that decided).
	Codes    []string             `json:"codes"`
	Rules    []string             `json:"rules"`
	Findings []mustertype.Finding `json:"findings"`
	// Automated is the per-market outcome of the verdict under review.
	Automated map[string]string `json:"automated"`
	// Proposed is what a new policy would decide (redecide items).
	Proposed map[string]string `json:"proposed,omitempty"`
	AppealID *int64            `json:"appeal_id,omitempty"`
	// Excluded reviewers may not take the item (four eyes).
	Excluded        []string          `json:"excluded,omitempty"`
	ClaimedBy       string            `json:"claimed_by,omitempty"`
	ClaimedAt       *time.Time        `json:"claimed_at,omitempty"`
	LeaseUntil      *time.Time        `json:"lease_until,omitempty"`
	Claims          int               `json:"claims"`
	Escalations     int               `json:"escalations"`
	DecidedBy       string            `json:"decided_by,omitempty"`
	DecidedAt       *time.Time        `json:"decided_at,omitempty"`
	Decision        map[string]string `json:"decision,omitempty"`
	Reason          string            `json:"reason,omitempty"`
	Note            string            `json:"note,omitempty"`
	ResultVerdictID *int64            `json:"result_verdict_id,omitempty"`
	ClosedReason    string            `json:"closed_reason,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	ReadyAt         time.Time         `json:"ready_at"`
	// AgeSeconds is how long the item has existed (until its decision).
	AgeSeconds float64 `json:"age_seconds"`
	// SLASeconds is its queue's SLA; SLABreached reports age > SLA.
	SLASeconds  int  `json:"sla_seconds"`
	SLABreached bool `json:"sla_breached"`
}

// Leased reports whether someone holds a live lease on the item at now.
func (it Item) Leased(now time.Time) bool {
	return it.LeaseUntil != nil && it.LeaseUntil.After(now) && it.State == StateOpen
}

func (s *Service) observeDecision(it Item, reviewer string, now time.Time) {
	if s.metrics == nil {
		return
	}
	s.metrics.ReviewDecisions.WithLabelValues(it.Queue, reviewer).Inc()
	s.metrics.ReviewCreateToDecision.WithLabelValues(it.Queue).Observe(now.Sub(it.CreatedAt).Seconds())
	if it.ClaimedAt != nil {
		s.metrics.ReviewClaimToDecision.WithLabelValues(it.Queue).Observe(now.Sub(*it.ClaimedAt).Seconds())
	}
	if it.SLASeconds > 0 && now.Sub(it.CreatedAt) > time.Duration(it.SLASeconds)*time.Second {
		s.metrics.ReviewSLABreaches.WithLabelValues(it.Queue).Inc()
	}
}

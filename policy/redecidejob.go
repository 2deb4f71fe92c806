package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Re-decisions are durable jobs in policy_redecisions (migration 0015), run
// by the same JobRunner as backtests: queued by QueueRedecide (a policy
// re-decision of every design since a time) or QueueLicenceRedecision (a
// tenant's designs with a finding of a bank entry whose licence changed),
// claimed with a lease renewed and checkpointed after every page, resumed
// by another runner after a crash, abandoned after max_attempts. Re-running
// a job, or the part of a page after its last checkpoint, writes nothing
// twice: a design already under the live version with the same outcome is
// skipped. Verdicts that change a market's outcome are announced through
// the store's outbox (verdict.changed), committed with the verdict.

// Re-decision kinds.
const (
	// RedecidePolicy re-decides every decided design created since a time
	// under the live version.
	RedecidePolicy = "policy"
	// RedecideLicence re-decides a tenant's designs with a finding of one
	// bank entry, with the licence as it stands when the job runs.
	RedecideLicence = "licence"
)

// RedecisionSamples is how many changed designs a job keeps (Changes).
const RedecisionSamples = 100

// DefaultRedecisionMaxDesigns bounds the designs one job reads.
const DefaultRedecisionMaxDesigns = 1_000_000

// Licences tells whether a tenant holds a licence for a bank entry now
// (bank.Store): licence re-decisions read it when they run, so a grant and
// a quick revoke end in the state that stands, whatever order their jobs
// ran in.
type Licences interface {
	Allowed(ctx context.Context, bank, entryID, tenantID string, now time.Time) (bool, error)
}

// Redecision is a durable re-decision job: its request, status, progress
// and what it changed.
type Redecision struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
	// Since: kind policy, designs created at or after.
	Since *time.Time `json:"since,omitempty"`
	// TenantID, Bank, EntryID: kind licence.
	TenantID    string `json:"tenant_id,omitempty"`
	Bank        string `json:"bank,omitempty"`
	EntryID     string `json:"entry_id,omitempty"`
	Event       string `json:"event"`
	RequestedBy string `json:"requested_by"`
	// Version is the live version the job decided under (last claim).
	Version string `json:"version,omitempty"`
	// Done of Total designs read (Total counted at the first claim, up to
	// MaxDesigns).
	Done       int  `json:"progress_done"`
	Total      int  `json:"progress_total"`
	MaxDesigns int  `json:"max_designs"`
	Truncated  bool `json:"truncated,omitempty"`
	// Rewritten got a new verdict row; Changed of them differ in some
	// market; Held were left alone because a reviewer decided them.
	Rewritten int `json:"rewritten"`
	Changed   int `json:"changed"`
	Held      int `json:"held"`
	// Changes are the first RedecisionSamples changed designs.
	Changes []Change `json:"changes"`
	// Tenants whose verdicts changed, sorted.
	Tenants     []string   `json:"tenants"`
	Error       string     `json:"error,omitempty"`
	Attempts    int        `json:"attempts"`
	MaxAttempts int        `json:"max_attempts"`
	LeaseOwner  string     `json:"lease_owner,omitempty"`
	LeaseUntil  *time.Time `json:"lease_until,omitempty"`
	HeartbeatAt *time.Time `json:"heartbeat_at,omitempty"`
	CancelledBy string     `json:"cancelled_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
}

// Finished reports whether the job reached a final status.
func (r Redecision) Finished() bool {
	return r.Status == BacktestDone || r.Status == BacktestFailed || r.Status == BacktestCancelled
}

const redecisionCols = `id, kind, status, since, coalesce(tenant_id::text, ''), coalesce(bank, ''), coalesce(entry_id, ''), event, requested_by,
	coalesce(version, ''), progress_done, progress_total, max_designs, truncated, rewritten, changed, held, changes, tenants, coalesce(error, ''),
	attempts, max_attempts, coalesce(lease_owner, ''), lease_until, heartbeat_at, coalesce(cancelled_by, ''), created_at, started_at, finished_at`

func scanRedecision(r pgx.Row) (Redecision, error) {
	var j Redecision
	var changes []byte
	err := r.Scan(&j.ID, &j.Kind, &j.Status, &j.Since, &j.TenantID, &j.Bank, &j.EntryID, &j.Event, &j.RequestedBy,
		&j.Version, &j.Done, &j.Total, &j.MaxDesigns, &j.Truncated, &j.Rewritten, &j.Changed, &j.Held, &changes, &j.Tenants, &j.Error,
		&j.Attempts, &j.MaxAttempts, &j.LeaseOwner, &j.LeaseUntil, &j.HeartbeatAt, &j.CancelledBy, &j.CreatedAt, &j.StartedAt, &j.FinishedAt)
	if err != nil {
		return Redecision{}, err
	}
	if err := json.Unmarshal(changes, &j.Changes); err != nil {
		return Redecision{}, fmt.Errorf("changes: %w", err)
	}
	if j.Changes == nil {
		j.Changes = []Change{}
	}
	if j.Tenants == nil {
		j.Tenants = []string{}
	}
	return j, nil
}

// QueueRedecide queues a re-decision of every decided design created at or
// after since under the live version. While an identical job waits, the
// waiting one is returned.
func (s *Store) QueueRedecide(ctx context.Context, a Actor, since time.Time) (Redecision, error) {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return Redecision{}, err
	}
	since = since.UTC().Truncate(time.Microsecond)
	return s.queueRedecision(ctx, a, RedecidePolicy, "policy:"+since.Format(time.RFC3339Nano), "verdict.redecided",
		[]any{since, nil, nil, nil}, map[string]any{"since": since})
}

// QueueLicenceRedecision queues a re-decision of the tenant's decided
// designs with a finding of (bankName, entryID): a licence for it was
// granted or revoked. The job reads the licence when it runs. While a job
// for the same tenant and entry waits, the waiting one is returned.
func (s *Store) QueueLicenceRedecision(ctx context.Context, a Actor, tenantID, bankName, entryID string) (Redecision, error) {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return Redecision{}, err
	}
	if tenantID == "" || bankName == "" || entryID == "" {
		return Redecision{}, fmt.Errorf("policy: licence re-decision needs a tenant, a bank and an entry")
	}
	return s.queueRedecision(ctx, a, RedecideLicence, "licence:"+tenantID+"/"+bankName+"/"+entryID, "verdict.licence_changed",
		[]any{nil, tenantID, bankName, entryID}, map[string]any{"tenant": tenantID, "bank": bankName, "entry": entryID})
}

func (s *Store) queueRedecision(ctx context.Context, a Actor, kind, key, event string, args []any, auditData map[string]any) (Redecision, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO policy_redecisions (kind, requested_by, since, tenant_id, bank, entry_id, event, dedupe_key)
			VALUES ($1, $2, $3, $4::uuid, $5, $6, $7, $8) ON CONFLICT (dedupe_key) WHERE status = 'queued' DO NOTHING RETURNING id`,
			kind, a.Name, args[0], args[1], args[2], args[3], event, key).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// One is waiting already: it will read the same state.
			return tx.QueryRow(ctx, `SELECT id FROM policy_redecisions WHERE dedupe_key = $1 AND status = 'queued'`, key).Scan(&id)
		}
		if err != nil {
			return err
		}
		d := map[string]any{"redecision": id, "kind": kind}
		maps.Copy(d, auditData)
		return audit(ctx, tx, "redecide.queue", a, nil, d)
	})
	if err != nil {
		return Redecision{}, fmt.Errorf("policy: queue re-decision: %w", err)
	}
	return s.Redecision(ctx, id)
}

// Redecision returns a re-decision job.
func (s *Store) Redecision(ctx context.Context, id int64) (Redecision, error) {
	j, err := scanRedecision(s.pool.QueryRow(ctx, `SELECT `+redecisionCols+` FROM policy_redecisions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Redecision{}, fmt.Errorf("policy: re-decision %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Redecision{}, fmt.Errorf("policy: re-decision %d: %w", id, err)
	}
	return j, nil
}

// Redecisions lists re-decision jobs, newest first; tenantID (if not empty)
// keeps the licence jobs of that tenant only.
func (s *Store) Redecisions(ctx context.Context, tenantID string, limit int) ([]Redecision, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+redecisionCols+` FROM policy_redecisions
		WHERE ($1 = '' OR tenant_id::text = $1) ORDER BY id DESC LIMIT $2`, tenantID, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("policy: re-decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Redecision, error) { return scanRedecision(r) })
	if err != nil {
		return nil, fmt.Errorf("policy: re-decisions: %w", err)
	}
	return out, nil
}

// CancelRedecision stops a queued or running re-decision; its runner
// notices at its next page. Verdicts it already recorded stand.
func (s *Store) CancelRedecision(ctx context.Context, a Actor, id int64) error {
	return s.cancelJob(ctx, a, "policy_redecisions", "redecision", "redecide.cancel", id)
}

// RunRedecision claims re-decision id (queued, or running with an expired
// lease) and runs it in the caller's goroutine, calling notify (if not nil)
// after each changed design is committed. ErrConflict if the job is not
// claimable.
func (s *Store) RunRedecision(ctx context.Context, id int64, notify func(context.Context, Change) error) (Redecision, error) {
	ran, err := s.runNextRedecision(ctx, BacktestConfig{}.WithDefaults(), id, notify)
	if err != nil {
		return Redecision{}, err
	}
	if !ran {
		return Redecision{}, fmt.Errorf("policy: re-decision %d: %w: not queued", id, ErrConflict)
	}
	j, err := s.Redecision(context.WithoutCancel(ctx), id)
	if err != nil {
		return j, err
	}
	if j.Status == BacktestFailed {
		return j, fmt.Errorf("policy: re-decision %d failed: %s", id, j.Error)
	}
	return j, nil
}

// Redecide re-decides every decided design created at or after since under
// the live version, in the caller's goroutine, as a durable job (queued,
// then run here; a crash leaves it for a runner to resume): a verdict row
// (cause "redecide") for each design whose latest verdict was under
// another version, notify (if not nil) for each whose outcome changed in
// some market, after its row is committed. Running it again is a no-op. A
// human decision is never overridden: the store keeps it (HeldByHuman).
func (s *Store) Redecide(ctx context.Context, a Actor, since time.Time, notify func(context.Context, Change) error) (RedecideReport, error) {
	j, err := s.QueueRedecide(ctx, a, since)
	if err != nil {
		return RedecideReport{}, err
	}
	var changed []Change
	collect := func(ctx context.Context, c Change) error {
		changed = append(changed, c)
		if notify != nil {
			return notify(ctx, c)
		}
		return nil
	}
	j, err = s.RunRedecision(ctx, j.ID, collect)
	rep := RedecideReport{Version: j.Version, Designs: j.Done, Rewritten: j.Rewritten, Changed: changed, HeldByHuman: j.Held, Tenants: j.Tenants}
	if err != nil {
		return rep, fmt.Errorf("policy: redecide: %w", err)
	}
	return rep, nil
}

// redecisionJob is a claimed re-decision.
type redecisionJob struct {
	Redecision
	cursorAt *time.Time
	cursorID *string
}

// runNextRedecision claims one re-decision (id 0: the oldest claimable) and
// runs it; ran is false when there was nothing to claim.
func (s *Store) runNextRedecision(ctx context.Context, cfg BacktestConfig, id int64, notify func(context.Context, Change) error) (ran bool, err error) {
	var j redecisionJob
	row := s.pool.QueryRow(ctx, `UPDATE policy_redecisions r SET status = 'running', attempts = attempts + 1, lease_owner = $1,
			lease_until = now() + $2::interval, heartbeat_at = now(), started_at = coalesce(started_at, now())
		WHERE id = (SELECT id FROM policy_redecisions
			WHERE (status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < now()))) AND ($3 = 0 OR id = $3)
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+redecisionCols+`, cursor_at, cursor_id::text`,
		cfg.Owner, fmt.Sprintf("%d milliseconds", cfg.Lease.Milliseconds()), id)
	var changes []byte
	err = row.Scan(&j.ID, &j.Kind, &j.Status, &j.Since, &j.TenantID, &j.Bank, &j.EntryID, &j.Event, &j.RequestedBy,
		&j.Version, &j.Done, &j.Total, &j.MaxDesigns, &j.Truncated, &j.Rewritten, &j.Changed, &j.Held, &changes, &j.Tenants, &j.Error,
		&j.Attempts, &j.MaxAttempts, &j.LeaseOwner, &j.LeaseUntil, &j.HeartbeatAt, &j.CancelledBy, &j.CreatedAt, &j.StartedAt, &j.FinishedAt,
		&j.cursorAt, &j.cursorID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("policy: claim re-decision: %w", err)
	}
	if err := json.Unmarshal(changes, &j.Changes); err != nil {
		return true, fmt.Errorf("policy: re-decision %d: changes: %w", j.ID, err)
	}
	log := cfg.Logger.With("redecision", j.ID, "kind", j.Kind, "attempt", j.Attempts, "runner", cfg.Owner)
	fctx := context.WithoutCancel(ctx)
	if j.Attempts > j.MaxAttempts {
		log.Error("policy: re-decision abandoned: its runners kept stopping", "max_attempts", j.MaxAttempts)
		_, err := s.pool.Exec(fctx, `UPDATE policy_redecisions SET status = 'failed', finished_at = now(), lease_owner = NULL, lease_until = NULL,
			error = $2 WHERE id = $1 AND lease_owner = $3`, j.ID, fmt.Sprintf("abandoned after %d attempts (its runner stopped or lost its lease each time)", j.MaxAttempts), cfg.Owner)
		s.cfg.jobDone("redecide_"+j.Kind, BacktestFailed)
		return true, err
	}
	log.Info("policy: re-decision claimed", "resume_from", j.Done)
	runErr := s.runRedecision(ctx, cfg, &j, notify)
	switch {
	case errors.Is(runErr, ErrLeaseLost):
		log.Warn("policy: re-decision lease lost (cancelled or taken over)")
		return true, nil
	case runErr != nil && ctx.Err() != nil:
		// Shutdown: back to the queue at the checkpoint; the interrupted
		// attempt does not count.
		_, err := s.pool.Exec(fctx, `UPDATE policy_redecisions SET status = 'queued', attempts = greatest(attempts - 1, 0), lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND lease_owner = $2 AND status = 'running'`, j.ID, cfg.Owner)
		if err != nil && strings.Contains(err.Error(), "policy_redecisions_one_queued") {
			// An identical job was queued meanwhile: it covers this one.
			_, err = s.pool.Exec(fctx, `UPDATE policy_redecisions SET status = 'cancelled', finished_at = now(), lease_owner = NULL, lease_until = NULL,
				error = 'superseded by a job queued while this one ran' WHERE id = $1 AND lease_owner = $2 AND status = 'running'`, j.ID, cfg.Owner)
		}
		log.Info("policy: re-decision released at shutdown", "err", err)
		return true, err
	case runErr != nil:
		log.Error("policy: re-decision failed", "err", runErr)
		_, err := s.pool.Exec(fctx, `UPDATE policy_redecisions SET status = 'failed', error = $2, finished_at = now(), lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND lease_owner = $3 AND status = 'running'`, j.ID, runErr.Error(), cfg.Owner)
		s.cfg.jobDone("redecide_"+j.Kind, BacktestFailed)
		return true, err
	}
	tag, err := s.pool.Exec(fctx, `UPDATE policy_redecisions SET status = 'done', finished_at = now(), lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND lease_owner = $2 AND status = 'running'`, j.ID, cfg.Owner)
	if err != nil {
		return true, fmt.Errorf("policy: re-decision %d: finish: %w", j.ID, err)
	}
	if tag.RowsAffected() == 0 {
		log.Warn("policy: re-decision finished after its lease was lost")
		return true, nil
	}
	s.cfg.jobDone("redecide_"+j.Kind, BacktestDone)
	aerr := pgx.BeginFunc(fctx, s.pool, func(tx pgx.Tx) error {
		return audit(fctx, tx, "redecide", Actor{Name: j.RequestedBy, Role: RoleLegal}, nil, map[string]any{"redecision": j.ID, "kind": j.Kind,
			"version": j.Version, "designs": j.Done, "rewritten": j.Rewritten, "changed": j.Changed, "held": j.Held})
	})
	log.Info("policy: re-decision done", "designs", j.Done, "rewritten", j.Rewritten, "changed", j.Changed, "held", j.Held)
	return true, aerr
}

// page reads the job's next page of stored designs.
func (s *Store) redecisionPage(ctx context.Context, j *redecisionJob, afterAt time.Time, afterID string, limit int) ([]mustertype.StoredDesign, error) {
	if j.Kind == RedecideLicence {
		return s.designs.StoredDesignsWithEntry(ctx, j.TenantID, j.Bank, j.EntryID, afterAt, afterID, limit)
	}
	return s.designs.StoredDesigns(ctx, *j.Since, afterAt, afterID, limit)
}

// runRedecision re-decides the job's designs from its checkpoint on,
// checkpointing and renewing the lease after every page.
func (s *Store) runRedecision(ctx context.Context, cfg BacktestConfig, j *redecisionJob, notify func(context.Context, Change) error) error {
	if s.designs == nil {
		return fmt.Errorf("policy: no design store configured")
	}
	st, err := s.State(ctx)
	if err != nil {
		return err
	}
	if st.Live == nil {
		return fmt.Errorf("no live version: %w", ErrNotFound)
	}
	live, err := s.Compiled(ctx, *st.Live)
	if err != nil {
		return err
	}
	j.Version = live.Version()
	r := redo{live: live, actor: j.RequestedBy, event: j.Event}
	if j.Kind == RedecideLicence {
		if s.cfg.Licences == nil {
			return fmt.Errorf("policy: licence re-decision: no licence source configured")
		}
		allowed, err := s.cfg.Licences.Allowed(ctx, j.Bank, j.EntryID, j.TenantID, time.Now())
		if err != nil {
			return err
		}
		r.adjust = func(in *mustertype.Input) {
			for i := range in.Findings {
				if f := &in.Findings[i]; f.Bank == j.Bank && f.EntryID == j.EntryID {
					f.Attrs.Allowlisted = allowed
				}
			}
		}
		if allowed {
			r.event = "verdict.licence_granted"
		} else {
			r.event = "verdict.licence_revoked"
		}
	}
	if j.cursorAt == nil {
		var total int
		if j.Kind == RedecideLicence {
			total, err = s.designs.CountStoredDesignsWithEntry(ctx, j.TenantID, j.Bank, j.EntryID)
		} else {
			total, err = s.designs.CountStoredDesigns(ctx, *j.Since)
		}
		if err != nil {
			return err
		}
		j.Total = min(total, j.MaxDesigns)
		if _, err := s.pool.Exec(ctx, `UPDATE policy_redecisions SET progress_total = $2, version = $3 WHERE id = $1`, j.ID, j.Total, j.Version); err != nil {
			return err
		}
	}
	var afterAt time.Time
	var afterID string
	if j.cursorAt != nil && j.cursorID != nil {
		afterAt, afterID = *j.cursorAt, *j.cursorID
	}
	tenants := map[string]bool{}
	for _, t := range j.Tenants {
		tenants[t] = true
	}
	for {
		page, err := s.redecisionPage(ctx, j, afterAt, afterID, cfg.PageSize)
		if err != nil {
			return fmt.Errorf("read stored designs: %w", err)
		}
		end := len(page) < cfg.PageSize
		n := 0
		for _, sd := range page {
			if j.Done >= j.MaxDesigns {
				j.Truncated, end = true, true
				break
			}
			ch, res, err := s.redecideOne(ctx, r, sd)
			if err != nil {
				return err
			}
			j.Done++
			switch res {
			case redoHeld:
				j.Held++
			case redoRewritten, redoChanged:
				j.Rewritten++
			}
			if res == redoChanged {
				j.Changed++
				tenants[ch.TenantID] = true
				if len(j.Changes) < RedecisionSamples {
					j.Changes = append(j.Changes, ch)
				}
				if notify != nil {
					if err := notify(ctx, ch); err != nil {
						return fmt.Errorf("design %s: notify: %w", ch.DesignID, err)
					}
				}
			}
			afterAt, afterID = sd.CreatedAt, sd.Input.DesignID
			n++
		}
		j.Tenants = sortedKeys(tenants)
		if n > 0 || end {
			if err := s.checkpointRedecision(ctx, cfg, j, afterAt, afterID); err != nil {
				return err
			}
		}
		if end {
			return nil
		}
	}
}

// checkpointRedecision stores the cursor and the counters and renews the
// lease; ErrLeaseLost if the job is no longer this runner's.
func (s *Store) checkpointRedecision(ctx context.Context, cfg BacktestConfig, j *redecisionJob, afterAt time.Time, afterID string) error {
	changes, err := json.Marshal(j.Changes)
	if err != nil {
		return err
	}
	var cursorAt *time.Time
	var cursorID *string
	if afterID != "" {
		cursorAt, cursorID = &afterAt, &afterID
	}
	tag, err := s.pool.Exec(ctx, `UPDATE policy_redecisions SET progress_done = $3, rewritten = $4, changed = $5, held = $6, changes = $7, tenants = $8,
			truncated = $9, cursor_at = coalesce($10, cursor_at), cursor_id = coalesce($11::uuid, cursor_id), version = $12,
			lease_until = now() + $13::interval, heartbeat_at = now()
		WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
		j.ID, cfg.Owner, j.Done, j.Rewritten, j.Changed, j.Held, changes, j.Tenants, j.Truncated, cursorAt, cursorID, j.Version,
		fmt.Sprintf("%d milliseconds", cfg.Lease.Milliseconds()))
	if err != nil {
		return fmt.Errorf("policy: re-decision %d checkpoint: %w", j.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// redo is how redecideOne re-decides a design.
type redo struct {
	live  *Compiled
	actor string
	event string
	// adjust changes the stored input first (a licence); nil: none.
	adjust func(*mustertype.Input)
}

type redoResult int

const (
	redoSkipped   redoResult = iota // already under the live version with the same outcome
	redoHeld                        // a reviewer's decision stands
	redoRewritten                   // a new verdict row, the same outcomes
	redoChanged                     // a new verdict row, some market's outcome changed
)

// redecideOne is the one re-decision step of every kind of job: decide the
// stored input (adjusted) under the live version and record a verdict
// (cause "redecide") when a market's outcome changes or the latest verdict
// was made under another version. The store never records it over a
// reviewer's decision (it opens a review item when they disagree): Held.
func (s *Store) redecideOne(ctx context.Context, r redo, sd mustertype.StoredDesign) (Change, redoResult, error) {
	prev, err := s.designs.LatestVerdict(ctx, sd.Input.DesignID)
	if err != nil && !isNotFound(err) {
		return Change{}, 0, fmt.Errorf("design %s: latest verdict: %w", sd.Input.DesignID, err)
	}
	sameVersion := prev.PolicyVersion == r.live.Version()
	if sameVersion && r.adjust == nil {
		// Same rules, same stored input: the same decision.
		return Change{}, redoSkipped, nil
	}
	in := sd.Input
	if r.adjust != nil {
		in.Findings = append([]mustertype.Finding(nil), in.Findings...)
		r.adjust(&in)
	}
	dec, err := r.live.Decide(ctx, in)
	if err != nil {
		return Change{}, 0, fmt.Errorf("design %s: %w", in.DesignID, err)
	}
	ch := Change{DesignID: in.DesignID, TenantID: in.TenantID, Before: prev.Decision.Outcome(), After: dec.Outcome(), Markets: changedMarkets(prev.Decision, dec), Decision: dec}
	if len(ch.Markets) == 0 && sameVersion {
		return Change{}, redoSkipped, nil
	}
	// The stored analyses are reused, so the analyzer, model and bank
	// versions behind them carry over; only the policy changes.
	versions := map[string]string{}
	maps.Copy(versions, prev.Versions)
	versions["policy"] = dec.PolicyVersion
	v, err := s.designs.RecordVerdict(ctx, mustertype.NewVerdict{DesignID: ch.DesignID, Decision: dec, Versions: versions,
		Cause: mustertype.CauseRedecide, Actor: r.actor, Event: r.event,
		EventData: map[string]any{"changed_markets": ch.Markets}})
	if err != nil {
		return Change{}, 0, fmt.Errorf("design %s: write verdict: %w", ch.DesignID, err)
	}
	if v.Cause == mustertype.CauseReview {
		return Change{}, redoHeld, nil
	}
	ch.VerdictID = v.ID
	if len(ch.Markets) == 0 {
		return ch, redoRewritten, nil
	}
	return ch, redoChanged, nil
}

// JobStats counts the durable jobs (backtests, re-decisions) by kind and
// status, for the metrics; the oldest queued job's age in seconds.
type JobStats struct {
	// Jobs maps kind ("backtest", "redecide_policy", "redecide_licence")
	// and status ("queued", "running") to a count.
	Jobs map[[2]string]int
	// OldestQueued is the age of the oldest queued job (0: none).
	OldestQueued time.Duration
}

// Stats reads JobStats.
func (s *Store) Stats(ctx context.Context) (JobStats, error) {
	out := JobStats{Jobs: map[[2]string]int{}}
	rows, err := s.pool.Query(ctx, `
		SELECT 'backtest', status, count(*), coalesce(extract(epoch FROM now() - min(created_at)) FILTER (WHERE status = 'queued'), 0)
			FROM policy_backtests WHERE status IN ('queued', 'running') GROUP BY status
		UNION ALL
		SELECT 'redecide_' || kind, status, count(*), coalesce(extract(epoch FROM now() - min(created_at)) FILTER (WHERE status = 'queued'), 0)
			FROM policy_redecisions WHERE status IN ('queued', 'running') GROUP BY kind, status`)
	if err != nil {
		return out, fmt.Errorf("policy: job stats: %w", err)
	}
	var kind, status string
	var n int
	var age float64
	_, err = pgx.ForEachRow(rows, []any{&kind, &status, &n, &age}, func() error {
		out.Jobs[[2]string{kind, status}] += n
		out.OldestQueued = max(out.OldestQueued, time.Duration(age*float64(time.Second)))
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("policy: job stats: %w", err)
	}
	return out, nil
}

// jobDone reports a finished job to Config.OnJobDone.
func (c Config) jobDone(kind, status string) {
	if c.OnJobDone != nil {
		c.OnJobDone(kind, status)
	}
}

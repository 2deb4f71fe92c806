package policy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Backtests are durable jobs in policy_backtests (migration 0012): queued
// by StartBacktest, claimed by a BacktestRunner with a lease it renews with
// every page, checkpointed after every page (cursor and partial result), so
// a runner that dies is replaced by another that resumes where the last
// checkpoint left off. Claims are counted; a job claimed more than
// max_attempts times fails instead of looping. The window (since ..
// created_at) is fixed when queued, and max_designs bounds the work.

// ErrLeaseLost: the job was cancelled or claimed by another runner while
// this one worked on it; the runner stops without writing.
var ErrLeaseLost = errors.New("policy: backtest lease lost")

// BacktestRequest asks for a backtest of the draft.
type BacktestRequest struct {
	// Days is the window: designs created in the last Days days (1..3650).
	Days int
	// MaxDesigns bounds the designs evaluated (0: 200,000).
	MaxDesigns int
}

// DefaultBacktestMaxDesigns bounds a backtest that names no bound.
const DefaultBacktestMaxDesigns = 200_000

// StartBacktest queues a backtest of the current draft over the designs of
// the last days days and returns its id; a BacktestRunner (or RunBacktest)
// does the work.
func (s *Store) StartBacktest(ctx context.Context, a Actor, days int) (int64, error) {
	return s.QueueBacktest(ctx, a, BacktestRequest{Days: days})
}

// QueueBacktest queues a backtest of the current draft.
func (s *Store) QueueBacktest(ctx context.Context, a Actor, req BacktestRequest) (int64, error) {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return 0, err
	}
	if req.Days <= 0 || req.Days > 3650 {
		return 0, fmt.Errorf("policy: backtest: days %d out of range 1..3650", req.Days)
	}
	if req.MaxDesigns == 0 {
		req.MaxDesigns = DefaultBacktestMaxDesigns
	}
	if req.MaxDesigns < 0 {
		return 0, fmt.Errorf("policy: backtest: max designs %d must be positive", req.MaxDesigns)
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO policy_backtests (status, days, content, draft_revision, base_version, requested_by, since, max_designs)
			SELECT 'queued', $1, d.content, d.revision, s.live_version, $2, now() - make_interval(days => $1), $3
			FROM policy_draft d, policy_state s RETURNING id`, req.Days, a.Name, req.MaxDesigns).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("draft: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, "backtest.start", a, nil, map[string]any{"backtest": id, "days": req.Days, "max_designs": req.MaxDesigns})
	})
	if err != nil {
		return 0, fmt.Errorf("policy: start backtest: %w", err)
	}
	return id, nil
}

// CancelBacktest stops a queued or running backtest; its runner notices at
// its next page and stops.
func (s *Store) CancelBacktest(ctx context.Context, a Actor, id int64) error {
	return s.cancelJob(ctx, a, "policy_backtests", "backtest", "backtest.cancel", id)
}

// cancelJob marks job id of table (policy_backtests or policy_redecisions)
// cancelled and audits it as action with the job under key what; a job
// already finished is ErrConflict.
func (s *Store) cancelJob(ctx context.Context, a Actor, table, what, action string, id int64) error {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE `+table+` SET status = 'cancelled', cancelled_by = $2, finished_at = now(), lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND status IN ('queued', 'running')`, id, a.Name)
		if err != nil {
			return fmt.Errorf("policy: cancel %s %d: %w", what, id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("policy: cancel %s %d: %w: not queued or running", what, id, ErrConflict)
		}
		return audit(ctx, tx, action, a, nil, map[string]any{what: id})
	})
}

// BacktestConfig bounds and paces job runners (backtests and
// re-decisions).
type BacktestConfig struct {
	// Workers is how many jobs one runner works on at once (1).
	Workers int
	// Lease is how long a claim lasts without a heartbeat (1 min); a page
	// renews it.
	Lease time.Duration
	// Poll is how often an idle runner looks for work (2 s); Kick wakes it
	// sooner.
	Poll time.Duration
	// PageSize is how many designs are read and checkpointed at a time (500).
	PageSize int
	// Owner names the runner in lease_owner (default host:pid:random).
	Owner  string
	Logger *slog.Logger
}

// WithDefaults fills zero fields.
func (c BacktestConfig) WithDefaults() BacktestConfig {
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.PageSize <= 0 {
		c.PageSize = 500
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// JobRunner runs the policy's durable jobs: it claims queued backtests
// and re-decisions (and those whose runner's lease ran out) and runs them,
// Workers at a time. Its owner runs Run until the context ends; a job
// interrupted by shutdown goes back to the queue at its checkpoint without
// counting the attempt.
type JobRunner struct {
	st   *Store
	cfg  BacktestConfig
	kick chan struct{}
}

// NewJobRunner returns a runner over s.
func (s *Store) NewJobRunner(cfg BacktestConfig) *JobRunner {
	return &JobRunner{st: s, cfg: cfg.WithDefaults(), kick: make(chan struct{}, 1)}
}

// Kick wakes an idle runner (a job was just queued in this process).
func (r *JobRunner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run works until ctx ends and returns nil then.
func (r *JobRunner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Go(func() { r.loop(ctx) })
	}
	wg.Wait()
	return nil
}

func (r *JobRunner) loop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-t.C:
		}
		for ctx.Err() == nil {
			ranB, err := r.st.runNext(ctx, r.cfg, 0)
			if err != nil && ctx.Err() == nil {
				r.cfg.Logger.Error("policy: backtest", "err", err)
			}
			ranR, err := r.st.runNextRedecision(ctx, r.cfg, 0, nil)
			if err != nil && ctx.Err() == nil {
				r.cfg.Logger.Error("policy: re-decision", "err", err)
			}
			if !ranB && !ranR {
				break
			}
		}
		t.Reset(r.cfg.Poll)
	}
}

// RunBacktest claims backtest id (queued, or running with an expired lease)
// and runs it in the caller's goroutine. It returns ErrConflict if the job
// is not claimable (done, failed, cancelled, or held by a live runner).
func (s *Store) RunBacktest(ctx context.Context, id int64) error {
	ran, err := s.runNext(ctx, BacktestConfig{}.WithDefaults(), id)
	if err != nil {
		return err
	}
	if !ran {
		return fmt.Errorf("policy: backtest %d: %w: not queued", id, ErrConflict)
	}
	b, err := s.Backtest(context.WithoutCancel(ctx), id)
	if err != nil {
		return err
	}
	if b.Status == BacktestFailed {
		return fmt.Errorf("policy: backtest %d failed: %s", id, b.Error)
	}
	return nil
}

// job is a claimed backtest.
type job struct {
	id                       int64
	content                  []byte
	base                     *int
	since, until             time.Time
	cursorAt                 *time.Time
	cursorID                 *string
	partial                  []byte
	attempts, maxAttempts    int
	maxDesigns, total, done0 int
}

// runNext claims one job (id 0: the oldest claimable) and runs it; ran is
// false when there was nothing to claim.
func (s *Store) runNext(ctx context.Context, cfg BacktestConfig, id int64) (ran bool, err error) {
	var j job
	err = s.pool.QueryRow(ctx, `UPDATE policy_backtests b SET status = 'running', attempts = attempts + 1, lease_owner = $1,
			lease_until = now() + $2::interval, heartbeat_at = now(), started_at = coalesce(started_at, now())
		WHERE id = (SELECT id FROM policy_backtests
			WHERE (status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < now()))) AND ($3 = 0 OR id = $3)
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id, content, base_version, coalesce(since, created_at - make_interval(days => days)), created_at, cursor_at, cursor_id::text,
			partial, attempts, max_attempts, max_designs, progress_total, progress_done`,
		cfg.Owner, fmt.Sprintf("%d milliseconds", cfg.Lease.Milliseconds()), id).
		Scan(&j.id, &j.content, &j.base, &j.since, &j.until, &j.cursorAt, &j.cursorID, &j.partial, &j.attempts, &j.maxAttempts, &j.maxDesigns, &j.total, &j.done0)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("policy: claim backtest: %w", err)
	}
	log := cfg.Logger.With("backtest", j.id, "attempt", j.attempts, "runner", cfg.Owner)
	fctx := context.WithoutCancel(ctx)
	if j.attempts > j.maxAttempts {
		log.Error("policy: backtest abandoned: its runners kept stopping", "max_attempts", j.maxAttempts)
		_, err := s.pool.Exec(fctx, `UPDATE policy_backtests SET status = 'failed', finished_at = now(), lease_owner = NULL, lease_until = NULL,
			error = $2 WHERE id = $1 AND lease_owner = $3`, j.id, fmt.Sprintf("abandoned after %d attempts (its runner stopped or lost its lease each time)", j.maxAttempts), cfg.Owner)
		s.cfg.jobDone("backtest", BacktestFailed)
		return true, err
	}
	log.Info("policy: backtest claimed", "resume_from", j.done0)
	res, runErr := s.runJob(ctx, cfg, &j)
	switch {
	case errors.Is(runErr, ErrLeaseLost):
		log.Warn("policy: backtest lease lost (cancelled or taken over)")
		return true, nil
	case runErr != nil && ctx.Err() != nil:
		// Shutdown: back to the queue, keeping the checkpoint; this
		// interrupted attempt does not count.
		_, err := s.pool.Exec(fctx, `UPDATE policy_backtests SET status = 'queued', attempts = greatest(attempts - 1, 0), lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND lease_owner = $2 AND status = 'running'`, j.id, cfg.Owner)
		log.Info("policy: backtest released at shutdown", "err", err)
		return true, err
	case runErr != nil:
		log.Error("policy: backtest failed", "err", runErr)
		s.cfg.jobDone("backtest", BacktestFailed)
		_, err := s.pool.Exec(fctx, `UPDATE policy_backtests SET status = 'failed', error = $2, finished_at = now(), lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND lease_owner = $3 AND status = 'running'`, j.id, runErr.Error(), cfg.Owner)
		return true, err
	}
	tag, err := s.pool.Exec(fctx, `UPDATE policy_backtests SET status = 'done', result = $2, partial = NULL, progress_done = $4, finished_at = now(),
			lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND lease_owner = $3 AND status = 'running'`, j.id, res, cfg.Owner, res.Designs)
	if err != nil {
		return true, fmt.Errorf("policy: backtest %d: store result: %w", j.id, err)
	}
	if tag.RowsAffected() == 0 {
		log.Warn("policy: backtest finished after its lease was lost; result dropped")
		return true, nil
	}
	s.cfg.jobDone("backtest", BacktestDone)
	log.Info("policy: backtest done", "designs", res.Designs, "changed", res.Changed, "designs_per_second", res.DesignsPerSecond)
	return true, nil
}

// runJob evaluates the job from its checkpoint to the end of its window,
// checkpointing and renewing its lease after every page.
func (s *Store) runJob(ctx context.Context, cfg BacktestConfig, j *job) (*BacktestResult, error) {
	draft, err := s.cache.Get(fmt.Sprintf("backtest/%d", j.id), j.content)
	if err != nil {
		return nil, err
	}
	if j.base == nil {
		return nil, fmt.Errorf("no live version to compare with: %w", ErrNotFound)
	}
	live, err := s.Compiled(ctx, *j.base)
	if err != nil {
		return nil, err
	}
	res := &BacktestResult{Live: live.Version(), Draft: draft.Version(), Markets: map[string]*MarketChanges{}}
	if len(j.partial) > 0 {
		if err := json.Unmarshal(j.partial, res); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		res.Live, res.Draft = live.Version(), draft.Version()
	}
	if j.cursorAt == nil {
		// First claim: the total is counted once (designs in the window,
		// up to the bound).
		total, err := s.countStored(ctx, j.since)
		if err != nil {
			return nil, err
		}
		j.total = min(total, j.maxDesigns)
		if _, err := s.pool.Exec(ctx, `UPDATE policy_backtests SET progress_total = $2 WHERE id = $1`, j.id, j.total); err != nil {
			return nil, err
		}
	}
	var afterAt time.Time
	var afterID string
	if j.cursorAt != nil && j.cursorID != nil {
		afterAt, afterID = *j.cursorAt, *j.cursorID
	}
	if s.designs == nil {
		return nil, fmt.Errorf("policy: no design store configured")
	}
	for {
		start := time.Now()
		page, err := s.designs.StoredDesigns(ctx, j.since, afterAt, afterID, cfg.PageSize)
		if err != nil {
			return nil, fmt.Errorf("policy: read stored designs: %w", err)
		}
		end := false
		n := 0
		for _, sd := range page {
			if sd.CreatedAt.After(j.until) {
				end = true
				break
			}
			if res.Designs >= j.maxDesigns {
				res.Truncated, end = true, true
				break
			}
			if err := compareOne(ctx, res, live, draft, sd); err != nil {
				return nil, err
			}
			afterAt, afterID = sd.CreatedAt, sd.Input.DesignID
			n++
		}
		res.ElapsedSeconds += time.Since(start).Seconds()
		if res.ElapsedSeconds > 0 {
			res.DesignsPerSecond = float64(res.Designs) / res.ElapsedSeconds
		}
		if len(page) < cfg.PageSize {
			end = true
		}
		if end {
			return res, nil
		}
		if n > 0 {
			if err := s.checkpoint(ctx, cfg, j.id, res, afterAt, afterID); err != nil {
				return nil, err
			}
		}
	}
}

// checkpoint stores the progress and the result so far, and renews the
// lease; ErrLeaseLost if the job is no longer this runner's.
func (s *Store) checkpoint(ctx context.Context, cfg BacktestConfig, id int64, res *BacktestResult, afterAt time.Time, afterID string) error {
	partial, err := json.Marshal(res)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE policy_backtests SET progress_done = $3, cursor_at = $4, cursor_id = $5::uuid, partial = $6,
			lease_until = now() + $7::interval, heartbeat_at = now()
		WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
		id, cfg.Owner, res.Designs, afterAt, afterID, partial, fmt.Sprintf("%d milliseconds", cfg.Lease.Milliseconds()))
	if err != nil {
		return fmt.Errorf("policy: backtest %d checkpoint: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// compareOne evaluates both versions on one stored design and counts it.
func compareOne(ctx context.Context, res *BacktestResult, live, draft *Compiled, sd mustertype.StoredDesign) error {
	a, err := live.Decide(ctx, sd.Input)
	if err != nil {
		return err
	}
	b, err := draft.Decide(ctx, sd.Input)
	if err != nil {
		return err
	}
	res.Designs++
	changed := false
	for i, mv := range a.Markets {
		to := b.Markets[i].Outcome
		mc := res.Markets[mv.Market]
		if mc == nil {
			mc = &MarketChanges{Live: map[string]int{}, Draft: map[string]int{}, Changes: map[string]int{}, Samples: map[string][]string{}}
			res.Markets[mv.Market] = mc
		}
		mc.Live[mv.Outcome]++
		mc.Draft[to]++
		if to != mv.Outcome {
			changed = true
			k := mv.Outcome + "→" + to
			mc.Changes[k]++
			if len(mc.Samples[k]) < BacktestSamples {
				mc.Samples[k] = append(mc.Samples[k], sd.Input.DesignID)
			}
		}
	}
	if changed {
		res.Changed++
	}
	return nil
}

// ChangeKey splits a transition key ("allow→block") into its outcomes.
func ChangeKey(k string) (from, to string) {
	from, to, _ = strings.Cut(k, "→")
	return from, to
}

package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/muster-dev/muster/mustertype"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backtest statuses.
const (
	BacktestQueued  = "queued"
	BacktestRunning = "running"
	BacktestDone    = "done"
	BacktestFailed  = "failed"
)

// BacktestSamples is how many design ids are kept per market and change.
const BacktestSamples = 10

// Backtest is a background evaluation of a draft over stored signals.
type Backtest struct {
	ID            int64           `json:"id"`
	Status        string          `json:"status"`
	Days          int             `json:"days"`
	DraftRevision *int64          `json:"draft_revision,omitempty"`
	BaseVersion   *int            `json:"base_version,omitempty"`
	RequestedBy   string          `json:"requested_by"`
	Done          int             `json:"progress_done"`
	Total         int             `json:"progress_total"`
	Result        *BacktestResult `json:"result,omitempty"`
	Error         string          `json:"error,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	StartedAt     *time.Time      `json:"started_at,omitempty"`
	FinishedAt    *time.Time      `json:"finished_at,omitempty"`
}

// BacktestResult compares the draft with the live version on the same stored
// signals (so only the policy change shows, not older verdicts' versions).
type BacktestResult struct {
	Live  string `json:"live"`
	Draft string `json:"draft"`
	// Designs evaluated, and how many changed outcome in at least one market.
	Designs int `json:"designs"`
	Changed int `json:"changed"`
	// Markets maps a market to its counts.
	Markets map[string]*MarketChanges `json:"markets"`
	// DesignsPerSecond is the evaluation rate (both versions per design).
	DesignsPerSecond float64 `json:"designs_per_second"`
}

// MarketChanges counts outcomes in one market.
type MarketChanges struct {
	// Live and Draft count designs per outcome under each version.
	Live  map[string]int `json:"live"`
	Draft map[string]int `json:"draft"`
	// Changes counts designs per transition "allow→block"; Samples keeps up
	// to BacktestSamples design ids per transition.
	Changes map[string]int      `json:"changes"`
	Samples map[string][]string `json:"samples"`
}

// StartBacktest queues a backtest of the current draft over the designs of
// the last days days and returns its id; RunBacktest does the work.
func (s *Store) StartBacktest(ctx context.Context, a Actor, days int) (int64, error) {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return 0, err
	}
	if days <= 0 || days > 3650 {
		return 0, fmt.Errorf("policy: backtest: days %d out of range 1..3650", days)
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO policy_backtests (status, days, content, draft_revision, base_version, requested_by)
			SELECT 'queued', $1, d.content, d.revision, s.live_version, $2 FROM policy_draft d, policy_state s RETURNING id`, days, a.Name).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("draft: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, "backtest.start", a, nil, map[string]any{"backtest": id, "days": days})
	})
	if err != nil {
		return 0, fmt.Errorf("policy: start backtest: %w", err)
	}
	return id, nil
}

// RunBacktest claims a queued backtest and runs it, writing progress after
// every page and the result at the end. It returns ErrConflict if another
// runner claimed it.
func (s *Store) RunBacktest(ctx context.Context, id int64) error {
	var content string
	var base *int
	var days int
	err := s.pool.QueryRow(ctx, `UPDATE policy_backtests SET status = 'running', started_at = now()
		WHERE id = $1 AND status = 'queued' RETURNING content, base_version, days`, id).Scan(&content, &base, &days)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("policy: backtest %d: %w: not queued", id, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("policy: backtest %d: %w", id, err)
	}
	res, runErr := s.runBacktest(ctx, id, []byte(content), base, days)
	fctx := context.WithoutCancel(ctx)
	if runErr != nil {
		_, err := s.pool.Exec(fctx, `UPDATE policy_backtests SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`, id, runErr.Error())
		return errors.Join(runErr, err)
	}
	if _, err := s.pool.Exec(fctx, `UPDATE policy_backtests SET status = 'done', result = $2, finished_at = now() WHERE id = $1`, id, res); err != nil {
		return fmt.Errorf("policy: backtest %d: store result: %w", id, err)
	}
	return nil
}

func (s *Store) runBacktest(ctx context.Context, id int64, content []byte, base *int, days int) (*BacktestResult, error) {
	draft, err := s.cache.Get(fmt.Sprintf("backtest/%d", id), content)
	if err != nil {
		return nil, err
	}
	if base == nil {
		return nil, fmt.Errorf("no live version to compare with: %w", ErrNotFound)
	}
	live, err := s.Compiled(ctx, *base)
	if err != nil {
		return nil, err
	}
	since := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	total, err := s.countStored(ctx, since)
	if err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `UPDATE policy_backtests SET progress_total = $2 WHERE id = $1`, id, total); err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := compareOver(ctx, s, since, live, draft, func(done int) error {
		_, err := s.pool.Exec(ctx, `UPDATE policy_backtests SET progress_done = $2 WHERE id = $1`, id, done)
		return err
	})
	if err != nil {
		return nil, err
	}
	if el := time.Since(start).Seconds(); el > 0 {
		res.DesignsPerSecond = float64(res.Designs) / el
	}
	return res, nil
}

// compareOver evaluates both versions on every stored design since since.
func compareOver(ctx context.Context, s *Store, since time.Time, live, draft *Compiled, progress func(done int) error) (*BacktestResult, error) {
	res := &BacktestResult{Live: live.Version(), Draft: draft.Version(), Markets: map[string]*MarketChanges{}}
	err := s.forEachStored(ctx, since, 500, func(page []mustertype.StoredDesign) error {
		for _, sd := range page {
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
		}
		return progress(res.Designs)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Backtest returns a backtest's status, progress and result.
func (s *Store) Backtest(ctx context.Context, id int64) (Backtest, error) {
	var b Backtest
	var result []byte
	var errText *string
	err := s.pool.QueryRow(ctx, `SELECT id, status, days, draft_revision, base_version, requested_by, progress_done, progress_total,
		result, error, created_at, started_at, finished_at FROM policy_backtests WHERE id = $1`, id).
		Scan(&b.ID, &b.Status, &b.Days, &b.DraftRevision, &b.BaseVersion, &b.RequestedBy, &b.Done, &b.Total, &result, &errText, &b.CreatedAt, &b.StartedAt, &b.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Backtest{}, fmt.Errorf("policy: backtest %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Backtest{}, fmt.Errorf("policy: backtest %d: %w", id, err)
	}
	if errText != nil {
		b.Error = *errText
	}
	if result != nil {
		b.Result = &BacktestResult{}
		if err := json.Unmarshal(result, b.Result); err != nil {
			return Backtest{}, fmt.Errorf("policy: backtest %d result: %w", id, err)
		}
	}
	return b, nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backtest statuses.
const (
	BacktestQueued  = "queued"
	BacktestRunning = "running"
	BacktestDone    = "done"
	BacktestFailed  = "failed"
	// BacktestCancelled: stopped by a user before it finished.
	BacktestCancelled = "cancelled"
)

// BacktestSamples is how many design ids are kept per market and change.
const BacktestSamples = 20

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
	// Since is the window's start (the window ends at CreatedAt).
	Since time.Time `json:"since"`
	// Attempts counts claims by a runner (MaxAttempts at most).
	Attempts    int `json:"attempts"`
	MaxAttempts int `json:"max_attempts"`
	// MaxDesigns bounds the designs evaluated.
	MaxDesigns int `json:"max_designs"`
	// LeaseOwner is the runner holding the job, until LeaseUntil; it renews
	// the lease with every page (HeartbeatAt).
	LeaseOwner  string     `json:"lease_owner,omitempty"`
	LeaseUntil  *time.Time `json:"lease_until,omitempty"`
	HeartbeatAt *time.Time `json:"heartbeat_at,omitempty"`
	CancelledBy string     `json:"cancelled_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
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
	// DesignsPerSecond is the evaluation rate (both versions per design),
	// over ElapsedSeconds of evaluation summed across attempts.
	DesignsPerSecond float64 `json:"designs_per_second"`
	ElapsedSeconds   float64 `json:"elapsed_seconds"`
	// Truncated: the job stopped at its max_designs bound.
	Truncated bool `json:"truncated,omitempty"`
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

// backtestCols are the columns scanBacktest reads.
const backtestCols = `id, status, days, draft_revision, base_version, requested_by, progress_done, progress_total,
	result, error, created_at, started_at, finished_at, coalesce(since, created_at), attempts, max_attempts, max_designs,
	coalesce(lease_owner, ''), lease_until, heartbeat_at, coalesce(cancelled_by, '')`

func scanBacktest(r pgx.Row) (Backtest, error) {
	var b Backtest
	var result []byte
	var errText *string
	err := r.Scan(&b.ID, &b.Status, &b.Days, &b.DraftRevision, &b.BaseVersion, &b.RequestedBy, &b.Done, &b.Total, &result, &errText,
		&b.CreatedAt, &b.StartedAt, &b.FinishedAt, &b.Since, &b.Attempts, &b.MaxAttempts, &b.MaxDesigns, &b.LeaseOwner, &b.LeaseUntil,
		&b.HeartbeatAt, &b.CancelledBy)
	if err != nil {
		return Backtest{}, err
	}
	if errText != nil {
		b.Error = *errText
	}
	if result != nil {
		b.Result = &BacktestResult{}
		if err := json.Unmarshal(result, b.Result); err != nil {
			return Backtest{}, fmt.Errorf("result: %w", err)
		}
	}
	return b, nil
}

// Backtest returns a backtest's status, progress and result.
func (s *Store) Backtest(ctx context.Context, id int64) (Backtest, error) {
	b, err := scanBacktest(s.pool.QueryRow(ctx, `SELECT `+backtestCols+` FROM policy_backtests WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Backtest{}, fmt.Errorf("policy: backtest %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Backtest{}, fmt.Errorf("policy: backtest %d: %w", id, err)
	}
	return b, nil
}

// Backtests lists backtests, newest first, without their results.
func (s *Store) Backtests(ctx context.Context, limit int) ([]Backtest, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+strings.Replace(backtestCols, "result,", "NULL::jsonb,", 1)+`
		FROM policy_backtests ORDER BY id DESC LIMIT $1`, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("policy: backtests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Backtest, error) { return scanBacktest(r) })
	if err != nil {
		return nil, fmt.Errorf("policy: backtests: %w", err)
	}
	return out, nil
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

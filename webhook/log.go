package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Log is the delivery log, webhook_deliveries (owned by this package).
type Log struct {
	pool *pgxpool.Pool
}

// NewLog returns the delivery log on pool.
func NewLog(pool *pgxpool.Pool) *Log { return &Log{pool: pool} }

// Delivery is one attempt to notify a tenant.
type Delivery struct {
	ID int64 `json:"id"`
	// DeliveryID is the same on every attempt of one event.
	DeliveryID string    `json:"delivery_id"`
	TenantID   string    `json:"-"`
	EventType  string    `json:"event_type"`
	DesignID   string    `json:"design_id,omitempty"`
	VerdictID  int64     `json:"verdict_id,omitempty"` // 0: none (a failure event)
	URL        string    `json:"url"`
	StatusCode int       `json:"status_code,omitempty"` // 0: no response
	Error      string    `json:"error,omitempty"`
	Attempt    int       `json:"attempt"`
	DurationMS float64   `json:"duration_ms"`
	CreatedAt  time.Time `json:"created_at"`
}

// Record stores a delivery attempt.
func (l *Log) Record(ctx context.Context, d Delivery) error {
	_, err := l.pool.Exec(ctx, `INSERT INTO webhook_deliveries (tenant_id, design_id, verdict_id, url, status_code, error, attempt, delivery_id, event_type, duration_ms)
		VALUES ($1, NULLIF($2, '')::uuid, NULLIF($3, 0), $4, NULLIF($5, 0), NULLIF($6, ''), $7, $8, $9, $10)`,
		d.TenantID, d.DesignID, d.VerdictID, d.URL, d.StatusCode, d.Error, d.Attempt, d.DeliveryID, d.EventType, d.DurationMS)
	if err != nil {
		return fmt.Errorf("record webhook delivery %s: %w", d.DeliveryID, err)
	}
	return nil
}

// Attempts returns how many attempts of a delivery were recorded and
// whether one of them was answered with a 2xx.
func (l *Log) Attempts(ctx context.Context, deliveryID string) (int, bool, error) {
	var n int
	var ok bool
	err := l.pool.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(status_code BETWEEN 200 AND 299), false)
		FROM webhook_deliveries WHERE delivery_id = $1`, deliveryID).Scan(&n, &ok)
	if err != nil {
		return 0, false, fmt.Errorf("attempts of webhook delivery %s: %w", deliveryID, err)
	}
	return n, ok, nil
}

// Query selects a page of a tenant's deliveries, newest first.
type Query struct {
	TenantID string
	// Before is the keyset cursor: only attempts with a smaller id (0: from the newest).
	Before int64
	// DesignID narrows to one design ("" for all).
	DesignID string
	Limit    int
}

// List returns a page of a tenant's delivery attempts, newest first, and
// the cursor of the next page (0 when this is the last).
func (l *Log) List(ctx context.Context, q Query) ([]Delivery, int64, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	rows, err := l.pool.Query(ctx, `SELECT id, coalesce(delivery_id, ''), tenant_id::text, coalesce(event_type, ''), coalesce(design_id::text, ''),
			coalesce(verdict_id, 0), url, coalesce(status_code, 0), coalesce(error, ''), attempt, coalesce(duration_ms, 0), created_at
		FROM webhook_deliveries
		WHERE tenant_id = $1 AND ($2 = 0 OR id < $2) AND ($3 = '' OR design_id::text = $3)
		ORDER BY id DESC LIMIT $4`, q.TenantID, q.Before, q.DesignID, q.Limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("list webhook deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := r.Scan(&d.ID, &d.DeliveryID, &d.TenantID, &d.EventType, &d.DesignID, &d.VerdictID, &d.URL, &d.StatusCode, &d.Error, &d.Attempt, &d.DurationMS, &d.CreatedAt)
		return d, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list webhook deliveries: %w", err)
	}
	var next int64
	if len(out) > q.Limit {
		out = out[:q.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

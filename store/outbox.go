package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Outbox topics: what a message is, so the relay knows where it goes.
const (
	// TopicDesignSubmitted carries a mustertype.DesignSubmitted: the design
	// goes onto the work queue.
	TopicDesignSubmitted = "design.submitted"
	// TopicVerdictEvent carries a mustertype.VerdictEvent: it goes onto the
	// verdict stream (waiters, webhooks).
	TopicVerdictEvent = "verdict.event"
)

// OutboxMessage is one message waiting to be published.
type OutboxMessage struct {
	ID        int64
	Topic     string
	MsgID     string
	Payload   json.RawMessage
	CreatedAt time.Time
	Attempts  int
}

// enqueueTx writes a message to the outbox inside tx, so it is published
// if and only if the change it announces commits.
func enqueueTx(ctx context.Context, tx pgx.Tx, topic, msgID string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("outbox: encode %s: %w", topic, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (topic, msg_id, payload) VALUES ($1, $2, $3)`, topic, msgID, b); err != nil {
		return fmt.Errorf("outbox: %s: %w", topic, err)
	}
	return nil
}

// enqueueVerdictEventTx writes a verdict event with a fresh event id.
func enqueueVerdictEventTx(ctx context.Context, tx pgx.Tx, ev mustertype.VerdictEvent) error {
	if ev.EventID == "" {
		ev.EventID = uuid.NewString()
	}
	return enqueueTx(ctx, tx, TopicVerdictEvent, ev.MsgID(), ev)
}

// EnqueueVerdictEventTx writes a verdict event (an appeal decided, …) to
// the outbox inside the caller's transaction: it is published on the
// design's verdict subject if and only if tx commits.
func (s *Store) EnqueueVerdictEventTx(ctx context.Context, tx pgx.Tx, ev mustertype.VerdictEvent) error {
	return enqueueVerdictEventTx(ctx, tx, ev)
}

// ErrUnpublishable marks a publish error that retrying cannot fix (a
// payload that does not decode): the message is set aside (marked sent with
// its error) instead of holding up the ones behind it.
var ErrUnpublishable = errors.New("unpublishable outbox message")

// RelayOutbox claims up to limit unsent messages, oldest first and skipping
// those another relay holds, calls publish for each in order and marks the
// published ones sent — all in one transaction, so a relay that dies
// mid-batch leaves its messages unsent (publishing again is safe: the
// receiving stream drops a repeated msg id). The first publish error ends
// the batch; it is recorded on the message and returned. It returns how
// many messages were published.
func (s *Store) RelayOutbox(ctx context.Context, limit int, publish func(context.Context, OutboxMessage) error) (int, error) {
	sent := 0
	var perr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, topic, msg_id, payload, created_at, attempts FROM outbox
			WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
		if err != nil {
			return err
		}
		msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxMessage, error) {
			var m OutboxMessage
			err := r.Scan(&m.ID, &m.Topic, &m.MsgID, &m.Payload, &m.CreatedAt, &m.Attempts)
			return m, err
		})
		if err != nil {
			return err
		}
		var ids []int64
		for _, m := range msgs {
			if perr = publish(ctx, m); errors.Is(perr, ErrUnpublishable) {
				if _, err := tx.Exec(ctx, `UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1`, m.ID, perr.Error()); err != nil {
					return err
				}
				perr = nil
				continue
			}
			if perr != nil {
				if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, m.ID, perr.Error()); err != nil {
					return err
				}
				break
			}
			ids = append(ids, m.ID)
		}
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1)`, ids); err != nil {
				return err
			}
		}
		sent = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("relay outbox: %w", err)
	}
	if perr != nil {
		return sent, fmt.Errorf("relay outbox: publish: %w", perr)
	}
	return sent, nil
}

// OutboxBacklog reports how many messages are unsent and the age of the
// oldest, for metrics and the soak's checks.
func (s *Store) OutboxBacklog(ctx context.Context) (int, time.Duration, error) {
	var n int
	var age float64
	if err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
		FROM outbox WHERE sent_at IS NULL`).Scan(&n, &age); err != nil {
		return 0, 0, fmt.Errorf("outbox backlog: %w", err)
	}
	return n, time.Duration(age * float64(time.Second)), nil
}

// PruneOutbox deletes messages sent longer ago than age.
func (s *Store) PruneOutbox(ctx context.Context, age time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)`, age.Seconds())
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return tag.RowsAffected(), nil
}

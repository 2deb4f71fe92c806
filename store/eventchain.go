package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// The event log is a hash chain (migration 0020_events_chain.sql): an event
// is inserted in its verdict's transaction with no chain columns and no lock
// shared with other writers; a chainer (ChainEvents, run by every serving
// process through RunEventChainer and by `muster audit verify`) gives every
// committed unchained event the next gap-free chain id, the previous
// chained event's hash and its own hash, under the chain head's row lock.

// eventChainBatch is how many events one events_chain call links.
const eventChainBatch = 2000

// DefaultEventChainEvery is how often RunEventChainer links new events.
const DefaultEventChainEvery = 250 * time.Millisecond

var eventGenesis = make([]byte, sha256.Size)

// eventChainHash is sha256(prev || canonical content): the same bytes the
// events_chain_hash SQL function hashes (migrations/0020_events_chain.sql).
// The content names every column, the chain id and the row id included, so
// a reordered or renumbered row breaks it too; text fields carry their byte
// length so no edit can shift a boundary between them. data is the jsonb's
// canonical text (data::text).
func eventChainHash(prev []byte, chainID, id int64, at time.Time, tenant, design, typ, actor, data string) []byte {
	h := sha256.New()
	h.Write(prev)
	fmt.Fprintf(h, "muster-event-v1\n%d\n%d\n%d\n%s\n%s\n%d:%s\n%d:%s\n%d:%s",
		chainID, id, at.UnixMicro(), tenant, design, len(typ), typ, len(actor), actor, len(data), data)
	return h.Sum(nil)
}

// ChainEvents links every committed unchained event into the hash chain
// (events_chain, in batches) and returns how many it linked. Chainers in
// several processes take turns on the chain head's row lock; recording a
// verdict never waits for it.
func (s *Store) ChainEvents(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT events_chain($1)`, eventChainBatch).Scan(&n); err != nil {
			return total, fmt.Errorf("store: chain events: %w", err)
		}
		total += n
		if n < eventChainBatch {
			return total, nil
		}
	}
}

// RunEventChainer links new events into the chain every
// DefaultEventChainEvery until ctx ends, then once more. Every serving
// process runs one (app.Pipeline.Run); they take turns.
func (s *Store) RunEventChainer(ctx context.Context, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	t := time.NewTicker(DefaultEventChainEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := s.ChainEvents(fctx); err != nil {
				logger.Warn("store: final event chaining (the next process chains the rest)", "err", err)
			}
			return nil
		case <-t.C:
			if _, err := s.ChainEvents(ctx); err != nil && ctx.Err() == nil {
				logger.Error("store: chaining events", "err", err)
			}
		}
	}
}

// ErrEventChainBroken is wrapped by every *EventChainError.
var ErrEventChainBroken = errors.New("the event log's hash chain is broken")

// EventChainError reports the first chain row that does not verify.
type EventChainError struct {
	// ChainID is the first chain id that is missing or does not match.
	ChainID int64
	// EventID is the event row's id (0 when the row is missing).
	EventID int64
	// Problem says what is wrong.
	Problem string
}

// Error implements error.
func (e *EventChainError) Error() string {
	if e.EventID != 0 {
		return fmt.Sprintf("event log chain broken at chain row %d (event %d): %s", e.ChainID, e.EventID, e.Problem)
	}
	return fmt.Sprintf("event log chain broken at chain row %d: %s", e.ChainID, e.Problem)
}

// Unwrap makes errors.Is(err, ErrEventChainBroken) true.
func (e *EventChainError) Unwrap() error { return ErrEventChainBroken }

// EventChainReport is the result of VerifyEvents.
type EventChainReport struct {
	// Rows is how many chained rows verified; LastID is the head's last
	// chain id.
	Rows   int64 `json:"rows"`
	LastID int64 `json:"last_id"`
	// OK is true when the whole chain verified; otherwise BrokenAt and
	// Problem repeat the *EventChainError.
	OK       bool   `json:"ok"`
	BrokenAt int64  `json:"broken_at,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Head is the hash of the last chained row: publish it elsewhere to
	// anchor the chain against a rewrite of every row.
	Head string `json:"head,omitempty"`
}

// VerifyEvents links the events still unchained (ChainEvents), then walks
// the chain from its first row. It returns a *EventChainError (wrapping
// ErrEventChainBroken) for the first row that was edited, deleted, inserted
// or reordered, along with the report; other errors are database errors.
func (s *Store) VerifyEvents(ctx context.Context) (EventChainReport, error) {
	var rep EventChainReport
	if _, err := s.ChainEvents(ctx); err != nil {
		return rep, fmt.Errorf("store: verify events: %w", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT last_id FROM events_chain_head`).Scan(&rep.LastID); err != nil {
		return rep, fmt.Errorf("store: verify events: head: %w", err)
	}
	prev := eventGenesis
	want := int64(1)
	var after int64
	var broken *EventChainError
	for broken == nil {
		rows, err := s.pool.Query(ctx, `SELECT chain_id, id, created_at, coalesce(tenant_id::text, ''), coalesce(design_id::text, ''), type, actor, data::text, prev_hash, hash
			FROM events WHERE chain_id > $1 ORDER BY chain_id LIMIT 5000`, after)
		if err != nil {
			return rep, fmt.Errorf("store: verify events: %w", err)
		}
		n := 0
		var chainID, id int64
		var at time.Time
		var tenant, design, typ, actor, data string
		var prevHash, hash []byte
		_, err = pgx.ForEachRow(rows, []any{&chainID, &id, &at, &tenant, &design, &typ, &actor, &data, &prevHash, &hash}, func() error {
			n++
			if broken != nil {
				return nil
			}
			switch {
			case chainID != want:
				broken = &EventChainError{ChainID: want, Problem: fmt.Sprintf("chain row %d is missing (next chain row is %d, event %d): an event was deleted", want, chainID, id)}
			case !bytes.Equal(prevHash, prev):
				broken = &EventChainError{ChainID: chainID, EventID: id, Problem: "its prev_hash does not match the previous row's hash (a row before it was changed, removed or reordered)"}
			case !bytes.Equal(eventChainHash(prev, chainID, id, at, tenant, design, typ, actor, data), hash):
				broken = &EventChainError{ChainID: chainID, EventID: id, Problem: "its content does not match its hash (the event was edited)"}
			default:
				rep.Rows++
				prev, want, after = hash, chainID+1, chainID
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("store: verify events: %w", err)
		}
		if n == 0 {
			break
		}
	}
	if broken == nil && want-1 != rep.LastID {
		broken = &EventChainError{ChainID: want, Problem: fmt.Sprintf("the chain ends at row %d but the head says %d (events at the end were deleted)", want-1, rep.LastID)}
	}
	if broken != nil {
		rep.BrokenAt, rep.Problem = broken.ChainID, broken.Problem
		return rep, broken
	}
	rep.OK = true
	rep.Head = hex.EncodeToString(prev)
	return rep, nil
}

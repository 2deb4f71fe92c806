// Package store holds Muster's typed query functions over the core schema
// (tenants, API keys, designs, analyses, findings, verdicts, events).
package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a row does not exist (or belongs to another
// tenant). Callers that must not import the store recognise it by its
// NotFound method.
var ErrNotFound error = notFoundError{}

type notFoundError struct{}

func (notFoundError) Error() string { return "not found" }

// NotFound marks the error as "no such row".
func (notFoundError) NotFound() bool { return true }

// ErrConflict is returned when a request conflicts with stored state.
var ErrConflict = errors.New("conflict")

// Store wraps a connection pool.
type Store struct {
	pool *pgxpool.Pool
	// hook runs inside every transaction that records a verdict (nil: none).
	hook VerdictHook
	// auth caches authenticated keys while RunAuthListener runs.
	auth authCache
}

// Option configures a Store.
type Option func(*Store)

// WithVerdictHook runs h inside every transaction that records a verdict
// (RecordResult, RecordVerdict, RecordVerdictTx), after the verdict row and
// its event are written: a package owning tables next to the store's (the
// review queue) writes its rows in the same transaction, so a verdict with
// a market in review never exists without its review item. An error from h
// rolls the whole transaction back.
func WithVerdictHook(h VerdictHook) Option { return func(s *Store) { s.hook = h } }

// New returns a Store on pool.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	s := &Store{pool: pool}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Pool exposes the pool for packages with their own typed queries.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

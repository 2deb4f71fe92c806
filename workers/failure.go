package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FailureClass is what kind of failure ended an attempt at a design; the
// worker retries each kind on a budget of its own.
type FailureClass string

// Failure classes.
const (
	// FailAnalysis: the design's analysis failed (an analyzer, the decoder,
	// the policy, a panic, the analysis deadline, an SQL error from a
	// working database). Counted against MaxDeliver.
	FailAnalysis FailureClass = "analysis"
	// FailPermanent: retrying cannot help (an undecodable image, a design
	// that does not exist). Dead-lettered at once.
	FailPermanent FailureClass = "permanent"
	// FailInfrastructure: something the design does not cause was
	// unavailable (PostgreSQL, the object store or NATS unreachable or
	// timing out, a connection lost during a leader election or restart).
	// Not counted against MaxDeliver: retried with back-off for
	// Config.InfraRetryBudget.
	FailInfrastructure FailureClass = "infrastructure"
	// FailBlobUnreadable: the design's bytes cannot be read although the
	// object store answers (its info exists, a read fails, or the bytes do
	// not match their digest). Retried for Config.UnreadableBlobBudget,
	// then dead-lettered with this reason.
	FailBlobUnreadable FailureClass = "blob_unreadable"
)

// Failure is an error with its class.
type Failure struct {
	Class FailureClass
	Err   error
}

// Error implements error.
func (f *Failure) Error() string { return f.Err.Error() }

// Unwrap returns the cause.
func (f *Failure) Unwrap() error { return f.Err }

func classed(c FailureClass, err error) error {
	if err == nil {
		return nil
	}
	return &Failure{Class: c, Err: err}
}

// Classify returns err's class: the class of the innermost *Failure it
// wraps, FailAnalysis when it wraps none.
func Classify(err error) FailureClass {
	var f *Failure
	if errors.As(err, &f) {
		return f.Class
	}
	return FailAnalysis
}

// infra classes an error of a call to PostgreSQL or NATS: infrastructure
// when the service could not be reached or did not answer in time, as is
// (FailAnalysis unless already classed) when it answered with an error.
func infra(err error) error {
	if err == nil || !IsInfrastructure(err) {
		return err
	}
	return classed(FailInfrastructure, err)
}

// IsInfrastructure reports whether err says a service was unreachable,
// closed the connection, or did not answer in time — not that it refused
// the request. PostgreSQL errors of class 08 (connection), 53
// (insufficient resources) and 57 (shutting down, starting up) count as
// infrastructure; other SQL errors do not.
func IsInfrastructure(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code[:2] {
		case "08", "53", "57":
			return true
		}
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, nats.ErrNoResponders), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, jetstream.ErrNoHeartbeat),
		errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrStreamNotFound):
		return true
	}
	var api *jetstream.APIError
	if errors.As(err, &api) && (api.Code == 503 || api.Code == 408) {
		// JetStream temporarily unavailable (no quorum, leader election).
		return true
	}
	return false
}

// unreadable wraps a blob read error as FailBlobUnreadable.
func unreadable(sha string, err error) error {
	return classed(FailBlobUnreadable, fmt.Errorf("blob unreadable: %s: %w", sha, err))
}

package review

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit actions.
const (
	ActionOpened     = "item.opened"
	ActionClosed     = "item.closed"
	ActionClaimed    = "item.claimed"
	ActionReleased   = "item.released"
	ActionEscalated  = "item.escalated"
	ActionCommented  = "item.commented"
	ActionDecided    = "item.decided"
	ActionPriority   = "item.priority"
	ActionAppealed   = "appeal.filed"
	ActionQueueSaved = "queue.saved"
	ActionRoutesSet  = "routes.saved"
)

// AuditEntry is one row of the hash-chained review audit log.
type AuditEntry struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	TenantID string          `json:"tenant_id,omitempty"`
	DesignID string          `json:"design_id,omitempty"`
	ItemID   int64           `json:"item_id,omitempty"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
	// Pending rows are committed but not linked into the chain yet (for
	// normally under a second): no id, prev_hash or hash yet.
	Pending bool `json:"pending,omitempty"`
}

// auditRecord is what an action appends.
type auditRecord struct {
	Actor, Action      string
	TenantID, DesignID string
	ItemID             int64
	Data               any
}

// chainHash is sha256(prev || canonical content): the same bytes the
// review_audit_append SQL function hashes (migrations/0007_review.sql).
// The content names every column, the id included, so a reordered or
// renumbered row breaks it too; text fields carry their byte length so no
// edit can shift a boundary between them.
func chainHash(prev []byte, id int64, at time.Time, actor, action, tenant, design string, item int64, data []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	fmt.Fprintf(h, "muster-review-audit-v1\n%d\n%d\n%d:%s\n%d:%s\n%s\n%s\n%d\n%d:", id, at.UnixMicro(), len(actor), actor, len(action), action, tenant, design, item, len(data))
	h.Write(data)
	return h.Sum(nil)
}

// legacyChainHash is the content hash of rows appended before
// review_audit_append (migration 0011): the same fields, formatted in Go.
func legacyChainHash(prev []byte, id int64, at time.Time, actor, action, tenant, design string, item int64, data []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	fmt.Fprintf(h, "muster-review-audit-v1\n%d\n%s\n%q\n%q\n%s\n%s\n%d\n", id, at.UTC().Format(time.RFC3339Nano), actor, action, tenant, design, item)
	h.Write(data)
	return h.Sum(nil)
}

var genesis = make([]byte, sha256.Size)

// appendAudit appends a row inside tx (one call of review_audit_append,
// migration 0013): an insert into review_audit_pending that shares no lock
// with other appenders. The chainer (ChainAudit) links it into the chain
// once tx has committed.
func appendAudit(ctx context.Context, tx pgx.Tx, a auditRecord) error {
	data := []byte("{}")
	if a.Data != nil {
		var err error
		if data, err = json.Marshal(a.Data); err != nil {
			return fmt.Errorf("review: audit %s: %w", a.Action, err)
		}
	}
	if _, err := tx.Exec(ctx, `SELECT review_audit_append($1, $2, NULLIF($3, '')::uuid, NULLIF($4, '')::uuid, $5, $6)`,
		a.Actor, a.Action, a.TenantID, a.DesignID, a.ItemID, string(data)); err != nil {
		return fmt.Errorf("review: audit %s: %w", a.Action, err)
	}
	return nil
}

// chainBatch is how many pending rows one review_audit_chain call links.
const chainBatch = 2000

// ChainAudit links every committed pending audit row into the hash chain
// (review_audit_chain, in batches) and returns how many it linked. Chainers
// in several processes take turns on the chain head's row lock; an action
// never waits for it. db may be a pool, a connection or a transaction.
func ChainAudit(ctx context.Context, db DB) (int, error) {
	total := 0
	for {
		var n int
		if err := db.QueryRow(ctx, `SELECT review_audit_chain($1)`, chainBatch).Scan(&n); err != nil {
			return total, fmt.Errorf("review: chain audit rows: %w", err)
		}
		total += n
		if n < chainBatch {
			return total, nil
		}
	}
}

// RunAuditChainer links pending audit rows into the chain every interval
// (Config.AuditChainEvery) until ctx ends, then once more. Every serving
// process runs one (app.Pipeline.Run); they take turns.
func (s *Service) RunAuditChainer(ctx context.Context) error {
	t := time.NewTicker(s.cfg.AuditChainEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := ChainAudit(fctx, s.st.Pool()); err != nil {
				s.cfg.Logger.Warn("review: final audit chaining (the next process chains the rest)", "err", err)
			}
			return nil
		case <-t.C:
			if _, err := ChainAudit(ctx, s.st.Pool()); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("review: chaining audit rows", "err", err)
			}
		}
	}
}

// VerifyReport is the result of checking the audit chain.
type VerifyReport struct {
	// Rows checked; LastID is the head's last id.
	Rows   int64 `json:"rows"`
	LastID int64 `json:"last_id"`
	// OK is true when every row's hash matches; otherwise BrokenAt is the
	// first row that does not (or the first missing id) and Problem says why.
	OK       bool   `json:"ok"`
	BrokenAt int64  `json:"broken_at,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Head is the hash of the last row: publish it elsewhere to anchor the
	// chain against a rewrite of every row.
	Head string `json:"head,omitempty"`
}

// DB is what VerifyAudit reads through: a pool, a connection or a
// transaction.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// VerifyAudit links the rows still pending into the chain (ChainAudit),
// then walks the review audit chain from its first row and reports the
// first row that was edited, deleted, inserted or reordered.
func VerifyAudit(ctx context.Context, pool DB) (VerifyReport, error) {
	var rep VerifyReport
	if _, err := ChainAudit(ctx, pool); err != nil {
		return rep, fmt.Errorf("review: verify: %w", err)
	}
	if err := pool.QueryRow(ctx, `SELECT last_id FROM review_audit_head`).Scan(&rep.LastID); err != nil {
		return rep, fmt.Errorf("review: verify: head: %w", err)
	}
	prev := genesis
	want := int64(1)
	var after int64
	for {
		rows, err := pool.Query(ctx, `SELECT id, at, actor, action, coalesce(tenant_id::text, ''), coalesce(design_id::text, ''), coalesce(item_id, 0), data, prev_hash, hash
			FROM review_audit WHERE id > $1 ORDER BY id LIMIT 5000`, after)
		if err != nil {
			return rep, fmt.Errorf("review: verify: %w", err)
		}
		n := 0
		var broken bool
		var id, item int64
		var at time.Time
		var actor, action, tenant, design, data string
		var prevHash, hash []byte
		_, err = pgx.ForEachRow(rows, []any{&id, &at, &actor, &action, &tenant, &design, &item, &data, &prevHash, &hash}, func() error {
			n++
			if broken {
				return nil
			}
			rep.Rows++
			switch {
			case id != want:
				rep.BrokenAt, rep.Problem = want, fmt.Sprintf("row %d is missing (next row is %d)", want, id)
			case !bytes.Equal(prevHash, prev):
				rep.BrokenAt, rep.Problem = id, "its prev_hash does not match the previous row's hash (a row before it was changed or removed)"
			case !bytes.Equal(chainHash(prev, id, at, actor, action, tenant, design, item, []byte(data)), hash) &&
				!bytes.Equal(legacyChainHash(prev, id, at, actor, action, tenant, design, item, []byte(data)), hash):
				rep.BrokenAt, rep.Problem = id, "its content does not match its hash (the row was edited)"
			}
			if rep.BrokenAt != 0 {
				broken = true
				return nil
			}
			prev, want, after = hash, id+1, id
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("review: verify: %w", err)
		}
		if broken {
			return rep, nil
		}
		if n == 0 {
			break
		}
	}
	if want-1 != rep.LastID {
		rep.BrokenAt, rep.Problem = want, fmt.Sprintf("the chain ends at row %d but the head says %d (rows at the end were removed)", want-1, rep.LastID)
		return rep, nil
	}
	rep.OK = true
	rep.Head = hex.EncodeToString(prev)
	return rep, nil
}

// AuditFilter selects audit rows.
type AuditFilter struct {
	Actor, Action, DesignID string
	ItemID                  int64
	Since, Until            time.Time
	// BeforeID pages backwards (rows with a smaller id).
	BeforeID int64
	Limit    int
}

// Audit lists audit rows in the reviewer's scope, newest first (the
// platform's staff see every tenant's, others their tenant's). Views of
// designs (ActionDesignViewed) are listed only when asked for by action;
// DesignAccess lists them per design.
func (s *Service) Audit(ctx context.Context, r Reviewer, f AuditFilter) ([]AuditEntry, error) {
	if !reviewRole(r.Role) {
		return nil, fmt.Errorf("%w: role %s may not read the review audit log", ErrForbidden, r.Role)
	}
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 500
	}
	var until *time.Time
	if !f.Until.IsZero() {
		until = &f.Until
	}
	// Rows not chained yet (pending, normally for under a second) are the
	// newest: they come first, on the first page, without id or hash. One
	// statement, one snapshot: a row is either chained or pending in it.
	rows, err := s.st.Pool().Query(ctx, `SELECT id, at, actor, action, tenant, design, item, data, prev_hash, hash FROM (
		  SELECT 0::bigint AS id, seq, at, actor, action, coalesce(tenant_id::text, '') AS tenant, coalesce(design_id::text, '') AS design,
		         coalesce(item_id, 0) AS item, data, ''::bytea AS prev_hash, ''::bytea AS hash, tenant_id, design_id, item_id
		    FROM review_audit_pending WHERE $9 = 0
		  UNION ALL
		  SELECT id, 0, at, actor, action, coalesce(tenant_id::text, ''), coalesce(design_id::text, ''), coalesce(item_id, 0), data, prev_hash, hash, tenant_id, design_id, item_id
		    FROM review_audit WHERE ($9 = 0 OR id < $9)) a
		WHERE ($1 OR tenant_id = $2::uuid)
		  AND ($3 = '' OR actor = $3) AND (action = $4 OR ($4 = '' AND action <> '`+ActionDesignViewed+`')) AND ($5 = '' OR design_id::text = $5)
		  AND ($6 = 0 OR item_id = $6) AND at >= $7 AND ($8::timestamptz IS NULL OR at < $8)
		ORDER BY id = 0 DESC, id DESC, seq DESC LIMIT $10`,
		r.Platform, r.TenantID, f.Actor, f.Action, f.DesignID, f.ItemID, f.Since, until, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("review: audit: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("review: audit: %w", err)
	}
	return out, nil
}

func scanAudit(r pgx.CollectableRow) (AuditEntry, error) {
	var e AuditEntry
	var data string
	var prev, hash []byte
	err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.TenantID, &e.DesignID, &e.ItemID, &data, &prev, &hash)
	e.Data, e.PrevHash, e.Hash = json.RawMessage(data), hex.EncodeToString(prev), hex.EncodeToString(hash)
	e.Pending = e.ID == 0
	return e, err
}

package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Roles that may change the policy. Only legal publishes and rolls back;
// legal and admin edit the draft and set the shadow.
const (
	RoleLegal = "legal"
	RoleAdmin = "admin"
)

// Errors callers branch on.
var (
	// ErrForbidden: the actor's role may not do this.
	ErrForbidden = errors.New("policy: forbidden for this role")
	// ErrConflict: the live pointer or the draft moved since the caller
	// looked (optimistic concurrency); re-read and retry.
	ErrConflict = errors.New("policy: conflict")
	// ErrNotFound: no such version, draft or backtest.
	ErrNotFound = errors.New("policy: not found")
)

// Actor is who makes a change; the HTTP layer authenticates, the store
// checks the role again.
type Actor struct {
	Name string
	Role string
}

func (a Actor) require(roles ...string) error {
	if a.Name == "" {
		return fmt.Errorf("%w: actor has no name", ErrForbidden)
	}
	if !slices.Contains(roles, a.Role) {
		return fmt.Errorf("%w: role %q, want %s", ErrForbidden, a.Role, strings.Join(roles, " or "))
	}
	return nil
}

// Store keeps policy versions, the draft, the pointers, the audit log and
// backtests in PostgreSQL.
type Store struct {
	pool    *pgxpool.Pool
	designs Designs
	cache   *Cache
	cfg     Config
}

// NewStore returns a store of policy versions on pool (it owns the policy_*
// tables); backtests and re-decisions read designs and record verdicts
// through designs (the store). Compiled versions are cached.
func NewStore(pool *pgxpool.Pool, designs Designs, cfg Config) *Store {
	cfg = cfg.WithDefaults()
	return &Store{pool: pool, designs: designs, cache: NewCache(cfg, 8), cfg: cfg}
}

// Version is an immutable policy version.
type Version struct {
	Version    int       `json:"version"`
	Content    []byte    `json:"-"`
	SHA256     string    `json:"sha256"`
	Note       string    `json:"note"`
	Author     string    `json:"author"`
	AuthorRole string    `json:"author_role"`
	CreatedAs  string    `json:"created_as"`
	BasedOn    *int      `json:"based_on,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Name is the version string stored with verdicts ("policy/7").
func (v Version) Name() string { return VersionName(v.Version) }

// VersionName formats a version number as stored with verdicts.
func VersionName(n int) string { return fmt.Sprintf("policy/%d", n) }

// State is the pointer row.
type State struct {
	Live       *int      `json:"live"`
	Shadow     *int      `json:"shadow"`
	Generation int64     `json:"generation"`
	UpdatedBy  string    `json:"updated_by"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Draft is the editable draft.
type Draft struct {
	Content           []byte    `json:"-"`
	Revision          int64     `json:"revision"`
	BaseVersion       *int      `json:"base_version"`
	PublishedRevision *int64    `json:"published_revision"`
	UpdatedBy         string    `json:"updated_by"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Bootstrap makes sure a live version exists: on an empty store it seeds
// version 1 from the default pack, makes it live and copies it to the draft.
// It is idempotent and safe to call concurrently.
func (s *Store) Bootstrap(ctx context.Context) error {
	doc, err := DefaultDocument()
	if err != nil {
		return err
	}
	content, err := doc.Canonical()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var live *int
		if err := tx.QueryRow(ctx, `SELECT live_version FROM policy_state FOR UPDATE`).Scan(&live); err != nil {
			return fmt.Errorf("policy: bootstrap: %w", err)
		}
		if live != nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO policy_versions (version, content, sha256, note, author, author_role, created_as)
			VALUES (1, $1, $2, 'default policy pack from jurisdictions.md', 'system', 'system', 'seed')`, string(content), sum(content)); err != nil {
			return fmt.Errorf("policy: bootstrap: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_state SET live_version = 1, generation = generation + 1, updated_by = 'system', updated_at = now()`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO policy_draft (id, content, base_version, updated_by) VALUES (true, $1, 1, 'system')
			ON CONFLICT (id) DO NOTHING`, string(content)); err != nil {
			return err
		}
		return audit(ctx, tx, "seed", Actor{Name: "system", Role: "system"}, ptr(1), nil)
	})
}

func ptr[T any](v T) *T { return &v }

func audit(ctx context.Context, tx pgx.Tx, action string, a Actor, version *int, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO policy_audit (action, actor, role, version, data) VALUES ($1, $2, $3, $4, $5)`, action, a.Name, a.Role, version, data)
	if err != nil {
		return fmt.Errorf("policy: audit %s: %w", action, err)
	}
	return nil
}

// State returns the pointers.
func (s *Store) State(ctx context.Context) (State, error) {
	var st State
	err := s.pool.QueryRow(ctx, `SELECT live_version, shadow_version, generation, updated_by, updated_at FROM policy_state`).
		Scan(&st.Live, &st.Shadow, &st.Generation, &st.UpdatedBy, &st.UpdatedAt)
	if err != nil {
		return State{}, fmt.Errorf("policy: read state: %w", err)
	}
	return st, nil
}

const versionCols = `version, content, sha256, note, author, author_role, created_as, based_on, created_at`

func scanVersion(r pgx.Row) (Version, error) {
	var v Version
	var content string
	err := r.Scan(&v.Version, &content, &v.SHA256, &v.Note, &v.Author, &v.AuthorRole, &v.CreatedAs, &v.BasedOn, &v.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Version{}, ErrNotFound
	}
	v.Content = []byte(content)
	return v, err
}

// Version returns one version.
func (s *Store) Version(ctx context.Context, n int) (Version, error) {
	v, err := scanVersion(s.pool.QueryRow(ctx, `SELECT `+versionCols+` FROM policy_versions WHERE version = $1`, n))
	if err != nil {
		return Version{}, fmt.Errorf("policy: version %d: %w", n, err)
	}
	return v, nil
}

// History lists versions, newest first (limit ≤ 0: all).
func (s *Store) History(ctx context.Context, limit int) ([]Version, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := s.pool.Query(ctx, `SELECT `+versionCols+` FROM policy_versions ORDER BY version DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("policy: history: %w", err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("policy: history: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Draft returns the draft.
func (s *Store) Draft(ctx context.Context) (Draft, error) {
	var d Draft
	var content string
	err := s.pool.QueryRow(ctx, `SELECT content, revision, base_version, published_revision, updated_by, updated_at FROM policy_draft`).
		Scan(&content, &d.Revision, &d.BaseVersion, &d.PublishedRevision, &d.UpdatedBy, &d.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Draft{}, fmt.Errorf("policy: draft: %w (run Bootstrap)", ErrNotFound)
	}
	if err != nil {
		return Draft{}, fmt.Errorf("policy: draft: %w", err)
	}
	d.Content = []byte(content)
	return d, nil
}

// Compiled returns the compiled program of a version (cached).
func (s *Store) Compiled(ctx context.Context, n int) (*Compiled, error) {
	v, err := s.Version(ctx, n)
	if err != nil {
		return nil, err
	}
	return s.cache.Get(v.Name(), v.Content)
}

// SaveDraft validates content (parse and type-check every condition) and
// stores it in canonical form as the draft, based on the current live
// version. Invalid content is rejected with *CompileError values.
func (s *Store) SaveDraft(ctx context.Context, a Actor, content []byte) (Draft, error) {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return Draft{}, err
	}
	doc, err := Validate(content, s.cfg)
	if err != nil {
		return Draft{}, err
	}
	canon, err := doc.Canonical()
	if err != nil {
		return Draft{}, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var live *int
		if err := tx.QueryRow(ctx, `SELECT live_version FROM policy_state`).Scan(&live); err != nil {
			return err
		}
		var rev int64
		err := tx.QueryRow(ctx, `INSERT INTO policy_draft (id, content, base_version, updated_by) VALUES (true, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content, base_version = EXCLUDED.base_version,
			revision = policy_draft.revision + 1, updated_by = EXCLUDED.updated_by, updated_at = now()
			RETURNING revision`, string(canon), live, a.Name).Scan(&rev)
		if err != nil {
			return err
		}
		return audit(ctx, tx, "draft.save", a, live, map[string]any{"revision": rev, "sha256": sum(canon)})
	})
	if err != nil {
		return Draft{}, fmt.Errorf("policy: save draft: %w", err)
	}
	return s.Draft(ctx)
}

// PublishRequest asks to make the draft live.
type PublishRequest struct {
	// Note is the required change note.
	Note string
	// DraftRevision, if set, must equal the draft's revision (the one the
	// caller validated, diffed or backtested).
	DraftRevision int64
}

// Publish makes the draft a new immutable version and points live at it.
// Only the legal role may publish. It fails with ErrConflict when the live
// version moved since the draft was based on it, when the draft changed
// since DraftRevision, or when this draft revision is already live: of two
// concurrent attempts at most one wins.
func (s *Store) Publish(ctx context.Context, a Actor, req PublishRequest) (Version, error) {
	if err := a.require(RoleLegal); err != nil {
		return Version{}, err
	}
	if strings.TrimSpace(req.Note) == "" {
		return Version{}, errors.New("policy: publish: a change note is required")
	}
	var out Version
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var pending bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM policy_approvals WHERE status = 'pending')`).Scan(&pending); err != nil {
			return err
		}
		if pending {
			return fmt.Errorf("%w: a publication waits for a second approver; approve, reject or withdraw it first", ErrConflict)
		}
		var err error
		out, err = s.publishTx(ctx, tx, a, req, nil)
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("policy: publish: %w", err)
	}
	return out, nil
}

// publishTx makes the draft live inside tx (see Publish); extra is added to
// the audit row.
func (s *Store) publishTx(ctx context.Context, tx pgx.Tx, a Actor, req PublishRequest, extra map[string]any) (Version, error) {
	var live *int
	if err := tx.QueryRow(ctx, `SELECT live_version FROM policy_state FOR UPDATE`).Scan(&live); err != nil {
		return Version{}, err
	}
	var content string
	var rev int64
	var base *int
	var published *int64
	err := tx.QueryRow(ctx, `SELECT content, revision, base_version, published_revision FROM policy_draft FOR UPDATE`).Scan(&content, &rev, &base, &published)
	if errors.Is(err, pgx.ErrNoRows) {
		return Version{}, fmt.Errorf("draft: %w", ErrNotFound)
	}
	if err != nil {
		return Version{}, err
	}
	switch {
	case req.DraftRevision != 0 && req.DraftRevision != rev:
		return Version{}, fmt.Errorf("%w: the draft is at revision %d, not %d", ErrConflict, rev, req.DraftRevision)
	case !equalPtr(base, live):
		return Version{}, fmt.Errorf("%w: the draft is based on version %s but live is %s; re-save the draft", ErrConflict, fmtPtr(base), fmtPtr(live))
	case published != nil && *published == rev:
		return Version{}, fmt.Errorf("%w: draft revision %d is already live", ErrConflict, rev)
	}
	// Content is re-validated: the engine may have changed since saving.
	if _, err := Validate([]byte(content), s.cfg); err != nil {
		return Version{}, err
	}
	out, err := insertVersion(ctx, tx, []byte(content), req.Note, a, "publish", live)
	if err != nil {
		return Version{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE policy_state SET live_version = $1, generation = generation + 1, updated_by = $2, updated_at = now()`, out.Version, a.Name); err != nil {
		return Version{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE policy_draft SET base_version = $1, published_revision = revision`, out.Version); err != nil {
		return Version{}, err
	}
	data := map[string]any{"note": req.Note, "draft_revision": rev, "previous": live}
	for k, v := range extra {
		data[k] = v
	}
	return out, audit(ctx, tx, "publish", a, &out.Version, data)
}

func insertVersion(ctx context.Context, tx pgx.Tx, content []byte, note string, a Actor, as string, basedOn *int) (Version, error) {
	return scanVersion(tx.QueryRow(ctx, `INSERT INTO policy_versions (version, content, sha256, note, author, author_role, created_as, based_on)
		SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5, $6, $7 FROM policy_versions
		RETURNING `+versionCols, string(content), sum(content), note, a.Name, a.Role, as, basedOn))
}

func equalPtr(a, b *int) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func fmtPtr(p *int) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// Rollback publishes an older version's content as a new version (history
// is never rewritten) and resets the draft to it. expectLive, if non-zero,
// must be the current live version (ErrConflict otherwise).
func (s *Store) Rollback(ctx context.Context, a Actor, to int, expectLive int, note string) (Version, error) {
	if err := a.require(RoleLegal); err != nil {
		return Version{}, err
	}
	if strings.TrimSpace(note) == "" {
		return Version{}, errors.New("policy: rollback: a change note is required")
	}
	var out Version
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var live *int
		if err := tx.QueryRow(ctx, `SELECT live_version FROM policy_state FOR UPDATE`).Scan(&live); err != nil {
			return err
		}
		if expectLive != 0 && !equalPtr(live, &expectLive) {
			return fmt.Errorf("%w: live is %s, not %d", ErrConflict, fmtPtr(live), expectLive)
		}
		old, err := scanVersion(tx.QueryRow(ctx, `SELECT `+versionCols+` FROM policy_versions WHERE version = $1`, to))
		if err != nil {
			return fmt.Errorf("version %d: %w", to, err)
		}
		out, err = insertVersion(ctx, tx, old.Content, note, a, "rollback", live)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_state SET live_version = $1, generation = generation + 1, updated_by = $2, updated_at = now()`, out.Version, a.Name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_draft SET content = $1, base_version = $2, revision = revision + 1, published_revision = revision + 1, updated_by = $3, updated_at = now()`,
			string(old.Content), out.Version, a.Name); err != nil {
			return err
		}
		return audit(ctx, tx, "rollback", a, &out.Version, map[string]any{"note": note, "to": to, "previous": live})
	})
	if err != nil {
		return Version{}, fmt.Errorf("policy: rollback: %w", err)
	}
	return out, nil
}

// SetShadow snapshots the draft as an immutable version (created_as
// "shadow", with note) and points the shadow at it: from then on every
// decision also carries the shadow's would-be decision. Nothing is enforced.
func (s *Store) SetShadow(ctx context.Context, a Actor, note string) (Version, error) {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return Version{}, err
	}
	if strings.TrimSpace(note) == "" {
		note = "shadow of the draft"
	}
	var out Version
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var live *int
		if err := tx.QueryRow(ctx, `SELECT live_version FROM policy_state FOR UPDATE`).Scan(&live); err != nil {
			return err
		}
		var content string
		var rev int64
		if err := tx.QueryRow(ctx, `SELECT content, revision FROM policy_draft`).Scan(&content, &rev); err != nil {
			return fmt.Errorf("draft: %w", err)
		}
		var err error
		out, err = insertVersion(ctx, tx, []byte(content), note, a, "shadow", live)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_state SET shadow_version = $1, generation = generation + 1, updated_by = $2, updated_at = now()`, out.Version, a.Name); err != nil {
			return err
		}
		return audit(ctx, tx, "shadow.set", a, &out.Version, map[string]any{"note": note, "draft_revision": rev})
	})
	if err != nil {
		return Version{}, fmt.Errorf("policy: shadow: %w", err)
	}
	return out, nil
}

// ClearShadow removes the shadow pointer.
func (s *Store) ClearShadow(ctx context.Context, a Actor) error {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var prev *int
		if err := tx.QueryRow(ctx, `SELECT shadow_version FROM policy_state FOR UPDATE`).Scan(&prev); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_state SET shadow_version = NULL, generation = generation + 1, updated_by = $1, updated_at = now()`, a.Name); err != nil {
			return err
		}
		return audit(ctx, tx, "shadow.clear", a, prev, nil)
	})
}

// AuditEntry is one audit row.
type AuditEntry struct {
	ID        int64           `json:"id"`
	Action    string          `json:"action"`
	Actor     string          `json:"actor"`
	Role      string          `json:"role"`
	Version   *int            `json:"version,omitempty"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// Audit lists audit rows, newest first.
func (s *Store) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, action, actor, role, version, data, created_at FROM policy_audit ORDER BY id DESC LIMIT $1`, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("policy: audit: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.Action, &e.Actor, &e.Role, &e.Version, &e.Data, &e.CreatedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("policy: audit: %w", err)
	}
	return out, nil
}

package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The API authenticates every request by its key. A serving process keeps
// the principals of keys it has already checked in memory, so a reviewer's
// claim and decision do not each read api_keys and tenants again. The cache
// is used only while RunAuthListener holds a LISTEN on authChannel: every
// change the store makes that alters what a key may do (RevokeKey, SetTenantTier)
// notifies that channel in the same statement, so the notification is
// delivered if and only if the change commits, and every process drops its
// whole cache when it arrives (milliseconds after the commit). A lookup
// that raced with a change is not stored (the generation moved). While the
// listener is not connected nothing is cached. Entries also expire after
// authCacheTTL, a bound for changes made outside the store (hand-written
// SQL). Failed lookups are never cached.

// authChannel is the NOTIFY channel of key and tenant changes.
const authChannel = "muster_auth"

// authCacheTTL bounds how long a cached principal is used without being
// read again.
const authCacheTTL = 30 * time.Second

// notifyAuthSQL, appended to a data-modifying CTE u, notifies authChannel
// when u changed a row and returns how many it changed.
const notifyAuthSQL = `SELECT count(*) FROM u, LATERAL (SELECT pg_notify('` + authChannel + `', '')) n`

type authEntry struct {
	p        Principal
	at       time.Time // when it was read from the database
	lastUsed time.Time // the key's last_used_at as last written
}

type authCache struct {
	mu   sync.Mutex
	live bool   // a listener is connected: entries may be stored and used
	gen  uint64 // bumped by every invalidation
	m    map[[32]byte]authEntry
}

// get returns the cached principal of a key's sha256, if live and fresh.
func (c *authCache) get(sum [32]byte, now time.Time) (authEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[sum]
	if !c.live || !ok || now.Sub(e.at) > authCacheTTL {
		return authEntry{}, false
	}
	return e, true
}

// generation is read before a database lookup; put stores the result only
// if no invalidation happened since.
func (c *authCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *authCache) put(sum [32]byte, gen uint64, e authEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	if c.m == nil || len(c.m) >= 100000 {
		c.m = map[[32]byte]authEntry{}
	}
	c.m[sum] = e
}

// touched records that the key's last_used_at was written at t.
func (c *authCache) touched(sum [32]byte, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[sum]; ok {
		e.lastUsed = t
		c.m[sum] = e
	}
}

// invalidate drops every entry; live says whether entries may be stored
// from now on.
func (c *authCache) invalidate(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
	c.live = live
}

// AuthCacheLive reports whether this store caches authenticated keys (its
// RunAuthListener is connected).
func (s *Store) AuthCacheLive() bool {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.live
}

// RunAuthListener keeps a LISTEN on the key and tenant change channel on
// its own connection until ctx ends, dropping the cache of authenticated
// keys on every notification; while it is not connected (starting,
// reconnecting after an error) nothing is cached. Every serving process runs
// one (app.Pipeline.Run).
func (s *Store) RunAuthListener(ctx context.Context, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	defer s.auth.invalidate(false)
	for {
		err := s.listenAuth(ctx)
		s.auth.invalidate(false)
		if ctx.Err() != nil {
			return nil
		}
		logger.Warn("store: key change listener lost; authenticating every request against the database until it is back", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenAuth(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+authChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// From here every change is notified to this connection: entries read
	// after this point may be used.
	s.auth.invalidate(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.auth.invalidate(true)
	}
}

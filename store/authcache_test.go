package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/muster-dev/muster/store"
)

// TestAuthCacheIsDroppedOnEveryKeyChange: while the listener runs, an
// authenticated key is served from memory (a hand-written change of its row
// is not seen); a revocation or a tier change through the store reaches
// every serving process's cache at once (no request is authenticated with
// a revoked key once the revocation is delivered); without the listener
// every request reads the database.
func TestAuthCacheIsDroppedOnEveryKeyChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two serving processes: two stores on the database, each listening.
	other := store.New(b.pool)
	key, _, err := b.st.CreateKey(b.ctx, b.tenant, store.RoleReviewer, "r")
	if err != nil {
		t.Fatal(err)
	}
	key2, _, err := b.st.CreateKey(b.ctx, b.tenant, store.RoleReviewer, "r2")
	if err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(b.ctx)
	done := make(chan struct{}, 2)
	for _, st := range []*store.Store{b.st, other} {
		go func() { _ = st.RunAuthListener(lctx, nil); done <- struct{}{} }()
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for start := time.Now(); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: not within 5 s", what)
			}
		}
	}
	eventually("listeners connected", func() bool { return b.st.AuthCacheLive() && other.AuthCacheLive() })
	auth := func(st *store.Store, k string) (store.Principal, error) { return st.Authenticate(b.ctx, k) }
	for _, st := range []*store.Store{b.st, other} {
		if p, err := auth(st, key); err != nil || p.Role != store.RoleReviewer {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
	}
	// Served from memory: a change made behind the store's back is not
	// seen (until the cache's TTL).
	if _, err := b.pool.Exec(b.ctx, `UPDATE api_keys SET role = 'admin' WHERE name = 'r'`); err != nil {
		t.Fatal(err)
	}
	if p, err := auth(b.st, key); err != nil || p.Role != store.RoleReviewer {
		t.Fatalf("cached principal: %+v %v", p, err)
	}
	// A tier change through the store: every process reads again.
	if err := b.st.SetTenantTier(b.ctx, b.tenant, store.TierPaid); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*store.Store{b.st, other} {
		eventually("tier change seen", func() bool {
			p, err := auth(st, key)
			return err == nil && p.Tier == store.TierPaid && p.Role == store.RoleAdmin
		})
	}
	// A revocation through one process reaches the other's cache.
	if _, err := auth(other, key2); err != nil {
		t.Fatal(err)
	}
	keys, _ := b.st.Keys(b.ctx, b.tenant)
	for _, k := range keys {
		if k.Name == "r2" {
			if err := b.st.RevokeKey(b.ctx, k.Prefix); err != nil {
				t.Fatal(err)
			}
		}
	}
	eventually("revocation seen by the other process", func() bool { _, err := auth(other, key2); return errors.Is(err, store.ErrUnauthenticated) })
	if err := b.st.RevokeKey(b.ctx, "no-such-key"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking an unknown key: %v", err)
	}
	// Without the listener nothing is cached: every request reads the row.
	stop()
	<-done
	<-done
	if b.st.AuthCacheLive() {
		t.Fatal("cache live after the listener stopped")
	}
	if _, err := b.pool.Exec(b.ctx, `UPDATE api_keys SET role = 'legal' WHERE name = 'r'`); err != nil {
		t.Fatal(err)
	}
	if p, err := auth(b.st, key); err != nil || p.Role != store.RoleLegal {
		t.Fatalf("without the listener: %+v %v", p, err)
	}
}

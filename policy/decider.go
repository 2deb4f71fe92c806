package policy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DeciderConfig tunes a Decider.
type DeciderConfig struct {
	// PollInterval is how often Decide checks the pointer generation (one
	// tiny query). Default 5s; negative disables polling (call Reload).
	PollInterval time.Duration
}

// WithDefaults fills zero fields.
func (c DeciderConfig) WithDefaults() DeciderConfig {
	if c.PollInterval == 0 {
		c.PollInterval = 5 * time.Second
	}
	return c
}

// Decider decides with the live policy version from PostgreSQL and, when a
// shadow version is set, attaches the shadow's would-be decision. It is safe
// for concurrent use.
type Decider struct {
	st  *Store
	cfg DeciderConfig

	mu       sync.RWMutex
	gen      int64
	live     *Compiled
	shadow   *Compiled
	checked  time.Time
	reloadMu sync.Mutex
}

// NewDecider bootstraps the store if it is empty and loads the live and
// shadow versions.
func NewDecider(ctx context.Context, st *Store, cfg DeciderConfig) (*Decider, error) {
	if err := st.Bootstrap(ctx); err != nil {
		return nil, err
	}
	d := &Decider{st: st, cfg: cfg.WithDefaults(), gen: -1}
	if err := d.Reload(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Reload re-reads the pointers and loads changed versions (compiled programs
// are cached per version). Call it on a "policy changed" notice.
func (d *Decider) Reload(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	st, err := d.st.State(ctx)
	if err != nil {
		return err
	}
	d.mu.RLock()
	same := st.Generation == d.gen
	d.mu.RUnlock()
	if same {
		d.mu.Lock()
		d.checked = time.Now()
		d.mu.Unlock()
		return nil
	}
	if st.Live == nil {
		return fmt.Errorf("policy: no live version: %w", ErrNotFound)
	}
	live, err := d.st.Compiled(ctx, *st.Live)
	if err != nil {
		return fmt.Errorf("policy: load live: %w", err)
	}
	var shadow *Compiled
	if st.Shadow != nil {
		if shadow, err = d.st.Compiled(ctx, *st.Shadow); err != nil {
			return fmt.Errorf("policy: load shadow: %w", err)
		}
	}
	d.mu.Lock()
	d.gen, d.live, d.shadow, d.checked = st.Generation, live, shadow, time.Now()
	d.mu.Unlock()
	d.st.cfg.Logger.InfoContext(ctx, "policy loaded", "live", live.Version(), "shadow", versionOf(shadow), "generation", st.Generation)
	return nil
}

func versionOf(c *Compiled) string {
	if c == nil {
		return ""
	}
	return c.Version()
}

// Versions returns the loaded live and shadow version names ("" when none).
func (d *Decider) Versions() (live, shadow string) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return versionOf(d.live), versionOf(d.shadow)
}

// Decide evaluates the live version and, if set, the shadow version.
func (d *Decider) Decide(ctx context.Context, in Input) (Decision, error) {
	if d.cfg.PollInterval > 0 {
		d.mu.RLock()
		stale := time.Since(d.checked) > d.cfg.PollInterval
		d.mu.RUnlock()
		if stale {
			if err := d.Reload(ctx); err != nil && !errors.Is(err, context.Canceled) {
				// Keep deciding with the loaded version; the database may be
				// briefly unavailable.
				d.st.cfg.Logger.WarnContext(ctx, "policy reload failed", "err", err)
				d.mu.Lock()
				d.checked = time.Now()
				d.mu.Unlock()
			}
		}
	}
	d.mu.RLock()
	live, shadow := d.live, d.shadow
	d.mu.RUnlock()
	dec, err := live.Decide(ctx, in)
	if err != nil {
		return Decision{}, err
	}
	if shadow != nil {
		sd, err := shadow.Decide(ctx, in)
		if err != nil {
			// A broken shadow never affects the live decision.
			d.st.cfg.Logger.WarnContext(ctx, "shadow policy failed", "version", shadow.Version(), "design", in.DesignID, "err", err)
		} else {
			dec.Shadow = &sd
		}
	}
	return dec, nil
}

package workers

import (
	"context"
	"log/slog"
	"time"

	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// SweepConfig tunes the sweeper.
type SweepConfig struct {
	// Interval between passes (default 1 minute).
	Interval time.Duration
	// BlobGrace is how old an unreferenced blob must be before it is
	// collected (default 1 hour: far longer than any upload takes between
	// storing its bytes and committing its row).
	BlobGrace time.Duration
	// BlobsEvery collects blobs every this many passes (default 10).
	BlobsEvery int
}

// Sweep runs until ctx is cancelled. Every pass it re-submits designs that
// have stayed queued or analysing for long and that the queue does not hold
// (ResubmitStale; a backstop: the outbox publishes committed designs within
// seconds); a re-submission has its own message id (queue.Resubmit: the
// duplicate window still holds the first one's), one per minute at most,
// and a decided design is acknowledged without work, so sweeping is safe
// to repeat from every worker. Every BlobsEvery passes it collects orphan blobs (CollectBlobs).
func (w *Worker) Sweep(ctx context.Context, cfg SweepConfig) {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.BlobGrace <= 0 {
		cfg.BlobGrace = time.Hour
	}
	if cfg.BlobsEvery <= 0 {
		cfg.BlobsEvery = 10
	}
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for pass := 1; ; pass++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		staleAge := w.queue.Config().AckWait*time.Duration(w.queue.Config().MaxDeliver+1) + 5*time.Minute
		if _, err := w.ResubmitStale(ctx, staleAge); err != nil {
			w.cfg.Logger.Warn("sweep", "err", err)
			continue
		}
		if pass%cfg.BlobsEvery == 0 {
			if n, err := CollectBlobs(ctx, w.store, w.queue, cfg.BlobGrace, w.cfg.Logger); err != nil {
				w.cfg.Logger.Warn("sweep: collect blobs", "err", err)
			} else if n > 0 {
				w.cfg.Logger.Info("sweep: collected orphan blobs", "deleted", n)
			}
		}
	}
}

// ResubmitStale re-submits designs that have waited longer than age for a
// verdict and whose message the queue may have lost. A tenant whose
// consumer holds at least as many messages as it has designs waiting is
// skipped: its designs are in the queue, only behind a backlog (re-submitting
// them would add a duplicate message per design every duplicate window,
// which the workers then fetch and acknowledge for nothing). It returns
// how many it re-submitted.
func (w *Worker) ResubmitStale(ctx context.Context, age time.Duration) (int, error) {
	stale, err := w.store.StaleDesigns(ctx, age, 1000)
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	waiting, err := w.store.WaitingByTenant(ctx)
	if err != nil {
		return 0, err
	}
	held := map[string]bool{}
	for t := range waiting {
		n, err := w.queue.TenantBacklog(ctx, t)
		if err != nil {
			return 0, err
		}
		held[t] = n >= uint64(waiting[t])
	}
	sent := 0
	for _, d := range stale {
		if held[d.TenantID] {
			continue
		}
		if err := w.queue.Resubmit(ctx, queue.Submitted{DesignID: d.ID, TenantID: d.TenantID}); err != nil {
			w.cfg.Logger.Warn("sweep: resubmit", "design", d.ID, "err", err)
			continue
		}
		sent++
		w.cfg.Logger.Info("sweep: resubmitted stale design", "design", d.ID)
	}
	if skipped := len(stale) - sent; skipped > 0 {
		w.cfg.Logger.Info("sweep: stale designs left in the queue (their tenant's backlog holds them)", "designs", skipped)
	}
	return sent, nil
}

// CollectBlobs deletes stored design bytes that no design references and
// that were written longer than grace ago (an upload whose row never
// committed). Each deletion holds the blob's lock while it re-checks the
// references, so an upload of the same bytes committing now keeps them. It
// returns how many blobs it deleted.
func CollectBlobs(ctx context.Context, st *store.Store, q *queue.Queue, grace time.Duration, log *slog.Logger) (int, error) {
	blobs, err := q.Blobs(ctx)
	if err != nil {
		return 0, err
	}
	var old []string
	for _, b := range blobs {
		if time.Since(b.ModTime) > grace {
			old = append(old, b.SHA256)
		}
	}
	deleted := 0
	for len(old) > 0 {
		page := old[:min(len(old), 1000)]
		old = old[len(page):]
		ref, err := st.ReferencedBlobs(ctx, page)
		if err != nil {
			return deleted, err
		}
		for _, sha := range page {
			if ref[sha] {
				continue
			}
			ran, err := st.WithUnreferencedBlob(ctx, sha, func(ctx context.Context) error { return q.DeleteBlob(ctx, sha) })
			if err != nil {
				return deleted, err
			}
			if ran {
				deleted++
				if log != nil {
					log.Info("blob collected", "sha256", sha)
				}
			}
		}
	}
	return deleted, nil
}

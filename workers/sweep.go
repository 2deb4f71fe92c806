package workers

import (
	"context"
	"time"

	"github.com/muster-dev/muster/queue"
)

// Sweep re-submits designs that have stayed queued or analysing for longer
// than the queue could account for (e.g. the API could not publish after
// storing the design). Submission is de-duplicated by design id and a
// decided design is acknowledged without work, so sweeping is safe to repeat
// from every worker. It runs every interval until ctx is cancelled.
func (w *Worker) Sweep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		staleAge := w.queue.Config().AckWait*time.Duration(w.queue.Config().MaxDeliver+1) + 5*time.Minute
		stale, err := w.store.StaleDesigns(ctx, staleAge, 1000)
		if err != nil {
			w.cfg.Logger.Warn("sweep", "err", err)
			continue
		}
		for _, d := range stale {
			if err := w.queue.Submit(ctx, queue.Submitted{DesignID: d.ID, TenantID: d.TenantID}); err != nil {
				w.cfg.Logger.Warn("sweep: resubmit", "design", d.ID, "err", err)
				continue
			}
			w.cfg.Logger.Info("sweep: resubmitted stale design", "design", d.ID)
		}
	}
}

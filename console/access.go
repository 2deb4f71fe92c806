package console

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

// Access transparency: every console view of a design (the item page, the
// design image, the audit log drilled down to the design, legal's design
// page) is logged with the user and the time, as a row of the review audit
// hash chain (review.Service.LogView); the design's tenant lists them at
// /console/designs/{id}/access and GET /v1/designs/{id}/access.

// viewDedupe is how long repeated loads of the same design image by the
// same user count as one view (a page shows the image several times: the
// design and a crop per finding, and the browser reloads it).
const viewDedupe = 5 * time.Minute

// recentViews remembers recently logged image views (per server; bounded).
type recentViews struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// fresh reports whether key was not logged within viewDedupe, and records it.
func (v *recentViews) fresh(key string, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil || len(v.seen) > 50000 {
		v.seen = map[string]time.Time{}
	}
	if t, ok := v.seen[key]; ok && now.Sub(t) < viewDedupe {
		return false
	}
	v.seen[key] = now
	return true
}

// logView records that the signed-in user viewed a design. A view that
// cannot be logged is not shown (the caller returns the error).
func (s *Server) logView(ctx context.Context, sess *accounts.Session, d store.Design, view string, itemID int64) error {
	if s.deps.Review == nil {
		return nil
	}
	if view == review.ViewImage && !s.recent.fresh(sess.User.Actor()+"|"+d.ID, time.Now()) {
		return nil
	}
	return s.deps.Review.LogView(ctx, sess.User.Actor(), d.TenantID, d.ID, view, itemID)
}

type accessData struct {
	Design store.Design
	Access []review.Access
}

// accessPage lists who viewed a design and when (the design's tenant's
// users; the platform's for any design).
func (s *Server) accessPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	d, err := s.designFor(r, sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	as, err := s.deps.Review.DesignAccess(r.Context(), sess.User.TenantID, sess.User.Platform, d.ID, 1000)
	if err != nil {
		return reviewError(err)
	}
	s.render(w, r, http.StatusOK, "access", s.page(r, sess, "Who viewed design "+d.ID, "review", accessData{Design: d, Access: as}))
	return nil
}

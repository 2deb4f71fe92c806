package webhook

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/store"
)

// Routes are the webhook package's API routes, served through the API core
// (authentication, role check, error shape, OpenAPI) by the composition root.
func Routes(l *Log) []api.Route {
	return []api.Route{{
		Method: "GET", Pattern: "/v1/webhooks/deliveries", Roles: []string{store.RoleMerchant, store.RoleAdmin},
		Summary: "The tenant's webhook delivery attempts, newest first (?limit=1..500, ?before=<next>, ?design_id=)",
		Handler: func(w http.ResponseWriter, r *http.Request, p store.Principal) error {
			q := Query{TenantID: p.TenantID, Limit: 50}
			v := r.URL.Query()
			if s := v.Get("limit"); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 || n > 500 {
					return api.BadRequest("invalid_limit", "limit must be 1..500")
				}
				q.Limit = n
			}
			if s := v.Get("before"); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n < 1 {
					return api.BadRequest("invalid_cursor", "before must be the next value of an earlier page")
				}
				q.Before = n
			}
			if s := v.Get("design_id"); s != "" {
				if _, err := uuid.Parse(s); err != nil {
					return api.BadRequest("invalid_design_id", "design_id must be a design's id")
				}
				q.DesignID = s
			}
			ds, next, err := l.List(r.Context(), q)
			if err != nil {
				return err
			}
			if ds == nil {
				ds = []Delivery{}
			}
			out := map[string]any{"deliveries": ds}
			if next != 0 {
				out["next"] = strconv.FormatInt(next, 10)
			}
			api.WriteJSON(w, http.StatusOK, out)
			return nil
		},
	}}
}

package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/muster-dev/muster/store"
)

// TestEveryRouteIsAuthorised walks every operation of the served OpenAPI
// document (so a route added later is covered without editing this test)
// and calls it as nobody, as every role of an ordinary tenant and as every
// role of the platform operator, with path parameters naming another
// tenant's design and review item. It holds that:
//   - a route with roles answers 401 without a key;
//   - a role the route does not list, or an ordinary tenant's key on a
//     platform route, is refused with 403 before anything else;
//   - a tenant key never gets a 2xx for another tenant's design or item,
//     and no successful answer contains that design's id.
func TestEveryRouteIsAuthorised(t *testing.T) {
	t.Parallel()
	b, k := reviewSetup(t)
	ctx := context.Background()
	// the victim: b's tenant, with a design in review (an open review item)
	victim := b.submit(shirt(pngOf(t, 41)), "?wait=10s", nil).design
	var itemID int64
	if err := b.pool.QueryRow(ctx, `SELECT id FROM review_items WHERE design_id = $1`, victim.ID).Scan(&itemID); err != nil {
		t.Fatalf("the review item of %s: %v", victim.ID, err)
	}
	// the caller: another ordinary tenant, one key per role
	other, _, err := b.st.CreateTenant(ctx, "intruder", "")
	if err != nil {
		t.Fatal(err)
	}
	roles := []string{store.RoleMerchant, store.RoleReviewer, store.RoleLegal, store.RoleAdmin}
	keys := map[string]string{}
	for _, r := range roles {
		if keys[r], _, err = b.st.CreateKey(ctx, other.ID, r, "intruder "+r); err != nil {
			t.Fatal(err)
		}
	}
	plat := map[string]string{store.RoleReviewer: k.alice, store.RoleAdmin: k.platAdmin}

	var doc struct {
		Paths map[string]map[string]struct {
			Roles    []string `json:"x-roles"`
			Platform bool     `json:"x-platform"`
		} `json:"paths"`
	}
	resp, err := http.Get(b.url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	fill := func(pattern string) string {
		r := strings.NewReplacer("{bank}", "symbols", "{name}", "trademarks", "{tenant}", b.tenantID)
		p := r.Replace(pattern)
		if strings.HasPrefix(pattern, "/v1/designs/{id}") {
			return strings.Replace(p, "{id}", victim.ID, 1)
		}
		if strings.HasPrefix(pattern, "/v1/review/items/{id}") {
			return strings.Replace(p, "{id}", itoa(itemID), 1)
		}
		return strings.ReplaceAll(p, "{id}", "1")
	}
	call := func(method, path, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(strings.ToUpper(method), b.url+path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	patterns := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		patterns = append(patterns, p)
	}
	sort.Strings(patterns)
	checked := 0
	for _, pattern := range patterns {
		for method, op := range doc.Paths[pattern] {
			if op.Roles == nil {
				continue // public: health, readiness, the OpenAPI document
			}
			checked++
			path := fill(pattern)
			name := strings.ToUpper(method) + " " + pattern
			if st, _ := call(method, path, ""); st != http.StatusUnauthorized {
				t.Errorf("%s without a key: %d, want 401", name, st)
			}
			for _, role := range roles {
				st, body := call(method, path, keys[role])
				allowed := slices.Contains(op.Roles, role) && !op.Platform
				switch {
				case !allowed && st != http.StatusForbidden:
					t.Errorf("%s as another tenant's %s: %d, want 403 (roles %v, platform %v)", name, role, st, op.Roles, op.Platform)
				case allowed && st/100 == 2 && strings.Contains(pattern, "{id}"):
					t.Errorf("%s as another tenant's %s: %d on the victim's object: %.200s", name, role, st, body)
				case st/100 == 2 && strings.Contains(body, victim.ID):
					t.Errorf("%s as another tenant's %s: the answer names the victim's design: %.200s", name, role, body)
				case st == http.StatusUnauthorized:
					t.Errorf("%s as another tenant's %s: 401 with a valid key", name, role)
				}
			}
			for role, key := range plat {
				if st, _ := call(method, path, key); !slices.Contains(op.Roles, role) && st != http.StatusForbidden {
					t.Errorf("%s as the platform's %s: %d, want 403 (roles %v)", name, role, st, op.Roles)
				}
			}
		}
	}
	if checked < 40 {
		t.Fatalf("only %d authenticated operations in the OpenAPI document", checked)
	}
	t.Logf("%d authenticated operations × %d callers", checked, 1+len(roles)+len(plat))
}

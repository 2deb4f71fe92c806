package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/store"
)

func TestLivePolicyDecidesAndOnlyPlatformLegalPublishes(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *app.Options) { o.Decider = nil }) // the live policy from PostgreSQL
	ctx := context.Background()
	r := b.submit(shirt(pngOf(t, 11)), "?wait=10s", nil)
	if r.design.Verdict == nil || r.design.Verdict.PolicyVersion != "policy/1" {
		t.Fatalf("verdict %+v, want one under policy/1 (the default pack)", r.design.Verdict)
	}
	plat, _, err := b.st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		t.Fatal(err)
	}
	legal, _, _ := b.st.CreateKey(ctx, plat.ID, store.RoleLegal, "")
	platReviewer, _, _ := b.st.CreateKey(ctx, plat.ID, store.RoleReviewer, "")
	tenantLegal, _, _ := b.st.CreateKey(ctx, b.tenantID, store.RoleLegal, "")

	// The draft: the live document with one extra rule.
	req, _ := http.NewRequest("GET", b.url+"/v1/policy?which=live", nil)
	req.Header.Set("Authorization", "Bearer "+legal)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var live struct {
		Document map[string]any `json:"document"`
	}
	json.NewDecoder(resp.Body).Decode(&live)
	resp.Body.Close()
	if resp.StatusCode != 200 || live.Document == nil {
		t.Fatalf("GET /v1/policy: %d", resp.StatusCode)
	}
	doc, _ := json.Marshal(live.Document)

	tests := []struct {
		name, method, path, key, body string
		status                        int
	}{
		{"merchant tenant's legal key cannot read policy", "GET", "/v1/policy", tenantLegal, "", 403},
		{"merchant tenant's legal key cannot publish", "POST", "/v1/policy/publish", tenantLegal, `{"note":"x"}`, 403},
		{"bad rule text is rejected with its position", "PUT", "/v1/policy/draft", legal, `{"rules":[{"name":"r","markets":["DE"],"when":"findings.exists(f, f.score >",` + `"outcome":"block","reason":"x"}]}`, 422},
		{"legal saves the draft", "PUT", "/v1/policy/draft", legal, string(doc), 200},
		{"platform reviewer cannot publish", "POST", "/v1/policy/publish", platReviewer, `{"note":"x"}`, 403},
		{"publish needs a note", "POST", "/v1/policy/publish", legal, `{}`, 0},
		{"legal publishes", "POST", "/v1/policy/publish", legal, `{"note":"same rules, new version"}`, 201},
		{"history", "GET", "/v1/policy/versions", platReviewer, "", 200},
		{"diff", "GET", "/v1/policy/diff?a=1&b=live", platReviewer, "", 200},
	}
	for _, tt := range tests {
		r := b.do(tt.method, tt.path, tt.key, strings.NewReader(tt.body), "application/json", nil)
		if tt.status == 0 {
			if r.status < 400 {
				t.Fatalf("%s: %d, want an error", tt.name, r.status)
			}
			continue
		}
		if r.status != tt.status {
			t.Fatalf("%s: %d %+v, want %d", tt.name, r.status, r.err, tt.status)
		}
	}
}

package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
	"github.com/muster-dev/muster/webhook"
)

// reviewDecider puts DE in review on a possible trademark; other markets
// are allowed.
type reviewDecider struct{}

func (reviewDecider) Decide(_ context.Context, in mustertype.Input) (mustertype.Decision, error) {
	d := mustertype.Decision{PolicyVersion: "test/1"}
	for _, m := range in.Markets {
		mv := mustertype.MarketVerdict{Market: m, Outcome: mustertype.Allow, Reasons: []mustertype.Reason{{Code: "no_rule_matched", Outcome: mustertype.Allow}}}
		if m == "DE" {
			mv = mustertype.MarketVerdict{Market: m, Outcome: mustertype.Review, Reasons: []mustertype.Reason{{Rule: "trademark_uncertain_match_review", Code: "trademark_possible", Outcome: mustertype.Review, Message: "possible trademark"}}}
		}
		d.Markets = append(d.Markets, mv)
	}
	return d, nil
}

// call sends a JSON request and decodes the JSON answer into out (when
// not nil); it returns the status and the error code.
func (b *bundle) call(method, path, key, body string, out any) (int, string) {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, b.url+path, r)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" {
			b.t.Fatalf("%s %s: %d %q: not the error shape", method, path, resp.StatusCode, raw)
		}
		return resp.StatusCode, e.Error.Code
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("%s %s: %v in %q", method, path, err, raw)
		}
	}
	return resp.StatusCode, ""
}

// reviewKeys are the keys of the review tests: the platform operator's
// reviewers and admin, the merchant tenant's own reviewer, and another
// tenant's merchant.
type reviewKeys struct {
	alice, bob, platAdmin, tenantReviewer, otherMerchant string
}

func reviewSetup(t *testing.T) (*bundle, reviewKeys) {
	b := setup(t, func(o *app.Options) { o.Decider = reviewDecider{} })
	ctx := context.Background()
	plat, _, err := b.st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := b.st.CreateTenant(ctx, "other", "")
	var k reviewKeys
	k.alice, _, _ = b.st.CreateKey(ctx, plat.ID, store.RoleReviewer, "alice")
	k.bob, _, _ = b.st.CreateKey(ctx, plat.ID, store.RoleReviewer, "bob")
	k.platAdmin, _, _ = b.st.CreateKey(ctx, plat.ID, store.RoleAdmin, "")
	k.tenantReviewer, _, _ = b.st.CreateKey(ctx, b.tenantID, store.RoleReviewer, "")
	k.otherMerchant, _, _ = b.st.CreateKey(ctx, other.ID, store.RoleMerchant, "")
	return b, k
}

func TestReviewDecisionReachesTheMerchantAndAppealIsFourEyes(t *testing.T) {
	t.Parallel()
	b, k := reviewSetup(t)
	got := make(chan webhook.Payload, 8)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer recv.Close()
	if _, err := b.st.SetWebhook(t.Context(), b.tenantID, recv.URL); err != nil {
		t.Fatal(err)
	}
	next := func(typ string) webhook.Payload {
		t.Helper()
		for {
			select {
			case p := <-got:
				if p.Type == typ {
					return p
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no %s webhook", typ)
			}
		}
	}
	d := b.submit(shirt(pngOf(t, 31)), "?wait=10s", nil).design
	if d.Verdict == nil || d.Verdict.Outcome != "review" {
		t.Fatalf("verdict %+v", d.Verdict)
	}
	next("verdict.recorded")

	var it review.Item
	if st, code := b.call("POST", "/v1/review/claim", k.alice, `{"queue":"trademarks"}`, &it); st != 200 || it.DesignID != d.ID {
		t.Fatalf("claim: %d %s %+v", st, code, it)
	}
	if st, _ := b.call("POST", "/v1/review/claim", k.bob, "", nil); st != 204 {
		t.Fatalf("second claim: %d, want 204", st)
	}
	var ctxt review.ItemContext
	if st, _ := b.call("GET", "/v1/review/items/"+itoa(it.ID), k.alice, "", &ctxt); st != 200 || ctxt.Design.ID != d.ID || len(ctxt.History) == 0 {
		t.Fatalf("item context: %d %+v", st, ctxt)
	}
	if st, _ := b.call("POST", "/v1/review/items/"+itoa(it.ID)+"/heartbeat", k.alice, "", nil); st != 200 {
		t.Fatalf("heartbeat: %d", st)
	}
	if st, code := b.call("POST", "/v1/review/items/"+itoa(it.ID)+"/decision", k.bob, `{"markets":{"DE":"block"},"reason":"trademark_infringement"}`, nil); st != 409 || code != "not_claimed" {
		t.Fatalf("decision without the lease: %d %s", st, code)
	}
	if st, code := b.call("POST", "/v1/review/items/"+itoa(it.ID)+"/decision", k.alice, `{"markets":{"US":"allow"},"reason":"no_violation"}`, nil); st != 400 || code != "undecided_markets" {
		t.Fatalf("decision leaving DE in review: %d %s", st, code)
	}
	var res review.Result
	if st, code := b.call("POST", "/v1/review/items/"+itoa(it.ID)+"/decision", k.alice, `{"markets":{"DE":"block"},"reason":"trademark_infringement","note":"exact logo"}`, &res); st != 200 {
		t.Fatalf("decision: %d %s", st, code)
	}
	p := next("verdict.changed")
	if p.DesignID != d.ID || p.Verdict == nil || p.Verdict.Outcome != "block" || p.Verdict.Cause != "review" {
		t.Fatalf("verdict.changed webhook %+v", p)
	}
	view := b.do("GET", "/v1/designs/"+d.ID, b.key, nil, "", nil).design
	de, _ := view.Verdict.Decision.Market("DE")
	var sor map[string]any
	json.Unmarshal(de.StatementOfReasons, &sor)
	if view.Verdict.Outcome != "block" || view.Verdict.Cause != "review" || sor["automated_decision"] != "AUTOMATED_DECISION_NOT_AUTOMATED" {
		t.Fatalf("merchant sees %+v, statement %s", view.Verdict, de.StatementOfReasons)
	}

	// The merchant appeals; alice made the decision and is never handed it.
	var ap review.Appeal
	if st, code := b.call("POST", "/v1/designs/"+d.ID+"/appeals", b.key, `{"message":"We own this mark: EUTM 018000001"}`, &ap); st != 201 {
		t.Fatalf("appeal: %d %s", st, code)
	}
	if st, code := b.call("POST", "/v1/designs/"+d.ID+"/appeals", b.key, `{"message":"again"}`, nil); st != 409 {
		t.Fatalf("second appeal: %d %s", st, code)
	}
	if st, _ := b.call("POST", "/v1/review/claim", k.alice, `{"queue":"appeals"}`, nil); st != 204 {
		t.Fatalf("alice claimed the appeal of her own decision: %d", st)
	}
	var ai review.Item
	if st, _ := b.call("POST", "/v1/review/claim", k.bob, `{"queue":"appeals"}`, &ai); st != 200 || ai.Kind != review.KindAppeal {
		t.Fatalf("bob's appeal claim: %d %+v", st, ai)
	}
	if st, code := b.call("POST", "/v1/review/items/"+itoa(ai.ID)+"/decision", k.bob, `{"appeal":"overturn","reason":"licensed"}`, &res); st != 200 || res.Appeal.State != "overturned" {
		t.Fatalf("overturn: %d %s %+v", st, code, res)
	}
	if p := next("appeal.decided"); p.Reason != "overturned" {
		t.Fatalf("appeal.decided webhook %+v", p)
	}
	var appeals struct{ Appeals []review.Appeal }
	if st, _ := b.call("GET", "/v1/designs/"+d.ID+"/appeals", b.key, "", &appeals); st != 200 || len(appeals.Appeals) != 1 || appeals.Appeals[0].State != "overturned" {
		t.Fatalf("merchant's appeals: %d %+v", st, appeals)
	}
	if view := b.do("GET", "/v1/designs/"+d.ID, b.key, nil, "", nil).design; view.Verdict.Outcome != "allow" {
		t.Fatalf("after the overturn the merchant sees %s", view.Verdict.Outcome)
	}
	// The audit log is exportable and its chain holds.
	req, _ := http.NewRequest("GET", b.url+"/v1/review/audit?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+k.platAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(csv), "item.decided") {
		t.Fatalf("audit csv: %d %s", resp.StatusCode, csv)
	}
	rep, err := review.VerifyAudit(t.Context(), b.pool)
	if err != nil || !rep.OK {
		t.Fatalf("audit chain: %+v %v", rep, err)
	}
	// /metrics has the review gauges and counters.
	mresp, err := http.Get(b.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`muster_review_pending{queue="trademarks"}`, `muster_review_oldest_ready_seconds{queue="appeals"}`, `muster_review_decisions_total{queue="appeals",reviewer="key:`, "muster_review_claim_to_decision_seconds_bucket"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestReviewAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	b, k := reviewSetup(t)
	d := b.submit(shirt(pngOf(t, 32)), "?wait=10s", nil).design
	var itemID int64
	if err := b.pool.QueryRow(t.Context(), `SELECT id FROM review_items WHERE design_id = $1`, d.ID).Scan(&itemID); err != nil {
		t.Fatalf("the review item of %s: %v", d.ID, err)
	}
	item := "/v1/review/items/" + itoa(itemID)
	decision := `{"markets":{"DE":"allow"},"reason":"no_violation"}`
	routes := `{"routes":[{"match_on":"code","pattern":"trademark_*","queue":"trademarks"}]}`
	tests := []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		{"merchant cannot list review queues", "GET", "/v1/review/queues", b.key, "", 403, "forbidden"},
		{"merchant cannot claim", "POST", "/v1/review/claim", b.key, "", 403, "forbidden"},
		{"merchant cannot read a review item", "GET", item, b.key, "", 403, "forbidden"},
		{"merchant cannot decide", "POST", item + "/decision", b.key, decision, 403, "forbidden"},
		{"merchant cannot read the review audit", "GET", "/v1/review/audit", b.key, "", 403, "forbidden"},
		{"merchant cannot bulk-decide", "POST", "/v1/review/bulk", b.key, `{"ids":[1],"reason":"no_violation"}`, 403, "forbidden"},
		{"no key", "GET", "/v1/review/queues", "", "", 401, "unauthenticated"},
		{"another tenant's merchant cannot appeal", "POST", "/v1/designs/" + d.ID + "/appeals", k.otherMerchant, `{"message":"x"}`, 404, "not_found"},
		{"another tenant's merchant cannot read appeals", "GET", "/v1/designs/" + d.ID + "/appeals", k.otherMerchant, "", 404, "not_found"},
		{"a reviewer cannot file an appeal", "POST", "/v1/designs/" + d.ID + "/appeals", k.alice, `{"message":"x"}`, 403, "forbidden"},
		{"a design in review cannot be appealed", "POST", "/v1/designs/" + d.ID + "/appeals", b.key, `{"message":"x"}`, 400, "not_appealable"},
		{"platform reviewer cannot change routing", "PUT", "/v1/review/routes", k.alice, routes, 403, "forbidden"},
		{"tenant reviewer cannot change routing", "PUT", "/v1/review/routes", k.tenantReviewer, routes, 403, "forbidden"},
		{"platform admin changes routing", "PUT", "/v1/review/routes", k.platAdmin, routes, 200, ""},
		{"platform admin changes a queue", "PUT", "/v1/review/queues/legal", k.platAdmin, `{"title":"Legal","roles":["legal","admin"],"sla_seconds":3600}`, 200, ""},
		{"a reviewer may not claim from a legal-only queue", "POST", "/v1/review/claim", k.alice, `{"queue":"legal"}`, 403, "forbidden"},
		{"unknown queue", "POST", "/v1/review/claim", k.alice, `{"queue":"nope"}`, 404, "not_found"},
		{"tenant reviewer reads own tenant's item", "GET", item, k.tenantReviewer, "", 200, ""},
		{"platform reviewer reads any tenant's item", "GET", item, k.alice, "", 200, ""},
		{"bad item id", "GET", "/v1/review/items/x", k.alice, "", 404, "not_found"},
		{"unknown fields are refused", "POST", "/v1/review/claim", k.alice, `{"queu":"x"}`, 400, "invalid_json"},
		{"decision without a claim", "POST", item + "/decision", k.alice, decision, 409, "not_claimed"},
		{"reasons", "GET", "/v1/review/reasons", k.tenantReviewer, "", 200, ""},
		{"QA report", "GET", "/v1/review/qa", k.alice, "", 200, ""},
		{"merchant reads own appeals", "GET", "/v1/designs/" + d.ID + "/appeals", b.key, "", 200, ""},
		{"merchant cannot mark a finding wrong", "POST", item + "/corrections", b.key, `{"bank":"logos","entry_id":"x"}`, 403, "forbidden"},
		{"not this mark needs a finding the design has", "POST", item + "/corrections", k.alice, `{"bank":"logos","entry_id":"not-found-here"}`, 400, "no_such_finding"},
		{"not this mark needs bank and entry", "POST", item + "/corrections", k.tenantReviewer, `{"bank":"logos"}`, 400, "invalid_finding"},
		{"tenant reviewer lists the design's corrections", "GET", item + "/corrections", k.tenantReviewer, "", 200, ""},
		{"merchant cannot list corrections", "GET", item + "/corrections", b.key, "", 403, "forbidden"},
		{"merchant cannot withdraw a correction", "POST", "/v1/review/corrections/1/withdraw", b.key, "", 403, "forbidden"},
		{"withdrawing an unknown correction", "POST", "/v1/review/corrections/999/withdraw", k.alice, `{"note":"x"}`, 404, "not_found"},
		{"merchant lists who viewed its design", "GET", "/v1/designs/" + d.ID + "/access", b.key, "", 200, ""},
		{"tenant reviewer lists who viewed the design", "GET", "/v1/designs/" + d.ID + "/access", k.tenantReviewer, "", 200, ""},
		{"platform reviewer lists who viewed any design", "GET", "/v1/designs/" + d.ID + "/access", k.alice, "", 200, ""},
		{"another tenant's merchant cannot list the design's viewers", "GET", "/v1/designs/" + d.ID + "/access", k.otherMerchant, "", 404, "not_found"},
		{"access: bad limit", "GET", "/v1/designs/" + d.ID + "/access?limit=0", b.key, "", 400, "invalid_limit"},
		{"access: no key", "GET", "/v1/designs/" + d.ID + "/access", "", "", 401, "unauthenticated"},
	}
	for _, tt := range tests {
		st, code := b.call(tt.method, tt.path, tt.key, tt.body, nil)
		if st != tt.status || code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, st, code, tt.status, tt.code)
		}
	}
	// Reading the item through the API was logged: the merchant sees who.
	var access struct {
		Access []review.Access `json:"access"`
	}
	if st, _ := b.call("GET", "/v1/designs/"+d.ID+"/access", b.key, "", &access); st != 200 || len(access.Access) < 2 || access.Access[0].View != review.ViewAPIItem ||
		!strings.HasPrefix(access.Access[0].Actor, "key:") {
		t.Fatalf("access log after two reviewers read the item: %d %+v", st, access.Access)
	}
	// Another tenant's reviewer never sees this tenant's items.
	other, _, _ := b.st.CreateTenant(t.Context(), "third", "")
	otherReviewer, _, _ := b.st.CreateKey(t.Context(), other.ID, store.RoleReviewer, "")
	if st, code := b.call("GET", item, otherReviewer, "", nil); st != 404 || code != "not_found" {
		t.Fatalf("another tenant's reviewer read the item: %d %s", st, code)
	}
	var list struct{ Items []review.Item }
	if st, _ := b.call("GET", "/v1/review/items", otherReviewer, "", &list); st != 200 || len(list.Items) != 0 {
		t.Fatalf("another tenant's reviewer lists %d items", len(list.Items))
	}
	if st, code := b.call("POST", item+"/corrections", otherReviewer, `{"bank":"logos","entry_id":"x"}`, nil); st != 404 || code != "not_found" {
		t.Fatalf("another tenant's reviewer marked a finding wrong: %d %s", st, code)
	}
	if st, _ := b.call("POST", "/v1/review/claim", otherReviewer, "", nil); st != 204 {
		t.Fatalf("another tenant's reviewer claimed: %d", st)
	}
	var audit struct{ Audit []review.AuditEntry }
	if st, _ := b.call("GET", "/v1/review/audit", otherReviewer, "", &audit); st != 200 || len(audit.Audit) != 0 {
		t.Fatalf("another tenant's reviewer reads %d audit rows", len(audit.Audit))
	}
	// Every review route is in the OpenAPI document, with its roles.
	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	b.call("GET", "/openapi.json", b.key, "", &doc)
	for _, p := range []string{"/v1/review/claim", "/v1/review/items/{id}/decision", "/v1/designs/{id}/appeals", "/v1/review/audit", "/v1/review/items/{id}/corrections", "/v1/review/corrections/{id}/withdraw", "/v1/designs/{id}/access"} {
		if len(doc.Paths[p]) == 0 {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRedecideKeepsTheHumanDecision(t *testing.T) {
	t.Parallel()
	b, k := reviewSetup(t)
	d := b.submit(shirt(pngOf(t, 33)), "?wait=10s", nil).design
	var it review.Item
	if st, _ := b.call("POST", "/v1/review/claim", k.alice, "", &it); st != 200 {
		t.Fatalf("claim: %d", st)
	}
	var res review.Result
	if st, code := b.call("POST", "/v1/review/items/"+itoa(it.ID)+"/decision", k.alice, `{"markets":{"DE":"block","FR":"block"},"reason":"trademark_infringement"}`, &res); st != 200 {
		t.Fatalf("decision: %d %s", st, code)
	}
	// The live policy (the default pack) allows this plain design
	// everywhere: a re-decision would flip the human blocks.
	pol := policy.NewStore(b.pool, app.NewStore(b.pool, testConfig(), nil), policy.Config{})
	if err := pol.Bootstrap(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rep, err := pol.Redecide(t.Context(), policy.Actor{Name: "ops", Role: store.RoleLegal}, time.Time{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.HeldByHuman != 1 || len(rep.Changed) != 0 {
			t.Fatalf("redecide report %+v", rep)
		}
	}
	v, err := b.st.LatestVerdict(t.Context(), d.ID)
	if err != nil || v.ID != res.Verdict.ID || v.Outcome != "block" {
		t.Fatalf("after redecide the latest verdict is %+v (%v), want the human one %d", v, err, res.Verdict.ID)
	}
	// The disagreement is put to a reviewer, once.
	if n := b.count(`SELECT count(*) FROM review_items WHERE design_id = $1 AND kind = 'redecide' AND state = 'open'`, d.ID); n != 1 {
		t.Fatalf("%d open re-decision items, want 1", n)
	}
}

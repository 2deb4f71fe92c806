package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/webhook"
)

type delivery struct {
	payload   webhook.Payload
	body      []byte
	signature string
}

func TestWebhookSignedDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := make(chan delivery, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p webhook.Payload
		json.Unmarshal(body, &p)
		got <- delivery{p, body, r.Header.Get(webhook.SignatureHeader)}
	}))
	defer recv.Close()
	req, _ := http.NewRequest("PUT", b.url+"/v1/webhook", strings.NewReader(`{"url":"`+recv.URL+`"}`))
	req.Header.Set("Authorization", "Bearer "+b.adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Secret string }
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(out.Secret, "whsec_") {
		t.Fatalf("set webhook: %d, secret %q", resp.StatusCode, out.Secret)
	}
	d := b.submit(shirt(pngOf(t, 3)), "", nil)
	select {
	case dl := <-got:
		if err := webhook.Verify(out.Secret, dl.signature, dl.body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if err := webhook.Verify("whsec_wrong", dl.signature, dl.body, time.Now(), 5*time.Minute); err == nil {
			t.Fatal("a wrong secret verified")
		}
		p := dl.payload
		if p.DesignID != d.design.ID || p.Type != "verdict.recorded" || p.Verdict == nil || p.Verdict.Outcome != "allow" {
			t.Fatalf("payload %+v", p)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook delivered")
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.count(`SELECT count(*) FROM webhook_deliveries WHERE status_code = 200`) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the delivery was not recorded")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWebhookRetriesFailedDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	calls := make(chan int, 8)
	n := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		calls <- n
		if n == 1 {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer recv.Close()
	if _, err := b.st.SetWebhook(t.Context(), b.tenantID, recv.URL); err != nil {
		t.Fatal(err)
	}
	b.submit(shirt(pngOf(t, 4)), "", nil)
	for want := 1; want <= 2; want++ {
		select {
		case got := <-calls:
			if got != want {
				t.Fatalf("call %d, want %d", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("attempt %d never came", want)
		}
	}
}

package netguard_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/netguard"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1", false}, {"::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"100.64.0.1", false}, {"0.0.0.0", false}, {"224.0.0.1", false},
		{"::ffff:127.0.0.1", false}, {"fd00::1", false}, {"fe80::1", false}, {"fd00:ec2::254", false}, {"255.255.255.255", false},
		{"93.184.216.34", true}, {"2606:4700:4700::1111", true}, {"8.8.8.8", true},
	}
	var g netguard.Guard
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			err := g.Check(netip.MustParseAddr(tc.addr))
			if (err == nil) != tc.allowed {
				t.Fatalf("Check(%s) = %v, want allowed=%v", tc.addr, err, tc.allowed)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	var g netguard.Guard
	for _, raw := range []string{"http://", "ftp://example.com/", "http://127.0.0.1:8080/x", "http://user:pw@example.com/", "https://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://localhost/"} {
		if err := g.CheckURL(context.Background(), raw); err == nil {
			t.Errorf("CheckURL(%q) accepted", raw)
		}
	}
	if err := g.CheckURL(context.Background(), "https://93.184.216.34/hook"); err != nil {
		t.Errorf("public address refused: %v", err)
	}
}

// TestClientRefusesAtConnectTime: a receiver on loopback is refused when
// dialled, allowed when the operator lists it, and a redirect to another
// host is never followed.
func TestClientRefusesAtConnectTime(t *testing.T) {
	t.Parallel()
	hits := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer recv.Close()
	if _, err := (netguard.Guard{}).Client(5*time.Second).Post(recv.URL, "text/plain", nil); !errors.Is(err, netguard.ErrForbiddenAddress) {
		t.Fatalf("loopback receiver: %v, want ErrForbiddenAddress", err)
	}
	if hits != 0 {
		t.Fatal("the request reached the loopback receiver")
	}
	allow, err := netguard.ParseAllow("127.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	g := netguard.Guard{Allow: allow}
	resp, err := g.Client(5*time.Second).Post(recv.URL, "text/plain", nil)
	if err != nil || hits != 1 {
		t.Fatalf("allow-listed receiver: %v (hits %d)", err, hits)
	}
	resp.Body.Close()
	// localhost and 127.0.0.1 are different hosts: the redirect is refused.
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+recv.Listener.Addr().(interface{ String() string }).String()[len("127.0.0.1:"):]+"/", http.StatusTemporaryRedirect)
	}))
	defer redir.Close()
	if _, err := g.Client(5*time.Second).Post(redir.URL, "text/plain", nil); !errors.Is(err, netguard.ErrForbiddenAddress) {
		t.Fatalf("cross-host redirect: %v, want ErrForbiddenAddress", err)
	}
	if hits != 1 {
		t.Fatal("the redirect was followed")
	}
}

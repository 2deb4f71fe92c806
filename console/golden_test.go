package console

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/muster-dev/muster/accounts"
)

var assetHash = regexp.MustCompile(`\?v=[0-9a-f]{12}`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	// Asset hashes change with every CSS or script edit: not the page's business.
	got = assetHash.ReplaceAll(got, []byte("?v=HASH"))
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./console -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run with -update after a deliberate change):\n%s", name, path, got)
	}
}

// fixtureSession is a signed-in platform reviewer with fixed values.
func fixtureSession() *accounts.Session {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	return &accounts.Session{
		User: accounts.User{ID: "00000000-0000-0000-0000-0000000000a1", TenantID: "00000000-0000-0000-0000-0000000000f1", TenantName: "plat", Platform: true,
			Email: "rev@example.com", Name: "Rita Reviewer", Role: accounts.RoleReviewer, CreatedAt: at, LastLoginAt: &at},
		CSRF: "CSRF-TOKEN", CreatedAt: at, ExpiresAt: at.Add(12 * time.Hour),
	}
}

func goldenServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	s.sections = []Section{{Key: "review", Title: "Review", Path: "/console/review", Summary: "Queues of flagged designs.", Roles: reviewRoles},
		{Key: "legal", Title: "Legal", Path: "/console/legal", Summary: "Rules per market.", Roles: []string{accounts.RoleLegal}}}
	return s
}

func TestGoldenPages(t *testing.T) {
	t.Parallel()
	s := goldenServer(t)
	sess := fixtureSession()
	signin := s.page(nil, nil, "Sign in", "", signinData{Next: "/console/review", Email: "rev@example.com", Message: "Wrong email or password."})
	signin.CSRF = "SIGNIN-TOKEN"
	grey := *sess
	grey.User.Prefs = accounts.Prefs{Greyscale: true, HideShortcutHints: true}
	tests := []struct {
		name, view string
		p          page
	}{
		{"signin", "signin", signin},
		{"home", "home", s.page(nil, sess, "Muster console", "", homeData{Sections: s.visibleSections(sess)})},
		{"account", "account", s.page(nil, &grey, "Your account", "account", accountData{Message: "Preferences saved."})},
		{"error", "error", s.page(nil, sess, "Forbidden", "", errorf(403, "Your role (reviewer) may not open this page."))},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := s.views.execute(&buf, tt.view, tt.p); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		golden(t, tt.name, buf.Bytes())
	}
}

package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/muster-dev/muster/accounts"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// views holds the parsed pages (each the layout plus its own file) and
// the static files with their content hashes for cache busting.
type views struct {
	pages  map[string]*template.Template
	static map[string]asset
}

type asset struct {
	body []byte
	hash string // first 12 hex of sha256
}

func newViews() (*views, error) {
	v := &views{pages: map[string]*template.Template{}, static: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v.static[path.Base(p)] = asset{body: b, hash: hex.EncodeToString(sum[:])[:12]}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: static files: %w", err)
	}
	funcs := template.FuncMap{
		"asset": func(name string) string {
			a, ok := v.static[name]
			if !ok {
				return "/console/static/missing-" + name
			}
			return "/console/static/" + name + "?v=" + a.hash
		},
		"age":     humanAge,
		"ageSecs": func(s float64) string { return humanAge(time.Duration(s * float64(time.Second))) },
		"hasRole": func(sess *accounts.Session, roles ...string) bool {
			return sess != nil && containsStr(roles, sess.User.Role)
		},
		"join":      strings.Join,
		"upper":     strings.ToUpper,
		"pct":       func(v, of float64) string { return fmt.Sprintf("%.4g", 100*v/math.Max(of, 1)) },
		"add":       func(a, b int) int { return a + b },
		"fmtTime":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"isoTime":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"dict":      dict,
		"contains":  containsStr,
		"score":     func(f float64) string { return fmt.Sprintf("%.2f", f) },
		"truncate":  func(s string, n int) string { return truncateRunes(s, n) },
		"slaClass":  slaClass,
		"outcomeOf": func(m map[string]string, k string) string { return m[k] },
		"secs":      func(n int) string { return humanAge(time.Duration(n) * time.Second) },
		"mulf":      func(a, b float64) float64 { return a * b },
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", p)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		v.pages[name] = t
	}
	return v, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// humanAge prints a duration the way a reviewer reads an SLA timer.
func humanAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// slaClass colours an age against its SLA: ok under half, warn under the
// SLA, breach past it.
func slaClass(ageSeconds float64, slaSeconds int) string {
	if slaSeconds <= 0 {
		return "sla-ok"
	}
	switch f := ageSeconds / float64(slaSeconds); {
	case f >= 1:
		return "sla-breach"
	case f >= 0.5:
		return "sla-warn"
	}
	return "sla-ok"
}

// page is what every template receives.
type page struct {
	Title    string
	Active   string
	Session  *accounts.Session
	CSRF     string
	Sections []Section
	// Prefs are the user's (zero: safe defaults) as CSS classes on <body>.
	BodyClass string
	Data      any
}

func (s *Server) page(r *http.Request, sess *accounts.Session, title, active string, data any) page {
	p := page{Title: title, Active: active, Session: sess, Data: data}
	if sess != nil {
		p.CSRF = sess.CSRF
		p.Sections = s.visibleSections(sess)
		var cls []string
		if sess.User.Prefs.Greyscale {
			cls = append(cls, "pref-greyscale")
		}
		if sess.User.Prefs.UnblurSexual {
			cls = append(cls, "pref-unblur")
		}
		if sess.User.Prefs.HideShortcutHints {
			cls = append(cls, "pref-nohints")
		}
		p.BodyClass = strings.Join(cls, " ")
	}
	return p
}

// render executes a page into a buffer first, so a template error is a
// clean 500 and never half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := s.views.execute(&buf, name, p); err != nil {
		s.cfg.Logger.Error("console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (v *views) execute(buf *bytes.Buffer, name string, p page) error {
	t, ok := v.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	return t.ExecuteTemplate(buf, "layout.html", p)
}

// static serves the embedded files; a request naming the current hash
// (?v=…, as the templates link them) may be cached for a year.
func (s *Server) static(w http.ResponseWriter, r *http.Request, _ *accounts.Session) error {
	a, ok := s.views.static[r.PathValue("name")]
	if !ok {
		return errorf(http.StatusNotFound, "No such file.")
	}
	ct := mime.TypeByExtension(path.Ext(r.PathValue("name")))
	if ct == "" || strings.HasSuffix(r.PathValue("name"), "LICENSE") {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	if r.URL.Query().Get("v") == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+a.hash+`"`)
	if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	_, _ = w.Write(a.body)
	return nil
}

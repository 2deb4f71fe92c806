// Package browsertest drives a real headless Chromium (Debian's chromium
// package, which `make test` installs when missing) from Go tests through
// chromedp. Each test gets its own browser process, so cookies and storage
// never leak between tests.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvPath names a variable that overrides where Chromium is.
const EnvPath = "MUSTER_CHROMIUM"

// candidates are where Debian and others install Chromium.
var candidates = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium", "/usr/bin/google-chrome"}

// ErrNoChromium says no Chromium binary was found.
var ErrNoChromium = errors.New("chromium not found: install it with `make console-deps` (apt-get install chromium) or set " + EnvPath)

// Path returns the Chromium binary: $MUSTER_CHROMIUM, then the usual
// Debian locations, then chromium on $PATH.
func Path() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvPath, p, err)
		}
		return p, nil
	}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Options tune a browser.
type Options struct {
	// Timeout bounds the whole test's browser use (default 60s).
	Timeout time.Duration
	// Width and Height of the window (default 1280×900).
	Width, Height int
}

// New starts a headless Chromium for t and returns a chromedp context for
// its first tab; the browser is stopped when the test ends. In -short mode
// the test is skipped; without Chromium it fails (make test installs it).
func New(t testing.TB, o Options) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Width == 0 {
		o.Width, o.Height = 1280, 900
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox, // tests run as root in containers, where the sandbox cannot start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.Width, o.Height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		t.Logf("chromedp: "+format, args...)
	}))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser now, on a context without a deadline (the browser
	// lives as long as the context of the first call), so a broken install
	// fails here, clearly.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, o.Timeout)
	t.Cleanup(cancelTimeout)
	return tctx
}

// Screenshot saves a full-page PNG as a test artifact (go test -artifacts
// keeps it under the output directory) and returns its path.
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	t.Logf("screenshot: %s", p)
	return p
}

// Log collects a tab's console messages (calls of the console API,
// uncaught exceptions and browser log entries such as CSP violations)
// from the moment Watch is called until the test ends.
type Log struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// Watch starts collecting ctx's console messages. Call it before
// navigating.
func Watch(t testing.TB, ctx context.Context) *Log {
	t.Helper()
	wctx, cancel := context.WithCancel(ctx)
	l := &Log{}
	msgs := chromedp.Console(wctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, m)
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

// Errors returns the errors and exceptions seen so far.
func (l *Log) Errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if m.IsException() || m.Type == "error" {
			out = append(out, m.String())
		}
	}
	return out
}

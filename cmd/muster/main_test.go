package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/jackc/pgx/v5"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// bundle runs the muster command in-process against a fresh database.
type bundle struct {
	t   *testing.T
	env map[string]string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{t: t, env: map[string]string{
		"MUSTER_DATABASE_URL": pgtest.NewURL(t),
		"MUSTER_ANALYZERS":    "hash",
		"MUSTER_DATA_DIR":     t.TempDir(),
		"MUSTER_LOG_LEVEL":    "error",
	}}
}

func (b *bundle) run(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return b.env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func writePNG(t *testing.T, dir, name string) string {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanPrintsOneJSONLinePerFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dir := t.TempDir()
	good := writePNG(t, dir, "good.png")
	bad := filepath.Join(dir, "bad.png")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	out, _, err := b.run("scan", "--markets", "DE,IN", "--product", "mug", good, bad)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 files") {
		t.Fatalf("err = %v, want one file failed", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	var first, second scanLine
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(lines[1]), &second)
	if first.File != good || first.Error != nil || first.Analyses["hash"] == nil || first.Verdict == nil {
		t.Fatalf("good file line: %s", lines[0])
	}
	if len(first.Verdict.Markets) != 2 || first.Verdict.Markets[1].Market != "IN" || first.Verdict.PolicyVersion == "" {
		t.Fatalf("verdict %+v", first.Verdict)
	}
	if second.Error == nil || !strings.Contains(*second.Error, "not a PNG, JPEG, GIF or WebP") {
		t.Fatalf("bad file line: %s", lines[1])
	}
	if _, _, err := b.run("scan", "--markets", "XX", good); err == nil {
		t.Fatal("unknown market accepted")
	}
}

// TestOmittedAnalyzersHoldForReview: a configuration that leaves analyzers
// out (here: hash only) never allows a design on the signals it did not
// compute: every market is held for review with the omitted analyzers named.
func TestOmittedAnalyzersHoldForReview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := writePNG(t, t.TempDir(), "good.png")
	out, _, err := b.run("scan", "--markets", "US,DE", good)
	if err != nil {
		t.Fatal(err)
	}
	var line scanLine
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil || line.Verdict == nil {
		t.Fatalf("scan line %q: %v", out, err)
	}
	if line.Analyses["omitted"] == nil || !strings.Contains(string(line.Analyses["omitted"]), "nsfw") {
		t.Fatalf("no omitted analysis naming nsfw: %s", out)
	}
	for _, m := range line.Verdict.Markets {
		if m.Outcome != "review" {
			t.Errorf("%s: %s, want review", m.Market, m.Outcome)
		}
		held := false
		for _, r := range m.Reasons {
			held = held || (r.Code == "analysis_incomplete" && strings.Contains(r.Message, "nsfw"))
		}
		if !held {
			t.Errorf("%s: no analysis_incomplete reason naming nsfw: %+v", m.Market, m.Reasons)
		}
	}
}

func TestTenantAndKeyCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out, _, err := b.run("tenant", "create", "shop", "--webhook", "https://example.com/hook")
	if err != nil || !strings.Contains(out, "tenant shop created") || !strings.Contains(out, "whsec_") {
		t.Fatalf("tenant create: %v %q", err, out)
	}
	key, _, err := b.run("key", "create", "--tenant", "shop", "--role", "merchant", "--name", "upload flow")
	if err != nil || !strings.HasPrefix(key, "mst_") {
		t.Fatalf("key create: %v %q", err, key)
	}
	out, _, err = b.run("key", "list", "--tenant", "shop")
	if err != nil || !strings.Contains(out, "merchant") || strings.Contains(out, strings.TrimSpace(key)) {
		t.Fatalf("key list must show the key's metadata but never the key: %v %q", err, out)
	}
	prefix := strings.Join(strings.Split(strings.TrimSpace(key), "_")[:2], "_")
	if _, _, err := b.run("key", "revoke", prefix); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.run("key", "create", "--tenant", "shop", "--role", "superuser"); err == nil {
		t.Fatal("unknown role accepted")
	}
	if _, _, err := b.run("tenant", "create", "shop"); err == nil {
		t.Fatal("duplicate tenant accepted")
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"run", "serve", "worker", "migrate", "scan", "tenant", "key", "policy", "MUSTER_DATABASE_URL", "MUSTER_NATS_URL", "MUSTER_MAX_PIXELS"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("help lacks %s", want)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &out, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestBadSettingsAreClearErrors(t *testing.T) {
	t.Parallel()
	env := map[string]string{"MUSTER_MAX_DELIVER": "zero"}
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "MUSTER_MAX_DELIVER") {
		t.Fatalf("err = %v", err)
	}
	err = run(context.Background(), []string{"serve"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "MUSTER_DATABASE_URL") {
		t.Fatalf("serve without a database URL: %v", err)
	}
}

// TestTenantCreateFlagOrders: a boolean flag never swallows the next word,
// whatever the order of flags and the name.
func TestTenantCreateFlagOrders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"bool flag before the name", []string{"tenant", "create", "--platform", "acme", "--webhook", "https://example.com/hook"}},
		{"bool flag after the name", []string{"tenant", "create", "acme", "--platform", "--webhook", "https://example.com/hook"}},
		{"flags first", []string{"tenant", "create", "--webhook", "https://example.com/hook", "--platform", "acme"}},
		{"bool flag with a value", []string{"tenant", "create", "--platform=true", "acme"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out, _, err := b.run(tc.args...)
			if err != nil || !strings.Contains(out, "tenant acme created") {
				t.Fatalf("%v: %v %q", tc.args, err, out)
			}
			if slices.Contains(tc.args, "--webhook") && !strings.Contains(out, "whsec_") {
				t.Fatalf("%v: webhook not set: %q", tc.args, out)
			}
			var platform bool
			conn, err := pgx.Connect(context.Background(), b.env["MUSTER_DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if err := conn.QueryRow(context.Background(), `SELECT platform FROM tenants WHERE name = 'acme'`).Scan(&platform); err != nil || !platform {
				t.Fatalf("acme platform = %v, %v; want true", platform, err)
			}
		})
	}
}

func TestScanInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.MkdirAll(sub, 0o755)
	a := writePNG(t, dir, "a.png")
	b := writePNG(t, sub, "b.PNG")
	os.WriteFile(filepath.Join(sub, "notes.txt"), []byte("x"), 0o644)
	list := filepath.Join(t.TempDir(), "list.txt")
	os.WriteFile(list, []byte(a+"\n\n  "+sub+"  \n"), 0o644)
	tests := []struct {
		name  string
		args  []string
		list  string
		stdin string
		want  []string
	}{
		{"files as given", []string{a, "missing.png"}, "", "", []string{a, "missing.png"}},
		{"a directory is walked for images", []string{dir}, "", "", []string{a, b}},
		{"a list file, with a directory in it", nil, list, "", []string{a, b}},
		{"paths on standard input", []string{"-"}, "", a + "\n" + sub + "\n", []string{a, b}},
		{"list from standard input", nil, "-", a + "\n", []string{a}},
	}
	for _, tt := range tests {
		got, err := scanInputs(tt.args, tt.list, strings.NewReader(tt.stdin))
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v %v, want %v", tt.name, got, err, tt.want)
		}
	}
	if _, err := scanInputs([]string{"-"}, "", nil); err == nil {
		t.Error("stdin without standard input: no error")
	}
	// Through the command: a directory and a list.
	bu := setup(t)
	out, _, err := bu.run("scan", "--files-from", list, dir)
	if err != nil || strings.Count(out, "\n") != 4 {
		t.Fatalf("scan --files-from LIST DIR: %v\n%s", err, out)
	}
}

// TestDevKeyIsAMerchantKeyShownOnce: run's development key is a merchant
// key, reported as created only the first time.
func TestDevKeyIsAMerchantKeyShownOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	st := store.New(pool)
	dir := t.TempDir()
	key, created, err := devKey(ctx, st, dir)
	if err != nil || !created {
		t.Fatalf("first: created %v, err %v", created, err)
	}
	p, err := st.Authenticate(ctx, key)
	if err != nil || p.Role != store.RoleMerchant {
		t.Fatalf("dev key role %q (%v), want merchant", p.Role, err)
	}
	again, created, err := devKey(ctx, st, dir)
	if err != nil || created || again != key {
		t.Fatalf("second: created %v, same key %v, err %v", created, again == key, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "dev-api-key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
}

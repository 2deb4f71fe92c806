package bank

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/muster-dev/muster/bank/iconify"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/symbols"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/npmfetch"
)

// RenderSize is the side, in pixels, reference icons are rasterised at.
const RenderSize = 192

// ImportOptions configures ImportSimpleIcons. The zero value means the defaults.
type ImportOptions struct {
	// CacheDir is where npm packages are unpacked (made absolute);
	// default npmfetch.DefaultCacheDir(os.Getenv) as given by the caller.
	CacheDir string
	// Jurisdictions and Classes given to every seed entry; default
	// DefaultTrademarkJurisdictions and DefaultTrademarkClasses.
	Jurisdictions []string
	Classes       []int
	// Threshold of the bank when it is created; default match.DefaultThreshold.
	Threshold float64
	// Workers rasterise and hash in parallel; default runtime.GOMAXPROCS(0).
	Workers int
	// Match is the matching configuration the hashes are made for (its
	// Angles); default match.Config{}.
	Match match.Config
	// Actor is recorded in the audit trail; default "import".
	Actor string
	// Keep, if set, selects the icons imported by slug (tests and
	// evaluations that need a smaller real bank); nil imports all.
	Keep func(slug string) bool
}

// WithDefaults returns o with defaults filled in.
func (o ImportOptions) WithDefaults() ImportOptions {
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join("var", "cache")
	}
	if abs, err := filepath.Abs(o.CacheDir); err == nil {
		o.CacheDir = abs // npmfetch passes it to npm as --pack-destination from another directory
	}
	if o.Jurisdictions == nil {
		o.Jurisdictions = DefaultTrademarkJurisdictions
	}
	if o.Classes == nil {
		o.Classes = DefaultTrademarkClasses
	}
	if o.Threshold == 0 {
		o.Threshold = match.DefaultThreshold
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Actor == "" {
		o.Actor = "import"
	}
	return o
}

// Progress draws a one-line progress bar on w (nil: silent).
type Progress struct {
	W     io.Writer
	Label string
	Total int
	mu    sync.Mutex
	done  int
}

// Add advances the bar by n.
func (p *Progress) Add(n int) {
	if p == nil || p.W == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.done != p.Total && p.done%25 != 0 {
		return
	}
	const width = 30
	fill := width * p.done / max(1, p.Total)
	fmt.Fprintf(p.W, "\r%s %5d/%d [%s%s] %3d%%", p.Label, p.done, p.Total,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*p.done/max(1, p.Total))
	if p.done == p.Total {
		fmt.Fprintln(p.W)
	}
}

// prepareShape turns a reference image into the stored parts of an entry.
func prepareShape(m *match.Matcher, e *Entry, img *image.NRGBA) error {
	p, err := m.Prepare(e.ID, match.MaskFromImage(img), 0)
	if err != nil {
		return err
	}
	if e.Prepared, err = p.MarshalBinary(); err != nil {
		return err
	}
	e.Hashes = p.Hashes()
	e.Algorithm = match.Version
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	e.ReferencePNG = buf.Bytes()
	return nil
}

// ImportSimpleIcons builds (or refreshes) the "simple-icons" trademark bank
// from the pinned npm package @iconify-json/simple-icons (3,743 logos; the
// entry id is the slug), rasterising the SVG bodies in Go. The package
// carries no owners, titles or registrations: label = slug, and every entry
// gets opts.Jurisdictions and opts.Classes (US, EU; 25, 21, 16 by default);
// refine them with ImportCSV. The whole import is one bank version.
func ImportSimpleIcons(ctx context.Context, store *Store, opts ImportOptions, progress io.Writer) (Change, error) {
	opts = opts.WithDefaults()
	dir, err := npmfetch.Fetch(ctx, opts.CacheDir, iconify.SimpleIcons)
	if err != nil {
		return Change{}, fmt.Errorf("import simple-icons: %w", err)
	}
	set, err := iconify.Load(dir)
	if err != nil {
		return Change{}, fmt.Errorf("import simple-icons: %w", err)
	}
	if _, err := store.CreateBank(ctx, Bank{Name: SimpleIconsBank, Kind: KindTrademark, Threshold: opts.Threshold,
		Description: "Brand logos from " + iconify.SimpleIcons.String() + " (CC0-1.0; the marks belong to their owners)"}, opts.Actor); err != nil {
		return Change{}, err
	}
	m, err := match.New(opts.Match)
	if err != nil {
		return Change{}, err
	}
	if opts.Keep != nil {
		kept := set.Icons[:0:0]
		for _, ic := range set.Icons {
			if opts.Keep(ic.Name) {
				kept = append(kept, ic)
			}
		}
		set.Icons = kept
	}
	entries := make([]Entry, len(set.Icons))
	errs := make([]error, len(set.Icons))
	bar := &Progress{W: progress, Label: "import simple-icons", Total: len(set.Icons)}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				ic := set.Icons[i]
				e := Entry{ID: ic.Name, Label: ic.Name, Jurisdictions: opts.Jurisdictions, Classes: opts.Classes,
					Source: "npm:" + iconify.SimpleIcons.String() + "#" + ic.Name}
				if ic.Hidden {
					e.Notes = "kept in simple-icons for compatibility (renamed or deprecated)"
				}
				img, err := iconify.Render(ic, RenderSize, color.NRGBA{0, 0, 0, 255})
				if err == nil {
					err = prepareShape(m, &e, img)
				}
				entries[i], errs[i] = e, err
				bar.Add(1)
			}
		}()
	}
	for i := range set.Icons {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Change{}, err
	}
	var ok []Entry
	var failed []string
	for i := range entries {
		if errs[i] != nil {
			failed = append(failed, set.Icons[i].Name)
			continue
		}
		ok = append(ok, entries[i])
	}
	if progress != nil && len(failed) > 0 {
		fmt.Fprintf(progress, "import simple-icons: %d icons could not be rendered: %s\n", len(failed), strings.Join(failed, ", "))
	}
	return store.PutEntries(ctx, SimpleIconsBank, ok, opts.Actor)
}

// SeedSymbols builds (or refreshes) the default "symbols" bank from the
// symbols drawn in Go (package symbols); no downloads.
func SeedSymbols(ctx context.Context, store *Store, cfg match.Config, actor string, progress io.Writer) (Change, error) {
	if actor == "" {
		actor = "seed"
	}
	if _, err := store.CreateBank(ctx, Bank{Name: SymbolsBank, Kind: KindSymbol, Threshold: match.DefaultThreshold,
		Description: "Hate, extremist and totalitarian symbols and the religious forms, drawn by Muster"}, actor); err != nil {
		return Change{}, err
	}
	m, err := match.New(cfg)
	if err != nil {
		return Change{}, err
	}
	all := symbols.All()
	bar := &Progress{W: progress, Label: "seed symbols", Total: len(all)}
	var entries []Entry
	for _, s := range all {
		e := Entry{ID: s.ID, Label: s.Label, Source: "drawn:" + Version, Notes: s.Notes,
			Form: Form{Symbol: s.Kind, Orientation: s.Form.Orientation, TiltDeg: s.Form.TiltDeg, Context: s.Form.Context, Religious: s.Form.Religious}}
		if err := prepareShape(m, &e, s.Draw(256)); err != nil {
			return Change{}, fmt.Errorf("seed symbols: %s: %w", s.ID, err)
		}
		entries = append(entries, e)
		bar.Add(1)
	}
	return store.PutEntries(ctx, SymbolsBank, entries, actor)
}

// AddRequest is one reference image with its metadata (muster bank add).
type AddRequest struct {
	Entry     Entry  // Bank is taken from the request; ID, Label and metadata from here
	Image     []byte // PNG, JPEG, GIF or WebP; transparent or on a plain background
	MediaType string // declared type, may be empty
}

// AddImage decodes one reference image with imaging.Decode, prepares it and
// stores it as an entry of bank (which must exist).
func AddImage(ctx context.Context, store *Store, bank string, req AddRequest, cfg match.Config, actor string) (Change, error) {
	img, err := imaging.Decode(req.Image, req.MediaType, imaging.Limits{})
	if err != nil {
		return Change{}, fmt.Errorf("bank add %s: %w", req.Entry.ID, err)
	}
	m, err := match.New(cfg)
	if err != nil {
		return Change{}, err
	}
	e := req.Entry
	e.Bank = bank
	if err := ValidateEntry(&e); err != nil {
		return Change{}, err
	}
	if err := prepareShape(m, &e, img.NRGBA); err != nil {
		return Change{}, fmt.Errorf("bank add %s: %w", e.ID, err)
	}
	return store.PutEntries(ctx, bank, []Entry{e}, actor)
}

// CSVColumns are the columns ImportCSV reads (a header row names them; any
// order; only id is required). Lists are separated by ";".
var CSVColumns = []string{"id", "label", "owner", "jurisdictions", "classes", "famous", "word_marks", "source", "notes"}

// ImportCSV updates the metadata of existing entries of bank from CSV (bulk
// metadata: owners, registrations, word marks). Columns absent from the
// header are left as they are. All rows are one bank version.
func ImportCSV(ctx context.Context, store *Store, bank string, r io.Reader, actor string) (Change, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return Change{}, fmt.Errorf("csv: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["id"]; !ok {
		return Change{}, fmt.Errorf("%w: csv has no id column", ErrInvalid)
	}
	var rows [][]string
	var ids []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Change{}, fmt.Errorf("csv: %w", err)
		}
		rows = append(rows, rec)
		ids = append(ids, strings.TrimSpace(rec[col["id"]]))
	}
	existing, err := store.Entries(ctx, bank, ids)
	if err != nil {
		return Change{}, err
	}
	byID := map[string]*Entry{}
	for i := range existing {
		byID[existing[i].ID] = &existing[i]
	}
	list := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ";") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	var out []Entry
	for n, rec := range rows {
		e, ok := byID[ids[n]]
		if !ok {
			return Change{}, fmt.Errorf("csv line %d: entry %s/%s: %w", n+2, bank, ids[n], ErrNotFound)
		}
		get := func(name string) (string, bool) {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}
		if v, ok := get("label"); ok && v != "" {
			e.Label = v
		}
		if v, ok := get("owner"); ok {
			e.Owner = v
		}
		if v, ok := get("jurisdictions"); ok {
			e.Jurisdictions = list(v)
		}
		if v, ok := get("classes"); ok {
			e.Classes = nil
			for _, c := range list(v) {
				k, err := strconv.Atoi(c)
				if err != nil {
					return Change{}, fmt.Errorf("csv line %d: class %q: %w", n+2, c, ErrInvalid)
				}
				e.Classes = append(e.Classes, k)
			}
		}
		if v, ok := get("famous"); ok && v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Change{}, fmt.Errorf("csv line %d: famous %q: %w", n+2, v, ErrInvalid)
			}
			e.Famous = b
		}
		if v, ok := get("word_marks"); ok {
			e.WordMarks = list(v)
		}
		if v, ok := get("source"); ok && v != "" {
			e.Source = v
		}
		if v, ok := get("notes"); ok {
			e.Notes = v
		}
		out = append(out, *e)
	}
	return store.PutEntries(ctx, bank, out, actor)
}

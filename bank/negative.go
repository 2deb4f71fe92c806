package bank

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/bank/iconify"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/internal/npmfetch"
)

// NegativeOptions configures LoadNegative. The zero value means the defaults.
type NegativeOptions struct {
	// CacheDir holds the npm packages and the prepared negative bank.
	CacheDir string
	// Keep selects icons (by set prefix and name); default: every icon that
	// is not itself a brand (tabler's brand-* icons, coins).
	Keep func(prefix, name string) bool
	// Match is the matcher configuration (same as the bank's).
	Match match.Config
}

// IsBrandIcon reports whether a distractor-set icon draws a brand or coin
// mark (tabler's brand-* icons, currency and bitcoin icons), which must not
// be in a negative bank.
func IsBrandIcon(name string) bool {
	return strings.HasPrefix(name, "brand-") || strings.HasPrefix(name, "currency-") || strings.Contains(name, "bitcoin")
}

// LoadNegative builds the negative bank — the shapes of
// @iconify-json/game-icons and @iconify-json/tabler, which are not marks,
// and the letters, digits and signs of the Go fonts (Glyphs) —
// as a matcher to install with Set.Matcher().SetNegative. The prepared
// shapes are cached in CacheDir, so only the first run rasterises them.
func LoadNegative(ctx context.Context, opts NegativeOptions, progress io.Writer) (*match.Matcher, error) {
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join("var", "cache")
	}
	if abs, err := filepath.Abs(opts.CacheDir); err == nil {
		opts.CacheDir = abs
	}
	if opts.Keep == nil {
		opts.Keep = func(_, name string) bool { return !IsBrandIcon(name) }
	}
	m, err := match.New(opts.Match)
	if err != nil {
		return nil, err
	}
	cache := openPrepCache(opts.CacheDir, "negative")
	for _, pkg := range []npmfetch.Package{iconify.GameIcons, iconify.Tabler} {
		dir, err := npmfetch.Fetch(ctx, opts.CacheDir, pkg)
		if err != nil {
			return nil, fmt.Errorf("negative bank: %w", err)
		}
		set, err := iconify.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("negative bank: %w", err)
		}
		var keep []iconify.Icon
		for _, ic := range set.Icons {
			if opts.Keep(set.Prefix, ic.Name) {
				keep = append(keep, ic)
			}
		}
		bar := &Progress{W: progress, Label: "negative bank " + set.Prefix, Total: len(keep)}
		var jobs []IconJob
		for _, ic := range keep {
			k := set.Prefix + ":" + ic.Name
			if p, ok := cache.get(k); ok {
				m.AddPrepared(p)
				bar.Add(1)
				continue
			}
			jobs = append(jobs, IconJob{Key: k, Icon: ic})
		}
		prepared, err := PrepareIcons(ctx, m, jobs, bar)
		if err != nil {
			return nil, err
		}
		for i, p := range prepared {
			if p == nil {
				continue
			}
			cache.put(jobs[i].Key, p)
			m.AddPrepared(p)
		}
	}
	// Letters, digits and signs of the Go fonts (Glyphs): text is not a mark.
	glyphs, err := Glyphs(RenderSize)
	if err != nil {
		return nil, fmt.Errorf("negative bank: %w", err)
	}
	bar := &Progress{W: progress, Label: "negative bank glyphs", Total: len(glyphs)}
	var todo []Glyph
	for _, g := range glyphs {
		if p, ok := cache.get(g.Key); ok {
			m.AddPrepared(p)
			bar.Add(1)
			continue
		}
		todo = append(todo, g)
	}
	prepared := make([]*match.Prepared, len(todo))
	if err := forEach(ctx, len(todo), func(i int) {
		bar.Add(1)
		if p, err := m.Prepare(todo[i].Key, match.MaskFromAlpha(todo[i].Img), 0); err == nil {
			prepared[i] = p
		}
	}); err != nil {
		return nil, err
	}
	for i, p := range prepared {
		if p != nil {
			cache.put(todo[i].Key, p)
			m.AddPrepared(p)
		}
	}
	cache.save()
	return m, nil
}

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

// Other artists' drawings of brands, pinned (sha256 of the tarball `npm
// pack` produces): a match of any of them reports the simple-icons entry of
// the brand they draw (issue 14: several references per entry).
var (
	FA6Brands   = npmfetch.Package{Name: "@iconify-json/fa6-brands", Version: "1.2.6", SHA256: "cbd7af966f0b288753574bcfb1d498a0ddea1c99b918280b77a21faab4184eb1"}
	CoreUIBrand = npmfetch.Package{Name: "@iconify-json/cib", Version: "1.2.3", SHA256: "0d6efc2ec141f4b23422134a59a092a2e7e9f1fc7ecb08b81986159a5b868ac4"}
	BoxBrands   = npmfetch.Package{Name: "@iconify-json/bxl", Version: "1.2.4", SHA256: "d4216d9156f484a3ca8ecc6478dfb567d63142e2246db6629a5855842b0b442d"}
)

// AlternateSets are the icon sets whose brand drawings become alternate
// references (tabler's brand-* icons included). Other brand sets —
// @iconify-json/logos and devicon-plain — are deliberately not used: the
// logo evaluation holds them out to measure drawings the bank never saw.
var AlternateSets = []npmfetch.Package{FA6Brands, CoreUIBrand, BoxBrands, iconify.Tabler}

// AlternateSlug maps an icon of a brand icon set to the simple-icons slug
// it draws: tabler's brand-* icons, and names that, with the usual variant
// suffixes (-icon, -square, -alt, -f…) and hyphens removed, equal a slug in
// slugs. ok is false for icons that draw no known brand.
func AlternateSlug(prefix, name string, slugs map[string]bool) (slug string, ok bool) {
	n := strings.ToLower(name)
	if prefix == "tabler" {
		if !strings.HasPrefix(n, "brand-") {
			return "", false
		}
		n = strings.TrimPrefix(n, "brand-")
	}
	for _, suf := range []string{"-icon", "-plain", "-wordmark", "-original", "-line", "-f", "-square", "-alt", "-circle", "-filled", "-logo", "-text", "-official", "-b", "-in"} {
		n = strings.TrimSuffix(n, suf)
	}
	n = strings.TrimPrefix(n, "square-")
	n = strings.ReplaceAll(n, "-", "")
	return n, slugs[n]
}

// AlternateOptions configures LoadAlternates.
type AlternateOptions struct {
	CacheDir string
	// Slugs are the entries to find drawings of (the simple-icons bank's ids).
	Slugs map[string]bool
	// Match is the matcher configuration (same as the bank's).
	Match match.Config
}

// LoadAlternates renders and prepares the drawings of AlternateSets that
// draw one of opts.Slugs, keyed match.AlternateKey(slug, set prefix[:icon]);
// the prepared references are cached in CacheDir.
func LoadAlternates(ctx context.Context, opts AlternateOptions, progress io.Writer) ([]*match.Prepared, error) {
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join("var", "cache")
	}
	if abs, err := filepath.Abs(opts.CacheDir); err == nil {
		opts.CacheDir = abs
	}
	m, err := match.New(opts.Match)
	if err != nil {
		return nil, err
	}
	cache := openPrepCache(opts.CacheDir, "alternates")
	var out []*match.Prepared
	for _, pkg := range AlternateSets {
		dir, err := npmfetch.Fetch(ctx, opts.CacheDir, pkg)
		if err != nil {
			return nil, fmt.Errorf("alternate artwork: %w", err)
		}
		set, err := iconify.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("alternate artwork: %w", err)
		}
		bar := &Progress{W: progress, Label: "alternate artwork " + set.Prefix, Total: len(set.Icons)}
		var jobs []IconJob
		for _, ic := range set.Icons {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			slug, ok := AlternateSlug(set.Prefix, ic.Name, opts.Slugs)
			if !ok || ic.Hidden {
				bar.Add(1)
				continue
			}
			k := match.AlternateKey(slug, set.Prefix+":"+ic.Name)
			if p, ok := cache.get(k); ok {
				out = append(out, p)
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
			out = append(out, p)
		}
	}
	cache.save()
	return out, nil
}

// AddAlternates installs alternate artwork (LoadAlternates) for the entries
// of bank bankName that are loaded, at the bank's threshold. Alternates stay
// while their entry does; removing the entry removes them.
func (s *Set) AddAlternates(bankName string, alts []*match.Prepared) int {
	s.mu.RLock()
	b := s.banks[bankName]
	var keep []*match.Prepared
	for _, p := range alts {
		entry := match.EntryOf(p.Key())
		if _, ok := s.entries[key(bankName, entry)]; ok {
			keep = append(keep, p)
		}
	}
	s.mu.RUnlock()
	for _, p := range keep {
		entry := match.EntryOf(p.Key())
		alt := strings.TrimPrefix(p.Key(), entry+match.AltSep)
		s.matcher.AddPrepared(p.WithKey(match.AlternateKey(key(bankName, entry), alt)).WithThreshold(b.Threshold))
	}
	return len(keep)
}

// IDs returns the ids of the loaded entries of bank bankName.
func (s *Set) IDs(bankName string) map[string]bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]bool{}
	for k := range s.entries {
		if bn, id := SplitKey(k); bn == bankName {
			out[id] = true
		}
	}
	return out
}

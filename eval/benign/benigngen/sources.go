// Package benigngen generates harmless print-on-demand designs the way
// merchants make them (flat icons and illustrations, slogans in many fonts,
// patterns, gradients, noise and paper textures, halftone and distressed
// prints, photographic textures, big print files, JPEG at several qualities,
// transparency) and runs them through Muster's scan path, tallying what is
// not allowed per market and per cause (issue 15). make eval-benign prints
// the report; the end-to-end false-flag budget test in make test runs a small
// frozen set through the same code.
package benigngen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/gofont/gosmallcaps"
	"golang.org/x/image/font/opentype"

	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/iconify"
	"github.com/muster-dev/muster/internal/npmfetch"
)

// Pinned icon sets used as merchant art besides the bank's distractor sets
// (sha256 of the tarball `npm pack` produces). Both are flat, multi-colour
// illustration sets (CC-BY-4.0 / CC-BY-SA-4.0).
var (
	FluentEmojiFlat = npmfetch.Package{Name: "@iconify-json/fluent-emoji-flat", Version: "1.2.6", SHA256: "7d064769dee690815f823bc5bcc511d957198caf9f5edd8dd9c1aa48a6aeb175"}
	OpenMoji        = npmfetch.Package{Name: "@iconify-json/openmoji", Version: "1.2.29", SHA256: "03181e2c156cab35cf4a62f1f7886bd971d59212e75ac3f189d5a4cae3930fc5"}
)

// IconSet is one set of art with how it is coloured.
type IconSet struct {
	Prefix string
	// Colour is true for multi-colour sets (rendered in their own colours);
	// monochrome sets are painted in a chosen colour.
	Colour bool
	Icons  []iconify.Icon
}

// Font is a parsed font with its name.
type Font struct {
	Name string
	Font *opentype.Font
}

// SourceOptions choose the sources.
type SourceOptions struct {
	// SystemFonts adds every font in SystemFontDirs to the Go fonts.
	SystemFonts bool
	// NoNegativeSets leaves out game-icons and tabler: the bank analyzer
	// loads them as its negative bank (bank.LoadNegative), so designs drawn
	// from them measure that list rather than the matcher. The frozen CI
	// set, which runs the bank analyzer without the negative bank (it takes
	// minutes to build), uses only the colour sets.
	NoNegativeSets bool
}

// Sources are the icon sets and fonts designs are drawn from.
type Sources struct {
	Sets  []IconSet
	Fonts []Font
}

// SystemFontDirs are the Debian font folders searched when system fonts are
// wanted (make eval-benign installs the fonts-* packages they come from).
var SystemFontDirs = []string{
	"/usr/share/fonts/truetype/lato", "/usr/share/fonts/truetype/open-sans", "/usr/share/fonts/truetype/roboto",
	"/usr/share/fonts/truetype/liberation2", "/usr/share/fonts/truetype/freefont", "/usr/share/fonts/truetype/bebas-neue",
	"/usr/share/fonts/truetype/lobster", "/usr/share/fonts/truetype/comic-neue", "/usr/share/fonts/truetype/league-spartan",
	"/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/opentype/bebas-neue", "/usr/share/fonts/opentype/league-spartan",
	"/usr/share/fonts/opentype/comic-neue", "/usr/share/fonts/opentype/lobster", "/usr/share/fonts/opentype/open-sans",
}

// LoadSources fetches the pinned icon sets (game-icons, tabler,
// fluent-emoji-flat, openmoji) into cacheDir and loads the Go fonts (always
// present, so a frozen set does not depend on the machine) and, with
// opts.SystemFonts, every TrueType/OpenType font in SystemFontDirs.
// Hidden (deprecated) icons are skipped, and so are the icons that draw a
// brand or coin mark (bank.IsBrandIcon: tabler's brand-* icons, the rule
// the negative bank uses), which are not harmless art: a match to the right
// entry would count as a false flag. Everything is sorted, so a seed
// draws the same designs on every machine with the same sources.
func LoadSources(ctx context.Context, cacheDir string, opts SourceOptions) (*Sources, error) {
	src := &Sources{}
	sets := []struct {
		pkg    npmfetch.Package
		colour bool
	}{{iconify.GameIcons, false}, {iconify.Tabler, false}, {FluentEmojiFlat, true}, {OpenMoji, true}}
	if opts.NoNegativeSets {
		sets = sets[2:]
	}
	for _, p := range sets {
		dir, err := npmfetch.Fetch(ctx, cacheDir, p.pkg)
		if err != nil {
			return nil, fmt.Errorf("benigngen: %w", err)
		}
		set, err := iconify.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("benigngen: %w", err)
		}
		is := IconSet{Prefix: set.Prefix, Colour: p.colour}
		for _, ic := range set.Icons {
			if !ic.Hidden && harmless(set.Prefix, ic.Name) {
				is.Icons = append(is.Icons, ic)
			}
		}
		src.Sets = append(src.Sets, is)
	}
	for _, f := range []struct {
		name string
		ttf  []byte
	}{{"go-regular", goregular.TTF}, {"go-bold", gobold.TTF}, {"go-italic", goitalic.TTF}, {"go-medium", gomedium.TTF},
		{"go-mono", gomono.TTF}, {"go-smallcaps", gosmallcaps.TTF}} {
		ft, err := opentype.Parse(f.ttf)
		if err != nil {
			return nil, fmt.Errorf("benigngen: font %s: %w", f.name, err)
		}
		src.Fonts = append(src.Fonts, Font{Name: f.name, Font: ft})
	}
	if opts.SystemFonts {
		var paths []string
		for _, d := range SystemFontDirs {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				n := strings.ToLower(e.Name())
				if strings.HasSuffix(n, ".ttf") || strings.HasSuffix(n, ".otf") {
					paths = append(paths, filepath.Join(d, e.Name()))
				}
			}
		}
		slices.Sort(paths)
		paths = slices.Compact(paths)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			ft, err := opentype.Parse(b)
			if err != nil {
				continue // collections and odd files: skip
			}
			src.Fonts = append(src.Fonts, Font{Name: strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), Font: ft})
		}
	}
	return src, nil
}

// harmless reports whether an icon may be drawn as harmless merchant art:
// not excluded, and not a brand or coin mark (bank.IsBrandIcon).
func harmless(prefix, name string) bool {
	return !excluded(prefix, name) && !bank.IsBrandIcon(name)
}

// excluded keeps out icons that are not harmless merchant art in every
// reading (and would measure other rules than the ones under test): weapons,
// gore and drugs from game-icons, flags and political or religious symbols,
// and the emoji of swimwear, underwear and nudity, which a market with
// public-decency law may legitimately hold. Names are matched by whole
// hyphen-separated words. The set stays large (thousands of icons).
func excluded(prefix, name string) bool {
	bad := map[string]bool{"flag": true, "flags": true, "swastika": true, "nazi": true, "ss": true, "gun": true, "guns": true, "pistol": true,
		"rifle": true, "revolver": true, "bullet": true, "bullets": true, "blood": true, "bloody": true, "gore": true, "skull": true,
		"corpse": true, "decapitation": true, "guillotine": true, "hanging": true, "noose": true, "knife": true, "sword": true,
		"dagger": true, "bomb": true, "grenade": true, "syringe": true, "pill": true, "pills": true, "drug": true, "drugs": true,
		"cannabis": true, "marijuana": true, "cigarette": true, "smoking": true, "bikini": true, "lingerie": true, "bra": true,
		"underwear": true, "breast": true, "breasts": true, "nude": true, "naked": true, "butt": true, "middle": true,
		"hammer-sickle": true, "sickle": true, "crucifix": true, "coffin": true, "execution": true, "torture": true,
		"handcuffs": true, "wound": true, "bleeding": true, "vomit": true, "vomiting": true, "cross": true, "crossed": true,
		"swimsuit": true, "pregnant": true, "shirtless": true, "mermaid": true, "merman": true, "sauna": true, "bath": true, "bathtub": true}
	for _, w := range strings.Split(name, "-") {
		if bad[w] {
			return true
		}
	}
	return false
}

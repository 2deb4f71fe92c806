// Package wordmarks gives every entry of the default trademark bank (the
// 3,743 logos of @iconify-json/simple-icons, whose ids are simple-icons
// slugs) its brand name and aliases as word marks, read from the pinned
// simple-icons npm packages' data (data/simple-icons.json, or
// _data/simple-icons.json before v15). An entry the newest release lacks
// (removed brands such as Nintendo, Pokémon, Microsoft) is taken from the
// release that last carried it: simple-icons removes icons only in major
// releases, so the last release of each major is that release.
package wordmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/muster-dev/muster/bank/textmatch"
	"github.com/muster-dev/muster/internal/npmfetch"
)

// Bank is the pinned icon set whose entries get word marks (the default
// trademark bank; sha256 as in the bank importer).
var Bank = npmfetch.Package{Name: "@iconify-json/simple-icons", Version: "1.2.102", SHA256: "b3e23d3c623db2383b57cbed3d18b8e7e23f2ebc0bfc41ab054b82aba90f4c78"}

// Releases are the simple-icons releases read, newest first: the newest,
// then the last release of each earlier major (sha256 of the tarball `npm
// pack` produces). Together they carry all 3,743 slugs of Bank.
var Releases = []npmfetch.Package{
	{Name: "simple-icons", Version: "16.37.0", SHA256: "cd9faf0e6faa8a8fdd15e9632ab4c86fcae4b986fe552b87673149847f2f671d"},
	{Name: "simple-icons", Version: "15.22.0", SHA256: "ed6c09b0d66d00b91d3ddb3c835e1e0f39d41e6b44050ff023a5f2afaea1de89"},
	{Name: "simple-icons", Version: "14.15.0", SHA256: "3a9f15fa9c30e181ec567b24d58bf84077d2578fc3fb2980f1edf558b68b9d41"},
	{Name: "simple-icons", Version: "13.21.0", SHA256: "33e4e8c92f51bac4c4e88c3b2d98ad2b4faa91a00cbfdf24c894e8691a2e63ea"},
	{Name: "simple-icons", Version: "12.4.0", SHA256: "5082bacf91311a1e2a36d45a7ce7239e734760a8b034794b955c3c8060104504"},
	{Name: "simple-icons", Version: "11.15.0", SHA256: "fbfcc567b670c38db676ca758689e0e564acb16a4a3d2e5c97cc0513d6ea275c"},
	{Name: "simple-icons", Version: "10.4.0", SHA256: "88b4e7ecd398d84e9faf946b19a934bee57e5905e675b3f4e207497f975e3d8f"},
	{Name: "simple-icons", Version: "9.21.0", SHA256: "4994a6657e3a1955f30cb1742792175c71b2f80739452de79bb78b25729970d0"},
}

// Brand is the word marks of one bank entry.
type Brand struct {
	Slug    string   // the bank entry id (Iconify name: the simple-icons slug with "_" as "-")
	Title   string   // the brand's name as simple-icons spells it
	Marks   []string // Title first, then aliases (aka, old names, localised names, duplicates), without repeats
	Release string   // the simple-icons version the data was read from
}

// Set is the word marks of the bank.
type Set struct {
	Brands  []Brand  // by slug
	Missing []string // bank slugs no release carries (none for the pinned packages)
}

// Map is slug → marks.
func (s *Set) Map() map[string][]string {
	m := make(map[string][]string, len(s.Brands))
	for _, b := range s.Brands {
		m[b.Slug] = b.Marks
	}
	return m
}

// Entries turns the brands into matcher entries of bank.
func (s *Set) Entries(bank string) []textmatch.Entry {
	out := make([]textmatch.Entry, 0, len(s.Brands))
	for _, b := range s.Brands {
		out = append(out, textmatch.Entry{ID: b.Slug, Bank: bank, Kind: textmatch.KindWordMark, Terms: b.Marks})
	}
	return out
}

// Load fetches (or reads from cacheDir) Bank and as many Releases as the
// bank's slugs need, and returns every slug's word marks.
func Load(ctx context.Context, cacheDir string) (*Set, error) {
	dir, err := npmfetch.Fetch(ctx, cacheDir, Bank)
	if err != nil {
		return nil, fmt.Errorf("wordmarks: %w", err)
	}
	slugs, err := bankSlugs(filepath.Join(dir, "icons.json"))
	if err != nil {
		return nil, fmt.Errorf("wordmarks: %s: %w", Bank, err)
	}
	want := map[string]bool{}
	for _, s := range slugs {
		want[s] = true
	}
	set := &Set{}
	for _, rel := range Releases {
		if len(want) == 0 {
			break
		}
		dir, err := npmfetch.Fetch(ctx, cacheDir, rel)
		if err != nil {
			return nil, fmt.Errorf("wordmarks: %w", err)
		}
		icons, err := readRelease(dir)
		if err != nil {
			return nil, fmt.Errorf("wordmarks: %s: %w", rel, err)
		}
		for _, ic := range icons {
			name := strings.ReplaceAll(ic.slug(), "_", "-")
			if !want[name] {
				continue
			}
			delete(want, name)
			set.Brands = append(set.Brands, Brand{Slug: name, Title: ic.Title, Marks: ic.marks(), Release: rel.Version})
		}
	}
	for s := range want {
		set.Missing = append(set.Missing, s)
	}
	slices.Sort(set.Missing)
	slices.SortFunc(set.Brands, func(a, b Brand) int { return strings.Compare(a.Slug, b.Slug) })
	return set, nil
}

// bankSlugs reads the icon names of an Iconify icons.json.
func bankSlugs(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var set struct {
		Icons map[string]json.RawMessage `json:"icons"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set.Icons))
	for name := range set.Icons {
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}

// icon is one entry of simple-icons.json (the parts used).
type icon struct {
	Title   string `json:"title"`
	Slug    string `json:"slug"`
	Aliases struct {
		Aka []string          `json:"aka"`
		Old []string          `json:"old"`
		Loc map[string]string `json:"loc"`
		Dup []struct {
			Title string            `json:"title"`
			Loc   map[string]string `json:"loc"`
		} `json:"dup"`
	} `json:"aliases"`
}

// readRelease reads data/simple-icons.json (v15 on: a list) or
// _data/simple-icons.json (before: {"icons": [...]}).
func readRelease(dir string) ([]icon, error) {
	var b []byte
	var err error
	for _, p := range []string{"data/simple-icons.json", "_data/simple-icons.json"} {
		if b, err = os.ReadFile(filepath.Join(dir, p)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("no simple-icons.json: %w", err)
	}
	var list []icon
	if err := json.Unmarshal(b, &list); err == nil {
		return list, nil
	}
	var obj struct {
		Icons []icon `json:"icons"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	if len(obj.Icons) == 0 {
		return nil, errors.New("simple-icons.json has no icons")
	}
	return obj.Icons, nil
}

func (ic icon) slug() string {
	if ic.Slug != "" {
		return ic.Slug
	}
	return TitleToSlug(ic.Title)
}

// marks is the title, then the aliases, without repeats (compared folded).
func (ic icon) marks() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSpace(s)
		k := strings.ToLower(s)
		if s == "" || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, s)
	}
	add(ic.Title)
	for _, s := range ic.Aliases.Aka {
		add(s)
	}
	for _, s := range ic.Aliases.Old {
		add(s)
	}
	for _, k := range sortedKeys(ic.Aliases.Loc) {
		add(ic.Aliases.Loc[k])
	}
	for _, d := range ic.Aliases.Dup {
		add(d.Title)
		for _, k := range sortedKeys(d.Loc) {
			add(d.Loc[k])
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// slugReplacements are simple-icons' TITLE_TO_SLUG_REPLACEMENTS (sdk.mjs).
var slugReplacements = strings.NewReplacer("+", "plus", ".", "dot", "&", "and",
	"đ", "d", "ħ", "h", "ı", "i", "ĸ", "k", "ŀ", "l", "ł", "l", "ß", "ss", "ŧ", "t", "ø", "o")

// TitleToSlug is simple-icons' titleToSlug (sdk.mjs): lower case, the
// replacements above, NFD, then everything but a–z and 0–9 removed.
func TitleToSlug(title string) string {
	s := norm.NFD.String(slugReplacements.Replace(strings.ToLower(title)))
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && ('a' <= r && r <= 'z' || '0' <= r && r <= '9') {
			return r
		}
		return -1
	}, s)
}

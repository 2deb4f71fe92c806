// Package iconify reads Iconify JSON icon sets (the npm packages
// @iconify-json/*) and rasterises their SVG bodies in Go with oksvg and
// rasterx.
package iconify

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/srwiley/oksvg"
	"github.com/srwiley/rasterx"

	"github.com/muster-dev/muster/internal/npmfetch"
)

// Pinned packages (sha256 of the tarball `npm pack` produces).
var (
	SimpleIcons = npmfetch.Package{Name: "@iconify-json/simple-icons", Version: "1.2.102", SHA256: "b3e23d3c623db2383b57cbed3d18b8e7e23f2ebc0bfc41ab054b82aba90f4c78"}
	GameIcons   = npmfetch.Package{Name: "@iconify-json/game-icons", Version: "1.2.4", SHA256: "f5758efb34d91c4f50b941f355f16ee73938625e5996fabc25171288404460a4"}
	Tabler      = npmfetch.Package{Name: "@iconify-json/tabler", Version: "1.2.41", SHA256: "3bf99af156d28d05568aff524a35ed1ba238df640a7835a5e02e1f8e439685f6"}
)

// Icon is one icon of a set.
type Icon struct {
	Name   string
	Body   string
	Hidden bool // kept in the package for compatibility (renamed or deprecated)
	Width  int
	Height int
}

// Set is an Iconify icon set.
type Set struct {
	Prefix string
	Info   Info
	Icons  []Icon // sorted by name
}

// Info is the set's info.json (the parts Muster uses).
type Info struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License struct {
		Title string `json:"title"`
		SPDX  string `json:"spdx"`
	} `json:"license"`
}

type setJSON struct {
	Prefix string `json:"prefix"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Icons  map[string]struct {
		Body   string  `json:"body"`
		Width  float64 `json:"width"` // some sets (logos) have fractional sizes
		Height float64 `json:"height"`
		Hidden bool    `json:"hidden"`
	} `json:"icons"`
}

// Load reads icons.json (and info.json if present) from an unpacked package
// directory.
func Load(dir string) (*Set, error) {
	b, err := os.ReadFile(filepath.Join(dir, "icons.json"))
	if err != nil {
		return nil, fmt.Errorf("iconify: %w", err)
	}
	var sj setJSON
	if err := json.Unmarshal(b, &sj); err != nil {
		return nil, fmt.Errorf("iconify: parse %s: %w", dir, err)
	}
	s := &Set{Prefix: sj.Prefix}
	if ib, err := os.ReadFile(filepath.Join(dir, "info.json")); err == nil {
		_ = json.Unmarshal(ib, &s.Info)
	}
	for name, ic := range sj.Icons {
		w, h := int(math.Ceil(ic.Width)), int(math.Ceil(ic.Height))
		if w == 0 {
			w = sj.Width
		}
		if h == 0 {
			h = sj.Height
		}
		if w == 0 {
			w = 16
		}
		if h == 0 {
			h = 16
		}
		s.Icons = append(s.Icons, Icon{Name: name, Body: ic.Body, Width: w, Height: h, Hidden: ic.Hidden})
	}
	slices.SortFunc(s.Icons, func(a, b Icon) int { return strings.Compare(a.Name, b.Name) })
	return s, nil
}

// Render draws the icon in colour c on a transparent canvas whose longer
// side is size (the icon's view box is fitted, keeping its aspect ratio).
func Render(ic Icon, size int, c color.NRGBA) (*image.NRGBA, error) {
	return RenderRotated(ic, size, c, 0)
}

// RenderRotated is Render with the icon turned by deg degrees (clockwise on
// screen for positive angles) about its centre, on a canvas large enough to
// hold the turned icon.
func RenderRotated(ic Icon, size int, c color.NRGBA, deg float64) (img *image.NRGBA, err error) {
	defer func() {
		// oksvg panics on some malformed paths; report them as errors.
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("iconify: render %s: %v", ic.Name, r)
		}
	}()
	hex := fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
	body := strings.ReplaceAll(ic.Body, "currentColor", hex)
	doc := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d">%s</svg>`,
		ic.Width, ic.Height, ic.Width, ic.Height, body)
	icon, err := oksvg.ReadIconStream(strings.NewReader(doc), oksvg.IgnoreErrorMode)
	if err != nil {
		return nil, fmt.Errorf("iconify: parse %s: %w", ic.Name, err)
	}
	w, h := size, size
	if ic.Width > ic.Height {
		h = max(1, size*ic.Height/ic.Width)
	} else if ic.Height > ic.Width {
		w = max(1, size*ic.Width/ic.Height)
	}
	cw, ch := w, h
	if deg != 0 {
		rad := deg * math.Pi / 180
		cs, sn := math.Abs(math.Cos(rad)), math.Abs(math.Sin(rad))
		cw = int(math.Ceil(float64(w)*cs+float64(h)*sn)) + 2
		ch = int(math.Ceil(float64(w)*sn+float64(h)*cs)) + 2
	}
	icon.SetTarget(float64(cw-w)/2, float64(ch-h)/2, float64(w), float64(h))
	if deg != 0 {
		cx, cy := float64(cw)/2, float64(ch)/2
		rot := rasterx.Identity.Translate(cx, cy).Rotate(deg*math.Pi/180).Translate(-cx, -cy)
		icon.Transform = rot.Mult(icon.Transform)
	}
	w, h = cw, ch
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	scanner := rasterx.NewScannerGV(w, h, rgba, rgba.Bounds())
	icon.Draw(rasterx.NewDasher(w, h, scanner), 1)
	// RGBA is premultiplied; convert to NRGBA.
	out := image.NewNRGBA(rgba.Rect)
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := rgba.Pix[i+3]
		if a == 0 {
			continue
		}
		out.Pix[i+0] = uint8(min(255, int(rgba.Pix[i+0])*255/int(a)))
		out.Pix[i+1] = uint8(min(255, int(rgba.Pix[i+1])*255/int(a)))
		out.Pix[i+2] = uint8(min(255, int(rgba.Pix[i+2])*255/int(a)))
		out.Pix[i+3] = a
	}
	return out, nil
}

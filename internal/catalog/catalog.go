// Package catalog knows the markets (ISO 3166-1 alpha-2 countries plus EU)
// and the product types Muster screens, with each product's Nice class.
package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// EU is the pseudo-market for the European Union as a whole.
const EU = "EU"

// EUMembers are the member states of the European Union (27).
var EUMembers = []string{"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}

// IsMarket reports whether code is an assigned ISO 3166-1 alpha-2 code or EU.
func IsMarket(code string) bool {
	if code == EU {
		return true
	}
	_, ok := slices.BinarySearch(iso3166[:], code)
	return ok
}

// IsEUMember reports whether the country is an EU member state.
func IsEUMember(code string) bool { return slices.Contains(EUMembers, code) }

// ParseMarkets splits a comma-separated list, upper-cases, validates and
// de-duplicates it, keeping the order given.
func ParseMarkets(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if !IsMarket(p) {
			return nil, fmt.Errorf("unknown market %q: want an ISO 3166-1 alpha-2 country code or EU", p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no markets given: want a comma-separated list such as DE,US,FR")
	}
	return out, nil
}

// Product is a product type a design can be printed on.
type Product struct {
	Name      string `json:"name"`
	NiceClass int    `json:"nice_class"`
	Title     string `json:"title"`
}

// Products lists the product types, by Nice class of the goods.
var Products = []Product{
	{"tshirt", 25, "T-shirt"},
	{"hoodie", 25, "Hoodie / sweatshirt"},
	{"hat", 25, "Hat / cap"},
	{"socks", 25, "Socks"},
	{"shoes", 25, "Shoes"},
	{"mug", 21, "Mug"},
	{"bottle", 21, "Water bottle / drinkware"},
	{"poster", 16, "Poster / print"},
	{"sticker", 16, "Sticker"},
	{"notebook", 16, "Notebook / stationery"},
	{"card", 16, "Greeting card"},
	{"phonecase", 9, "Phone case"},
	{"tote", 18, "Tote bag"},
	{"backpack", 18, "Backpack"},
	{"pillowcase", 24, "Pillowcase"},
	{"blanket", 24, "Blanket / textile"},
	{"cushion", 20, "Cushion / pillow"},
}

// LookupProduct returns the product with that name.
func LookupProduct(name string) (Product, bool) {
	for _, p := range Products {
		if p.Name == name {
			return p, true
		}
	}
	return Product{}, false
}

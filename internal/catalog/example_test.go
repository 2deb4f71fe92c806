package catalog_test

import (
	"fmt"

	"github.com/muster-dev/muster/internal/catalog"
)

func ExampleParseMarkets() {
	m, err := catalog.ParseMarkets(" de, US,eu,DE")
	fmt.Println(m, err)
	_, err = catalog.ParseMarkets("DE,UK")
	fmt.Println(err)
	// Output:
	// [DE US EU] <nil>
	// unknown market "UK": want an ISO 3166-1 alpha-2 country code or EU
}

func ExampleLookupProduct() {
	p, ok := catalog.LookupProduct("mug")
	fmt.Println(p.Title, p.NiceClass, ok)
	// Output: Mug 21 true
}

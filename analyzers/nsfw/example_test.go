package nsfw_test

import (
	"fmt"

	"github.com/muster-dev/muster/analyzers/nsfw"
)

// The tiles the analyzer classifies besides the whole design, for a 4:5
// print file and for a design too small to tile.
func ExampleTiling_Tiles() {
	t := nsfw.Tiling{}.WithDefaults()
	tiles := t.Tiles(4500, 5400, 224)
	fmt.Println(len(tiles), "tiles of", tiles[0].Dx(), "px; last", tiles[len(tiles)-1])
	fmt.Println(len(t.Tiles(400, 400, 224)), "tiles for 400×400")
	// Output:
	// 42 tiles of 1350 px; last (3150,4050)-(4500,5400)
	// 0 tiles for 400×400
}

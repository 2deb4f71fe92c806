package banks

import (
	"github.com/muster-dev/muster/bank"
	"testing"

	"github.com/muster-dev/muster/bank/symbols"
	"github.com/muster-dev/muster/mustertype"
)

func TestPreferExactForms(t *testing.T) {
	t.Parallel()
	box := &mustertype.Box{X: 10, Y: 10, W: 100, H: 100}
	far := &mustertype.Box{X: 500, Y: 500, W: 100, H: 100}
	sym := func(id string, b *mustertype.Box, orient string, tilt float64) mustertype.Finding {
		return mustertype.Finding{Type: mustertype.FindingSymbol, EntryID: id, Box: b,
			Attrs: mustertype.Attrs{Form: &mustertype.SymbolForm{Orientation: orient, TiltDeg: tilt}}}
	}
	hakenkreuzUpright := bank.Form{Symbol: symbols.KindSwastika, Orientation: symbols.Clockwise}
	hakenkreuz45 := bank.Form{Symbol: symbols.KindSwastika, Orientation: symbols.Clockwise, TiltDeg: 45}
	religiousLeft := bank.Form{Symbol: symbols.KindSwastika, Orientation: symbols.Counterclockwise, Religious: true}
	religiousRight := bank.Form{Symbol: symbols.KindSwastika, Orientation: symbols.Clockwise, Religious: true}
	tests := []struct {
		name  string
		fs    []mustertype.Finding
		forms []bank.Form
		want  []string
	}{
		{"a drawn 卍 keeps the left-facing religious entry",
			[]mustertype.Finding{sym("hakenkreuz-upright", box, "counterclockwise", 0), sym("swastika-religious-left", box, "counterclockwise", 0), sym("swastika-religious-right", box, "counterclockwise", 0)},
			[]bank.Form{hakenkreuzUpright, religiousLeft, religiousRight}, []string{"swastika-religious-left"}},
		{"a 45° 卐 keeps the Hakenkreuz",
			[]mustertype.Finding{sym("hakenkreuz-45", box, "clockwise", 44), sym("swastika-religious-right", box, "clockwise", 44)},
			[]bank.Form{hakenkreuz45, religiousRight}, []string{"hakenkreuz-45"}},
		{"an upright 卐 is ambiguous: both stay",
			[]mustertype.Finding{sym("hakenkreuz-upright", box, "clockwise", 0), sym("swastika-religious-right", box, "clockwise", 0)},
			[]bank.Form{hakenkreuzUpright, religiousRight}, []string{"hakenkreuz-upright", "swastika-religious-right"}},
		{"other regions and trademarks are untouched",
			[]mustertype.Finding{sym("hakenkreuz-upright", far, "counterclockwise", 0), sym("swastika-religious-left", box, "counterclockwise", 0), {Type: mustertype.FindingTrademark, EntryID: "nike", Box: box}},
			[]bank.Form{hakenkreuzUpright, religiousLeft, {}}, []string{"hakenkreuz-upright", "swastika-religious-left", "nike"}},
	}
	for _, tt := range tests {
		got := preferExactForms(tt.fs, tt.forms)
		var ids []string
		for _, f := range got {
			ids = append(ids, f.EntryID)
		}
		if len(ids) != len(tt.want) {
			t.Fatalf("%s: kept %v, want %v", tt.name, ids, tt.want)
		}
		for i := range ids {
			if ids[i] != tt.want[i] {
				t.Fatalf("%s: kept %v, want %v", tt.name, ids, tt.want)
			}
		}
	}
}

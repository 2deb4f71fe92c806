package tfjs

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseJSModule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want any
		err  bool
	}{
		{"json object", `{"a": [1, 2.5, -3e-2], "b": null}`, map[string]any{"a": []any{1.0, 2.5, -0.03}, "b": nil}, false},
		{"browserify object", `!function(e){module.exports=e()}(function(){return {1:[function(e,a,n){a.exports={modelTopology:{keras_version:"2.2.4",sparse:!1,dense:!0,min:.5,neg:-.03885,x:void 0}},{}]})`,
			map[string]any{"modelTopology": map[string]any{"keras_version": "2.2.4", "sparse": false, "dense": true, "min": 0.5, "neg": -0.03885, "x": nil}}, false},
		{"browserify string", `!function(e){module.exports=e()}(function(){h.exports="QUJD"})`, "QUJD", false},
		{"es module", `export default {'k': 'v\'s', n: [1,],}`, map[string]any{"k": "v's", "n": []any{1.0}}, false},
		{"escapes", `{s:"a\"b\\c\u0041\x42\n"}`, map[string]any{"s": "a\"b\\cAB\n"}, false},
		{"no export", `console.log(1)`, nil, true},
		{"unterminated", `{a:[1,2`, nil, true},
		{"bad token", `{a:foo}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseJSModule([]byte(tt.src))
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if !tt.err && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if _, err := ParseJSModule([]byte("var x = 1")); !errors.Is(err, ErrNoExport) {
		t.Fatalf("err = %v, want ErrNoExport", err)
	}
}

func TestSamePads(t *testing.T) {
	t.Parallel()
	// TensorFlow: out = ceil(in/stride); total = max((out-1)*stride + k - in, 0);
	// the odd pixel goes after (bottom/right).
	tests := []struct {
		in, k, s, d  int64
		before, afte int64
	}{
		{224, 3, 1, 1, 1, 1},
		{224, 3, 2, 1, 0, 1}, // the case symmetric padding gets wrong
		{225, 3, 2, 1, 1, 1},
		{7, 1, 1, 1, 0, 0},
		{112, 5, 2, 1, 1, 2},
		{10, 3, 1, 2, 2, 2}, // dilation 2: effective kernel 5
		{5, 7, 3, 1, 2, 3},
	}
	for _, tt := range tests {
		b, a := samePads(tt.in, tt.k, tt.s, tt.d)
		if b != tt.before || a != tt.afte {
			t.Errorf("samePads(in=%d k=%d s=%d d=%d) = %d,%d want %d,%d", tt.in, tt.k, tt.s, tt.d, b, a, tt.before, tt.afte)
		}
	}
}

func TestDecodeWeightQuantized(t *testing.T) {
	t.Parallel()
	lo, scale := -0.87334511607301, 0.006666756611244351
	spec := weightSpec{Name: "w", Shape: []int{2, 2}, DType: "float32"}
	spec.Quantization = &struct {
		Min   *float64 `json:"min"`
		Scale *float64 `json:"scale"`
		DType string   `json:"dtype"`
	}{Min: &lo, Scale: &scale, DType: "uint8"}
	w, n, err := decodeWeight(spec, []byte{0, 1, 131, 255, 9})
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("consumed %d bytes, want 4", n)
	}
	want := []float32{float32(lo), float32(1*scale + lo), float32(131*scale + lo), float32(255*scale + lo)}
	if !reflect.DeepEqual(w.Data, want) {
		t.Fatalf("got %v, want %v", w.Data, want)
	}
	spec.Quantization.DType = "float16"
	if _, _, err := decodeWeight(spec, []byte{0, 0, 0, 0, 0, 0, 0, 0}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("float16 quantization: err = %v, want ErrUnsupported", err)
	}
}

func TestConvertRejectsUnknownLayer(t *testing.T) {
	t.Parallel()
	m := &LayersModel{
		InputLayers:  []string{"in"},
		OutputLayers: []string{"lstm"},
		Layers: []Layer{
			{Name: "in", ClassName: "InputLayer", Config: map[string]any{"batch_input_shape": []any{nil, 8.0, 8.0, 3.0}}},
			{Name: "lstm", ClassName: "LSTM", Config: map[string]any{}, Inbound: []string{"in"}},
		},
	}
	if _, _, err := Convert(m, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
}

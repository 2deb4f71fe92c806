package tfjs_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/models/tfjs"
)

// TestConvertMatchesKerasSemantics converts a small synthetic Keras model
// that uses every supported layer type — including 'same' padding with
// stride 2 on even sizes (TensorFlow pads only bottom/right), ZeroPadding2D
// folded into a depthwise convolution, depth_multiplier 2, 'same' average
// pooling (padding excluded from the mean) and a Flatten over a spatial
// tensor — and checks ONNX Runtime's output against a direct NHWC
// implementation of Keras's semantics.
func TestConvertMatchesKerasSemantics(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping a test that needs ONNX Runtime")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, err := modeltest.Open(ctx)
	if err != nil {
		t.Fatalf("ONNX Runtime unavailable (or pass -short to skip): %v", err)
	}
	defer env.Runtime.Close()

	r := rand.New(rand.NewPCG(1, 2))
	m := syntheticModel(r)
	om, info, err := tfjs.Convert(m, tfjs.Options{InputName: "x", OutputName: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if info.InputName != "x" || info.OutputName != "y" || info.OutputShape[1] != 3 {
		t.Fatalf("info %+v", info)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(om.Marshal(), []string{"x"}, []string{"y"}, nil)
	if err != nil {
		t.Fatalf("ONNX Runtime rejects the converted model: %v", err)
	}
	defer sess.Destroy()

	const n, h, w, c = 3, 8, 10, 3
	data := make([]float32, n*h*w*c)
	for i := range data {
		data[i] = r.Float32()*2 - 1
	}
	in, _ := ort.NewTensor(ort.NewShape(n, h, w, c), data)
	defer in.Destroy()
	out, _ := ort.NewEmptyTensor[float32](ort.NewShape(n, 3))
	defer out.Destroy()
	if err := sess.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
		t.Fatal(err)
	}
	got := out.GetData()
	var maxDiff float64
	for b := 0; b < n; b++ {
		x := tensor{h: h, w: w, c: c, d: make([]float64, h*w*c)}
		for i := range x.d {
			x.d[i] = float64(data[b*h*w*c+i])
		}
		want := reference(m, x)
		for k := range want {
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[b*3+k])-want[k]))
		}
	}
	t.Logf("max abs difference to the Keras reference: %.3g", maxDiff)
	if maxDiff > 1e-5 {
		t.Fatalf("converted model differs from Keras semantics by %g", maxDiff)
	}
}

func rnd(r *rand.Rand, shape ...int) tfjs.Weight {
	n := 1
	for _, d := range shape {
		n *= d
	}
	w := tfjs.Weight{Shape: shape, Data: make([]float32, n)}
	for i := range w.Data {
		w.Data[i] = r.Float32() - 0.5
	}
	return w
}

func syntheticModel(r *rand.Rand) *tfjs.LayersModel {
	l := func(name, class string, cfg map[string]any, in ...string) tfjs.Layer {
		return tfjs.Layer{Name: name, ClassName: class, Config: cfg, Inbound: in}
	}
	ws := map[string]tfjs.Weight{
		"c1/kernel": rnd(r, 3, 3, 3, 4), "c1/bias": rnd(r, 4),
		"bn/gamma": rnd(r, 4), "bn/beta": rnd(r, 4), "bn/moving_mean": rnd(r, 4), "bn/moving_variance": rnd(r, 4),
		"dw/depthwise_kernel": rnd(r, 3, 3, 4, 2), "dw/bias": rnd(r, 8),
		"dw2/depthwise_kernel": rnd(r, 3, 3, 8, 1),
		"d1/kernel":            rnd(r, 2*2*16, 6), "d1/bias": rnd(r, 6),
		"d2/kernel": rnd(r, 6, 3), "d2/bias": rnd(r, 3),
	}
	mv := ws["bn/moving_variance"]
	for i := range mv.Data {
		mv.Data[i] = mv.Data[i] + 1 // positive variances
	}
	for k, w := range ws {
		w.Name = k
		ws[k] = w
	}
	return &tfjs.LayersModel{
		Name: "synthetic", InputLayers: []string{"in"}, OutputLayers: []string{"d2"}, Weights: ws,
		Layers: []tfjs.Layer{
			l("in", "InputLayer", map[string]any{"batch_input_shape": []any{nil, 8.0, 10.0, 3.0}}),
			l("c1", "Conv2D", map[string]any{"filters": 4.0, "kernel_size": []any{3.0, 3.0}, "strides": []any{2.0, 2.0}, "padding": "same", "use_bias": true, "activation": "relu"}, "in"),
			l("bn", "BatchNormalization", map[string]any{"axis": -1.0, "epsilon": 0.001, "center": true, "scale": true}, "c1"),
			l("r6", "ReLU", map[string]any{"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}, "bn"),
			l("pad", "ZeroPadding2D", map[string]any{"padding": []any{[]any{1.0, 0.0}, []any{0.0, 1.0}}}, "r6"),
			l("dw", "DepthwiseConv2D", map[string]any{"kernel_size": []any{3.0, 3.0}, "strides": []any{2.0, 2.0}, "padding": "valid", "depth_multiplier": 2.0, "use_bias": true, "activation": "linear"}, "pad"),
			l("dw2", "DepthwiseConv2D", map[string]any{"kernel_size": []any{3.0, 3.0}, "strides": []any{1.0, 1.0}, "padding": "same", "depth_multiplier": 1.0, "use_bias": false}, "dw"),
			l("add", "Add", map[string]any{}, "dw", "dw2"),
			l("cat", "Concatenate", map[string]any{"axis": 3.0}, "add", "dw2"),
			l("pool", "AveragePooling2D", map[string]any{"pool_size": []any{2.0, 2.0}, "strides": []any{1.0, 1.0}, "padding": "same"}, "cat"),
			l("flat", "Flatten", map[string]any{}, "pool"),
			l("d1", "Dense", map[string]any{"units": 6.0, "activation": "relu", "use_bias": true}, "flat"),
			l("drop", "Dropout", map[string]any{"rate": 0.5}, "d1"),
			l("d2", "Dense", map[string]any{"units": 3.0, "activation": "softmax", "use_bias": true}, "drop"),
		},
	}
}

// tensor is one NHWC image (batch 1) in float64.
type tensor struct {
	h, w, c int
	d       []float64
}

func (x tensor) at(y, xx, ch int) float64 {
	if y < 0 || xx < 0 || y >= x.h || xx >= x.w {
		return 0
	}
	return x.d[(y*x.w+xx)*x.c+ch]
}

func samePad(in, k, s int) (int, int) {
	out := (in + s - 1) / s
	total := max((out-1)*s+k-in, 0)
	return total / 2, out
}

// conv is Keras Conv2D / DepthwiseConv2D (mult > 0) in NHWC with HWIO/HWCM kernels.
func conv(x tensor, k tfjs.Weight, bias []float32, stride int, same bool, mult int) tensor {
	kh, kw := k.Shape[0], k.Shape[1]
	padT, oh := 0, (x.h-kh)/stride+1
	padL, ow := 0, (x.w-kw)/stride+1
	if same {
		padT, oh = samePad(x.h, kh, stride)
		padL, ow = samePad(x.w, kw, stride)
	}
	oc := k.Shape[3]
	if mult > 0 {
		oc = x.c * mult
	}
	out := tensor{h: oh, w: ow, c: oc, d: make([]float64, oh*ow*oc)}
	for y := 0; y < oh; y++ {
		for xx := 0; xx < ow; xx++ {
			for o := 0; o < oc; o++ {
				s := 0.0
				for i := 0; i < kh; i++ {
					for j := 0; j < kw; j++ {
						sy, sx := y*stride+i-padT, xx*stride+j-padL
						if mult > 0 {
							ch, m := o/mult, o%mult
							s += x.at(sy, sx, ch) * float64(k.Data[((i*kw+j)*x.c+ch)*mult+m])
						} else {
							for ch := 0; ch < x.c; ch++ {
								s += x.at(sy, sx, ch) * float64(k.Data[((i*kw+j)*x.c+ch)*oc+o])
							}
						}
					}
				}
				if bias != nil {
					s += float64(bias[o])
				}
				out.d[(y*ow+xx)*oc+o] = s
			}
		}
	}
	return out
}

func reference(m *tfjs.LayersModel, x tensor) []float64 {
	W := func(n string) tfjs.Weight { return m.Weights[n] }
	y := conv(x, W("c1/kernel"), W("c1/bias").Data, 2, true, 0)
	for i := range y.d {
		y.d[i] = math.Max(0, y.d[i])
	}
	for i := range y.d {
		ch := i % y.c
		y.d[i] = (y.d[i]-float64(W("bn/moving_mean").Data[ch]))/math.Sqrt(float64(W("bn/moving_variance").Data[ch])+0.001)*float64(W("bn/gamma").Data[ch]) + float64(W("bn/beta").Data[ch])
		y.d[i] = math.Min(6, math.Max(0, y.d[i]))
	}
	// ZeroPadding2D [[1,0],[0,1]]
	p := tensor{h: y.h + 1, w: y.w + 1, c: y.c, d: make([]float64, (y.h+1)*(y.w+1)*y.c)}
	for yy := 0; yy < y.h; yy++ {
		for xx := 0; xx < y.w; xx++ {
			for ch := 0; ch < y.c; ch++ {
				p.d[((yy+1)*p.w+xx)*p.c+ch] = y.at(yy, xx, ch)
			}
		}
	}
	dw := conv(p, W("dw/depthwise_kernel"), W("dw/bias").Data, 2, false, 2)
	dw2 := conv(dw, W("dw2/depthwise_kernel"), nil, 1, true, 1)
	for i := range dw.d {
		dw.d[i] += dw2.d[i]
	}
	// Concatenate on the channel axis: [add, dw2].
	cat := tensor{h: dw.h, w: dw.w, c: dw.c + dw2.c, d: make([]float64, dw.h*dw.w*(dw.c+dw2.c))}
	for yy := 0; yy < dw.h; yy++ {
		for xx := 0; xx < dw.w; xx++ {
			for ch := 0; ch < dw.c; ch++ {
				cat.d[(yy*cat.w+xx)*cat.c+ch] = dw.at(yy, xx, ch)
			}
			for ch := 0; ch < dw2.c; ch++ {
				cat.d[(yy*cat.w+xx)*cat.c+dw.c+ch] = dw2.at(yy, xx, ch)
			}
		}
	}
	dw = cat
	// AveragePooling2D 2×2, stride 1, 'same': the mean over the in-bounds cells.
	pool := tensor{h: dw.h, w: dw.w, c: dw.c, d: make([]float64, len(dw.d))}
	pt, _ := samePad(dw.h, 2, 1)
	pl, _ := samePad(dw.w, 2, 1)
	for yy := 0; yy < dw.h; yy++ {
		for xx := 0; xx < dw.w; xx++ {
			for ch := 0; ch < dw.c; ch++ {
				s, cnt := 0.0, 0
				for i := 0; i < 2; i++ {
					for j := 0; j < 2; j++ {
						sy, sx := yy+i-pt, xx+j-pl
						if sy >= 0 && sx >= 0 && sy < dw.h && sx < dw.w {
							s += dw.at(sy, sx, ch)
							cnt++
						}
					}
				}
				pool.d[(yy*dw.w+xx)*dw.c+ch] = s / float64(cnt)
			}
		}
	}
	dense := func(in []float64, k, b tfjs.Weight) []float64 {
		out := make([]float64, k.Shape[1])
		for o := range out {
			s := float64(b.Data[o])
			for i, v := range in {
				s += v * float64(k.Data[i*k.Shape[1]+o])
			}
			out[o] = s
		}
		return out
	}
	h1 := dense(pool.d, W("d1/kernel"), W("d1/bias")) // Flatten keeps NHWC order
	for i := range h1 {
		h1[i] = math.Max(0, h1[i])
	}
	z := dense(h1, W("d2/kernel"), W("d2/bias"))
	mx := math.Max(z[0], math.Max(z[1], z[2]))
	sum := 0.0
	for i := range z {
		z[i] = math.Exp(z[i] - mx)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
	return z
}

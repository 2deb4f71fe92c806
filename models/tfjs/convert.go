package tfjs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/muster-dev/muster/models/onnx"
)

// Opset is the ONNX operator set the converter targets.
const Opset = 13

// ConverterVersion changes whenever the converter's output for the same
// input changes; it is recorded in model manifests.
const ConverterVersion = "tfjs2onnx/1"

// Options tune Convert.
type Options struct {
	// InputName names the graph input (default: the Keras input layer's name).
	InputName string
	// OutputName names the graph output (default: the Keras output layer's name).
	OutputName string
	// DocString and Metadata are copied into the ONNX model.
	DocString string
	Metadata  map[string]string
}

// Info describes a converted model's interface.
type Info struct {
	InputName   string
	InputShape  []int64 // NHWC, -1 for the dynamic batch axis
	OutputName  string
	OutputShape []int64 // -1 for the dynamic batch axis
	Nodes       int
	Params      int
}

// ConvertDir converts the TF.js LayersModel in srcDir (see LoadDir) into an
// ONNX file at dst, written atomically. It returns the model's interface and
// the sha256 of the written file.
func ConvertDir(srcDir, dst string, opt Options) (Info, string, error) {
	m, err := LoadDir(srcDir)
	if err != nil {
		return Info{}, "", err
	}
	om, info, err := Convert(m, opt)
	if err != nil {
		return Info{}, "", err
	}
	data := om.Marshal()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Info{}, "", fmt.Errorf("write %s: %w", dst, err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return Info{}, "", fmt.Errorf("write %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return Info{}, "", fmt.Errorf("write %s: %w", dst, err)
	}
	sum := sha256.Sum256(data)
	return info, hex.EncodeToString(sum[:]), nil
}

// Convert turns a Keras LayersModel into an ONNX graph (opset 13).
//
// Layout: the graph input keeps Keras's NHWC layout [N,H,W,C] with a
// symbolic batch axis "N"; one Transpose turns it into NCHW, which ONNX's
// Conv and pooling operators use. Convolution kernels are transposed from
// Keras's HWIO to OIHW when written. Flatten transposes back to NHWC before
// flattening so the feature order matches Keras. 'same' padding is written
// as explicit pads computed as TensorFlow does (the extra pixel, when the
// total is odd, goes at the bottom/right), and ZeroPadding2D is folded into
// the pads of the convolution or pooling that consumes it.
func Convert(m *LayersModel, opt Options) (*onnx.Model, Info, error) {
	if len(m.InputLayers) != 1 || len(m.OutputLayers) != 1 {
		return nil, Info{}, fmt.Errorf("model has %d inputs and %d outputs, want 1 and 1: %w", len(m.InputLayers), len(m.OutputLayers), ErrUnsupported)
	}
	c := &converter{m: m, refs: map[string]*tref{}, nodeNames: map[string]bool{}, tensors: map[string]bool{}}
	c.inputName = opt.InputName
	if c.inputName == "" {
		c.inputName = m.InputLayers[0]
	}
	for _, l := range m.Layers {
		if err := c.layer(l); err != nil {
			return nil, Info{}, fmt.Errorf("convert layer %s (%s): %w", l.Name, l.ClassName, err)
		}
	}
	out, ok := c.refs[m.OutputLayers[0]]
	if !ok {
		return nil, Info{}, fmt.Errorf("output layer %s not found: %w", m.OutputLayers[0], ErrFormat)
	}
	outName := opt.OutputName
	if outName == "" {
		outName = m.OutputLayers[0]
	}
	final := c.materialize(out)
	outShape := append([]int64(nil), out.shape...)
	if len(out.shape) == 4 { // back to Keras's NHWC
		final = c.transpose(final, "output_nhwc", 0, 2, 3, 1)
		outShape = []int64{out.shape[0], out.shape[2], out.shape[3], out.shape[1]}
	}
	if final != outName {
		if c.tensors[outName] {
			return nil, Info{}, fmt.Errorf("output name %q is already a tensor of the graph: %w", outName, ErrFormat)
		}
		c.node("Identity", outName+"/output", []string{final}, []string{outName})
	}
	g := onnx.Graph{Name: m.Name, Nodes: c.nodes, Initializers: c.inits}
	g.Inputs = []onnx.ValueInfo{{Name: c.inputName, ElemType: onnx.Float, Dims: dims(c.inputShape)}}
	g.Outputs = []onnx.ValueInfo{{Name: outName, ElemType: onnx.Float, Dims: dims(outShape)}}
	meta := map[string]string{"converter": ConverterVersion, "keras_version": m.KerasVersion}
	for k, v := range opt.Metadata {
		meta[k] = v
	}
	om := &onnx.Model{
		ProducerName:    "muster",
		ProducerVersion: ConverterVersion,
		DocString:       opt.DocString,
		Opset:           Opset,
		Graph:           g,
		Metadata:        meta,
	}
	info := Info{InputName: c.inputName, InputShape: c.inputShape, OutputName: outName, OutputShape: outShape, Nodes: len(c.nodes), Params: c.params}
	return om, info, nil
}

func dims(shape []int64) []onnx.Dim {
	d := make([]onnx.Dim, len(shape))
	for i, v := range shape {
		if v < 0 {
			d[i] = onnx.Dim{Param: "N"}
		} else {
			d[i] = onnx.Dim{Value: v}
		}
	}
	return d
}

// tref is the ONNX tensor standing for one Keras layer output.
type tref struct {
	name  string
	shape []int64 // NCHW for 4D, [N,F] for 2D; -1 is the batch axis
	// pad is a zero padding (top, left, bottom, right) not yet applied:
	// ZeroPadding2D defers it so a consuming Conv/pool can absorb it.
	pad    [4]int64
	padded string // the materialized padded tensor, once a consumer needed it
}

type converter struct {
	m          *LayersModel
	refs       map[string]*tref
	nodeNames  map[string]bool
	tensors    map[string]bool
	nodes      []onnx.Node
	inits      []onnx.Tensor
	inputName  string
	inputShape []int64
	params     int
	uniq       int
}

func (c *converter) node(op, name string, in, out []string, attrs ...onnx.Attr) {
	for base, i := name, 2; c.nodeNames[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	c.nodeNames[name] = true
	for _, o := range out {
		c.tensors[o] = true
	}
	c.nodes = append(c.nodes, onnx.Node{Name: name, OpType: op, Inputs: in, Outputs: out, Attrs: attrs})
}

func (c *converter) floatInit(name string, dims []int64, data []float32) string {
	c.inits = append(c.inits, onnx.Tensor{Name: name, Dims: dims, DataType: onnx.Float, Floats: data})
	c.params += len(data)
	return name
}

func (c *converter) int64Init(name string, dims []int64, data []int64) string {
	c.inits = append(c.inits, onnx.Tensor{Name: name, Dims: dims, DataType: onnx.Int64, Int64s: data})
	return name
}

func (c *converter) transpose(in, name string, perm ...int64) string {
	out := name
	c.node("Transpose", name, []string{in}, []string{out}, onnx.IntsAttr("perm", perm...))
	return out
}

// materialize returns the tensor name with any deferred padding applied.
func (c *converter) materialize(r *tref) string {
	if r.pad == [4]int64{} {
		return r.name
	}
	if r.padded != "" {
		return r.padded
	}
	c.uniq++
	name := fmt.Sprintf("%s_pad%d", r.name, c.uniq)
	pads := c.int64Init(name+"/pads", []int64{8}, []int64{0, 0, r.pad[0], r.pad[1], 0, 0, r.pad[2], r.pad[3]})
	c.node("Pad", name, []string{r.name, pads}, []string{name}, onnx.StringAttr("mode", "constant"))
	r.padded = name
	return name
}

func (c *converter) weight(layer, v string) (Weight, error) {
	w, ok := c.m.Weights[layer+"/"+v]
	if !ok {
		return Weight{}, fmt.Errorf("weight %s/%s missing: %w", layer, v, ErrFormat)
	}
	return w, nil
}

func (c *converter) input(l Layer, i int) (*tref, error) {
	if i >= len(l.Inbound) {
		return nil, fmt.Errorf("needs input %d, has %d: %w", i, len(l.Inbound), ErrFormat)
	}
	r, ok := c.refs[l.Inbound[i]]
	if !ok {
		return nil, fmt.Errorf("input %s not converted yet (layers out of order?): %w", l.Inbound[i], ErrFormat)
	}
	return r, nil
}

func (c *converter) layer(l Layer) error {
	cfg := config(l.Config)
	switch l.ClassName {
	case "InputLayer":
		shape, err := cfg.shape("batch_input_shape")
		if err != nil {
			return err
		}
		if len(shape) != 4 {
			return fmt.Errorf("input shape %v, want [N,H,W,C]: %w", shape, ErrUnsupported)
		}
		c.inputShape = []int64{-1, shape[1], shape[2], shape[3]}
		if l.Name != c.m.InputLayers[0] {
			return fmt.Errorf("second input layer: %w", ErrUnsupported)
		}
		name := c.transpose(c.inputName, l.Name+"/nchw", 0, 3, 1, 2)
		c.refs[l.Name] = &tref{name: name, shape: []int64{-1, shape[3], shape[1], shape[2]}}
		return nil
	case "ZeroPadding2D":
		in, err := c.input(l, 0)
		if err != nil {
			return err
		}
		if len(in.shape) != 4 {
			return fmt.Errorf("padding a %d-D tensor: %w", len(in.shape), ErrUnsupported)
		}
		if err := cfg.channelsLast(); err != nil {
			return err
		}
		p, err := cfg.padding2D("padding")
		if err != nil {
			return err
		}
		r := &tref{name: in.name, pad: in.pad, shape: append([]int64(nil), in.shape...)}
		for i := range p {
			r.pad[i] += p[i]
		}
		r.shape[2] += p[0] + p[2]
		r.shape[3] += p[1] + p[3]
		c.refs[l.Name] = r
		return nil
	case "Conv2D", "DepthwiseConv2D":
		return c.conv(l, cfg)
	case "BatchNormalization":
		return c.batchNorm(l, cfg)
	case "ReLU":
		in, err := c.input(l, 0)
		if err != nil {
			return err
		}
		slope, _ := cfg.float("negative_slope")
		thr, _ := cfg.float("threshold")
		maxv, hasMax := cfg.float("max_value")
		x := c.materialize(in)
		out := l.Name
		switch {
		case slope == 0 && thr == 0 && hasMax:
			lo := c.floatInit(l.Name+"/min", nil, []float32{0})
			hi := c.floatInit(l.Name+"/max", nil, []float32{float32(maxv)})
			c.node("Clip", l.Name, []string{x, lo, hi}, []string{out})
		case slope == 0 && thr == 0:
			c.node("Relu", l.Name, []string{x}, []string{out})
		case thr == 0 && !hasMax:
			c.node("LeakyRelu", l.Name, []string{x}, []string{out}, onnx.FloatAttr("alpha", float32(slope)))
		default:
			return fmt.Errorf("ReLU with negative_slope %v, threshold %v, max_value %v: %w", slope, thr, maxv, ErrUnsupported)
		}
		c.refs[l.Name] = &tref{name: out, shape: in.shape}
		return nil
	case "Activation":
		in, err := c.input(l, 0)
		if err != nil {
			return err
		}
		act, _ := cfg.str("activation")
		out, err := c.activation(l.Name, act, c.materialize(in), len(in.shape))
		if err != nil {
			return err
		}
		c.refs[l.Name] = &tref{name: out, shape: in.shape}
		return nil
	case "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout":
		// Identity at inference time.
		in, err := c.input(l, 0)
		if err != nil {
			return err
		}
		c.refs[l.Name] = in
		return nil
	case "Add":
		if len(l.Inbound) < 2 {
			return fmt.Errorf("Add with %d inputs: %w", len(l.Inbound), ErrFormat)
		}
		var ins []string
		var shape []int64
		for i := range l.Inbound {
			r, err := c.input(l, i)
			if err != nil {
				return err
			}
			if shape == nil {
				shape = r.shape
			}
			ins = append(ins, c.materialize(r))
		}
		op := "Add"
		if len(ins) > 2 {
			op = "Sum"
		}
		c.node(op, l.Name, ins, []string{l.Name})
		c.refs[l.Name] = &tref{name: l.Name, shape: shape}
		return nil
	case "Concatenate":
		// Keras concatenates NHWC tensors along the channel axis (-1 or 3);
		// here tensors are NCHW, so that is ONNX axis 1 (and 1 for [N,F]).
		if len(l.Inbound) < 2 {
			return fmt.Errorf("Concatenate with %d inputs: %w", len(l.Inbound), ErrFormat)
		}
		var ins []string
		var shape []int64
		for i := range l.Inbound {
			r, err := c.input(l, i)
			if err != nil {
				return err
			}
			if axis, ok := cfg.float("axis"); ok && int(axis) != -1 && int(axis) != len(r.shape)-1 {
				return fmt.Errorf("concatenate over axis %v: %w", axis, ErrUnsupported)
			}
			if shape == nil {
				shape = slices.Clone(r.shape)
			} else {
				shape[1] += r.shape[1]
			}
			ins = append(ins, c.materialize(r))
		}
		c.node("Concat", l.Name, ins, []string{l.Name}, onnx.IntAttr("axis", 1))
		c.refs[l.Name] = &tref{name: l.Name, shape: shape}
		return nil
	case "AveragePooling2D", "MaxPooling2D":
		return c.pool(l, cfg)
	case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
		in, err := c.input(l, 0)
		if err != nil {
			return err
		}
		if err := cfg.channelsLast(); err != nil {
			return err
		}
		if len(in.shape) != 4 {
			return fmt.Errorf("global pooling of a %d-D tensor: %w", len(in.shape), ErrUnsupported)
		}
		op := "GlobalAveragePool"
		if l.ClassName == "GlobalMaxPooling2D" {
			op = "GlobalMaxPool"
		}
		if keep, _ := cfg.bool("keepdims"); keep {
			return fmt.Errorf("keepdims: %w", ErrUnsupported)
		}
		c.node(op, l.Name+"/pool", []string{c.materialize(in)}, []string{l.Name + "/pool"})
		c.node("Flatten", l.Name, []string{l.Name + "/pool"}, []string{l.Name}, onnx.IntAttr("axis", 1))
		c.refs[l.Name] = &tref{name: l.Name, shape: []int64{-1, in.shape[1]}}
		return nil
	case "Flatten":
		in, err := c.input(l, 0)
		if err != nil {
			return err
		}
		x := c.materialize(in)
		if len(in.shape) == 4 {
			if in.shape[2] != 1 || in.shape[3] != 1 {
				// Keras flattens NHWC; restore that order first.
				x = c.transpose(x, l.Name+"/nhwc", 0, 2, 3, 1)
			}
		}
		n := int64(1)
		for _, d := range in.shape[1:] {
			n *= d
		}
		c.node("Flatten", l.Name, []string{x}, []string{l.Name}, onnx.IntAttr("axis", 1))
		c.refs[l.Name] = &tref{name: l.Name, shape: []int64{-1, n}}
		return nil
	case "Dense":
		return c.dense(l, cfg)
	}
	return fmt.Errorf("layer type %s: %w", l.ClassName, ErrUnsupported)
}

func (c *converter) activation(name, act, x string, rank int) (string, error) {
	out := name
	switch act {
	case "", "linear":
		return x, nil
	case "relu":
		c.node("Relu", name, []string{x}, []string{out})
	case "relu6":
		lo := c.floatInit(name+"/min", nil, []float32{0})
		hi := c.floatInit(name+"/max", nil, []float32{6})
		c.node("Clip", name, []string{x, lo, hi}, []string{out})
	case "sigmoid":
		c.node("Sigmoid", name, []string{x}, []string{out})
	case "tanh":
		c.node("Tanh", name, []string{x}, []string{out})
	case "softmax":
		axis := int64(-1) // Keras softmax is over the last (channel) axis
		if rank == 4 {
			axis = 1
		}
		c.node("Softmax", name, []string{x}, []string{out}, onnx.IntAttr("axis", axis))
	default:
		return "", fmt.Errorf("activation %q: %w", act, ErrUnsupported)
	}
	return out, nil
}

// samePads returns TensorFlow's 'same' padding for one spatial axis:
// the output has ceil(in/stride) positions and the odd pixel goes after.
func samePads(in, k, stride, dilation int64) (before, after int64) {
	eff := (k-1)*dilation + 1
	out := (in + stride - 1) / stride
	total := (out-1)*stride + eff - in
	if total < 0 {
		total = 0
	}
	return total / 2, total - total/2
}

func outSize(in, padTotal, k, stride, dilation int64) int64 {
	eff := (k-1)*dilation + 1
	return (in+padTotal-eff)/stride + 1
}

// spatialPads resolves a layer's padding mode plus any deferred zero padding
// on its input into explicit ONNX pads [top, left, bottom, right].
func spatialPads(in *tref, mode string, k, s, d [2]int64) ([4]int64, error) {
	var pads [4]int64
	h, w := in.shape[2]-in.pad[0]-in.pad[2], in.shape[3]-in.pad[1]-in.pad[3]
	switch mode {
	case "valid":
	case "same":
		if in.pad != [4]int64{} {
			h, w = in.shape[2], in.shape[3]
		}
		pads[0], pads[2] = samePads(h, k[0], s[0], d[0])
		pads[1], pads[3] = samePads(w, k[1], s[1], d[1])
	default:
		return pads, fmt.Errorf("padding %q: %w", mode, ErrUnsupported)
	}
	for i := range pads {
		pads[i] += in.pad[i]
	}
	return pads, nil
}

func (c *converter) conv(l Layer, cfg config) error {
	in, err := c.input(l, 0)
	if err != nil {
		return err
	}
	if len(in.shape) != 4 {
		return fmt.Errorf("convolution of a %d-D tensor: %w", len(in.shape), ErrUnsupported)
	}
	if err := cfg.channelsLast(); err != nil {
		return err
	}
	k, err := cfg.pair("kernel_size", 0)
	if err != nil {
		return err
	}
	s, err := cfg.pair("strides", 1)
	if err != nil {
		return err
	}
	d, err := cfg.pair("dilation_rate", 1)
	if err != nil {
		return err
	}
	if (s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1) {
		return fmt.Errorf("strides and dilation together: %w", ErrUnsupported)
	}
	mode, _ := cfg.str("padding")
	pads, err := spatialPads(in, mode, k, s, d)
	if err != nil {
		return err
	}
	depthwise := l.ClassName == "DepthwiseConv2D"
	kname := "kernel"
	if depthwise {
		kname = "depthwise_kernel"
	}
	kw, err := c.weight(l.Name, kname)
	if err != nil {
		return err
	}
	if len(kw.Shape) != 4 || int64(kw.Shape[0]) != k[0] || int64(kw.Shape[1]) != k[1] {
		return fmt.Errorf("kernel shape %v for kernel_size %v: %w", kw.Shape, k, ErrFormat)
	}
	kh, kwid, ci, co := kw.Shape[0], kw.Shape[1], kw.Shape[2], kw.Shape[3]
	if int64(ci) != in.shape[1] {
		return fmt.Errorf("kernel has %d input channels, tensor has %d: %w", ci, in.shape[1], ErrFormat)
	}
	var oihw []float32
	var outC, group int64
	if depthwise {
		// HWCM → (C*M)×1×H×W, output channel c*M+m as TensorFlow orders it.
		oihw = make([]float32, len(kw.Data))
		for y := 0; y < kh; y++ {
			for x := 0; x < kwid; x++ {
				for ch := 0; ch < ci; ch++ {
					for m := 0; m < co; m++ {
						src := ((y*kwid+x)*ci+ch)*co + m
						dst := ((ch*co+m)*kh+y)*kwid + x
						oihw[dst] = kw.Data[src]
					}
				}
			}
		}
		outC, group = int64(ci*co), int64(ci)
	} else {
		if f, ok := cfg.float("filters"); ok && int64(f) != int64(co) {
			return fmt.Errorf("filters %v but kernel has %d: %w", f, co, ErrFormat)
		}
		// HWIO → OIHW.
		oihw = make([]float32, len(kw.Data))
		for y := 0; y < kh; y++ {
			for x := 0; x < kwid; x++ {
				for i := 0; i < ci; i++ {
					for o := 0; o < co; o++ {
						src := ((y*kwid+x)*ci+i)*co + o
						dst := ((o*ci+i)*kh+y)*kwid + x
						oihw[dst] = kw.Data[src]
					}
				}
			}
		}
		outC, group = int64(co), 1
	}
	wdims := []int64{outC, int64(ci) / group, int64(kh), int64(kwid)}
	inputs := []string{in.name, c.floatInit(l.Name+"/W", wdims, oihw)}
	if use, _ := cfg.bool("use_bias"); use {
		b, err := c.weight(l.Name, "bias")
		if err != nil {
			return err
		}
		if int64(len(b.Data)) != outC {
			return fmt.Errorf("bias has %d values for %d channels: %w", len(b.Data), outC, ErrFormat)
		}
		inputs = append(inputs, c.floatInit(l.Name+"/B", []int64{outC}, b.Data))
	}
	convOut := l.Name
	act, _ := cfg.str("activation")
	if act != "" && act != "linear" {
		convOut = l.Name + "/conv"
	}
	c.node("Conv", l.Name+"/conv", inputs, []string{convOut},
		onnx.IntsAttr("kernel_shape", k[0], k[1]),
		onnx.IntsAttr("strides", s[0], s[1]),
		onnx.IntsAttr("dilations", d[0], d[1]),
		onnx.IntsAttr("pads", pads[0], pads[1], pads[2], pads[3]),
		onnx.IntAttr("group", group))
	// Input spatial size before padding: the deferred pads are part of pads now.
	h0, w0 := in.shape[2]-in.pad[0]-in.pad[2], in.shape[3]-in.pad[1]-in.pad[3]
	shape := []int64{-1, outC, outSize(h0, pads[0]+pads[2], k[0], s[0], d[0]), outSize(w0, pads[1]+pads[3], k[1], s[1], d[1])}
	out, err := c.activation(l.Name, act, convOut, 4)
	if err != nil {
		return err
	}
	c.refs[l.Name] = &tref{name: out, shape: shape}
	return nil
}

func (c *converter) pool(l Layer, cfg config) error {
	in, err := c.input(l, 0)
	if err != nil {
		return err
	}
	if len(in.shape) != 4 {
		return fmt.Errorf("pooling a %d-D tensor: %w", len(in.shape), ErrUnsupported)
	}
	if err := cfg.channelsLast(); err != nil {
		return err
	}
	k, err := cfg.pair("pool_size", 2)
	if err != nil {
		return err
	}
	s := k
	if _, ok := l.Config["strides"]; ok && l.Config["strides"] != nil {
		if s, err = cfg.pair("strides", 0); err != nil {
			return err
		}
	}
	mode, _ := cfg.str("padding")
	pads, err := spatialPads(in, mode, k, s, [2]int64{1, 1})
	if err != nil {
		return err
	}
	x := in.name
	if in.pad != [4]int64{} && l.ClassName == "AveragePooling2D" {
		// Explicit zero padding counts in the average, 'same' padding does not:
		// apply the ZeroPadding2D as a real Pad and pool with the 'same' pads only.
		x = c.materialize(in)
		for i := range pads {
			pads[i] -= in.pad[i]
		}
	} else if in.pad != [4]int64{} {
		return fmt.Errorf("max pooling after ZeroPadding2D: %w", ErrUnsupported)
	}
	op := "AveragePool"
	attrs := []onnx.Attr{
		onnx.IntsAttr("kernel_shape", k[0], k[1]),
		onnx.IntsAttr("strides", s[0], s[1]),
		onnx.IntsAttr("pads", pads[0], pads[1], pads[2], pads[3]),
	}
	if l.ClassName == "MaxPooling2D" {
		op = "MaxPool"
	} else {
		attrs = append(attrs, onnx.IntAttr("count_include_pad", 0))
	}
	c.node(op, l.Name, []string{x}, []string{l.Name}, attrs...)
	h, w := in.shape[2], in.shape[3]
	if x == in.name {
		h, w = h-in.pad[0]-in.pad[2], w-in.pad[1]-in.pad[3]
	}
	shape := []int64{-1, in.shape[1], outSize(h, pads[0]+pads[2], k[0], s[0], 1), outSize(w, pads[1]+pads[3], k[1], s[1], 1)}
	c.refs[l.Name] = &tref{name: l.Name, shape: shape}
	return nil
}

func (c *converter) batchNorm(l Layer, cfg config) error {
	in, err := c.input(l, 0)
	if err != nil {
		return err
	}
	if axis, ok := cfg.float("axis"); ok && int(axis) != -1 && int(axis) != len(in.shape)-1 {
		return fmt.Errorf("batch normalization over axis %v: %w", axis, ErrUnsupported)
	}
	ch := in.shape[1]
	eps, ok := cfg.float("epsilon")
	if !ok {
		eps = 1e-3
	}
	get := func(v string, def float32, enabled bool) (string, error) {
		data := make([]float32, ch)
		if enabled {
			w, err := c.weight(l.Name, v)
			if err != nil {
				return "", err
			}
			if int64(len(w.Data)) != ch {
				return "", fmt.Errorf("%s has %d values for %d channels: %w", v, len(w.Data), ch, ErrFormat)
			}
			copy(data, w.Data)
		} else {
			for i := range data {
				data[i] = def
			}
		}
		return c.floatInit(l.Name+"/"+v, []int64{ch}, data), nil
	}
	scale, _ := cfg.bool("scale")
	center, _ := cfg.bool("center")
	if _, set := l.Config["scale"]; !set {
		scale = true
	}
	if _, set := l.Config["center"]; !set {
		center = true
	}
	g, err := get("gamma", 1, scale)
	if err != nil {
		return err
	}
	b, err := get("beta", 0, center)
	if err != nil {
		return err
	}
	mean, err := get("moving_mean", 0, true)
	if err != nil {
		return err
	}
	variance, err := get("moving_variance", 1, true)
	if err != nil {
		return err
	}
	c.node("BatchNormalization", l.Name, []string{c.materialize(in), g, b, mean, variance}, []string{l.Name},
		onnx.FloatAttr("epsilon", float32(eps)))
	c.refs[l.Name] = &tref{name: l.Name, shape: in.shape}
	return nil
}

func (c *converter) dense(l Layer, cfg config) error {
	in, err := c.input(l, 0)
	if err != nil {
		return err
	}
	if len(in.shape) != 2 {
		return fmt.Errorf("Dense on a %d-D tensor: %w", len(in.shape), ErrUnsupported)
	}
	k, err := c.weight(l.Name, "kernel")
	if err != nil {
		return err
	}
	if len(k.Shape) != 2 || int64(k.Shape[0]) != in.shape[1] {
		return fmt.Errorf("kernel shape %v for %d inputs: %w", k.Shape, in.shape[1], ErrFormat)
	}
	units := int64(k.Shape[1])
	inputs := []string{c.materialize(in), c.floatInit(l.Name+"/W", []int64{int64(k.Shape[0]), units}, k.Data)}
	if use, _ := cfg.bool("use_bias"); use {
		b, err := c.weight(l.Name, "bias")
		if err != nil {
			return err
		}
		inputs = append(inputs, c.floatInit(l.Name+"/B", []int64{units}, b.Data))
	}
	act, _ := cfg.str("activation")
	gemmOut := l.Name
	if act != "" && act != "linear" {
		gemmOut = l.Name + "/gemm"
	}
	c.node("Gemm", l.Name+"/gemm", inputs, []string{gemmOut})
	out, err := c.activation(l.Name, act, gemmOut, 2)
	if err != nil {
		return err
	}
	c.refs[l.Name] = &tref{name: out, shape: []int64{-1, units}}
	return nil
}

// config reads typed values from a Keras layer config.
type config map[string]any

func (c config) str(k string) (string, bool) {
	s, ok := c[k].(string)
	return s, ok
}

func (c config) float(k string) (float64, bool) {
	f, ok := c[k].(float64)
	return f, ok
}

func (c config) bool(k string) (bool, bool) {
	b, ok := c[k].(bool)
	return b, ok
}

func (c config) channelsLast() error {
	if f, ok := c.str("data_format"); ok && f != "channels_last" {
		return fmt.Errorf("data_format %q: %w", f, ErrUnsupported)
	}
	return nil
}

// pair reads an int or a 2-list (kernel_size, strides, …), def if absent.
func (c config) pair(k string, def int64) ([2]int64, error) {
	switch v := c[k].(type) {
	case nil:
		if def == 0 {
			return [2]int64{}, fmt.Errorf("%s missing: %w", k, ErrFormat)
		}
		return [2]int64{def, def}, nil
	case float64:
		return [2]int64{int64(v), int64(v)}, nil
	case []any:
		if len(v) != 2 {
			return [2]int64{}, fmt.Errorf("%s has %d values: %w", k, len(v), ErrFormat)
		}
		a, ok1 := v[0].(float64)
		b, ok2 := v[1].(float64)
		if !ok1 || !ok2 {
			return [2]int64{}, fmt.Errorf("%s is not numeric: %w", k, ErrFormat)
		}
		return [2]int64{int64(a), int64(b)}, nil
	}
	return [2]int64{}, fmt.Errorf("%s has type %T: %w", k, c[k], ErrFormat)
}

// padding2D reads ZeroPadding2D's padding: n, [h, w] or [[t, b], [l, r]],
// returned as top, left, bottom, right.
func (c config) padding2D(k string) ([4]int64, error) {
	switch v := c[k].(type) {
	case float64:
		n := int64(v)
		return [4]int64{n, n, n, n}, nil
	case []any:
		if len(v) != 2 {
			break
		}
		if a, ok := v[0].(float64); ok {
			b, _ := v[1].(float64)
			return [4]int64{int64(a), int64(b), int64(a), int64(b)}, nil
		}
		hp, ok1 := v[0].([]any)
		wp, ok2 := v[1].([]any)
		if !ok1 || !ok2 || len(hp) != 2 || len(wp) != 2 {
			break
		}
		t, _ := hp[0].(float64)
		b, _ := hp[1].(float64)
		l, _ := wp[0].(float64)
		r, _ := wp[1].(float64)
		return [4]int64{int64(t), int64(l), int64(b), int64(r)}, nil
	}
	return [4]int64{}, fmt.Errorf("%s = %v: %w", k, c[k], ErrFormat)
}

func (c config) shape(k string) ([]int64, error) {
	v, ok := c[k].([]any)
	if !ok {
		return nil, fmt.Errorf("%s missing: %w", k, ErrFormat)
	}
	out := make([]int64, len(v))
	for i, d := range v {
		if f, ok := d.(float64); ok {
			out[i] = int64(f)
		} else {
			out[i] = -1
		}
	}
	return out, nil
}

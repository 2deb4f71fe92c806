// Package tfjs reads Keras models saved in the TensorFlow.js LayersModel
// format (a model topology plus a weights manifest and binary weight shards,
// here also in the JS-module form nsfwjs ships) and converts them to ONNX.
package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// LayersModel is a Keras model in TF.js format with its weights decoded.
type LayersModel struct {
	KerasVersion string
	Name         string
	Layers       []Layer
	InputLayers  []string
	OutputLayers []string
	// Weights holds every weight by its manifest name ("Conv1/kernel").
	Weights map[string]Weight
}

// Layer is one Keras layer from the topology.
type Layer struct {
	Name      string
	ClassName string
	Config    map[string]any
	// Inbound lists the names of the layers whose (first) output feeds this layer.
	Inbound []string
}

// Weight is a dequantized float32 weight tensor.
type Weight struct {
	Name  string
	Shape []int
	Data  []float32
}

// Typed errors callers can branch on.
var (
	// ErrUnsupported marks a layer type, option or weight encoding the
	// converter does not handle.
	ErrUnsupported = errors.New("unsupported")
	// ErrFormat marks input that is not a valid TF.js LayersModel.
	ErrFormat = errors.New("invalid tfjs model")
)

type artifacts struct {
	ModelTopology struct {
		KerasVersion string `json:"keras_version"`
		ModelConfig  struct {
			ClassName string `json:"class_name"`
			Config    struct {
				Name   string `json:"name"`
				Layers []struct {
					Name         string         `json:"name"`
					ClassName    string         `json:"class_name"`
					Config       map[string]any `json:"config"`
					InboundNodes [][][]any      `json:"inbound_nodes"`
				} `json:"layers"`
				InputLayers  [][]any `json:"input_layers"`
				OutputLayers [][]any `json:"output_layers"`
			} `json:"config"`
		} `json:"model_config"`
	} `json:"modelTopology"`
	WeightsManifest []struct {
		Paths   []string     `json:"paths"`
		Weights []weightSpec `json:"weights"`
	} `json:"weightsManifest"`
}

type weightSpec struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	DType        string `json:"dtype"`
	Quantization *struct {
		Min   *float64 `json:"min"`
		Scale *float64 `json:"scale"`
		DType string   `json:"dtype"`
	} `json:"quantization"`
}

// LoadDir reads a TF.js LayersModel from a directory: either nsfwjs's
// JS-module form (model.min.js and one "<path>.min.js" per weight shard,
// each exporting a base64 string) or the standard form (model.json and
// binary shard files named by the manifest paths).
func LoadDir(dir string) (*LayersModel, error) {
	jsPath := filepath.Join(dir, "model.min.js")
	jsonPath := filepath.Join(dir, "model.json")
	var src []byte
	var err error
	jsForm := true
	if src, err = os.ReadFile(jsPath); errors.Is(err, os.ErrNotExist) {
		jsForm = false
		src, err = os.ReadFile(jsonPath)
	}
	if err != nil {
		return nil, fmt.Errorf("load tfjs model from %s: %w", dir, err)
	}
	shard := func(path string) ([]byte, error) {
		if !jsForm {
			return os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)+".min.js"))
		if err != nil {
			return nil, err
		}
		return decodeJSShard(b)
	}
	m, err := Load(src, shard)
	if err != nil {
		return nil, fmt.Errorf("load tfjs model from %s: %w", dir, err)
	}
	return m, nil
}

func decodeJSShard(src []byte) ([]byte, error) {
	v, err := ParseJSModule(src)
	if err != nil {
		return nil, fmt.Errorf("weight shard: %w", err)
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("weight shard exports %T, want a base64 string: %w", v, ErrFormat)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("weight shard: %w", err)
	}
	return b, nil
}

// Load parses a model topology (model.json bytes, or a JS module exporting
// the same object) and reads the weight shards through shard, called with
// each manifest path in order.
func Load(model []byte, shard func(path string) ([]byte, error)) (*LayersModel, error) {
	v, err := ParseJSModule(model)
	if err != nil {
		return nil, fmt.Errorf("parse model: %w", err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("parse model: %w", err)
	}
	var a artifacts
	if err := json.Unmarshal(js, &a); err != nil {
		return nil, fmt.Errorf("parse model: %v: %w", err, ErrFormat)
	}
	mc := a.ModelTopology.ModelConfig
	if mc.ClassName != "Model" && mc.ClassName != "Functional" {
		return nil, fmt.Errorf("model class %q: %w", mc.ClassName, ErrUnsupported)
	}
	m := &LayersModel{
		KerasVersion: a.ModelTopology.KerasVersion,
		Name:         mc.Config.Name,
		Weights:      map[string]Weight{},
	}
	for _, l := range mc.Config.Layers {
		layer := Layer{Name: l.Name, ClassName: l.ClassName, Config: l.Config}
		if len(l.InboundNodes) > 1 {
			return nil, fmt.Errorf("layer %s is applied %d times (shared layers): %w", l.Name, len(l.InboundNodes), ErrUnsupported)
		}
		for _, node := range l.InboundNodes {
			for _, in := range node {
				if len(in) < 3 {
					return nil, fmt.Errorf("layer %s: bad inbound node: %w", l.Name, ErrFormat)
				}
				name, _ := in[0].(string)
				if ni, _ := in[1].(float64); ni != 0 {
					return nil, fmt.Errorf("layer %s: inbound node index %v: %w", l.Name, ni, ErrUnsupported)
				}
				if ti, _ := in[2].(float64); ti != 0 {
					return nil, fmt.Errorf("layer %s: inbound tensor index %v: %w", l.Name, ti, ErrUnsupported)
				}
				layer.Inbound = append(layer.Inbound, name)
			}
		}
		m.Layers = append(m.Layers, layer)
	}
	for _, in := range mc.Config.InputLayers {
		s, _ := in[0].(string)
		m.InputLayers = append(m.InputLayers, s)
	}
	for _, out := range mc.Config.OutputLayers {
		s, _ := out[0].(string)
		m.OutputLayers = append(m.OutputLayers, s)
	}
	for gi, group := range a.WeightsManifest {
		var buf []byte
		for _, p := range group.Paths {
			b, err := shard(p)
			if err != nil {
				return nil, fmt.Errorf("weight group %d shard %s: %w", gi, p, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, spec := range group.Weights {
			w, n, err := decodeWeight(spec, buf[off:])
			if err != nil {
				return nil, fmt.Errorf("weight %s: %w", spec.Name, err)
			}
			off += n
			m.Weights[spec.Name] = w
		}
		if off != len(buf) {
			return nil, fmt.Errorf("weight group %d: %d bytes left over: %w", gi, len(buf)-off, ErrFormat)
		}
	}
	return m, nil
}

// decodeWeight decodes one weight as tfjs-core's io.decodeWeights does:
// uint8/uint16-quantized values become q*scale + min, computed in float64
// and rounded to float32 (JavaScript arithmetic stored into a Float32Array).
func decodeWeight(spec weightSpec, buf []byte) (Weight, int, error) {
	n := 1
	for _, d := range spec.Shape {
		n *= d
	}
	w := Weight{Name: spec.Name, Shape: spec.Shape, Data: make([]float32, n)}
	if spec.DType != "float32" {
		return w, 0, fmt.Errorf("dtype %q: %w", spec.DType, ErrUnsupported)
	}
	q := spec.Quantization
	if q == nil {
		if len(buf) < 4*n {
			return w, 0, fmt.Errorf("shard too short: %w", ErrFormat)
		}
		for i := range w.Data {
			w.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		return w, 4 * n, nil
	}
	if q.Min == nil || q.Scale == nil {
		return w, 0, fmt.Errorf("quantization %q without min/scale: %w", q.DType, ErrUnsupported)
	}
	lo, scale := *q.Min, *q.Scale
	switch strings.ToLower(q.DType) {
	case "uint8":
		if len(buf) < n {
			return w, 0, fmt.Errorf("shard too short: %w", ErrFormat)
		}
		for i := range w.Data {
			w.Data[i] = float32(float64(buf[i])*scale + lo)
		}
		return w, n, nil
	case "uint16":
		if len(buf) < 2*n {
			return w, 0, fmt.Errorf("shard too short: %w", ErrFormat)
		}
		for i := range w.Data {
			w.Data[i] = float32(float64(binary.LittleEndian.Uint16(buf[2*i:]))*scale + lo)
		}
		return w, 2 * n, nil
	}
	return w, 0, fmt.Errorf("quantization dtype %q: %w", q.DType, ErrUnsupported)
}

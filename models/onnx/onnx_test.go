package onnx

import (
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// fields decodes one protobuf message level into field number → raw values.
func fields(t *testing.T, b []byte) map[protowire.Number][]any {
	t.Helper()
	out := map[protowire.Number][]any{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v any
		switch typ {
		case protowire.VarintType:
			x, m := protowire.ConsumeVarint(b)
			v, n = x, m
		case protowire.Fixed32Type:
			x, m := protowire.ConsumeFixed32(b)
			v, n = x, m
		case protowire.BytesType:
			x, m := protowire.ConsumeBytes(b)
			v, n = x, m
		default:
			t.Fatalf("unexpected wire type %v", typ)
		}
		if n < 0 {
			t.Fatalf("bad field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		out[num] = append(out[num], v)
	}
	return out
}

func TestMarshalLayout(t *testing.T) {
	t.Parallel()
	m := &Model{
		ProducerName: "muster", Opset: 13, Metadata: map[string]string{"b": "2", "a": "1"},
		Graph: Graph{
			Name:         "g",
			Nodes:        []Node{{Name: "n", OpType: "Clip", Inputs: []string{"x", "", "hi"}, Outputs: []string{"y"}, Attrs: []Attr{FloatAttr("f", 1.5), IntsAttr("p", 0, 1), IntAttr("i", -1)}}},
			Initializers: []Tensor{{Name: "hi", DataType: Float, Floats: []float32{6}}, {Name: "pads", Dims: []int64{2}, DataType: Int64, Int64s: []int64{1, -2}}},
			Inputs:       []ValueInfo{{Name: "x", ElemType: Float, Dims: []Dim{{Param: "N"}, {Value: 3}}}},
			Outputs:      []ValueInfo{{Name: "y", ElemType: Float, Dims: []Dim{{Param: "N"}, {Value: 3}}}},
		},
	}
	top := fields(t, m.Marshal())
	if top[1][0].(uint64) != IRVersion || string(top[2][0].([]byte)) != "muster" {
		t.Fatalf("ir_version/producer: %v %v", top[1], top[2])
	}
	op := fields(t, top[8][0].([]byte))
	if op[2][0].(uint64) != 13 {
		t.Fatalf("opset %v", op)
	}
	if len(top[14]) != 2 || string(fields(t, top[14][0].([]byte))[1][0].([]byte)) != "a" {
		t.Fatalf("metadata not sorted: %v", top[14])
	}
	g := fields(t, top[7][0].([]byte))
	node := fields(t, g[1][0].([]byte))
	if len(node[1]) != 3 || len(node[1][1].([]byte)) != 0 || string(node[4][0].([]byte)) != "Clip" {
		t.Fatalf("node inputs/op: %v", node)
	}
	f := fields(t, node[5][0].([]byte))
	if math.Float32frombits(f[2][0].(uint32)) != 1.5 || f[20][0].(uint64) != uint64(AttrFloat) {
		t.Fatalf("float attr %v", f)
	}
	i := fields(t, node[5][2].([]byte))
	if int64(i[3][0].(uint64)) != -1 {
		t.Fatalf("negative int attr %v", i)
	}
	pads := fields(t, g[5][1].([]byte))
	raw := pads[9][0].([]byte)
	if len(raw) != 16 || raw[8] != 0xfe || pads[2][0].(uint64) != Int64 {
		t.Fatalf("int64 initializer raw data %x", raw)
	}
	in := fields(t, g[11][0].([]byte))
	typ := fields(t, fields(t, in[2][0].([]byte))[1][0].([]byte))
	dims := fields(t, typ[2][0].([]byte))[1]
	if len(dims) != 2 || string(fields(t, dims[0].([]byte))[2][0].([]byte)) != "N" || fields(t, dims[1].([]byte))[1][0].(uint64) != 3 {
		t.Fatalf("input dims %v", dims)
	}
}

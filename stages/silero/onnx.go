package silero

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the ONNX protobuf messages read here (onnx.proto3).
const (
	modelGraph = 7 // ModelProto.graph

	graphNode = 1 // GraphProto.node

	nodeInput     = 1 // NodeProto.input
	nodeOutput    = 2 // NodeProto.output
	nodeOpType    = 4 // NodeProto.op_type
	nodeAttribute = 5 // NodeProto.attribute

	attrName = 1 // AttributeProto.name
	attrI    = 3 // AttributeProto.i
	attrS    = 4 // AttributeProto.s
	attrT    = 5 // AttributeProto.t
	attrG    = 6 // AttributeProto.g
	attrInts = 8 // AttributeProto.ints

	tensorDims      = 1 // TensorProto.dims
	tensorDataType  = 2 // TensorProto.data_type
	tensorFloatData = 4 // TensorProto.float_data
	tensorName      = 8 // TensorProto.name
	tensorRawData   = 9 // TensorProto.raw_data

	dataTypeFloat = 1 // TensorProto.FLOAT
)

// maxDims bounds the rank of a tensor read from the file.
const maxDims = 8

// field is one protobuf field: v holds varint and fixed values, data the
// bytes of length-delimited ones.
type field struct {
	num  protowire.Number
	typ  protowire.Type
	v    uint64
	data []byte
}

// eachField calls fn for every field of the message b, in order.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return badModel("protobuf: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.data, n = protowire.ConsumeBytes(b)
		default: // groups: skipped whole
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return badModel("protobuf field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// bytesField checks that f is length-delimited.
func bytesField(f field, what string) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, badModel("%s: wire type %d, want bytes", what, f.typ)
	}
	return f.data, nil
}

// int64s appends the int64 values of a repeated int64 field, packed or not.
func int64s(dst []int64, f field, what string) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.v)), nil
	case protowire.BytesType:
		b := f.data
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, badModel("%s: %v", what, protowire.ParseError(n))
			}
			if len(dst) >= maxDims*4 {
				return nil, badModel("%s: too many values", what)
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	default:
		return nil, badModel("%s: wire type %d, want varint", what, f.typ)
	}
}

// tensor is a float tensor read from a Constant node.
type tensor struct {
	name string
	dims []int64
	// data holds little-endian float32 values (raw_data or the packed
	// float_data, which have the same encoding).
	data []byte
}

// parseTensor reads a TensorProto holding float32 values.
func parseTensor(b []byte) (tensor, error) {
	var t tensor
	dataType := int64(-1)
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case tensorDims:
			t.dims, err = int64s(t.dims, f, "tensor dims")
			if err == nil && len(t.dims) > maxDims {
				err = badModel("tensor of rank %d", len(t.dims))
			}
		case tensorDataType:
			if f.typ != protowire.VarintType {
				return badModel("tensor data_type: wire type %d", f.typ)
			}
			dataType = int64(f.v)
		case tensorName:
			var s []byte
			s, err = bytesField(f, "tensor name")
			t.name = string(s)
		case tensorRawData, tensorFloatData:
			t.data, err = bytesField(f, "tensor data")
		}
		return err
	})
	if err != nil {
		return tensor{}, err
	}
	if dataType != dataTypeFloat {
		return tensor{}, badModel("tensor %q: data type %d, want float", t.name, dataType)
	}
	return t, nil
}

// floats decodes t's values, checking that t has exactly the shape want
// and finite values. Its errors do not wrap ErrBadModel: callers do.
func (t tensor) floats(want ...int64) ([]float32, error) {
	if len(t.dims) != len(want) {
		return nil, fmt.Errorf("tensor %q has shape %v, want %v", t.name, t.dims, want)
	}
	n := 1
	for i, d := range t.dims {
		if d != want[i] {
			return nil, fmt.Errorf("tensor %q has shape %v, want %v", t.name, t.dims, want)
		}
		n *= int(d)
	}
	if len(t.data) != 4*n {
		return nil, fmt.Errorf("tensor %q holds %d bytes, want %d", t.name, len(t.data), 4*n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:]))
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("tensor %q: value %d is %v", t.name, i, v)
		}
	}
	return out, nil
}

// attribute is a node attribute of the kinds read here.
type attribute struct {
	name string
	i    int64
	s    []byte
	t    []byte // TensorProto
	g    []byte // GraphProto
	ints []int64
}

// node is an ONNX NodeProto.
type node struct {
	opType  string
	inputs  []string
	outputs []string
	attrs   []attribute
}

// attr returns the attribute called name.
func (n *node) attr(name string) (attribute, bool) {
	for _, a := range n.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attribute{}, false
}

// parseAttribute reads an AttributeProto.
func parseAttribute(b []byte) (attribute, error) {
	var a attribute
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case attrName:
			var s []byte
			s, err = bytesField(f, "attribute name")
			a.name = string(s)
		case attrI:
			if f.typ != protowire.VarintType {
				return badModel("attribute i: wire type %d", f.typ)
			}
			a.i = int64(f.v)
		case attrS:
			a.s, err = bytesField(f, "attribute s")
		case attrT:
			a.t, err = bytesField(f, "attribute t")
		case attrG:
			a.g, err = bytesField(f, "attribute g")
		case attrInts:
			a.ints, err = int64s(a.ints, f, "attribute ints")
		}
		return err
	})
	return a, err
}

// parseNode reads a NodeProto.
func parseNode(b []byte) (node, error) {
	var n node
	err := eachField(b, func(f field) error {
		var (
			s   []byte
			err error
		)
		switch f.num {
		case nodeInput:
			s, err = bytesField(f, "node input")
			n.inputs = append(n.inputs, string(s))
		case nodeOutput:
			s, err = bytesField(f, "node output")
			n.outputs = append(n.outputs, string(s))
		case nodeOpType:
			s, err = bytesField(f, "node op_type")
			n.opType = string(s)
		case nodeAttribute:
			s, err = bytesField(f, "node attribute")
			if err == nil {
				var a attribute
				a, err = parseAttribute(s)
				n.attrs = append(n.attrs, a)
			}
		}
		return err
	})
	return n, err
}

// graphNodes reads the nodes of a GraphProto.
func graphNodes(b []byte) ([]node, error) {
	var nodes []node
	err := eachField(b, func(f field) error {
		if f.num != graphNode {
			return nil
		}
		s, err := bytesField(f, "graph node")
		if err != nil {
			return err
		}
		n, err := parseNode(s)
		nodes = append(nodes, n)
		return err
	})
	return nodes, err
}

// convAttrs are the attributes of a Conv node that this package relies on.
type convAttrs struct {
	kernel, stride, padBegin, padEnd int64
}

// branch is what one branch of the model's If holds: its float constants
// by tensor name and, for each Conv, its attributes by weight name.
type branch struct {
	tensors map[string]tensor
	convs   map[string]convAttrs
	// lstmHidden lists the hidden_size of the LSTM nodes, found in the
	// branch and in its nested If branches (where the exporter put them).
	lstmHidden []int64
	// padModes lists the modes of the Pad nodes.
	padModes []string
}

// readBranch collects a branch's constants and operator attributes.
func readBranch(g []byte, name string) (*branch, error) {
	nodes, err := graphNodes(g)
	if err != nil {
		return nil, err
	}
	br := &branch{tensors: map[string]tensor{}, convs: map[string]convAttrs{}}
	constOf := map[string]string{} // Constant output -> tensor name
	for i := range nodes {
		n := &nodes[i]
		switch n.opType {
		case "Constant":
			a, ok := n.attr("value")
			if !ok || a.t == nil || len(n.outputs) != 1 {
				continue // scalars given as value_int etc.: not weights
			}
			t, err := parseTensor(a.t)
			if err != nil || t.name == "" {
				continue // integer shape constants and the like
			}
			if _, dup := br.tensors[t.name]; dup {
				return nil, badModel("%s branch: tensor %q twice", name, t.name)
			}
			br.tensors[t.name] = t
			constOf[n.outputs[0]] = t.name
		case "LSTM", "If":
			if err := br.findLSTMs(n, 0); err != nil {
				return nil, err
			}
		case "Pad":
			if a, ok := n.attr("mode"); ok {
				br.padModes = append(br.padModes, string(a.s))
			} else {
				br.padModes = append(br.padModes, "constant")
			}
		}
	}
	for i := range nodes {
		n := &nodes[i]
		if n.opType != "Conv" || len(n.inputs) < 2 {
			continue
		}
		w, ok := constOf[n.inputs[1]]
		if !ok {
			return nil, badModel("%s branch: Conv weight %q is not a constant", name, n.inputs[1])
		}
		c, err := readConv(n)
		if err != nil {
			return nil, badModel("%s branch: Conv on %q: %v", name, w, err)
		}
		br.convs[w] = c
	}
	return br, nil
}

// maxIfDepth bounds how deep findLSTMs looks into nested If branches.
const maxIfDepth = 4

// findLSTMs records the hidden size of n if it is an LSTM, or of the LSTMs
// in its branches if it is an If.
func (br *branch) findLSTMs(n *node, depth int) error {
	if n.opType == "LSTM" {
		a, _ := n.attr("hidden_size")
		br.lstmHidden = append(br.lstmHidden, a.i)
		return nil
	}
	if n.opType != "If" || depth >= maxIfDepth {
		return nil
	}
	for _, a := range n.attrs {
		if a.g == nil {
			continue
		}
		nodes, err := graphNodes(a.g)
		if err != nil {
			return err
		}
		for i := range nodes {
			if err := br.findLSTMs(&nodes[i], depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// readConv reads the attributes of a one-dimensional Conv node, refusing
// those this package does not implement (groups, dilation).
func readConv(n *node) (convAttrs, error) {
	c := convAttrs{stride: 1}
	for _, a := range n.attrs {
		switch a.name {
		case "kernel_shape":
			if len(a.ints) != 1 {
				return c, fmt.Errorf("kernel_shape %v", a.ints)
			}
			c.kernel = a.ints[0]
		case "strides":
			if len(a.ints) != 1 {
				return c, fmt.Errorf("strides %v", a.ints)
			}
			c.stride = a.ints[0]
		case "pads":
			if len(a.ints) != 2 {
				return c, fmt.Errorf("pads %v", a.ints)
			}
			c.padBegin, c.padEnd = a.ints[0], a.ints[1]
		case "dilations":
			if len(a.ints) != 1 || a.ints[0] != 1 {
				return c, fmt.Errorf("dilations %v", a.ints)
			}
		case "group":
			if a.i != 1 {
				return c, fmt.Errorf("group %d", a.i)
			}
		case "auto_pad":
			if s := string(a.s); s != "" && s != "NOTSET" {
				return c, fmt.Errorf("auto_pad %q", s)
			}
		}
	}
	return c, nil
}

// readBranches finds the model's top-level If node and reads its then
// (16 kHz) and else (8 kHz) branches.
func readBranches(model []byte) (then, els *branch, err error) {
	var graph []byte
	err = eachField(model, func(f field) error {
		if f.num != modelGraph {
			return nil
		}
		var err error
		graph, err = bytesField(f, "model graph")
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if graph == nil {
		return nil, nil, badModel("no graph")
	}
	nodes, err := graphNodes(graph)
	if err != nil {
		return nil, nil, err
	}
	var ifNode *node
	for i := range nodes {
		if nodes[i].opType == "If" {
			if ifNode != nil {
				return nil, nil, badModel("more than one If node")
			}
			ifNode = &nodes[i]
		}
	}
	if ifNode == nil {
		return nil, nil, badModel("no If node (not a Silero VAD v5/v6 graph)")
	}
	tb, ok1 := ifNode.attr("then_branch")
	eb, ok2 := ifNode.attr("else_branch")
	if !ok1 || !ok2 || tb.g == nil || eb.g == nil {
		return nil, nil, badModel("If node without both branches")
	}
	if then, err = readBranch(tb.g, "16 kHz"); err != nil {
		return nil, nil, err
	}
	if els, err = readBranch(eb.g, "8 kHz"); err != nil {
		return nil, nil, err
	}
	return then, els, nil
}

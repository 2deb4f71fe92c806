package match

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// encodingMagic starts every encoded Prepared; it names the algorithm
// version so stale encodings are rejected rather than misread.
const encodingMagic = "MUSTER-MATCH-4\n"

// ErrStaleEncoding is returned by UnmarshalBinary for data written by
// another algorithm version (re-prepare from the reference image).
var ErrStaleEncoding = errors.New("prepared reference encoded by another algorithm version")

// MarshalBinary encodes the prepared reference (variant hashes and
// verification templates) for storage, so matchers can load a bank without
// rendering and hashing it again.
func (p *Prepared) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(encodingMagic)
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { w(uint16(len(s))); b.WriteString(s) }
	str(p.key)
	str(p.generic)
	w(p.threshold)
	w(p.gridMin)
	w(uint16(len(p.tmpls)))
	for i := range p.tmpls {
		w(p.tmpls[i][:])
		w(p.aspects[i])
	}
	w(uint16(len(p.hashes)))
	for _, h := range p.hashes {
		w(uint8(h.dihedral))
		w(h.angle)
		w(h.hash)
	}
	return b.Bytes(), nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (p *Prepared) UnmarshalBinary(data []byte) (err error) {
	if !bytes.HasPrefix(data, []byte(encodingMagic)) {
		return ErrStaleEncoding
	}
	r := bytes.NewReader(data[len(encodingMagic):])
	rd := func(v any) {
		if err == nil {
			err = binary.Read(r, binary.LittleEndian, v)
		}
	}
	str := func() string {
		var n uint16
		rd(&n)
		if err != nil {
			return ""
		}
		buf := make([]byte, n)
		if _, e := r.Read(buf); e != nil && n > 0 {
			err = e
		}
		return string(buf)
	}
	*p = Prepared{}
	p.key = str()
	p.generic = str()
	rd(&p.threshold)
	rd(&p.gridMin)
	var nt uint16
	rd(&nt)
	if err == nil && nt > 64 {
		return fmt.Errorf("match: decode: %d templates", nt)
	}
	p.tmpls = make([]template, nt)
	p.aspects = make([]float64, nt)
	for i := 0; i < int(nt) && err == nil; i++ {
		rd(p.tmpls[i][:])
		rd(&p.aspects[i])
	}
	var nh uint16
	rd(&nh)
	for i := 0; i < int(nh) && err == nil; i++ {
		var h preparedHash
		var d uint8
		rd(&d)
		rd(&h.angle)
		rd(&h.hash)
		h.dihedral = int(d)
		p.hashes = append(p.hashes, h)
	}
	if err != nil {
		return fmt.Errorf("match: decode prepared reference: %w", err)
	}
	if math.IsNaN(p.gridMin) || len(p.tmpls) == 0 {
		return fmt.Errorf("match: decode prepared reference: no templates")
	}
	return nil
}

// WithThreshold returns a copy of p with another verification threshold.
func (p *Prepared) WithThreshold(t float64) *Prepared {
	q := *p
	q.threshold = t
	return &q
}

// WithKey returns a copy of p under another key.
func (p *Prepared) WithKey(k string) *Prepared {
	q := *p
	q.key = k
	return &q
}

package tfjs

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNoExport is returned when a JS module has no `exports = <literal>`.
var ErrNoExport = errors.New("no exported literal found")

// exportRE finds the value a CommonJS/browserify module assigns to
// module.exports (the UMD wrapper's `module.exports=e()` is skipped because
// a literal must follow), or an ES module's default export.
var exportRE = regexp.MustCompile(`(?:\bexports\s*=|export\s+default)\s*[\[{"']`)

// ParseJSModule extracts the literal a JavaScript module exports, as nsfwjs
// ships its models: a minified browserify bundle whose module body is
// `a.exports={modelTopology:{…},weightsManifest:[…]}` or `h.exports="<base64>"`.
// Plain JSON input is accepted too. The result uses the encoding/json
// generic types: map[string]any, []any, string, float64, bool and nil.
func ParseJSModule(src []byte) (any, error) {
	s := string(src)
	start := 0
	if t := strings.TrimSpace(s); !(strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
		loc := exportRE.FindStringIndex(s)
		if loc == nil {
			return nil, ErrNoExport
		}
		start = loc[1] - 1
	}
	p := &jsParser{s: s, i: start}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return v, nil
}

// jsParser parses a JavaScript object/array/string/number literal as written
// by minifiers: unquoted keys, single or double quotes, `!0`/`!1` booleans,
// `void 0`, numbers such as `.5` or `-.5e-3`, trailing commas.
type jsParser struct {
	s string
	i int
}

func (p *jsParser) errf(format string, args ...any) error {
	return fmt.Errorf("js literal at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsParser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsParser) value() (any, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, p.errf("unexpected end of input")
	}
	c := p.s[p.i]
	switch {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"' || c == '\'':
		return p.str()
	case c == '!':
		// !0 → true, !1 → false
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			v := p.s[p.i+1] == '0'
			p.i += 2
			return v, nil
		}
		return nil, p.errf("unsupported expression after '!'")
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, kw := range []struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}, {"void 0", nil}, {"undefined", nil}, {"NaN", nil}} {
		if strings.HasPrefix(p.s[p.i:], kw.word) {
			p.i += len(kw.word)
			return kw.v, nil
		}
	}
	return nil, p.errf("unexpected character %q", c)
}

func (p *jsParser) object() (any, error) {
	p.i++ // {
	m := map[string]any{}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, p.errf("unterminated object")
		}
		if p.s[p.i] == '}' {
			p.i++
			return m, nil
		}
		var key string
		switch c := p.s[p.i]; {
		case c == '"' || c == '\'':
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			key = k
		default:
			j := p.i
			for j < len(p.s) && isIdentByte(p.s[j]) {
				j++
			}
			if j == p.i {
				return nil, p.errf("expected object key, got %q", c)
			}
			key = p.s[p.i:j]
			p.i = j
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errf("expected ':' after key %q", key)
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[key] = v
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return m, nil
		}
		return nil, p.errf("expected ',' or '}' in object")
	}
}

func (p *jsParser) array() (any, error) {
	p.i++ // [
	a := []any{}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, p.errf("unterminated array")
		}
		if p.s[p.i] == ']' {
			p.i++
			return a, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return a, nil
		}
		return nil, p.errf("expected ',' or ']' in array")
	}
}

func (p *jsParser) str() (string, error) {
	q := p.s[p.i]
	p.i++
	// Fast path: no escapes before the closing quote (the base64 weight shards).
	if j := strings.IndexByte(p.s[p.i:], q); j >= 0 && !strings.ContainsRune(p.s[p.i:p.i+j], '\\') {
		v := p.s[p.i : p.i+j]
		p.i += j + 1
		return v, nil
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errf("unterminated escape")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'v':
				b.WriteByte('\v')
			case '0':
				b.WriteByte(0)
			case 'x', 'u':
				n := 2
				if e == 'u' {
					n = 4
				}
				if p.i+n > len(p.s) {
					return "", p.errf("short \\%c escape", e)
				}
				r, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
				if err != nil {
					return "", p.errf("bad \\%c escape: %v", e, err)
				}
				p.i += n
				b.WriteRune(rune(r))
			default:
				b.WriteByte(e)
			}
		default:
			_, size := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteString(p.s[p.i : p.i+size])
			p.i += size
		}
	}
	return "", p.errf("unterminated string")
}

func (p *jsParser) number() (any, error) {
	j := p.i
	if p.s[j] == '-' || p.s[j] == '+' {
		j++
	}
	for j < len(p.s) {
		c := p.s[j]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
			((c == '-' || c == '+') && (p.s[j-1] == 'e' || p.s[j-1] == 'E')) {
			j++
			continue
		}
		break
	}
	lit := p.s[p.i:j]
	if strings.HasSuffix(lit, "Infinity") {
		return nil, p.errf("infinite number")
	}
	// ParseFloat accepts ".5" and "-.5"; it rounds exactly as JavaScript does.
	v, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil, p.errf("bad number %q: %v", lit, err)
	}
	p.i = j
	return v, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

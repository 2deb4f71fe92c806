package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"

	"github.com/muster-dev/muster/policy/signals"
)

// Config tunes compilation and evaluation.
type Config struct {
	// CostLimit bounds the CEL cost of one condition evaluation (one rule,
	// one market, one finding for finding-scoped rules). Default 200,000.
	CostLimit uint64
	// MaxConditionSize bounds a condition's length in code points. Default 4,096.
	MaxConditionSize int
	// Logger receives rule evaluation errors. Default slog.Default().
	Logger *slog.Logger
	// Licences is read by licence re-decisions (bank.Store); nil: such
	// jobs fail.
	Licences Licences
	// OnJobDone, if set, is told of every durable job (backtest,
	// re-decision) that finished: its kind and final status (metrics).
	OnJobDone func(kind, status string)
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.CostLimit == 0 {
		c.CostLimit = 200_000
	}
	if c.MaxConditionSize == 0 {
		c.MaxConditionSize = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports unusable settings.
func (c Config) Validate() error {
	if c.CostLimit < 100 {
		return fmt.Errorf("policy: cost limit %d too low: want at least 100", c.CostLimit)
	}
	if c.MaxConditionSize < 16 {
		return fmt.Errorf("policy: max condition size %d too low: want at least 16", c.MaxConditionSize)
	}
	return nil
}

// CEL type names of the signal structs.
var (
	findingType  = cel.ObjectType("signals.Finding")
	wordMarkType = cel.ObjectType("signals.WordMark")
)

// Compiled is a policy document compiled for evaluation. It is immutable and
// safe for concurrent use.
type Compiled struct {
	version string
	doc     *Document
	rules   []compiledRule
	params  map[string]ref.Val
	adapter types.Adapter
	cfg     Config
}

type compiledRule struct {
	*Rule
	prg cel.Program
	// market is true when the condition reads the market variable; other
	// conditions are evaluated once per design and reused across markets.
	market bool
}

// Version is the policy version the document was compiled as.
func (c *Compiled) Version() string { return c.version }

// Document returns the compiled document (do not modify it).
func (c *Compiled) Document() *Document { return c.doc }

// Compile type-checks every condition of doc and prepares programs. Errors
// are *CompileError values joined with errors.Join.
func Compile(doc *Document, version string, cfg Config) (*Compiled, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	paramDecls, paramVals, err := inferParams(doc.Params)
	if err != nil {
		return nil, err
	}
	designEnv, err := newEnv(cfg, paramDecls)
	if err != nil {
		return nil, fmt.Errorf("policy: cel environment: %w", err)
	}
	findingEnv, err := designEnv.Extend(cel.Variable("f", findingType))
	if err != nil {
		return nil, fmt.Errorf("policy: cel environment: %w", err)
	}
	c := &Compiled{version: version, doc: doc, params: map[string]ref.Val{}, adapter: designEnv.CELTypeAdapter(), cfg: cfg}
	for name, v := range paramVals {
		c.params["params."+name] = c.adapter.NativeToValue(v)
	}
	var errs []error
	for i := range doc.Rules {
		r := &doc.Rules[i]
		env := designEnv
		if r.Scope == ScopeFinding {
			env = findingEnv
		}
		ast, iss := env.Compile(string(r.When))
		if iss != nil && iss.Err() != nil {
			for _, e := range iss.Errors() {
				errs = append(errs, &CompileError{Rule: r.Name, Field: "when", Line: e.Location.Line(), Column: e.Location.Column() + 1, Msg: e.Message})
			}
			continue
		}
		if !ast.OutputType().IsExactType(cel.BoolType) {
			errs = append(errs, &CompileError{Rule: r.Name, Field: "when", Line: 1, Column: 1,
				Msg: fmt.Sprintf("condition must be bool, got %s", ast.OutputType())})
			continue
		}
		prg, err := env.Program(ast, cel.CostLimit(cfg.CostLimit), cel.InterruptCheckFrequency(64), cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			errs = append(errs, &CompileError{Rule: r.Name, Field: "when", Msg: err.Error()})
			continue
		}
		c.rules = append(c.rules, compiledRule{Rule: r, prg: prg, market: readsVar(ast, "market")})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Validate parses and compiles a policy document without keeping it.
func Validate(data []byte, cfg Config) (*Document, error) {
	doc, err := ParseDocument(data)
	if err != nil {
		return nil, err
	}
	if _, err := Compile(doc, "validate", cfg); err != nil {
		return nil, err
	}
	return doc, nil
}

func readsVar(ast *cel.Ast, name string) bool {
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if ref.Name == name {
			return true
		}
	}
	return false
}

// newEnv declares the variables and functions conditions may use (see
// docs/policy.md for the list).
func newEnv(cfg Config, params []cel.EnvOption) (*cel.Env, error) {
	opts := []cel.EnvOption{
		ext.NativeTypes(
			reflect.TypeFor[signals.Finding](), reflect.TypeFor[signals.Form](),
			reflect.TypeFor[signals.NSFW](), reflect.TypeFor[signals.OCR](),
			reflect.TypeFor[signals.WordMark](), reflect.TypeFor[signals.Product](),
			reflect.TypeFor[signals.Market](), reflect.TypeFor[signals.Tenant](),
			ext.ParseStructTags(true)),
		ext.Strings(), ext.Math(), ext.Sets(), ext.Bindings(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(cfg.MaxConditionSize),
		cel.Variable("findings", cel.ListType(findingType)),
		cel.Variable("nsfw", cel.ObjectType("signals.NSFW")),
		cel.Variable("ocr", cel.ObjectType("signals.OCR")),
		cel.Variable("product", cel.ObjectType("signals.Product")),
		cel.Variable("market", cel.ObjectType("signals.Market")),
		cel.Variable("tenant", cel.ObjectType("signals.Tenant")),
		cel.Variable("title", cel.StringType),
		cel.Variable("tags", cel.ListType(cel.StringType)),
		cel.Function("registered_in",
			cel.Overload("registered_in_finding_string", []*cel.Type{findingType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(registeredIn)),
			cel.Overload("registered_in_wordmark_string", []*cel.Type{wordMarkType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(registeredIn))),
		cel.Function("class_conflict",
			cel.Overload("class_conflict_finding_int_map", []*cel.Type{findingType, cel.IntType, cel.MapType(cel.StringType, cel.ListType(cel.IntType))}, cel.BoolType,
				cel.FunctionBinding(classConflict)),
			cel.Overload("class_conflict_wordmark_int_map", []*cel.Type{wordMarkType, cel.IntType, cel.MapType(cel.StringType, cel.ListType(cel.IntType))}, cel.BoolType,
				cel.FunctionBinding(classConflict))),
	}
	return cel.NewEnv(append(opts, params...)...)
}

// markOf extracts jurisdictions and classes from a Finding or WordMark value.
func markOf(v ref.Val) (jur []string, classes []int64, ok bool) {
	switch m := v.Value().(type) {
	case signals.Finding:
		return m.Jurisdictions, m.Classes, true
	case *signals.Finding:
		return m.Jurisdictions, m.Classes, true
	case signals.WordMark:
		return m.Jurisdictions, m.Classes, true
	case *signals.WordMark:
		return m.Jurisdictions, m.Classes, true
	}
	return nil, nil, false
}

func registeredIn(lhs, rhs ref.Val) ref.Val {
	jur, _, ok := markOf(lhs)
	market, ok2 := rhs.(types.String)
	if !ok || !ok2 {
		return types.NewErr("registered_in: want (finding or word mark, string)")
	}
	return types.Bool(signals.RegisteredIn(jur, string(market)))
}

// classConflict reports whether a mark registered for classes conflicts with
// goods of class nice: the same class, or a class that similar lists as
// similar to it (in either direction).
func classConflict(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NewErr("class_conflict: want 3 arguments")
	}
	_, classes, ok := markOf(args[0])
	nice, ok2 := args[1].(types.Int)
	similar, ok3 := args[2].(traits.Mapper)
	if !ok || !ok2 || !ok3 {
		return types.NewErr("class_conflict: want (finding or word mark, int, map(string, list(int)))")
	}
	related := func(a, b int64) bool {
		if v, found := similar.Find(types.String(strconv.FormatInt(a, 10))); found {
			if l, ok := v.(traits.Lister); ok && l.Contains(types.Int(b)) == types.True {
				return true
			}
		}
		return false
	}
	for _, c := range classes {
		if c == int64(nice) || related(c, int64(nice)) || related(int64(nice), c) {
			return types.True
		}
	}
	return types.False
}

// inferParams declares params.<name> for each parameter with a CEL type
// inferred from its JSON value: bool, string, int (integral number), double,
// list(T) when every element has type T (ints and doubles mixed → double),
// map(string, T) likewise, dyn otherwise.
func inferParams(params map[string]json.RawMessage) ([]cel.EnvOption, map[string]any, error) {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	var decls []cel.EnvOption
	vals := map[string]any{}
	var errs []error
	for _, name := range names {
		dec := json.NewDecoder(bytes.NewReader(params[name]))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			errs = append(errs, &CompileError{Field: "params." + name, Msg: err.Error()})
			continue
		}
		t, native := inferValue(v)
		if t == nil {
			errs = append(errs, &CompileError{Field: "params." + name, Msg: "null is not a parameter value"})
			continue
		}
		decls = append(decls, cel.Variable("params."+name, t))
		vals[name] = native
	}
	return decls, vals, errors.Join(errs...)
}

func inferValue(v any) (*cel.Type, any) {
	switch x := v.(type) {
	case bool:
		return cel.BoolType, x
	case string:
		return cel.StringType, x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return cel.IntType, i
		}
		f, _ := x.Float64()
		return cel.DoubleType, f
	case []any:
		ts := make([]*cel.Type, len(x))
		ns := make([]any, len(x))
		for i, e := range x {
			ts[i], ns[i] = inferValue(e)
		}
		elem := unify(ts)
		return cel.ListType(elem), convertList(elem, ns)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		ts := make([]*cel.Type, len(keys))
		ns := make([]any, len(keys))
		for i, k := range keys {
			ts[i], ns[i] = inferValue(x[k])
		}
		elem := unify(ts)
		conv := convertList(elem, ns)
		out := make(map[string]any, len(keys))
		for i, k := range keys {
			out[k] = reflect.ValueOf(conv).Index(i).Interface()
		}
		return cel.MapType(cel.StringType, elem), out
	}
	return nil, nil
}

func unify(ts []*cel.Type) *cel.Type {
	if len(ts) == 0 || slices.Contains(ts, nil) {
		return cel.DynType
	}
	first := ts[0]
	same, numeric := true, true
	for _, t := range ts {
		if !t.IsExactType(first) {
			same = false
		}
		if !t.IsExactType(cel.IntType) && !t.IsExactType(cel.DoubleType) {
			numeric = false
		}
	}
	switch {
	case same:
		return first
	case numeric:
		return cel.DoubleType
	}
	return cel.DynType
}

func convertList(elem *cel.Type, ns []any) any {
	switch {
	case elem.IsExactType(cel.StringType):
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = n.(string)
		}
		return out
	case elem.IsExactType(cel.IntType):
		out := make([]int64, len(ns))
		for i, n := range ns {
			out[i] = n.(int64)
		}
		return out
	case elem.IsExactType(cel.DoubleType):
		out := make([]float64, len(ns))
		for i, n := range ns {
			switch f := n.(type) {
			case int64:
				out[i] = float64(f)
			case float64:
				out[i] = f
			default:
				out[i] = math.NaN()
			}
		}
		return out
	}
	return ns
}

// Cache holds compiled programs per policy version. It is safe for
// concurrent use; a version's content never changes, so entries never go
// stale, and the oldest are dropped beyond Max entries.
type Cache struct {
	cfg   Config
	max   int
	mu    sync.Mutex
	byVer map[string]*Compiled
	order []string
}

// NewCache returns a cache keeping at most max compiled versions (default 8).
func NewCache(cfg Config, max int) *Cache {
	if max <= 0 {
		max = 8
	}
	return &Cache{cfg: cfg.WithDefaults(), max: max, byVer: map[string]*Compiled{}}
}

// Get returns the compiled program for version, compiling content on a miss.
func (c *Cache) Get(version string, content []byte) (*Compiled, error) {
	c.mu.Lock()
	if p, ok := c.byVer[version]; ok {
		c.mu.Unlock()
		return p, nil
	}
	c.mu.Unlock()
	doc, err := ParseDocument(content)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", version, err)
	}
	p, err := Compile(doc, version, c.cfg)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", version, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if q, ok := c.byVer[version]; ok {
		return q, nil
	}
	c.byVer[version] = p
	c.order = append(c.order, version)
	if len(c.order) > c.max {
		delete(c.byVer, c.order[0])
		c.order = c.order[1:]
	}
	return p, nil
}

package infra_test

// A small evaluator of the Terraform module: it parses every .tf file with hclparse and
// evaluates variables (defaults, type constraints with optional attributes), locals,
// for_each keys and the attributes of resource instances, with the Terraform functions the
// module uses. Provider-computed attributes are unknown, except service account emails,
// which GCP derives from the account id, so identities can be compared. This is what lets
// the tests check what `terraform plan` would build from functions.json, where providers
// cannot be downloaded.

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

const (
	terraformDir  = "terraform"
	testProject   = "test-project"
	testProjectNo = "123456789012"
	testRegion    = "asia-northeast3"
)

// module is the parsed Terraform module.
type module struct {
	dir       string
	sources   map[string][]byte // file name => contents
	bodies    map[string]*hclsyntax.Body
	variables map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	resources map[string]*hclsyntax.Block // "type.name"
	outputs   map[string]*hclsyntax.Block
	terraform []*hclsyntax.Block
}

var parsedModule = sync.OnceValues(func() (*module, error) { return parseModule(terraformDir) })

// loadModule parses the module once for all tests.
func loadModule(t *testing.T) *module {
	t.Helper()
	m, err := parsedModule()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func parseModule(dir string) (*module, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no .tf files in %s", dir)
	}
	m := &module{
		dir: dir, sources: map[string][]byte{}, bodies: map[string]*hclsyntax.Body{},
		variables: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{},
		resources: map[string]*hclsyntax.Block{}, outputs: map[string]*hclsyntax.Block{},
	}
	parser := hclparse.NewParser()
	for _, name := range names {
		f, diags := parser.ParseHCLFile(name)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s: %w", name, diags)
		}
		base := filepath.Base(name)
		m.sources[base] = f.Bytes
		body := f.Body.(*hclsyntax.Body)
		m.bodies[base] = body
		for _, b := range body.Blocks {
			var dup bool
			switch b.Type {
			case "variable":
				_, dup = m.variables[b.Labels[0]]
				m.variables[b.Labels[0]] = b
			case "locals":
				for name, a := range b.Body.Attributes {
					if _, ok := m.locals[name]; ok {
						return nil, fmt.Errorf("%s: local.%s defined twice", base, name)
					}
					m.locals[name] = a
				}
			case "resource", "data":
				key := b.Labels[0] + "." + b.Labels[1]
				if b.Type == "data" {
					key = "data." + key
				}
				_, dup = m.resources[key]
				m.resources[key] = b
			case "output":
				_, dup = m.outputs[b.Labels[0]]
				m.outputs[b.Labels[0]] = b
			case "terraform":
				m.terraform = append(m.terraform, b)
			case "provider":
			default:
				return nil, fmt.Errorf("%s: unexpected block %q", base, b.Type)
			}
			if dup {
				return nil, fmt.Errorf("%s: %s %v defined twice", base, b.Type, b.Labels)
			}
		}
	}
	return m, nil
}

// eval is the module evaluated for one set of input variables.
type eval struct {
	m      *module
	ctx    *hcl.EvalContext
	vars   map[string]cty.Value
	locals map[string]cty.Value
}

// evaluate evaluates the module's variables and locals with the given inputs (the
// variables without a default must be among them).
func (m *module) evaluate(t *testing.T, inputs map[string]cty.Value) *eval {
	t.Helper()
	return m.evaluateWithFiles(t, inputs, nil)
}

// evaluateWithFiles evaluates the module with some files it reads replaced (by path
// relative to the module), to see what it would build from another manifest.
func (m *module) evaluateWithFiles(t *testing.T, inputs map[string]cty.Value, files map[string][]byte) *eval {
	t.Helper()
	e := &eval{m: m, vars: map[string]cty.Value{}, locals: map[string]cty.Value{}}
	for name, b := range m.variables {
		val, err := variableValue(b, inputs[name])
		if err != nil {
			t.Fatalf("variable %s: %v", name, err)
		}
		e.vars[name] = val
	}
	for name := range inputs {
		if _, ok := m.variables[name]; !ok {
			t.Fatalf("input %s is not a variable of the module", name)
		}
	}
	e.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: terraformFunctions(m.dir, files)}
	// Every resource is unknown until it exists; data and service accounts are stubbed below.
	for _, body := range m.bodies {
		for _, tr := range allTraversals(body) {
			if root := tr.RootName(); !reservedRoots[root] {
				e.ctx.Variables[root] = cty.DynamicVal
			}
		}
	}
	e.ctx.Variables["var"] = cty.ObjectVal(e.vars)
	e.ctx.Variables["path"] = cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(m.dir)})
	e.ctx.Variables["data"] = cty.ObjectVal(map[string]cty.Value{
		"google_project": cty.ObjectVal(map[string]cty.Value{
			"this": cty.ObjectVal(map[string]cty.Value{
				"number": cty.StringVal(testProjectNo), "project_id": e.vars["project_id"],
			}),
		}),
	})
	e.ctx.Variables["local"] = cty.EmptyObjectVal
	// Locals that name service accounts are evaluated before the accounts' stubs exist, so
	// evaluate the locals, stub the accounts, and evaluate the locals again.
	e.evalLocals(t)
	e.ctx.Variables["google_service_account"] = e.serviceAccounts(t)
	e.locals = map[string]cty.Value{}
	e.evalLocals(t)
	return e
}

var reservedRoots = map[string]bool{
	"var": true, "local": true, "path": true, "data": true, "each": true, "count": true,
	"self": true, "terraform": true,
}

// variableValue applies a variable's type constraint (with optional attributes' defaults)
// to the input, or to its default when there is no input (or a null one, for a variable
// that is not nullable, as Terraform does).
func variableValue(b *hclsyntax.Block, input cty.Value) (cty.Value, error) {
	val := input
	if val != cty.NilVal && val.IsNull() && !nullable(b) {
		if _, ok := b.Body.Attributes["default"]; !ok {
			return cty.NilVal, fmt.Errorf("null for a variable that is not nullable")
		}
		val = cty.NilVal
	}
	if val == cty.NilVal {
		def, ok := b.Body.Attributes["default"]
		if !ok {
			return cty.NilVal, fmt.Errorf("no default and no test input")
		}
		v, diags := def.Expr.Value(nil)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		val = v
	}
	typ, ok := b.Body.Attributes["type"]
	if !ok {
		return val, nil
	}
	ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(typ.Expr)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	if defaults != nil {
		val = defaults.Apply(val)
	}
	return convert.Convert(val, ty)
}

// nullable reports the variable's nullable argument (true unless it says false).
func nullable(b *hclsyntax.Block) bool {
	a, ok := b.Body.Attributes["nullable"]
	if !ok {
		return true
	}
	v, diags := a.Expr.Value(nil)
	return diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.True()
}

// evalLocals evaluates every local after the locals it refers to.
func (e *eval) evalLocals(t *testing.T) {
	t.Helper()
	visiting := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if _, done := e.locals[name]; done {
			return
		}
		a, ok := e.m.locals[name]
		if !ok {
			t.Fatalf("local.%s is used but not defined", name)
		}
		if visiting[name] {
			t.Fatalf("local.%s refers to itself", name)
		}
		visiting[name] = true
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() == "local" && len(tr) > 1 {
				visit(tr[1].(hcl.TraverseAttr).Name)
			}
		}
		val, diags := a.Expr.Value(e.ctx)
		if diags.HasErrors() {
			t.Fatalf("local.%s: %v", name, diags)
		}
		e.locals[name] = val
		e.ctx.Variables["local"] = cty.ObjectVal(e.locals)
	}
	for _, name := range sortedKeys(e.m.locals) {
		visit(name)
	}
}

// local returns an evaluated local.
func (e *eval) local(t *testing.T, name string) cty.Value {
	t.Helper()
	v, ok := e.locals[name]
	if !ok {
		t.Fatalf("no local.%s", name)
	}
	return v
}

// serviceAccounts stubs google_service_account with what GCP derives from the account
// id: email and member (the IAM principal).
func (e *eval) serviceAccounts(t *testing.T) cty.Value {
	t.Helper()
	accounts := map[string]cty.Value{}
	for key, b := range e.m.resources {
		typ, name, _ := strings.Cut(key, ".")
		if typ != "google_service_account" {
			continue
		}
		insts := e.instancesOf(t, key, b)
		stub := func(in *instance) cty.Value {
			id := in.str(t, "account_id")
			email := id + "@" + e.vars["project_id"].AsString() + ".iam.gserviceaccount.com"
			return cty.ObjectVal(map[string]cty.Value{
				"account_id": cty.StringVal(id),
				"email":      cty.StringVal(email),
				"member":     cty.StringVal("serviceAccount:" + email),
				"name":       cty.DynamicVal,
				"id":         cty.DynamicVal,
			})
		}
		if _, ok := b.Body.Attributes["for_each"]; ok {
			each := map[string]cty.Value{}
			for k, in := range insts {
				each[k] = stub(in)
			}
			accounts[name] = cty.ObjectVal(each)
		} else {
			accounts[name] = stub(insts[""])
		}
	}
	return cty.ObjectVal(accounts)
}

// instance is one instance of a resource: its body evaluated with each (or count) bound.
type instance struct {
	key  string
	body *hclsyntax.Body
	ctx  *hcl.EvalContext
}

// instances returns the instances of resource "type.name" by key ("" for a single one,
// "0", "1", ... for count), as Terraform would plan them.
func (e *eval) instances(t *testing.T, resource string) map[string]*instance {
	t.Helper()
	b, ok := e.m.resources[resource]
	if !ok {
		t.Fatalf("no resource %s", resource)
	}
	return e.instancesOf(t, resource, b)
}

func (e *eval) instancesOf(t *testing.T, resource string, b *hclsyntax.Block) map[string]*instance {
	t.Helper()
	out := map[string]*instance{}
	if fe, ok := b.Body.Attributes["for_each"]; ok {
		val, diags := fe.Expr.Value(e.ctx)
		if diags.HasErrors() {
			t.Fatalf("%s for_each: %v", resource, diags)
		}
		for key, v := range forEachElements(t, resource, val) {
			out[key] = &instance{key: key, body: b.Body, ctx: e.child(map[string]cty.Value{
				"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": v}),
			})}
		}
		return out
	}
	if c, ok := b.Body.Attributes["count"]; ok {
		val, diags := c.Expr.Value(e.ctx)
		if diags.HasErrors() || !val.IsKnown() {
			t.Fatalf("%s count: %v (known %v)", resource, diags, val.IsKnown())
		}
		n, _ := val.AsBigFloat().Int64()
		for i := range n {
			key := strconv.FormatInt(i, 10)
			out[key] = &instance{key: key, body: b.Body, ctx: e.child(map[string]cty.Value{
				"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(i)}),
			})}
		}
		return out
	}
	out[""] = &instance{body: b.Body, ctx: e.ctx}
	return out
}

func (e *eval) child(vars map[string]cty.Value) *hcl.EvalContext {
	c := e.ctx.NewChild()
	c.Variables = vars
	return c
}

// forEachElements turns a for_each value into key => each.value, as Terraform does: a map
// or object by its keys, a set of strings by its elements.
func forEachElements(t *testing.T, what string, val cty.Value) map[string]cty.Value {
	t.Helper()
	// Like Terraform: the keys must be known at plan time, a map's values need not be.
	if !val.IsKnown() || (val.Type().IsSetType() && !val.IsWhollyKnown()) {
		t.Fatalf("%s: for_each keys are not known at plan time", what)
	}
	out := map[string]cty.Value{}
	ty := val.Type()
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for k, v := range val.AsValueMap() {
			out[k] = v
		}
	case ty.IsSetType():
		for _, v := range val.AsValueSlice() {
			if v.Type() != cty.String {
				t.Fatalf("%s: for_each set of %s, want strings", what, v.Type().FriendlyName())
			}
			out[v.AsString()] = v
		}
	default:
		t.Fatalf("%s: for_each is a %s, want a map, an object or a set of strings", what, ty.FriendlyName())
	}
	return out
}

// each returns the instance's each.value.
func (in *instance) each(t *testing.T) cty.Value {
	t.Helper()
	v, diags := hcl.Traversal{hcl.TraverseRoot{Name: "each"}, hcl.TraverseAttr{Name: "value"}}.TraverseAbs(in.ctx)
	if diags.HasErrors() {
		t.Fatalf("each.value: %v", diags)
	}
	return v
}

// blocks returns the nested blocks of type typ under path (block types from the
// instance's body down), static ones only.
func (in *instance) blocks(path ...string) []*hclsyntax.Block {
	bodies := []*hclsyntax.Body{in.body}
	var found []*hclsyntax.Block
	for i, typ := range path {
		var next []*hclsyntax.Body
		found = nil
		for _, body := range bodies {
			for _, b := range body.Blocks {
				if b.Type == typ {
					found = append(found, b)
					next = append(next, b.Body)
				}
			}
		}
		if i < len(path)-1 {
			bodies = next
		}
	}
	return found
}

// block returns the one nested block at path, or nil.
func (in *instance) block(t *testing.T, path ...string) *hclsyntax.Block {
	t.Helper()
	bs := in.blocks(path...)
	if len(bs) > 1 {
		t.Fatalf("%v: %d blocks, want one", path, len(bs))
	}
	if len(bs) == 0 {
		return nil
	}
	return bs[0]
}

// value evaluates the attribute at path (blocks, then the attribute name).
func (in *instance) value(t *testing.T, path ...string) cty.Value {
	t.Helper()
	body := in.body
	if len(path) > 1 {
		b := in.block(t, path[:len(path)-1]...)
		if b == nil {
			t.Fatalf("no block %v", path[:len(path)-1])
		}
		body = b.Body
	}
	a, ok := body.Attributes[path[len(path)-1]]
	if !ok {
		t.Fatalf("no attribute %v", path)
	}
	v, diags := a.Expr.Value(in.ctx)
	if diags.HasErrors() {
		t.Fatalf("%v: %v", path, diags)
	}
	return v
}

// str evaluates a known string attribute.
func (in *instance) str(t *testing.T, path ...string) string {
	t.Helper()
	v := in.value(t, path...)
	if !v.IsKnown() || v.IsNull() {
		t.Fatalf("%v is not a known value", path)
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		t.Fatalf("%v: %v", path, err)
	}
	return s.AsString()
}

// number evaluates a known number attribute.
func (in *instance) number(t *testing.T, path ...string) int64 {
	t.Helper()
	v := in.value(t, path...)
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.Number {
		t.Fatalf("%v is not a known number", path)
	}
	n, _ := v.AsBigFloat().Int64()
	return n
}

// envVar is one environment variable of a container: a plain value, or a secret (the key
// of local.secrets its value_source names).
type envVar struct {
	value  string
	secret string
}

// env evaluates the env blocks of the container at path, static and dynamic.
func (in *instance) env(t *testing.T, path ...string) map[string]envVar {
	t.Helper()
	c := in.block(t, path...)
	if c == nil {
		t.Fatalf("no container at %v", path)
	}
	out := map[string]envVar{}
	add := func(body *hclsyntax.Body, ctx *hcl.EvalContext, secretKey string) {
		name := (&instance{body: body, ctx: ctx}).str(t, "name")
		if _, dup := out[name]; dup {
			t.Fatalf("%v: %s set twice", path, name)
		}
		v := envVar{secret: secretKey}
		if secretKey == "" {
			v.value = (&instance{body: body, ctx: ctx}).str(t, "value")
		}
		out[name] = v
	}
	for _, b := range c.Body.Blocks {
		switch {
		case b.Type == "env":
			add(b.Body, in.ctx, "")
		case b.Type == "dynamic" && b.Labels[0] == "env":
			fe, diags := b.Body.Attributes["for_each"].Expr.Value(in.ctx)
			if diags.HasErrors() {
				t.Fatalf("%v dynamic env: %v", path, diags)
			}
			content := b.Body.Blocks[0].Body
			for key, v := range forEachElements(t, "dynamic env", fe) {
				ctx := in.ctx.NewChild()
				ctx.Variables = map[string]cty.Value{"env": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": v})}
				secret := ""
				if _, ok := content.Attributes["value"]; !ok {
					// A secret: the module's one way of naming it is
					// google_secret_manager_secret.app[env.value], so env.value is its key.
					ref := strings.Join(strings.Fields(string(sourceOf(in, content.Blocks[0]))), " ")
					if !strings.Contains(ref, "secret = google_secret_manager_secret.app[env.value].secret_id") {
						t.Fatalf("%v %s: secret reference %q, want google_secret_manager_secret.app[env.value].secret_id", path, key, ref)
					}
					secret = v.AsString()
				}
				add(content, ctx, secret)
			}
		}
	}
	return out
}

// sourceOf returns the source text of a block of the instance's resource.
func sourceOf(in *instance, b *hclsyntax.Block) []byte {
	r := b.Range()
	src, _ := os.ReadFile(r.Filename)
	return src[r.Start.Byte:r.End.Byte]
}

// allTraversals returns every variable reference in body, nested blocks included.
func allTraversals(body *hclsyntax.Body) []hcl.Traversal {
	var out []hcl.Traversal
	for _, a := range body.Attributes {
		out = append(out, a.Expr.Variables()...)
	}
	for _, b := range body.Blocks {
		out = append(out, allTraversals(b.Body)...)
	}
	return out
}

// terraformFunctions are the Terraform functions the module may use: go-cty's standard
// library under Terraform's names, plus the few Terraform defines itself. A function not
// listed here fails the evaluation, which keeps the module within what is checked.
func terraformFunctions(dir string, files map[string][]byte) map[string]function.Function {
	return map[string]function.Function{
		"base64encode": stringFunc(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }),
		"alltrue":      alltrueFunc,
		"can":          tryfunc.CanFunc,
		"coalesce":     stdlib.CoalesceFunc,
		"concat":       stdlib.ConcatFunc,
		"contains":     stdlib.ContainsFunc,
		"distinct":     stdlib.DistinctFunc,
		"file":         fileFunc(dir, files),
		"fileset":      filesetFunc(dir),
		"flatten":      stdlib.FlattenFunc,
		"format":       stdlib.FormatFunc,
		"join":         stdlib.JoinFunc,
		"jsondecode":   stdlib.JSONDecodeFunc,
		"jsonencode":   stdlib.JSONEncodeFunc,
		"keys":         stdlib.KeysFunc,
		"length":       stdlib.LengthFunc,
		"lookup":       stdlib.LookupFunc,
		"lower":        stdlib.LowerFunc,
		"merge":        stdlib.MergeFunc,
		"nonsensitive": nonsensitiveFunc,
		"regex":        stdlib.RegexFunc,
		"regexall":     stdlib.RegexAllFunc,
		"replace":      replaceFunc,
		"sha1":         stringFunc(func(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }),
		"split":        stdlib.SplitFunc,
		"substr":       stdlib.SubstrFunc,
		"sum":          sumFunc,
		"title":        stdlib.TitleFunc,
		"tolist":       convertFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":        convertFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":     convertFunc(cty.Number),
		"toset":        convertFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":     convertFunc(cty.String),
		"trimsuffix":   stdlib.TrimSuffixFunc,
		"try":          tryfunc.TryFunc,
		"upper":        stdlib.UpperFunc,
		"values":       stdlib.ValuesFunc,
	}
}

func stringFunc(f func(string) string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "s", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(f(args[0].AsString())), nil
		},
	})
}

// fileFunc reads a file as Terraform's file() does, or its replacement from files; paths
// are relative to the working directory, which for the module is its own (path.module).
func fileFunc(dir string, files map[string][]byte) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			rel, ok := strings.CutPrefix(p, dir+"/")
			if !ok {
				return cty.NilVal, fmt.Errorf("file(%q): outside the module", p)
			}
			if raw, ok := files[rel]; ok {
				return cty.StringVal(string(raw)), nil
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				return cty.NilVal, fmt.Errorf("file(%q): %w", p, err)
			}
			return cty.StringVal(string(raw)), nil
		},
	})
}

// filesetFunc is Terraform's fileset for the patterns filepath.Match knows (no **): the
// names of the files under path that match, relative to path.
func filesetFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "pattern", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Set(cty.String)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p, pattern := args[0].AsString(), args[1].AsString()
			if p != dir && !strings.HasPrefix(p, dir+"/") {
				return cty.NilVal, fmt.Errorf("fileset(%q): outside the module", p)
			}
			if strings.Contains(pattern, "**") {
				return cty.NilVal, fmt.Errorf("fileset(%q, %q): ** is not supported here", p, pattern)
			}
			names, err := filepath.Glob(filepath.Join(p, pattern))
			if err != nil {
				return cty.NilVal, fmt.Errorf("fileset(%q, %q): %w", p, pattern, err)
			}
			if len(names) == 0 {
				return cty.SetValEmpty(cty.String), nil
			}
			out := make([]cty.Value, len(names))
			for i, n := range names {
				out[i] = cty.StringVal(strings.TrimPrefix(n, p+"/"))
			}
			return cty.SetVal(out), nil
		},
	})
}

// nonsensitiveFunc is Terraform's nonsensitive: this evaluator does not track
// sensitivity, so it returns its argument.
var nonsensitiveFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true}},
	Type:   func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl:   func(args []cty.Value, _ cty.Type) (cty.Value, error) { return args[0], nil },
})

// replaceFunc is Terraform's replace: a substring wrapped in slashes is a regular
// expression.
var replaceFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "str", Type: cty.String}, {Name: "substr", Type: cty.String}, {Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		sub := args[1].AsString()
		if len(sub) > 1 && strings.HasPrefix(sub, "/") && strings.HasSuffix(sub, "/") {
			return stdlib.RegexReplace(args[0], cty.StringVal(sub[1:len(sub)-1]), args[2])
		}
		return stdlib.Replace(args[0], args[1], args[2])
	},
})

// sumFunc is Terraform's sum: the total of a non-empty list, set or tuple of numbers.
var sumFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		ty := args[0].Type()
		if !ty.IsListType() && !ty.IsSetType() && !ty.IsTupleType() {
			return cty.NilVal, fmt.Errorf("sum: a list, set or tuple of numbers, not %s", ty.FriendlyName())
		}
		if !args[0].IsWhollyKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		elems := args[0].AsValueSlice()
		if len(elems) == 0 {
			return cty.NilVal, fmt.Errorf("sum: cannot sum an empty list")
		}
		total := cty.Zero
		for _, v := range elems {
			n, err := convert.Convert(v, cty.Number)
			if err != nil || n.IsNull() {
				return cty.NilVal, fmt.Errorf("sum: %s is not a number", v.GoString())
			}
			total = total.Add(n)
		}
		return total, nil
	},
})

// alltrueFunc is Terraform's alltrue: whether every element of a list of bools is true
// (an empty list is).
var alltrueFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
	Type:   function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		result := cty.True
		for _, v := range args[0].AsValueSlice() {
			if v.IsNull() {
				return cty.False, nil
			}
			result = result.And(v)
		}
		return result, nil
	},
})

func convertFunc(to cty.Type) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true}},
		Type: func(args []cty.Value) (cty.Type, error) {
			v, err := convert.Convert(args[0], to)
			if err != nil {
				return cty.NilType, err
			}
			return v.Type(), nil
		},
		Impl: func(args []cty.Value, ty cty.Type) (cty.Value, error) {
			return convert.Convert(args[0], ty)
		},
	})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// keysOf returns the keys of an evaluated map or object.
func keysOf(t *testing.T, v cty.Value) []string {
	t.Helper()
	if !v.IsWhollyKnown() || (!v.Type().IsMapType() && !v.Type().IsObjectType()) {
		t.Fatalf("not a known map: %s", v.Type().FriendlyName())
	}
	return sortedKeys(v.AsValueMap())
}

// refusal is a custom condition the plan would fail on: a variable's validation or a
// resource's precondition, with its error message.
type refusal struct {
	where   string // "var.name" or "type.name[key]"
	message string
}

func (r refusal) String() string { return r.where + ": " + r.message }

// refusals evaluates the custom conditions `terraform plan` checks: every variable's
// validation blocks and every resource instance's lifecycle preconditions. A condition
// that is not known at plan time is left for the apply, as Terraform does; one that cannot
// be evaluated fails the plan, as in Terraform.
func (e *eval) refusals(t *testing.T) []refusal {
	t.Helper()
	var out []refusal
	check := func(where string, rule *hclsyntax.Body, ctx *hcl.EvalContext) {
		cond, diags := rule.Attributes["condition"].Expr.Value(ctx)
		if diags.HasErrors() {
			out = append(out, refusal{where, "condition: " + diags.Error()})
			return
		}
		if !cond.IsKnown() {
			return
		}
		if !cond.IsNull() && cond.True() {
			return
		}
		msg, diags := rule.Attributes["error_message"].Expr.Value(ctx)
		if diags.HasErrors() || !msg.IsWhollyKnown() || msg.Type() != cty.String {
			out = append(out, refusal{where, fmt.Sprintf("(error_message not known: %v)", diags)})
			return
		}
		out = append(out, refusal{where, msg.AsString()})
	}
	for _, name := range sortedKeys(e.m.variables) {
		for _, b := range e.m.variables[name].Body.Blocks {
			if b.Type == "validation" {
				check("var."+name, b.Body, e.ctx)
			}
		}
	}
	for _, key := range sortedKeys(e.m.resources) {
		b := e.m.resources[key]
		var rules []*hclsyntax.Body
		for _, lc := range b.Body.Blocks {
			if lc.Type != "lifecycle" {
				continue
			}
			for _, pre := range lc.Body.Blocks {
				if pre.Type == "precondition" {
					rules = append(rules, pre.Body)
				}
			}
		}
		if len(rules) == 0 {
			continue
		}
		insts := e.instancesOf(t, key, b)
		for _, ik := range sortedKeys(insts) {
			for _, rule := range rules {
				check(fmt.Sprintf("%s[%s]", key, ik), rule, insts[ik].ctx)
			}
		}
	}
	return out
}

// refusalsOf is e.refusals as strings, for messages.
func refusalsOf(t *testing.T, e *eval) []string {
	t.Helper()
	var out []string
	for _, r := range e.refusals(t) {
		out = append(out, r.String())
	}
	return out
}

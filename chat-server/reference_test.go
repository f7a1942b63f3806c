package chatserver_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/registry"
)

// source parses the package's own (non-test) Go files.
func source(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	return fset, files
}

// muxRoutes are the patterns registered on the server's mux (s.mux.Handle and HandleFunc
// calls): a pattern that is not a string literal fails the test, so that no route escapes.
func muxRoutes(t *testing.T) []string {
	t.Helper()
	fset, files := source(t)
	var routes []string
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			if recv, ok := sel.X.(*ast.SelectorExpr); !ok || recv.Sel.Name != "mux" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Fatalf("%s: a mux route whose pattern is not a string literal: describe it in Reference and teach this test to read it",
					fset.Position(call.Pos()))
			}
			p, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			routes = append(routes, p)
			return true
		})
	}
	if len(routes) == 0 {
		t.Fatal("no mux routes found in the source")
	}
	return routes
}

// documented says whether a mux route belongs in the reference: the routes under
// /api/v1/chat/ but the health check.
func documented(pattern string) bool {
	_, path, _ := strings.Cut(pattern, " ")
	return strings.HasPrefix(path, "/api/v1/chat/") && path != "/api/v1/chat/healthz"
}

// Every route the mux serves under /api/v1/chat/ but the health check has exactly one
// External, and every External is such a route.
func TestReferenceRoutes(t *testing.T) {
	t.Parallel()
	var served []string
	for _, p := range muxRoutes(t) {
		if documented(p) {
			if !strings.Contains(p, " ") {
				t.Fatalf("mux route %q has no method: describe it per method", p)
			}
			served = append(served, p)
		}
	}
	var described []string
	names := map[string]bool{}
	for _, e := range chatserver.Reference() {
		if names[e.Name] {
			t.Errorf("name %q used twice", e.Name)
		}
		names[e.Name] = true
		if !strings.HasPrefix(e.Name, "chat-") {
			t.Errorf("name %q does not start with chat-", e.Name)
		}
		described = append(described, e.Method+" "+e.Path)
	}
	slices.Sort(served)
	slices.Sort(described)
	if !slices.Equal(served, described) {
		t.Fatalf("the mux serves %q\nthe reference describes %q", served, described)
	}
}

// The described routes are the server's, as it answers: each reaches its handler (a
// request without a token is refused 401 C002 by the route, not 404 C004 by the mux's
// catch-all), unlike a route that does not exist.
func TestReferenceRoutesServed(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	client := &http.Client{Timeout: 30 * time.Second}
	for _, e := range chatserver.Reference() {
		path := strings.ReplaceAll(e.Path, "{roomId}", uuid.NewString())
		res := stacktest.Do(t, client, e.Method, st.ChatURL+path, nil, "")
		res.Refused(t, http.StatusUnauthorized, fault.ErrUnauthenticated.Code)
		if e.Public {
			t.Errorf("%s is Public, but it refuses a request without a token", e.Name)
		}
	}
	for _, bogus := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/chat/nowhere"},
		{http.MethodDelete, "/api/v1/chat/rooms/" + uuid.NewString()},
	} {
		stacktest.Do(t, client, bogus.method, st.ChatURL+bogus.path, nil, "").Refused(t, http.StatusNotFound, fault.ErrNotFound.Code)
	}
}

// The generator adds these to every operation (a token, a body, a dependency): the
// reference does not list them.
var generatorCodes = []string{"C002", "C006", "C007", "C008", "C009", "C010", "C011", "C012", "C014"}

// Each operation is complete, and its examples are of its types and marshal to JSON.
func TestReferenceOperations(t *testing.T) {
	t.Parallel()
	for _, e := range chatserver.Reference() {
		t.Run(e.Name, func(t *testing.T) {
			op := e.Operation
			if op.Summary == "" || op.Description == "" {
				t.Error("no summary or description")
			}
			// No PathID: it would document C015 for a malformed roomId, which the chat
			// server answers with CH011.
			if op.PathID != "" || (strings.Contains(e.Path, "{roomId}") && !slices.Contains(op.Errors, chat.ErrRoomID)) {
				t.Errorf("path %s: PathID %q, want none and CH011 listed", e.Path, op.PathID)
			}
			codes := map[string]bool{}
			for _, f := range op.Errors {
				if f == nil {
					t.Fatal("a nil error")
				}
				if codes[f.Code] {
					t.Errorf("error %s listed twice", f.Code)
				}
				codes[f.Code] = true
				if slices.Contains(generatorCodes, f.Code) {
					t.Errorf("error %s is the generator's to add", f.Code)
				}
				if !strings.Contains(op.Description, "`"+f.Code+"`") {
					t.Errorf("error %s is not explained in the description", f.Code)
				}
			}
			params := map[string]bool{}
			for _, p := range op.Query {
				if params[p.Name] || p.Description == "" || !slices.Contains([]string{"string", "integer", "boolean"}, p.Type) {
					t.Errorf("query parameter %+v: repeated, undescribed or of an unknown type", p)
				}
				params[p.Name] = true
			}
			example(t, "body", op.Body, op.BodyExample)
			example(t, "answer", op.Answer, op.AnswerExample)
			if op.Body != nil {
				// The body example is one the handler decodes: strictly, as api.Decode does.
				raw, _ := json.Marshal(op.BodyExample)
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.DisallowUnknownFields()
				if err := dec.Decode(reflect.New(op.Body).Interface()); err != nil {
					t.Errorf("body example %s does not decode strictly: %v", raw, err)
				}
			}
			switch e.Path {
			case "/api/v1/chat/ws":
				if op.Status != http.StatusSwitchingProtocols || e.Method != http.MethodGet || op.Public ||
					op.Body != nil || op.Answer != nil || len(op.Frames) == 0 || len(op.CloseCodes) == 0 {
					t.Errorf("the WebSocket: %+v", op)
				}
			default:
				if op.Status != http.StatusOK || op.Answer == nil || op.Public || len(op.Frames) > 0 || len(op.CloseCodes) > 0 {
					t.Errorf("a REST route: %+v", op)
				}
			}
		})
	}
}

// example checks that an example is set and of typ when typ is, and marshals.
func example(t *testing.T, what string, typ reflect.Type, ex any) {
	t.Helper()
	if typ == nil {
		if ex != nil {
			t.Errorf("%s example without a %s type", what, what)
		}
		return
	}
	if ex == nil {
		t.Errorf("no %s example", what)
		return
	}
	if reflect.TypeOf(ex) != typ {
		t.Errorf("%s example is a %T, not a %s", what, ex, typ)
	}
	if _, err := json.Marshal(ex); err != nil {
		t.Errorf("%s example does not marshal: %v", what, err)
	}
}

func ws(t *testing.T) registry.Operation {
	t.Helper()
	for _, e := range chatserver.Reference() {
		if e.Path == "/api/v1/chat/ws" {
			return e.Operation
		}
	}
	t.Fatal("no WebSocket in the reference")
	return registry.Operation{}
}

// frameTypes reads the frame types from the source: the server sends those of every
// Frame literal (&Frame{Type: TypeX, ...}); a client's are the cases of conn.handle's
// first switch on the frame's type. Every Type constant of protocol.go is one or both.
func frameTypes(t *testing.T) (client, server, all map[string]bool) {
	t.Helper()
	_, files := source(t)
	values := map[string]string{} // TypeX -> "x"
	for _, decl := range files["protocol.go"].Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Type") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("frame type %s is not a string literal", name.Name)
				}
				values[name.Name], _ = strconv.Unquote(lit.Value)
			}
		}
	}
	// value is a Type constant's value; "" for anything else (DecodeFrame's Frame takes
	// the client's type as it came).
	value := func(e ast.Expr) string {
		id, ok := e.(*ast.Ident)
		if !ok {
			return ""
		}
		if values[id.Name] == "" {
			t.Fatalf("frame type %s is not a Type constant of protocol.go", id.Name)
		}
		return values[id.Name]
	}
	client, server, all = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, v := range values {
		all[v] = true
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "Frame" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok && kv.Key.(*ast.Ident).Name == "Type" {
							if v := value(kv.Value); v != "" {
								server[v] = true
							}
						}
					}
				}
			case *ast.FuncDecl:
				if n.Name.Name != "handle" || n.Recv == nil {
					return true
				}
				for _, stmt := range n.Body.List {
					sw, ok := stmt.(*ast.SwitchStmt)
					if !ok {
						continue
					}
					for _, c := range sw.Body.List {
						for _, e := range c.(*ast.CaseClause).List {
							if v := value(e); v != "" {
								client[v] = true
							}
						}
					}
					break
				}
			}
			return true
		})
	}
	if len(client) == 0 || len(server) == 0 {
		t.Fatalf("frame types not found: client %v, server %v", client, server)
	}
	for v := range all {
		if !client[v] && !server[v] {
			t.Errorf("frame type %q is neither read nor sent", v)
		}
	}
	return client, server, all
}

// Every frame type the server reads or sends has one Frame, of a struct whose fields are
// Frame's (name, JSON and type), and its example travels as Frame: a client's decodes
// (DecodeFrame) to the same JSON, so the server reads every field it shows; a server's
// goes through Frame unchanged.
func TestReferenceFrames(t *testing.T) {
	t.Parallel()
	client, server, _ := frameTypes(t)
	want := map[string]bool{}
	for v := range client {
		want["client "+v] = true
	}
	for v := range server {
		want["server "+v] = true
	}
	got := map[string]bool{}
	wire := reflect.TypeFor[chatserver.Frame]()
	for _, f := range ws(t).Frames {
		key := f.From + " " + f.Type
		if got[key] {
			t.Errorf("frame %s described twice", key)
		}
		got[key] = true
		if f.Description == "" || f.Body == nil || f.Body.Kind() != reflect.Struct {
			t.Errorf("frame %s: no description or no struct type", key)
			continue
		}
		for i := range f.Body.NumField() {
			field := f.Body.Field(i)
			onWire, ok := wire.FieldByName(field.Name)
			name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
			wireName, _, _ := strings.Cut(onWire.Tag.Get("json"), ",")
			if !ok || name != wireName || deref(field.Type) != deref(onWire.Type) {
				t.Errorf("frame %s: field %s %s `%s` is not Frame's", key, field.Name, field.Type, field.Tag)
			}
		}
		if f.Example == nil || reflect.TypeOf(f.Example) != f.Body {
			t.Errorf("frame %s: example %T, want a %s", key, f.Example, f.Body)
			continue
		}
		raw, err := json.Marshal(f.Example)
		if err != nil {
			t.Fatalf("frame %s: %v", key, err)
		}
		var typed struct{ Type string }
		_ = json.Unmarshal(raw, &typed)
		if typed.Type != f.Type {
			t.Errorf("frame %s: example's type %q", key, typed.Type)
		}
		var through chatserver.Frame
		switch f.From {
		case "client":
			if through, err = chatserver.DecodeFrame(raw); err != nil {
				t.Errorf("frame %s: example %s refused: %v", key, raw, err)
			}
		case "server":
			if err := json.Unmarshal(raw, &through); err != nil {
				t.Errorf("frame %s: %v", key, err)
			}
		default:
			t.Errorf("frame %s: from %q", key, f.From)
		}
		again, _ := json.Marshal(through)
		if !jsonEqual(t, raw, again) {
			t.Errorf("frame %s: example %s travels as %s", key, raw, again)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("frames described %v\nread and sent %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

func deref(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// The close codes are those the server closes with (the constants handed to a close),
// and 1009, which the WebSocket library sends past the read limit.
func TestReferenceCloseCodes(t *testing.T) {
	t.Parallel()
	known := map[string]int{
		"websocket.StatusGoingAway":       int(websocket.StatusGoingAway),
		"websocket.StatusPolicyViolation": int(websocket.StatusPolicyViolation),
		"websocket.StatusServiceRestart":  int(websocket.StatusServiceRestart),
		"CloseTokenInvalid":               int(chatserver.CloseTokenInvalid),
		"CloseTooSlow":                    int(chatserver.CloseTooSlow),
	}
	want := map[int]bool{int(websocket.StatusMessageTooBig): true}
	_, files := source(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			var callee string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				callee = fn.Sel.Name
			case *ast.Ident:
				callee = fn.Name
			}
			if !slices.Contains([]string{"close", "closeWith", "closeNow", "Close"}, callee) {
				return true
			}
			var name string
			switch a := call.Args[0].(type) {
			case *ast.SelectorExpr:
				if x, ok := a.X.(*ast.Ident); ok && x.Name == "websocket" {
					name = "websocket." + a.Sel.Name
				}
			case *ast.Ident:
				if strings.HasPrefix(a.Name, "Close") {
					name = a.Name
				}
			}
			if name == "" {
				return true
			}
			code, ok := known[name]
			if !ok {
				t.Errorf("the server closes with %s: add it to the reference's CloseCodes and to this test", name)
				return true
			}
			want[code] = true
			return true
		})
	}
	got := map[int]bool{}
	for code, meaning := range ws(t).CloseCodes {
		got[code] = true
		if meaning == "" || !strings.Contains(ws(t).Description, strconv.Itoa(code)) {
			t.Errorf("close code %d: not explained", code)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("close codes described %v, used %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

// The WebSocket's description states the limits the code and the configuration have.
func TestReferenceLimits(t *testing.T) {
	t.Parallel()
	desc := ws(t).Description
	defaults := map[string]string{}
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		if env := typ.Field(i).Tag.Get("env"); env != "" {
			defaults[env] = typ.Field(i).Tag.Get("envDefault")
		}
	}
	mentions := regexp.MustCompile("`(CHAT_[A-Z_]+)` \\(default ([^)]+)\\)").FindAllStringSubmatch(desc, -1)
	if len(mentions) < 6 {
		t.Errorf("the description states %d configuration defaults, want the six chat limits", len(mentions))
	}
	for _, m := range mentions {
		if def, ok := defaults[m[1]]; !ok || def != m[2] {
			t.Errorf("the description says %s defaults to %s; config says %q", m[1], m[2], def)
		}
	}
	// Stated as text in the description and the frames.
	if chat.MaxMessageRunes != 2000 || chat.MaxClientIDLen != 64 || chatserver.RevocationDelay != 3*time.Second {
		t.Errorf("limits changed (%d characters, %d bytes, %s): update reference.go's text",
			chat.MaxMessageRunes, chat.MaxClientIDLen, chatserver.RevocationDelay)
	}
	if !strings.Contains(desc, chatserver.Subprotocol) {
		t.Errorf("the description does not name the subprotocol %s", chatserver.Subprotocol)
	}
}

// The reference is the same every time: its examples are fixed.
func TestReferenceStable(t *testing.T) {
	t.Parallel()
	examples := func() []byte {
		var all []any
		for _, e := range chatserver.Reference() {
			all = append(all, e.Name, e.BodyExample, e.AnswerExample, e.Description)
			for _, f := range e.Frames {
				all = append(all, f.Example)
			}
		}
		raw, err := json.Marshal(all)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	if !bytes.Equal(examples(), examples()) {
		t.Error("two calls of Reference differ")
	}
}

package openapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
)

// schemas turns Go types into JSON Schema (2020-12, as OpenAPI 3.1 has it) the way
// encoding/json writes and our strict decoder reads them: a named struct is a component
// with every field it encodes, required unless omitempty, and no other (the decoder
// refuses unknown fields, and an answer carries none); a pointer may be null. It is ours
// rather than kin-openapi's openapi3gen, which writes OpenAPI 3.0's nullable and leaves
// required and component names to post-processing.
type schemas struct {
	// request is set while a request body's schema is made: there a pointer or omitempty
	// field is optional and every other is required; in an answer a field is required
	// unless omitempty. A pointer may be null either way.
	request    bool
	used       map[reflect.Type]bool // struct → its direction (request), once made
	components openapi3.Schemas
	names      map[reflect.Type]string // named struct → its component
	owners     map[string]reflect.Type // component → the type that took the name
	enums      map[reflect.Type][]string
	err        error
}

func newSchemas(enums map[reflect.Type][]string) *schemas {
	return &schemas{components: openapi3.Schemas{}, names: map[reflect.Type]string{}, owners: map[string]reflect.Type{},
		enums: enums, used: map[reflect.Type]bool{}}
}

var (
	timeType = reflect.TypeFor[time.Time]()
	uuidType = reflect.TypeFor[uuid.UUID]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

func types(t ...string) *openapi3.Types { v := openapi3.Types(t); return &v }

// of returns the schema of t: a reference for a named struct, inline otherwise.
func (s *schemas) of(t reflect.Type) *openapi3.SchemaRef {
	if values, ok := s.enums[t]; ok {
		enum := make([]any, len(values))
		for i, v := range values {
			enum[i] = v
		}
		return openapi3.NewSchemaRef("", &openapi3.Schema{Type: types("string"), Enum: enum})
	}
	switch t {
	case timeType:
		return inline(&openapi3.Schema{Type: types("string"), Format: "date-time"})
	case uuidType:
		return inline(&openapi3.Schema{Type: types("string"), Format: "uuid"})
	case rawType:
		return inline(&openapi3.Schema{})
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(s.of(t.Elem()))
	case reflect.Bool:
		return inline(&openapi3.Schema{Type: types("boolean")})
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return inline(&openapi3.Schema{Type: types("integer"), Format: "int64"})
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return inline(&openapi3.Schema{Type: types("integer"), Format: "int32"})
	case reflect.Float32, reflect.Float64:
		return inline(&openapi3.Schema{Type: types("number")})
	case reflect.String:
		return inline(&openapi3.Schema{Type: types("string")})
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return inline(&openapi3.Schema{Type: types("string"), ContentEncoding: "base64"})
		}
		return inline(&openapi3.Schema{Type: types("array"), Items: s.of(t.Elem())})
	case reflect.Map:
		return inline(&openapi3.Schema{Type: types("object"), AdditionalProperties: openapi3.AdditionalProperties{Schema: s.of(t.Elem())}})
	case reflect.Interface:
		return inline(&openapi3.Schema{})
	case reflect.Struct:
		if t.Name() == "" {
			return inline(s.object(t))
		}
		return s.component(t)
	default:
		s.fail(fmt.Errorf("type %s: no JSON form", t))
		return inline(&openapi3.Schema{})
	}
}

// body is the schema of a request body of type t.
func (s *schemas) body(t reflect.Type) *openapi3.SchemaRef {
	s.request = true
	defer func() { s.request = false }()
	return s.of(t)
}

func (s *schemas) component(t reflect.Type) *openapi3.SchemaRef {
	name, ok := s.names[t]
	if ok && s.used[t] != s.request {
		s.fail(fmt.Errorf("type %s is both a request body and part of an answer: give each its own type", t))
	}
	if !ok {
		s.used[t] = s.request
		name = componentName(t)
		if other, taken := s.owners[name]; taken {
			s.fail(fmt.Errorf("types %s and %s both want the schema name %s", other, t, name))
		}
		s.names[t], s.owners[name] = name, t
		s.components[name] = inline(&openapi3.Schema{}) // taken before the fields, for recursion
		s.components[name] = inline(s.object(t))
	}
	return openapi3.NewSchemaRef("#/components/schemas/"+name, nil)
}

// object is a struct's schema: its fields as encoding/json writes them, embedded structs
// flattened.
func (s *schemas) object(t reflect.Type) *openapi3.Schema {
	o := &openapi3.Schema{Type: types("object"), Properties: openapi3.Schemas{},
		AdditionalProperties: openapi3.AdditionalProperties{Has: new(false)}}
	s.fields(o, t, true)
	return o
}

func (s *schemas) fields(o *openapi3.Schema, t reflect.Type, required bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				// A nil embedded pointer writes none of its fields.
				s.fields(o, et.Elem(), false)
			} else if et.Kind() == reflect.Struct {
				s.fields(o, et, required)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ref := s.of(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			ref = describe(ref, doc)
		}
		o.Properties[name] = ref
		optional := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") ||
			(s.request && f.Type.Kind() == reflect.Pointer)
		if required && !optional {
			o.Required = append(o.Required, name)
		}
	}
}

// componentName is the type's package and name, so that products.View and users.Detail
// read as ProductsView and UsersDetail; a generic's arguments follow
// (page.Page[trades.Trade] → PageTradesTrade).
func componentName(t reflect.Type) string {
	pkg := t.PkgPath()
	pkg = pkg[strings.LastIndex(pkg, "/")+1:]
	name, args, generic := strings.Cut(t.Name(), "[")
	out := title(pkg)
	if !strings.EqualFold(pkg, name) {
		out += title(name)
	}
	if generic {
		for _, a := range strings.Split(strings.TrimSuffix(args, "]"), ",") {
			a = a[strings.LastIndex(a, "/")+1:]
			for _, part := range strings.Split(a, ".") {
				out += title(part)
			}
		}
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, out)
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func inline(v *openapi3.Schema) *openapi3.SchemaRef { return openapi3.NewSchemaRef("", v) }

// nullable lets ref also be null: a type list for an inline schema, anyOf for a reference.
func nullable(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	if ref.Ref != "" {
		return inline(&openapi3.Schema{AnyOf: openapi3.SchemaRefs{ref, inline(&openapi3.Schema{Type: types("null")})}})
	}
	v := *ref.Value
	if v.Type != nil && !v.Type.Permits("null") {
		v.Type = types(append(v.Type.Slice(), "null")...)
		if v.Enum != nil {
			v.Enum = append(v.Enum, nil)
		}
	}
	return inline(&v)
}

// describe adds a description to a field's schema; a reference gets it beside the $ref
// (3.1 allows siblings of $ref).
func describe(ref *openapi3.SchemaRef, doc string) *openapi3.SchemaRef {
	if ref.Ref != "" {
		return inline(&openapi3.Schema{AllOf: openapi3.SchemaRefs{ref}, Description: doc})
	}
	v := *ref.Value
	v.Description = doc
	return inline(&v)
}

func (s *schemas) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

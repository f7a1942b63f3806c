// Package openapi generates the API reference, an OpenAPI 3.1 document, from the function
// registry and the request and answer types its REST functions declare (endpoint.Spec),
// plus the routes served outside the registry (the chat server's REST routes and its
// WebSocket). `make openapi` writes it to shared/apidocs/openapi.json, where the
// platform-docs function serves it with Swagger UI, and converts it to the Swagger 2.0
// config API Gateway takes (Gateway). Tests fail when a route has no operation, when the
// committed document is stale, and when an end-to-end request or answer does not match it.
package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/registry"
)

// Version is the API's version: the /api/v1 of every path.
const Version = "1.0.0"

// Build generates the document of the REST functions of fns and of extra.
func Build(fns []registry.Function, extra []registry.External) (*openapi3.T, error) {
	g := generator{schemas: newSchemas(Enums()), examples: openapi3.Examples{}}
	g.schemas.names[reflect.TypeFor[api.ErrorBody]()] = "Error"
	g.schemas.owners["Error"] = reflect.TypeFor[api.ErrorBody]()
	g.schemas.components["Error"] = errorSchema(g.schemas)
	doc := &openapi3.T{
		OpenAPI: "3.1.0",
		Info: &openapi3.Info{
			Title:       "8949 market API",
			Version:     Version,
			Description: intro,
			License:     &openapi3.License{Name: "Proprietary"},
		},
		Servers: openapi3.Servers{{URL: "/", Description: "this origin: API Gateway on GCP, the dev stack locally"}},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:  g.schemas.components,
			Examples: g.examples,
			SecuritySchemes: openapi3.SecuritySchemes{"bearer": &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
				Type: "http", Scheme: "bearer", BearerFormat: "JWT",
				Description: "An access token from POST /api/v1/auth/login (or reissue), as `Authorization: Bearer <token>`.",
			}}},
		},
		Security: openapi3.SecurityRequirements{{"bearer": []string{}}},
	}
	var errs []error
	add := func(name, method, path string, op registry.Operation, ext map[string]any) {
		o, err := g.operation(name, method, path, op)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for k, v := range ext {
			o.Extensions[k] = v
		}
		item := doc.Paths.Value(path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(path, item)
		}
		if item.GetOperation(method) != nil {
			errs = append(errs, fmt.Errorf("%s %s described twice", method, path))
		}
		item.SetOperation(method, o)
	}
	for _, f := range fns {
		if f.Kind != registry.KindHTTP {
			continue
		}
		if f.Operation == nil {
			errs = append(errs, fmt.Errorf("function %s (%s) has no operation: declare an endpoint.Spec and register spec.Doc()", f.Name, f.Route()))
			continue
		}
		if f.Operation.Public != f.Public {
			errs = append(errs, fmt.Errorf("function %s: its spec says Public=%t, its registration %t", f.Name, f.Operation.Public, f.Public))
		}
		add(f.Name, f.Method, f.Pattern.String(), *f.Operation, map[string]any{"x-function": f.Name})
	}
	for _, e := range extra {
		add(e.Name, e.Method, e.Path, e.Operation, map[string]any{"x-service": "chat-server"})
	}
	if g.schemas.err != nil {
		errs = append(errs, g.schemas.err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi: %w", joinErrs(errs))
	}
	return load(context.Background(), doc)
}

// load reads doc back as kin-openapi reads OpenAPI 3.1 (so its references resolve, as a
// router and the validators need) and validates it, examples included.
func load(ctx context.Context, doc *openapi3.T) (*openapi3.T, error) {
	raw, err := JSON(doc)
	if err != nil {
		return nil, err
	}
	loaded, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: load the generated document: %w", err)
	}
	if err := loaded.Validate(ctx, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("openapi: the generated document is not valid: %w", err)
	}
	return loaded, nil
}

// JSON is the document as committed: indented, keys sorted, a final newline.
func JSON(doc *openapi3.T) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	var v any // through a plain value, so every map's keys come out sorted
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	return append(out, '\n'), nil
}

type generator struct {
	schemas  *schemas
	examples openapi3.Examples // one error body per code, which the error answers refer to
}

func (g generator) operation(name, method, path string, op registry.Operation) (*openapi3.Operation, error) {
	pattern, err := registry.ParsePattern(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	o := &openapi3.Operation{
		OperationID: operationID(name),
		Tags:        []string{tag(path)},
		Summary:     op.Summary,
		Description: op.Description,
		Responses:   openapi3.NewResponses(),
		Extensions:  map[string]any{},
	}
	if op.Summary == "" {
		return nil, fmt.Errorf("%s (%s %s): the operation has no summary", name, method, path)
	}
	if op.Public {
		o.Security = &openapi3.SecurityRequirements{}
	}
	for _, p := range pattern.Params() {
		schema := &openapi3.Schema{Type: types("string")}
		if p == op.PathID || p == op.ItemID {
			schema.Format = "uuid"
		}
		o.Parameters = append(o.Parameters, &openapi3.ParameterRef{Value: &openapi3.Parameter{
			Name: p, In: openapi3.ParameterInPath, Required: true, Schema: inline(schema),
		}})
	}
	for _, q := range op.Query {
		o.Parameters = append(o.Parameters, &openapi3.ParameterRef{Value: query(q)})
	}
	if op.Body != nil {
		media := openapi3.NewMediaType().WithSchemaRef(g.schemas.body(op.Body))
		media.Example = op.BodyExample
		o.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
			WithContent(openapi3.Content{"application/json": media})}
	}
	status := op.Status
	if status == 0 {
		status = http.StatusOK
	}
	success := &openapi3.Response{Description: new(http.StatusText(status))}
	switch {
	case status == http.StatusSwitchingProtocols:
		success.Description = new("The connection is upgraded to a WebSocket: the frames are in x-websocket.")
		o.Extensions["x-websocket"] = g.websocket(op)
	case status == http.StatusNoContent:
	case op.ContentType != "":
		media := openapi3.NewMediaType()
		if op.Answer != nil {
			media.Schema = g.schemas.of(op.Answer)
		}
		media.Example = op.AnswerExample
		success.Content = openapi3.Content{op.ContentType: media}
	default:
		if op.Answer == nil {
			return nil, fmt.Errorf("%s: status %d needs an answer type", name, status)
		}
		media := openapi3.NewMediaType().WithSchemaRef(inline(envelope(g.schemas.of(op.Answer))))
		if op.AnswerExample != nil {
			media.Example = api.Envelope{Success: true, Data: op.AnswerExample, TraceID: exampleTrace}
		}
		success.Content = openapi3.Content{"application/json": media}
	}
	o.Responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Value: success})
	for status, faults := range byStatus(faults(op, pattern.Params())) {
		o.Responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Value: g.errorResponse(status, faults)})
	}
	return o, nil
}

const exampleTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

// envelope is the success envelope around data.
func envelope(data *openapi3.SchemaRef) *openapi3.Schema {
	return &openapi3.Schema{
		Type:     types("object"),
		Required: []string{"success", "data", "traceId"},
		Properties: openapi3.Schemas{
			"success": inline(&openapi3.Schema{Type: types("boolean"), Const: true}),
			"data":    data,
			"traceId": inline(&openapi3.Schema{Type: types("string"), Description: "The request's trace id (W3C), also in X-Trace-Id."}),
		},
		AdditionalProperties: openapi3.AdditionalProperties{Has: new(false)},
	}
}

func errorSchema(s *schemas) *openapi3.SchemaRef {
	ref := inline(s.object(reflect.TypeFor[api.ErrorBody]()))
	ref.Value.Description = "The body of every error: the HTTP status, a stable code from the catalogue, the status's name, " +
		"a message for people, the field at fault (or null), the trace id and the time."
	return ref
}

// faults are the faults op can end with: its domain's and the platform's own, which follow
// from what the route reads, by code.
func faults(op registry.Operation, params []string) []*fault.Error {
	var all []*fault.Error
	if !op.Public {
		all = append(all, fault.ErrUnauthenticated)
	}
	if op.PathID != "" {
		all = append(all, fault.ErrBadParameter)
	}
	if len(params) > 0 {
		all = append(all, fault.ErrText)
	}
	if op.Body != nil {
		all = append(all, fault.ErrMalformedJSON, fault.ErrUnknownField, fault.ErrWrongType, fault.ErrText,
			fault.ErrBodyTooLarge, fault.ErrMediaType)
	}
	all = append(all, op.Errors...)
	all = append(all, fault.ErrUnavailable, fault.ErrTimeout, fault.ErrInternal)
	seen := map[string]bool{}
	out := all[:0]
	for _, f := range all {
		if !seen[f.Code] {
			seen[f.Code] = true
			out = append(out, f)
		}
	}
	return out
}

func byStatus(fs []*fault.Error) map[int][]*fault.Error {
	out := map[int][]*fault.Error{}
	for _, f := range fs {
		s := api.Status(f.Kind)
		out[s] = append(out[s], f)
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b *fault.Error) int { return strings.Compare(a.Code, b.Code) })
	}
	return out
}

// errorResponse is one status's error answer: the codes it can carry, each with an example.
func (g generator) errorResponse(status int, fs []*fault.Error) *openapi3.Response {
	codes := make([]any, len(fs))
	lines := make([]string, len(fs))
	examples := openapi3.Examples{}
	for i, f := range fs {
		codes[i] = f.Code
		lines[i] = fmt.Sprintf("- `%s` %s", f.Code, f.Message)
		body := api.ErrorBody{Status: status, Code: f.Code, Error: api.StatusName(status), Message: f.Message,
			TraceID: exampleTrace, Timestamp: "2026-12-03T09:00:00.123Z"}
		if f.Field != "" {
			body.Field = &f.Field
		}
		examples[f.Code] = &openapi3.ExampleRef{Ref: "#/components/examples/" + f.Code}
		g.examples[f.Code] = &openapi3.ExampleRef{Value: &openapi3.Example{Summary: f.Message, Value: body}}
	}
	schema := &openapi3.Schema{AllOf: openapi3.SchemaRefs{
		openapi3.NewSchemaRef("#/components/schemas/Error", nil),
		inline(&openapi3.Schema{Properties: openapi3.Schemas{
			"status": inline(&openapi3.Schema{Const: status}),
			"code":   inline(&openapi3.Schema{Enum: codes}),
		}}),
	}}
	media := openapi3.NewMediaType().WithSchema(schema)
	media.Examples = examples
	desc := http.StatusText(status) + ", with one of these codes:\n\n" + strings.Join(lines, "\n")
	return &openapi3.Response{Description: &desc, Content: openapi3.Content{"application/json": media}}
}

func query(q registry.Param) *openapi3.Parameter {
	typ := q.Type
	if typ == "" {
		typ = "string"
	}
	s := &openapi3.Schema{Type: types(typ), Format: q.Format, Min: q.Minimum, Max: q.Maximum, Default: q.Default}
	for _, e := range q.Enum {
		s.Enum = append(s.Enum, e)
	}
	return &openapi3.Parameter{Name: q.Name, In: openapi3.ParameterInQuery, Description: q.Description,
		Required: q.Required, Schema: inline(s), Example: q.Example}
}

// websocket describes an upgrade's protocol: its frames each way, with their schemas, and
// the server's close codes.
func (g generator) websocket(op registry.Operation) map[string]any {
	frames := map[string]map[string]any{"client": {}, "server": {}}
	for _, f := range op.Frames {
		entry := map[string]any{"description": f.Description, "schema": g.schemas.of(f.Body)}
		if f.Example != nil {
			entry["example"] = f.Example
		}
		frames[f.From][f.Type] = entry
	}
	closes := map[string]string{}
	for code, why := range op.CloseCodes {
		closes[strconv.Itoa(code)] = why
	}
	codes := map[string]string{}
	for _, f := range op.FrameErrors {
		codes[f.Code] = f.Message
	}
	return map[string]any{"clientFrames": frames["client"], "serverFrames": frames["server"], "closeCodes": closes,
		"errorCodes": codes}
}

// operationID is the function's name in camel case (products-create → productsCreate).
func operationID(name string) string {
	parts := strings.Split(name, "-")
	for i := 1; i < len(parts); i++ {
		parts[i] = title(parts[i])
	}
	return strings.Join(parts, "")
}

// tag groups operations by the first segment after /api/v1 (products, auth, chat...).
func tag(path string) string {
	rest := strings.TrimPrefix(path, "/api/v1/")
	first, _, _ := strings.Cut(rest, "/")
	return first
}

func joinErrs(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "\n"))
}

const intro = `The REST API of 8949 market, a peer-to-peer second-hand marketplace where every item is
sold as a time deal: at the deal's start instant buyers race to reserve it, the first becomes
the buyer and the rest queue in order.

- **Answers** come in an envelope: ` + "`{\"success\": true, \"data\": ..., \"traceId\": ...}`" + `.
- **Errors** come as one body for every route: ` + "`status`, `code` (stable, from the catalogue), `error`, `message`, `field`, `traceId`, `timestamp`" + `.
  Each operation lists the codes it can answer, by status.
- **Authentication**: an access token (JWT, ES256) from login, as ` + "`Authorization: Bearer`" + `; refresh it with reissue.
- **Times** are RFC 3339 with a zone; ids are UUIDs; lists page by an opaque ` + "`cursor`" + `.
- **Chat** is a WebSocket (GET /api/v1/chat/ws): its frames and close codes are in the operation's ` + "`x-websocket`" + `.
- **Browsers** on other origins are served per the platform's CORS configuration.`

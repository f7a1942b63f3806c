package registry

import (
	"reflect"

	"github.com/8949market/market/shared/fault"
)

// Operation is what a REST function takes and answers: the API reference (shared/openapi)
// is generated from it, and the contract tests hold the function to it. REST adapters
// declare it once, as an endpoint.Spec that both documents the route (Spec.Doc) and
// drives the adapter (endpoint.Handle), so the two cannot tell different stories.
type Operation struct {
	Summary     string
	Description string
	// Public says whether the route takes no access token; it must agree with the
	// registration's Public option.
	Public bool
	// PathID is the path wildcard read as a UUID (a malformed one answers 400 C015).
	PathID string
	// ItemID is a second path wildcard read as a UUID alike.
	ItemID string
	// Body is the JSON request body's type; nil when the route reads none.
	Body reflect.Type
	// Answer is the type of the success envelope's data; nil with status 204.
	Answer reflect.Type
	// Status is the success status: 200, 201 or 204.
	Status int
	// ContentType, when set, is a bare answer's media type (a key set, a page): the answer
	// is sent as is, not in the envelope.
	ContentType string
	// Query lists the query parameters the route reads.
	Query []Param
	// Errors are the faults of the domain the route can end with. The platform's own
	// (no token, a malformed body or path id, a dependency down) follow from the fields
	// above and are added by the generator.
	Errors []*fault.Error
	// BodyExample and AnswerExample are shown in the reference.
	BodyExample, AnswerExample any
	// Frames, for a route that upgrades to a WebSocket (status 101), are the messages
	// either side sends, FrameErrors the codes its error frame carries, and CloseCodes the
	// codes the server closes it with.
	Frames      []Frame
	FrameErrors []*fault.Error
	CloseCodes  map[int]string
}

// Param is one query parameter.
type Param struct {
	Name        string
	Description string
	Type        string // string, integer or boolean
	Format      string // uuid, date-time, ...
	Enum        []string
	Minimum     *float64
	Maximum     *float64
	Default     any
	Example     any
	Required    bool
}

// Describe attaches a REST function's contract (endpoint.Spec.Doc builds it).
func Describe(op Operation) Option { return func(f *Function) { f.Operation = &op } }

// External is an operation served outside the registry, described for the same reference:
// the chat server's REST routes and its WebSocket (chatserver.Reference).
type External struct {
	Name   string // the operation's id, as a function name would be ("chat-rooms-list")
	Method string
	Path   string
	Operation
}

// Frame is one kind of WebSocket message of an operation that upgrades: its type field's
// value, who sends it and its shape.
type Frame struct {
	Type        string       // the frame's "type"
	From        string       // "client" or "server"
	Body        reflect.Type // the frame's Go type
	Description string
	Example     any
}

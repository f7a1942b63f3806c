// Package registry is the function registry: every REST endpoint, event consumer and
// scheduled job of the platform registers here, from its package's init, under a stable
// name with its route, topic or schedule. It is the single source of truth for the dev
// router, the functions-framework bindings (FUNCTION_TARGET), the CloudEvent
// subscriptions and the Terraform manifest; it is the one package-level variable of the
// codebase.
//
//	func init() {
//		registry.HTTP("products-create", "POST /api/v1/products", New)
//	}
package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/8949market/market/shared/platform"
)

// Kind says how a function is invoked.
type Kind string

// The kinds of function.
const (
	KindHTTP      Kind = "http"      // a REST endpoint under /api/v1
	KindEvent     Kind = "event"     // a consumer of one topic, invoked with a CloudEvent
	KindScheduled Kind = "scheduled" // a job invoked by POST on a schedule
)

// EventHandler consumes one CloudEvent. A nil error acknowledges it; an error asks for
// redelivery (and, after the retry policy, the dead-letter topic).
type EventHandler func(ctx context.Context, e cloudevents.Event) error

// Function is one registered function.
type Function struct {
	Name     string // stable, also the Cloud Run service name and FUNCTION_TARGET
	Kind     Kind
	Method   string  // HTTP: GET, POST, PATCH, DELETE, PUT
	Pattern  Pattern // HTTP: the route path
	Public   bool    // HTTP: served without an access token
	Signs    bool    // HTTP: issues tokens, so needs the private signing key
	Topic    string  // event: the topic without prefix
	Schedule string  // scheduled: when, in cron syntax (Cloud Scheduler)
	Host     string  // event: the service that serves it ("" = its own Cloud Run service)
	Package  string  // import path of the function's package
	// Buckets is what the function does with the platform's buckets (UsesBuckets).
	Buckets []string
	// Operation is an HTTP function's contract, for the API reference (Describe).
	Operation *Operation

	newHTTP  func(*platform.Kit) http.Handler
	newEvent func(*platform.Kit) EventHandler
}

// Route is "METHOD /path" for an HTTP function.
func (f Function) Route() string {
	if f.Kind != KindHTTP {
		return ""
	}
	return f.Method + " " + f.Pattern.String()
}

// Option adjusts a registration.
type Option func(*Function)

// Public serves the route without an access token (login, signup, key set, health).
func Public() Option { return func(f *Function) { f.Public = true } }

// Signs marks a function that issues tokens: only such functions are given the private
// signing key (JWT_SIGNING_KEY); every other function verifies with public keys only.
func Signs() Option { return func(f *Function) { f.Signs = true } }

// HostedBy makes an event function part of a named service instead of a Cloud Run
// service of its own: the chat server consumes trade events itself, because it is the
// process holding the rooms. The service serves it at POST /internal/functions/{name}.
func HostedBy(service string) Option { return func(f *Function) { f.Host = service } }

// The uses of the platform's buckets (shared/storage) a function can have; Terraform
// grants each function's account exactly its uses.
const (
	SignUploads = "uploads:sign" // signs upload URLs: creates objects in the uploads bucket by signature
	UseUploads  = "uploads"      // reads and deletes uploads
	UsePhotos   = "photos"       // writes and deletes photos
)

// UsesBuckets says what the function does with the buckets: SignUploads, UseUploads,
// UsePhotos.
func UsesBuckets(uses ...string) Option {
	return func(f *Function) { f.Buckets = append(f.Buckets, uses...) }
}

// Set is a collection of functions. The package keeps the default one; tests build their
// own.
type Set struct {
	mu   sync.Mutex
	fns  []Function
	errs []error
}

// The registry: the one global of the codebase (see the package comment).
var defaultSet Set

// HTTP registers a REST endpoint: route is "METHOD /api/v1/path/{param}".
func HTTP(name, route string, build func(*platform.Kit) http.Handler, opts ...Option) {
	defaultSet.HTTP(name, route, build, opts...)
}

// Event registers a consumer of topic (without prefix).
func Event(name, topic string, build func(*platform.Kit) EventHandler, opts ...Option) {
	defaultSet.Event(name, topic, build, opts...)
}

// Scheduled registers a job run on schedule (cron syntax, UTC).
func Scheduled(name, schedule string, build func(*platform.Kit) http.Handler, opts ...Option) {
	defaultSet.Scheduled(name, schedule, build, opts...)
}

// All returns every registered function, sorted by name.
func All() []Function { return defaultSet.All() }

// Lookup finds a registered function by name.
func Lookup(name string) (Function, bool) { return defaultSet.Lookup(name) }

// Validate reports registration errors: bad names or routes, duplicate names, routes that
// collide.
func Validate() error { return defaultSet.Validate() }

var (
	nameRule = regexp.MustCompile(`^[a-z][a-z0-9-]{0,46}[a-z0-9]$`) // a Cloud Run service name, leaving room for an env suffix
	methods  = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
)

// HTTP registers a REST endpoint in s.
func (s *Set) HTTP(name, route string, build func(*platform.Kit) http.Handler, opts ...Option) {
	f := Function{Name: name, Kind: KindHTTP, newHTTP: build, Package: packageOf(build)}
	method, path, ok := strings.Cut(route, " ")
	if !ok || !slices.Contains(methods, method) {
		s.fail(fmt.Errorf("function %s: route %q must be METHOD /path", name, route))
		return
	}
	p, err := ParsePattern(path)
	if err != nil {
		s.fail(fmt.Errorf("function %s: %w", name, err))
		return
	}
	if !strings.HasPrefix(path, "/api/v1/") {
		s.fail(fmt.Errorf("function %s: route %q must be under /api/v1/", name, route))
		return
	}
	f.Method, f.Pattern = method, p
	for _, o := range opts {
		o(&f)
	}
	s.add(f)
}

// Event registers a topic consumer in s.
func (s *Set) Event(name, topic string, build func(*platform.Kit) EventHandler, opts ...Option) {
	if topic == "" {
		s.fail(fmt.Errorf("function %s: topic required", name))
		return
	}
	f := Function{Name: name, Kind: KindEvent, Topic: topic, newEvent: build, Package: packageOf(build)}
	for _, o := range opts {
		o(&f)
	}
	s.add(f)
}

// Hosted returns the event functions that service serves itself.
func Hosted(service string) []Function {
	var out []Function
	for _, f := range All() {
		if f.Host == service {
			out = append(out, f)
		}
	}
	return out
}

// Scheduled registers a scheduled job in s.
func (s *Set) Scheduled(name, schedule string, build func(*platform.Kit) http.Handler, opts ...Option) {
	if len(strings.Fields(schedule)) != 5 {
		s.fail(fmt.Errorf("function %s: schedule %q must have five cron fields", name, schedule))
		return
	}
	f := Function{Name: name, Kind: KindScheduled, Schedule: schedule, newHTTP: build, Package: packageOf(build)}
	for _, o := range opts {
		o(&f)
	}
	s.add(f)
}

func (s *Set) add(f Function) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !nameRule.MatchString(f.Name) {
		s.errs = append(s.errs, fmt.Errorf("function name %q: want lowercase letters, digits and hyphens, 2-48 long", f.Name))
		return
	}
	s.fns = append(s.fns, f)
}

func (s *Set) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

// All returns the functions of s, sorted by name.
func (s *Set) All() []Function {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.fns)
	slices.SortFunc(out, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup finds a function of s by name.
func (s *Set) Lookup(name string) (Function, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.fns {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Validate reports every registration error of s.
func (s *Set) Validate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := slices.Clone(s.errs)
	names := map[string]string{}
	routes := map[string]string{}
	for _, f := range s.fns {
		if other, dup := names[f.Name]; dup {
			errs = append(errs, fmt.Errorf("function name %q registered by %s and %s", f.Name, other, f.Package))
		}
		names[f.Name] = f.Package
		if err := consumerName(f); err != nil {
			errs = append(errs, err)
		}
		if f.Kind == KindHTTP {
			key := f.Method + " " + f.Pattern.Shape()
			if other, dup := routes[key]; dup {
				errs = append(errs, fmt.Errorf("route %s of %s collides with %s", f.Route(), f.Name, other))
			}
			routes[key] = f.Name
		}
	}
	return errors.Join(errs...)
}

// consumerName checks the one naming rule of consumers: <domain>-<topic>, the domain being
// the folder under functions/ (functions/products/tradefail consumes reservation-tradefail
// as products-reservation-tradefail). The name is the inbox's and the subscription's, so a
// reader finds every consumer of a topic by its name.
func consumerName(f Function) error {
	if f.Kind != KindEvent {
		return nil
	}
	_, rest, ok := strings.Cut(f.Package, "/functions/")
	if !ok {
		return nil // a test's own set
	}
	domain, _, _ := strings.Cut(rest, "/")
	if want := domain + "-" + f.Topic; f.Name != want {
		return fmt.Errorf("consumer %s of %s (%s): name it %s, <domain>-<topic>", f.Name, f.Topic, f.Package, want)
	}
	return nil
}

// packageOf names the package that defines fn, from its symbol
// (github.com/x/functions/products/create.New → github.com/x/functions/products/create).
func packageOf(fn any) string {
	rf := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if rf == nil {
		return ""
	}
	name := rf.Name()
	slash := strings.LastIndex(name, "/")
	if dot := strings.Index(name[slash+1:], "."); dot >= 0 {
		return name[:slash+1+dot]
	}
	return name
}

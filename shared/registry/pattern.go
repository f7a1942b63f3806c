package registry

import (
	"fmt"
	"regexp"
	"strings"
)

// Pattern is a route path such as /api/v1/products/{productId}: literal segments and
// whole-segment parameters.
type Pattern struct {
	raw  string
	segs []segment
}

type segment struct {
	literal string
	param   string // set for a {param} segment
}

var paramName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*$`)

// ParsePattern parses a route path.
func ParsePattern(raw string) (Pattern, error) {
	if !strings.HasPrefix(raw, "/") || (len(raw) > 1 && strings.HasSuffix(raw, "/")) {
		return Pattern{}, fmt.Errorf("pattern %q: must start and not end with /", raw)
	}
	p := Pattern{raw: raw}
	seen := map[string]bool{}
	for _, s := range strings.Split(raw[1:], "/") {
		switch {
		case s == "":
			return Pattern{}, fmt.Errorf("pattern %q: empty segment", raw)
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			if !paramName.MatchString(name) || seen[name] {
				return Pattern{}, fmt.Errorf("pattern %q: bad or repeated parameter %q", raw, name)
			}
			seen[name] = true
			p.segs = append(p.segs, segment{param: name})
		case strings.ContainsAny(s, "{}"):
			return Pattern{}, fmt.Errorf("pattern %q: a parameter must be a whole segment", raw)
		default:
			p.segs = append(p.segs, segment{literal: s})
		}
	}
	return p, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.raw }

// Shape is the pattern with parameter names erased: two patterns with one shape match
// exactly the same paths.
func (p Pattern) Shape() string {
	var b strings.Builder
	for _, s := range p.segs {
		b.WriteByte('/')
		if s.param != "" {
			b.WriteString("{}")
		} else {
			b.WriteString(s.literal)
		}
	}
	return b.String()
}

// Params lists the parameter names in order.
func (p Pattern) Params() []string {
	var names []string
	for _, s := range p.segs {
		if s.param != "" {
			names = append(names, s.param)
		}
	}
	return names
}

// Match reports whether path matches, and the parameter values in pattern order.
func (p Pattern) Match(path string) ([]string, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	rest := path[1:]
	var values []string
	for i, s := range p.segs {
		var part string
		if i == len(p.segs)-1 {
			part, rest = rest, ""
			if strings.Contains(part, "/") {
				return nil, false
			}
		} else {
			var ok bool
			part, rest, ok = strings.Cut(rest, "/")
			if !ok {
				return nil, false
			}
		}
		switch {
		case part == "":
			return nil, false
		case s.param != "":
			values = append(values, part)
		case s.literal != part:
			return nil, false
		}
	}
	return values, true
}

// MoreSpecific reports whether p should win over q when both match a path: at the first
// segment where one is literal and the other a parameter, the literal wins
// (/products/my before /products/{productId}).
func (p Pattern) MoreSpecific(q Pattern) bool {
	for i := range min(len(p.segs), len(q.segs)) {
		pl, ql := p.segs[i].param == "", q.segs[i].param == ""
		if pl != ql {
			return pl
		}
	}
	return false
}

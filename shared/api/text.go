package api

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/8949market/market/shared/fault"
)

// CheckText refuses s, named field, unless it is text PostgreSQL stores as given: valid
// UTF-8 without NUL (PostgreSQL's text cannot hold NUL, and refuses invalid UTF-8 with an
// error that would otherwise answer 500). It returns nil or a 400 C016 fault on field.
func CheckText(field, s string) error {
	if why := textProblem(s); why != "" {
		return fault.ErrText.WithMessage("%s %s", field, why).OnField(field)
	}
	return nil
}

// CheckQuery refuses a query string any of whose parameter names or values, once
// decoded, is not text (see CheckText): a function reads them as r.URL.Query() decodes
// them, so that is what is checked. A bad value names its parameter; a bad name, none.
func CheckQuery(rawQuery string) error {
	if rawQuery == "" {
		return nil
	}
	values, _ := url.ParseQuery(rawQuery) // what failed to parse, r.URL.Query() drops too
	names := slices.Sorted(maps.Keys(values))
	for _, name := range names {
		if why := textProblem(name); why != "" {
			return fault.ErrText.WithMessage("a query parameter name %s", why)
		}
		for _, v := range values[name] {
			if err := CheckText(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// textProblem says what is wrong with s, or "" when nothing is.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL character"
	}
	return ""
}

// checkJSONText refuses a JSON document (already known to be valid JSON) any of whose
// strings, keys included, PostgreSQL could not store as sent: invalid UTF-8, \u0000, or a
// \u escape of an unpaired UTF-16 surrogate. encoding/json accepts all three, turning the
// first and last into U+FFFD without a word, so only the raw bytes tell. The field named
// is the path of object keys to the string, dotted as encoding/json names fields
// ("chatTimeRanges.dayOfWeek"); for a refused key, the object holding it.
func checkJSONText(raw []byte) error {
	s := jsonScanner{b: raw}
	s.value("")
	if s.bad == "" {
		return nil
	}
	field := s.badField
	if field == "" {
		return fault.ErrText.WithMessage("request body %s", s.bad)
	}
	return fault.ErrText.WithMessage("%s %s", field, s.bad).OnField(field)
}

// jsonScanner walks a valid JSON document, stopping at the first string whose text is
// refused.
type jsonScanner struct {
	b        []byte
	i        int
	bad      string // what is wrong, once found
	badField string
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// value walks one value at s.i, at path.
func (s *jsonScanner) value(path string) {
	s.space()
	if s.i >= len(s.b) || s.bad != "" {
		return
	}
	switch s.b[s.i] {
	case '{':
		s.i++
		for {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] == '}' {
				s.i++
				return
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			key := s.str(path, true)
			if s.bad != "" {
				return
			}
			s.space()
			s.i++ // the colon
			s.value(join(path, key))
			if s.bad != "" {
				return
			}
		}
	case '[':
		s.i++
		for {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] == ']' {
				s.i++
				return
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			s.value(path)
			if s.bad != "" {
				return
			}
		}
	case '"':
		s.str(path, false)
	default: // a number, true, false or null
		for s.i < len(s.b) && !strings.ContainsRune(",]} \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
	}
}

// str reads the string at s.i and, if keep, returns its text (an object key, for the
// path). A refused string sets bad, naming path.
func (s *jsonScanner) str(path string, keep bool) string {
	s.i++ // the opening quote
	var text strings.Builder
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return text.String()
		case c == '\\':
			if s.i+1 < len(s.b) && s.b[s.i+1] == 'u' {
				r, ok := hex4(s.b, s.i+2)
				s.i += 6
				switch {
				case !ok:
				case r == 0:
					return s.refuse(path, "contains a NUL character")
				case r >= 0xDC00 && r <= 0xDFFF:
					return s.refuse(path, "contains an unpaired UTF-16 surrogate")
				case r >= 0xD800 && r <= 0xDBFF:
					low, ok := rune(0), false
					if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
						low, ok = hex4(s.b, s.i+2)
					}
					if !ok || low < 0xDC00 || low > 0xDFFF {
						return s.refuse(path, "contains an unpaired UTF-16 surrogate")
					}
					s.i += 6
					if keep {
						text.WriteRune(utf16.DecodeRune(r, low))
					}
				default:
					if keep {
						text.WriteRune(r)
					}
				}
				continue
			}
			if keep && s.i+1 < len(s.b) {
				text.WriteByte(unescape(s.b[s.i+1]))
			}
			s.i += 2
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return s.refuse(path, "is not valid UTF-8")
			}
			if keep {
				text.Write(s.b[s.i : s.i+size])
			}
			s.i += size
		}
	}
	return text.String()
}

func (s *jsonScanner) refuse(path, why string) string {
	s.bad, s.badField = why, path
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// hex4 reads the four hex digits of a \u escape at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// unescape is the byte a one-character JSON escape stands for.
func unescape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // " \ /
}

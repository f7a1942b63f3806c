package chatserver

import (
	"encoding/json"
	"unicode/utf8"
)

// textProblem finds the first string of a JSON text that is not clean text: bytes that
// are not UTF-8 (overlong forms and encoded surrogates included), a NUL (raw or \u0000),
// or a \u escape of half a surrogate pair. It returns the top-level key the string is, or
// is under ("" when the key itself is at fault). Bytes outside strings are checked the same
// way. It reads any input without panicking; whether the text is JSON is decided after.
func textProblem(raw []byte) (field string, bad bool) {
	var (
		depth     int
		topObject bool // the outermost value is an object, whose keys name fields
		wantKey   bool // the next string is a key of the outermost object
		key       []byte
	)
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == '{' || c == '[':
			depth++
			if depth == 1 {
				topObject = c == '{'
			}
			wantKey = depth == 1 && topObject
			i++
		case c == '}' || c == ']':
			depth--
			i++
		case c == ',':
			wantKey = depth == 1 && topObject
			if wantKey {
				key = nil
			}
			i++
		case c == '"':
			end, ok := scanString(raw, i+1)
			isKey := wantKey
			wantKey = false
			if !ok {
				if isKey {
					return "", true
				}
				return keyName(key), true
			}
			if isKey {
				key = raw[i:end]
			}
			i = end
		case c == 0:
			return under(key, depth), true
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return under(key, depth), true
			}
			i += size
		}
	}
	return "", false
}

// under names the field a byte outside strings belongs to: the key being read, inside the
// outermost value; none outside it.
func under(key []byte, depth int) string {
	if depth < 1 {
		return ""
	}
	return keyName(key)
}

// scanString reads a JSON string from raw[i], just after its opening quote, to just
// after its closing quote (or the end of raw); ok is false at the first byte or escape
// that is not clean text.
func scanString(raw []byte, i int) (end int, ok bool) {
	for i < len(raw) {
		c := raw[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 < len(raw) && raw[i+1] == 'u' {
				r, valid := hex4(raw, i+2)
				if !valid {
					i += 2 // not JSON: the decoder says so
					continue
				}
				switch {
				case r == 0:
					return i, false
				case r >= 0xDC00 && r <= 0xDFFF:
					return i, false // a low half with no high half before it
				case r >= 0xD800 && r <= 0xDBFF:
					// A high half must be followed at once by a low half.
					if i+7 >= len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
						return i, false
					}
					if low, valid := hex4(raw, i+8); !valid || low < 0xDC00 || low > 0xDFFF {
						return i, false
					}
					i += 12
				default:
					i += 6
				}
				continue
			}
			if i+1 < len(raw) && raw[i+1] != 0 && raw[i+1] < utf8.RuneSelf {
				i += 2 // a one-character escape
			} else {
				i++ // the byte after the backslash is checked as any other
			}
		case c == 0:
			return i, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return i, false
			}
			i += size
		}
	}
	return len(raw), true
}

// hex4 reads the four hex digits of a \u escape at raw[i:i+4].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// keyName decodes a key read by textProblem (quotes included), "" if there is none.
func keyName(quoted []byte) string {
	var name string
	if json.Unmarshal(quoted, &name) != nil {
		return ""
	}
	return name
}

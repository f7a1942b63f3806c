package chatserver_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/fault"
)

// FuzzFrame feeds client frames to the decoder. It must never panic; it refuses with a
// fault of kind Invalid (a chat code, or C016 for text that is not clean); and a frame it accepts is clean text throughout (every string
// and key UTF-8 without NUL, none altered into U+FFFD by the decoder) and decodes again to
// itself once encoded.
//
//	go test -run '^$' -fuzz FuzzFrame -fuzztime 20s ./chat-server/
func FuzzFrame(f *testing.F) {
	room := `"0b7e8f4e-8d5a-4c43-9f0e-2d3a4b5c6d7e"`
	for _, seed := range []string{
		`{"type":"join","roomId":` + room + `}`,
		`{"type":"join","roomId":` + room + `,"lastId":42}`,
		`{"type":"leave","roomId":` + room + `}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c-1","content":"Is it still available?"}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c-2","content":"안녕하세요 👋 \ud83d\ude00 \"quoted\" \\ \/ \n"}`,
		`{"type":"read","roomId":` + room + `,"lastId":7}`,
		`{"type":"typing","roomId":` + room + `}`,
		`{"type":"send","roomId":` + room + `,"clientId":"f","content":"x","senderId":"someone","message":{"id":99,"content":"spoof"}}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c","content":"a\u0000b"}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c\u0000","content":"hi"}`,
		"{\"type\":\"send\",\"roomId\":" + room + ",\"clientId\":\"c\",\"content\":\"a\xffb\"}",
		"{\"type\":\"send\",\"roomId\":" + room + ",\"clientId\":\"c\",\"content\":\"a\xc0\x80b\"}",
		"{\"type\":\"send\",\"roomId\":" + room + ",\"clientId\":\"c\",\"content\":\"a\xed\xa0\x80b\"}",
		"{\"type\":\"send\",\"roomId\":" + room + ",\"clientId\":\"c\",\"content\":\"a\x00b\"}",
		`{"type":"send","roomId":` + room + `,"clientId":"c","content":"\ud800"}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c","content":"\udc00\ud800"}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c","content":"\ud83dA"}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c","content":"\ud83d\u0041"}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c","content":"\\u0000"}`,
		`{"type":"send","roomId":"room-1","clientId":"c","content":"hi"}`,
		`{"type":"send","roomId":` + room + `,"clientId":"c","content":7}`,
		`{"type":"join","roomId":` + room + `,"lastId":1e3}`,
		`{"type":"join","roomId":` + room + `,"lastId":-1}`,
		`{"type":"se\u0000nd"}`,
		`{"x\u0000":1}`,
		`[{"type":"join"}]`,
		`"join"`,
		`{"type":"join","roomId":` + room + `}` + "\xff",
		`{"type":"send","content":"\u`,
		`{"type":"send","content":"\ud83d\u`,
		`{"type":"send","content":"\`,
		"{\"type\":\"send\",\"content\":\"\\\xff\"}",
		`hello`,
		``,
		`{}`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		frame, err := chatserver.DecodeFrame(raw)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || !(strings.HasPrefix(fe.Code, "CH") || fe.Code == fault.ErrText.Code) {
				t.Fatalf("refused with %v, want a chat fault or C016, of kind Invalid", err)
			}
			if frame.ClientID != "" && !clean(frame.ClientID) {
				t.Fatalf("a refusal answers clientId %q, which is not clean text", frame.ClientID)
			}
			return
		}
		if !utf8.Valid(raw) {
			t.Fatalf("accepted a frame that is not UTF-8: %q", raw)
		}
		for name, s := range map[string]string{"type": frame.Type, "clientId": frame.ClientID, "content": frame.Content} {
			if !clean(s) {
				t.Fatalf("accepted %s %q", name, s)
			}
		}
		// Every string of the frame, ignored ones and keys included, decodes to what was
		// sent: no NUL, and no U+FFFD the frame did not carry itself.
		var all any
		if err := json.Unmarshal(raw, &all); err != nil {
			t.Fatalf("accepted a frame that is not JSON (%v): %q", err, raw)
		}
		carriesFFFD := bytes.Contains(raw, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(raw), []byte(`\ufffd`))
		walkStrings(all, func(s string) {
			if !clean(s) || (!carriesFFFD && strings.ContainsRune(s, utf8.RuneError)) {
				t.Fatalf("accepted a frame holding the string %q: %q", s, raw)
			}
		})
		// An accepted frame round-trips.
		again, err := json.Marshal(frame)
		if err != nil {
			t.Fatalf("encode %+v: %v", frame, err)
		}
		back, err := chatserver.DecodeFrame(again)
		if err != nil {
			t.Fatalf("the decoder refuses its own frame re-encoded %s: %v", again, err)
		}
		if !reflect.DeepEqual(back, frame) {
			t.Fatalf("round trip: %+v became %+v (%s)", frame, back, again)
		}
	})
}

// clean reports whether s is UTF-8 without NUL.
func clean(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// walkStrings calls fn on every string and object key in a decoded JSON value.
func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, e := range v {
			walkStrings(e, fn)
		}
	case map[string]any:
		for k, e := range v {
			fn(k)
			walkStrings(e, fn)
		}
	}
}

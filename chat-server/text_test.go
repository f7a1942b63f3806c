package chatserver_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
)

// A frame with text PostgreSQL cannot store or a decoder would alter (bytes that are not
// UTF-8, a NUL raw or escaped, half a surrogate pair) in any string, read or ignored, is
// refused with C016 naming the field, as REST refuses such text: nothing is stored and
// the connection goes on. Text that is clean however it is written is stored as sent.
func TestNotTextRefused(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	// send is a send frame with clientID and content as written (JSON escapes, raw bytes);
	// %%q is the room's id.
	send := func(clientID, content string) string {
		return `{"type":"send","roomId":%q,"clientId":"` + clientID + `","content":"` + content + `"}`
	}
	cases := []struct {
		name     string
		frame    string
		field    string // "": accepted
		clientID string // the send the refusal names
		stored   string // the content stored when accepted
	}{
		{name: "NUL escaped in content", frame: send("c", `a\u0000b`), field: "content", clientID: "c"},
		{name: "NUL escaped in clientId", frame: send(`c\u0000`, "hi"), field: "clientId"},
		{name: "raw NUL byte in content", frame: send("c", "a\x00b"), field: "content"}, // not JSON either: no clientId read
		{name: "invalid UTF-8 in content", frame: send("c", "price \xff\xfe"), field: "content", clientID: "c"},
		{name: "invalid UTF-8 in clientId", frame: send("c\xff", "hi"), field: "clientId"},
		{name: "truncated UTF-8 in content", frame: send("c", "caf\xc3"), field: "content", clientID: "c"},
		{name: "overlong NUL in content", frame: send("c", "a\xc0\x80b"), field: "content", clientID: "c"},
		{name: "UTF-8 encoded surrogate in content", frame: send("c", "a\xed\xa0\x80b"), field: "content", clientID: "c"},
		{name: "lone high surrogate escaped", frame: send("c", `a\ud83d`), field: "content", clientID: "c"},
		{name: "high surrogate then a letter", frame: send("c", `\ud83dA`), field: "content", clientID: "c"},
		{name: "lone low surrogate escaped", frame: send("c", `\ude00 x`), field: "content", clientID: "c"},
		{name: "NUL in type", frame: `{"type":"se\u0000nd","roomId":%q,"clientId":"c","content":"hi"}`, field: "type", clientID: "c"},
		{name: "NUL in roomId", frame: `{"type":"send","roomId":"\u0000","clientId":"c","content":"hi"}`, field: "roomId", clientID: "c"},
		{name: "invalid UTF-8 in an ignored field", frame: `{"type":"send","roomId":%q,"clientId":"c","content":"hi","note":"` + "\xff" + `"}`, field: "note", clientID: "c"},
		{name: "NUL deep in an ignored field", frame: `{"type":"send","roomId":%q,"clientId":"c","content":"hi","message":{"content":["\u0000"]}}`, field: "message", clientID: "c"},
		{name: "NUL in a key", frame: `{"type":"send","roomId":%q,"clientId":"c","content":"hi","x\u0000":1}`, field: "", clientID: "c"},
		{name: "invalid UTF-8 outside strings", frame: `{"type":"send","roomId":%q,"clientId":"c","content":"hi"}` + "\xff", field: ""},

		{name: "escaped surrogate pair", frame: send("c", `\ud83d\ude00 deal`), stored: "😀 deal"},
		{name: "replacement character", frame: send("c", "\uFFFD and \\ufffd"), stored: "\uFFFD and \uFFFD"},
		{name: "escaped backslash before u0000", frame: send("c", `C:\\u0000`), stored: `C:\u0000`},
		{name: "Hangul and other escapes", frame: send("c", `\uc548\ub155 \"hi\"\n\t\/`), stored: "안녕 \"hi\"\n\t/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			room := chattest.Open(t, st)
			c := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
			c.Join(room.ID, nil)
			frame := tc.frame
			if strings.Contains(frame, "%q") {
				frame = fmt.Sprintf(frame, room.ID)
			}
			if err := c.WriteRaw([]byte(frame)); err != nil {
				t.Fatal(err)
			}
			if tc.stored != "" {
				ack := c.Acks(1)[0]
				if stored := chattest.Stored(t, st, room.ID); len(stored) != 1 || stored[0].Content != tc.stored || ack.Message.Content != tc.stored {
					t.Fatalf("stored %+v, acknowledged %q; want %q", stored, ack.Message.Content, tc.stored)
				}
				return
			}
			e := c.ExpectError("C016")
			if e.Field != tc.field || e.ClientID != tc.clientID {
				t.Errorf("error frame on field %q answering %q, want %q answering %q", e.Field, e.ClientID, tc.field, tc.clientID)
			}
			if n := len(chattest.Stored(t, st, room.ID)); n != 0 {
				t.Fatalf("%d messages stored", n)
			}
			// The connection goes on.
			if ack := c.Send(room.ID, "after", "still here"); ack.Message.ID != 1 || ack.Message.Content != "still here" {
				t.Fatalf("ack after the refusal %+v", ack.Message)
			}
		})
	}
}

package jsonscan

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestEachElementAndMember(t *testing.T) {
	t.Parallel()
	body := []byte(` { "items" : [ {"id":"1","a":[1,{"b":"]"}]} , {"id":"2","s":"x\"}y"} ,3, "z", null ] , "bookmark" : "abc" } `)
	var got []string
	if err := EachElement(Member(body, "items"), func(e []byte) error { got = append(got, string(e)); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":"1","a":[1,{"b":"]"}]}`, `{"id":"2","s":"x\"}y"}`, `3`, `"z"`, `null`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("elements %q", got)
	}
	if b, _ := StringValue(Member(body, "bookmark")); b != "abc" {
		t.Errorf("bookmark %q", b)
	}
	if Member(body, "missing") != nil {
		t.Error("missing Member found")
	}
	if err := EachElement([]byte(`[]`), func([]byte) error { t.Error("called"); return nil }); err != nil {
		t.Error(err)
	}
	if err := EachElement([]byte(`{}`), func([]byte) error { return nil }); err == nil {
		t.Error("an object is not an array")
	}
}

// FuzzScan checks that the scanner never panics, and that on valid JSON
// objects it sees exactly the members encoding/json sees.
func FuzzScan(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"items":[{"id":"1"}],"bookmark":null}`, `[1,2,[3]]`, `{"a":"\\\"","b":{}}`, `{`, `"`, `[{"a":[}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := EachMember(b, func(k, v []byte) error { n++; return nil })
		_ = EachElement(b, func([]byte) error { return nil })
		_, _ = StringValue(b)
		if Valid(b) != json.Valid(b) {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, Valid(b), json.Valid(b))
		}
		if !json.Valid(b) {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil || m == nil { // null unmarshals to a nil map but is no object
			return
		}
		if err != nil {
			t.Fatalf("valid object %q: %v", b, err)
		}
		if n < len(m) { // duplicates collapse in the map
			t.Fatalf("valid object %q: %d members, encoding/json sees %d", b, n, len(m))
		}
	})
}

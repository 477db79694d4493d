package tap

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

func TestParseState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		wantErr    string
		check      func(t *testing.T, st *State)
	}{
		{"empty", ``, "", func(t *testing.T, st *State) {
			if len(st.Bookmarks) != 0 {
				t.Error(st.Bookmarks)
			}
		}},
		{"empty object", `{}`, "", nil},
		{"partitions", `{"bookmarks":{"campaigns":{"partitions":[{"context":{"ad_account_id":"7"},"replication_key":"updated_time","replication_key_value":1700000000}]}}}`, "", func(t *testing.T, st *State) {
			v, ok := st.get(catalog.StreamByName("campaigns"), "7")
			if !ok || v.Unix() != 1700000000 {
				t.Errorf("got %v %v", v, ok)
			}
			if _, ok := st.get(catalog.StreamByName("campaigns"), "8"); ok {
				t.Error("account 8 has no bookmark")
			}
		}},
		{"a whole STATE message", `{"type":"STATE","value":{"bookmarks":{"user_account_analytics":{"replication_key":"date","replication_key_value":"2026-10-01"}}}}`, "", func(t *testing.T, st *State) {
			v, ok := st.get(catalog.StreamByName("user_account_analytics"), "")
			if !ok || v.Format(time.DateOnly) != "2026-10-01" {
				t.Errorf("got %v %v", v, ok)
			}
		}},
		{"unknown stream carried through", `{"bookmarks":{"old_stream":{"x":1}}}`, "", func(t *testing.T, st *State) {
			b, _ := json.Marshal(st)
			if string(b) != `{"bookmarks":{"old_stream":{"x":1}}}` {
				t.Errorf("a bookmark of an unknown stream must survive: %s", b)
			}
		}},
		{"meltano envelope", `{"singer_state":{"bookmarks":{"user_account_analytics":{"replication_key":"date","replication_key_value":"2026-10-01"}}}}`, "", func(t *testing.T, st *State) {
			if _, ok := st.get(catalog.StreamByName("user_account_analytics"), ""); !ok || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "singer_state") {
				t.Errorf("envelope not unwrapped or not said: %v", st.Warnings)
			}
		}},
		{"bad date", `{"bookmarks":{"ad_analytics":{"partitions":[{"context":{"ad_account_id":"1"},"replication_key":"DATE","replication_key_value":"yesterday"}]}}}`, "bookmarks.ad_analytics", nil},
		{"not json", `{"bookmarks":`, "is not a JSON object", nil},
		{"wrong shape", `{"bookmarks":{"campaigns":[1]}}`, "bookmarks.campaigns", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := ParseState([]byte(tc.body), "state.json")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "state.json") {
					t.Fatalf("err = %v, want %q naming the file", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

func TestStateAdvanceNeverBackwards(t *testing.T) {
	t.Parallel()
	st := &State{Bookmarks: map[string]*Bookmark{}}
	camp := catalog.StreamByName("campaigns")
	st.advance(camp, "2", time.Unix(200, 0))
	st.advance(camp, "1", time.Unix(100, 0))
	st.advance(camp, "1", time.Unix(50, 0)) // ignored
	ua := catalog.StreamByName("user_account_analytics")
	d := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	st.advance(ua, "", d)
	st.advance(ua, "", d.AddDate(0, 0, -3)) // ignored
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"bookmarks":{"campaigns":{"partitions":[{"context":{"ad_account_id":"1"},"replication_key":"updated_time","replication_key_value":100},{"context":{"ad_account_id":"2"},"replication_key":"updated_time","replication_key_value":200}]},"user_account_analytics":{"replication_key":"date","replication_key_value":"2026-11-01"}}}`
	if string(b) != want {
		t.Errorf("state\n got %s\nwant %s", b, want)
	}
	// A round trip keeps everything.
	again, err := ParseState(b, "")
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(again)
	if string(b2) != want {
		t.Errorf("round trip\n got %s", b2)
	}
}

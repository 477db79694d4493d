package tap

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/fixtures"
)

// The incumbent's entity streams beyond the core (pins, audiences,
// conversion tags, customer lists, catalogs, feeds, product groups) against
// the fake: their edges, their incremental runs and their Business Access.

func TestMoreStreamsEdges(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	res := runSync(t, srv, runOpts{})
	if res.err != nil {
		t.Fatalf("sync failed: %v\n%s", res.err, res.logs)
	}
	// Feeds' credentials hold a password: never emitted, not in the schema.
	if strings.Contains(string(res.schemas["catalogs_feeds"]), "credentials") {
		t.Error("catalogs_feeds' schema declares credentials")
	}
	withCreds := 0
	for _, r := range res.records["catalogs_feeds"] {
		if strings.Contains(string(r), "credentials") || strings.Contains(string(r), fixtures.FeedPassword) {
			t.Fatalf("a feed record carries its credentials: %s", r)
		}
		withCreds++
	}
	if withCreds == 0 || strings.Contains(res.logs, fixtures.FeedPassword) {
		t.Errorf("%d feeds; the password in the logs: %v", withCreds, strings.Contains(res.logs, fixtures.FeedPassword))
	}
	// Product groups' times come in seconds or milliseconds; emitted in seconds.
	d := srv.Dataset()
	for i, r := range res.records["catalogs_product_groups"] {
		var pg struct {
			CreatedAt int64 `json:"created_at"`
			UpdatedAt int64 `json:"updated_at"`
		}
		if err := json.Unmarshal(r, &pg); err != nil {
			t.Fatal(err)
		}
		if want := d.ProductGroupCreated(i); pg.CreatedAt != want || pg.UpdatedAt != want+3600 {
			t.Errorf("product group %d: created_at %d updated_at %d, want %d and %d (seconds)", i, pg.CreatedAt, pg.UpdatedAt, want, want+3600)
		}
	}
	// Audiences without timestamps are emitted (null), not dropped.
	nulls := 0
	for _, r := range res.records["audiences"] {
		if strings.Contains(string(r), `"updated_timestamp":null`) {
			nulls++
		}
	}
	if nulls == 0 {
		t.Error("no audience with a null updated_timestamp was emitted")
	}
	// Keywords: of every ad group and of the account; where ad_group_ids is
	// refused (the shared account), one ad group a call, said once.
	for _, acct := range d.AdAccountIDs() {
		perGroup, own := d.KeywordsPerAdGroup(acct)
		parents := map[string]int{}
		for _, r := range res.records["keywords"] {
			var k struct{ ParentID, ParentType string }
			_ = json.Unmarshal(bytes.ReplaceAll(r, []byte("parent_"), []byte("Parent")), &k)
			parents[k.ParentID]++
		}
		if parents[acct] != own {
			t.Errorf("ad account %s: %d account-level keywords, want %d", acct, parents[acct], own)
		}
		synced := map[string]bool{} // ad groups of the synced statuses
		for _, k := range keys(t, "ad_groups", res.records["ad_groups"]) {
			synced[k] = true
		}
		for g, n := range perGroup {
			if synced[g] && parents[g] != n || !synced[g] && parents[g] != 0 {
				t.Errorf("ad group %s: %d keywords, want %d", g, parents[g], n)
			}
		}
		refused := "keywords: Pinterest refused ad_group_ids for ad account " + acct
		if d.KeywordsBatchRefused(acct) != strings.Contains(res.logs, refused) || strings.Count(res.logs, refused) > 1 {
			t.Errorf("ad account %s: refused %v, warned %d times:\n%s", acct, d.KeywordsBatchRefused(acct), strings.Count(res.logs, refused), res.logs)
		}
	}
	// Pins: the protected ones too (include_protected_pins), more than on the boards.
	if len(res.records["pins"]) <= len(res.records["board_pins"]) {
		t.Errorf("pins %d, board pins %d: protected pins are missing", len(res.records["pins"]), len(res.records["board_pins"]))
	}
}

// Business Access: organic_ad_account_id goes to pins and the catalog
// endpoints; without it, the first of ad_account_ids goes to the catalog
// endpoints. An owner without a catalog (409 on product groups) is an
// empty stream, not a failure.
func TestCatalogsBusinessAccess(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{RecordRequests: true})
	ids := srv.Dataset().AdAccountIDs()
	shared := ids[1] // owned by another user, who has no catalog
	for _, tc := range []struct {
		name, config string
		want         map[string]string // operation → ad_account_id sent
	}{
		{"organic", `,"organic_ad_account_id":"` + shared + `"`,
			map[string]string{"pins/list": shared, "catalogs/list": shared, "feeds/list": shared, "catalogs_product_groups/list": shared}},
		{"first of ad_account_ids", `,"ad_account_ids":["` + shared + `","` + ids[0] + `"]`,
			map[string]string{"pins/list": "", "catalogs/list": shared, "feeds/list": shared, "catalogs_product_groups/list": shared}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Reset()
			res := runSync(t, srv, runOpts{config: tc.config})
			if res.err != nil {
				t.Fatalf("a user without a catalog must not fail the sync: %v\n%s", res.err, res.logs)
			}
			for _, s := range []string{"catalogs", "catalogs_feeds", "catalogs_product_groups"} {
				if n := len(res.records[s]); n != 0 {
					t.Errorf("%s: %d records for an owner without catalogs", s, n)
				}
			}
			if !strings.Contains(res.logs, "catalogs_product_groups: Pinterest answered HTTP 409") {
				t.Errorf("the 409 is not reported:\n%s", res.logs)
			}
			sent := map[string][]string{}
			for _, r := range srv.Requests() {
				if _, ok := tc.want[r.Op]; ok {
					sent[r.Op] = append(sent[r.Op], r.Query.Get("ad_account_id"))
				}
			}
			for op, want := range tc.want {
				if len(sent[op]) == 0 || slices.ContainsFunc(sent[op], func(v string) bool { return v != want }) {
					t.Errorf("%s: ad_account_id sent %q, want %q on every call", op, sent[op], want)
				}
			}
		})
	}
}

// An incremental run after the fake's data changed emits exactly the
// changed audiences, customer lists and catalogs (and the audiences without
// a timestamp, which cannot be told apart).
func TestMoreStreamsIncremental(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Medium, fixtures.Options{})
	first := runSync(t, srv, runOpts{})
	if first.err != nil {
		t.Fatal(first.err)
	}
	mut := srv.Dataset().Mutate(5, time.Now().UTC())
	second := runSync(t, srv, runOpts{state: first.final})
	if second.err != nil {
		t.Fatal(second.err)
	}
	for _, s := range []string{"audiences", "customer_lists", "catalogs"} {
		if len(mut.Changed[s]) == 0 {
			t.Fatalf("%s: Mutate changed nothing", s)
		}
		st := catalog.StreamByName(s)
		var got []string
		for _, r := range second.records[s] {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(r, &m); err != nil {
				t.Fatal(err)
			}
			v, ok := keyTime(st.KeyType, m[st.ReplicationKey])
			if !ok {
				continue // no timestamp: emitted on every run
			}
			partition := ""
			if st.Partition != "" {
				partition = jsonscanString(m[st.Partition])
			}
			if b, _ := first.final.get(st, partition); v.Equal(b) {
				continue // on the bookmark: >= is at-least-once
			}
			got = append(got, keys(t, s, []json.RawMessage{r})[0])
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(mut.Changed[s], ",") {
			t.Errorf("%s: the incremental run emitted %d records %v…, %d changed %v…", s, len(got), head(got), len(mut.Changed[s]), head(mut.Changed[s]))
		}
	}
	// Full-table streams are read whole again.
	for _, s := range []string{"pins", "conversion_tags", "catalogs_feeds", "catalogs_product_groups"} {
		if len(second.records[s]) != len(first.records[s]) || len(first.records[s]) == 0 {
			t.Errorf("%s: %d records, then %d", s, len(first.records[s]), len(second.records[s]))
		}
	}
	if v, ok := second.final.get(catalog.StreamByName("catalogs"), ""); !ok || v.Before(mut.Now.Truncate(time.Second)) {
		t.Errorf("catalogs bookmark %v, want %v", v, mut.Now)
	}
}

func jsonscanString(raw json.RawMessage) string {
	var v string
	_ = json.Unmarshal(raw, &v)
	return v
}

// A token without catalogs:read: the catalog streams, selected only by
// default, are left out with a warning and the rest syncs; a catalog that
// selects them stops the run before any data is read, with one line naming
// the streams, the scope and how to grant it.
func TestMissingScope(t *testing.T) {
	t.Parallel()
	srv := newFake(t, fixtures.Small, fixtures.Options{})
	srv.SetTokenScope("ads:read boards:read pins:read user_accounts:read")
	res := runSync(t, srv, runOpts{})
	if res.err != nil {
		t.Fatalf("streams selected by default whose scope is missing must not fail the run: %v", res.err)
	}
	for _, s := range []string{"catalogs", "catalogs_feeds", "catalogs_product_groups"} {
		if _, ok := res.schemas[s]; ok || !strings.Contains(res.logs, s+" is not synced: this token lacks the OAuth scope catalogs:read") {
			t.Errorf("%s: synced %v, or no warning:\n%s", s, ok, res.logs)
		}
		if !strings.Contains(res.logs, s+": not synced, the token lacks the OAuth scope catalogs:read") {
			t.Errorf("%s is not named again at the end of the run (the summary line):\n%s", s, res.logs)
		}
	}
	if n := srv.CountByOp()["catalogs/list"]; n != 0 || len(res.records["campaigns"]) == 0 {
		t.Errorf("catalogs/list called %d times; %d campaigns", n, len(res.records["campaigns"]))
	}

	srv.Reset()
	cat, err := Discover(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cat.Streams {
		cat.Streams[i].Metadata[0].Metadata[catalog.Selected] = cat.Streams[i].Stream == "catalogs" || cat.Streams[i].Stream == "boards"
	}
	res = runSync(t, srv, runOpts{catalog: cat})
	var se *ScopeError
	if !errors.As(res.err, &se) || !strings.Contains(se.Msg, "catalogs need the OAuth scope catalogs:read") ||
		!strings.Contains(se.Msg, "refresh token") || strings.Contains(se.Msg, "\n") {
		t.Fatalf("want one line naming the stream, the scope and the fix; got %v", res.err)
	}
	if res.lines != 0 || len(srv.CountByOp()) != 1 {
		t.Errorf("%d lines written, calls %v: nothing may be read before the scope check", res.lines, srv.CountByOp())
	}
}

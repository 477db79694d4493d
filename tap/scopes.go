package tap

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tap-pinterest/tap-pinterest/catalog"
)

// Each row names the OAuth scopes its endpoint needs (catalog.Stream.Scopes);
// the token endpoint's answer lists the scopes the token holds. A stream the
// catalog selects whose scope is missing stops the run before any data is
// read; a stream selected only by default is left out with a warning, and
// --discover (with credentials) marks it not selected by default.

// MissingScopesKey is the root metadata key --discover sets on a stream whose
// scopes the token lacks.
const MissingScopesKey = "tap-pinterest-missing-scopes"

// grantHint says how a user gets a token with more scopes.
const grantHint = "create a new refresh token whose authorization (the OAuth flow's scope list) includes it"

// missingScopes returns the scopes of st that held lacks.
func missingScopes(st *catalog.Stream, held []string) []string {
	var out []string
	for _, sc := range st.Scopes {
		if !slices.Contains(held, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// ScopeError says that streams the catalog selects need scopes the token lacks.
type ScopeError struct{ Msg string }

func (e *ScopeError) Error() string { return e.Msg }

// applyScopes holds the selected streams to the token's scopes (when the
// token endpoint listed them): a stream selected only by default is dropped
// with a warning, and named again in the run's summary line; one the catalog selects is an error naming the stream, the
// scope and how to grant it.
func (s *Syncer) applyScopes() error {
	held, known := s.client.Scopes()
	if !known {
		return nil
	}
	need := map[string][]string{} // scope → streams the catalog selects that need it
	for _, p := range s.order {
		miss := missingScopes(p.s, held)
		if !p.selected || len(miss) == 0 {
			continue
		}
		if p.byDefault {
			p.selected = false
			s.log.Warn(fmt.Sprintf("%s is not synced: this token lacks the OAuth scope %s; to sync it, %s", p.s.Name, strings.Join(miss, " and "), grantHint))
			s.skipped.stopped(fmt.Sprintf("%s: not synced, the token lacks the OAuth scope %s", p.s.Name, strings.Join(miss, " and ")))
			continue
		}
		for _, sc := range miss {
			need[sc] = append(need[sc], p.s.Name)
		}
	}
	if len(need) > 0 {
		return &ScopeError{Msg: scopeMessage(need, held)}
	}
	for _, p := range s.order {
		p.needed, p.perItem, p.batched = false, nil, nil
	}
	s.linkChildren()
	return nil
}

func scopeMessage(need map[string][]string, held []string) string {
	scopes := make([]string, 0, len(need))
	for sc := range need {
		scopes = append(scopes, sc)
	}
	sort.Strings(scopes)
	parts := make([]string, len(scopes))
	for i, sc := range scopes {
		parts[i] = fmt.Sprintf("%s need the OAuth scope %s", strings.Join(need[sc], ", "), sc)
	}
	return fmt.Sprintf("the catalog selects streams this token may not read: %s (the token holds %s); %s, or deselect those streams",
		strings.Join(parts, "; "), strings.Join(held, " "), grantHint)
}

// MarkScopes marks the streams of a discovered catalog whose scopes the
// token lacks not selected by default, with the missing scopes in their
// root metadata, and returns one line saying so (or ""). table is the run's
// stream table (Config.Streams).
func MarkScopes(cat *catalog.Catalog, held []string, table []catalog.Stream) string {
	var marked []string
	for i := range cat.Streams {
		e := &cat.Streams[i]
		st := catalog.Find(table, e.TapStreamID)
		if st == nil || len(e.Metadata) == 0 {
			continue
		}
		miss := missingScopes(st, held)
		if len(miss) == 0 {
			continue
		}
		root := e.Metadata[0].Metadata
		root[catalog.SelectedByDefault] = false
		root[MissingScopesKey] = miss
		marked = append(marked, st.Name+" ("+strings.Join(miss, ", ")+")")
	}
	if len(marked) == 0 {
		return ""
	}
	return fmt.Sprintf("not selected by default, because this token lacks their OAuth scopes: %s; to sync them, %s", strings.Join(marked, ", "), grantHint)
}

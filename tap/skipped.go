package tap

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/tap/pinterest"
)

// skipped are the items a run read around instead of failing for them: ids
// an analytics batch was refused for (HTTP 400), isolated by halving the
// batch, and lists Pinterest stopped paging part way. Each is named once on
// stderr at the end of the run and in its summary line; an id Pinterest
// did not call invalid also fails its stream (non-zero exit).
type skipped struct {
	mu      sync.Mutex
	ids     map[string]*refused // stream → the ids refused
	cut     []string            // one line per list cut short
	keyless map[string]int      // stream → objects skipped for lacking a key property
}

type refused struct {
	invalid, other []string // "ad account 1: 42", kept sorted and unique
	reason         string   // Pinterest's message of the first refusal
}

// invalidID says whether a 400 for one id says the id is not valid (Pinterest:
// {"code": 400, "message": "Invalid … parameters."}, REFERENCE.md §9).
func invalidID(ae *pinterest.APIError) bool {
	return strings.Contains(strings.ToLower(ae.Message), "invalid")
}

// refuse records a single id an analytics call was refused for.
func (k *skipped) refuse(st *catalog.Stream, where, id string, ae *pinterest.APIError) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ids == nil {
		k.ids = map[string]*refused{}
	}
	r := k.ids[st.Name]
	if r == nil {
		r = &refused{reason: ae.Error()}
		k.ids[st.Name] = r
	}
	name := id
	if where != "" {
		name = where + ": " + id
	}
	list := &r.other
	if invalidID(ae) {
		list = &r.invalid
	}
	if i, found := slices.BinarySearch(*list, name); !found {
		*list = slices.Insert(*list, i, name)
	}
}

// unexplained counts the ids of a stream and partition refused for another
// reason than being invalid.
func (k *skipped) unexplained(st *catalog.Stream, where string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := k.ids[st.Name]
	if r == nil {
		return 0
	}
	n := 0
	for _, s := range r.other {
		if where == "" || strings.HasPrefix(s, where+": ") {
			n++
		}
	}
	return n
}

// stopped records a line for the summary: a list Pinterest would not page
// past, a stream left out for want of an OAuth scope.
func (k *skipped) stopped(line string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cut = append(k.cut, line)
}

// unkeyed counts an object of a stream that could not become a record for
// want of a key property (each is also named in a warning).
func (k *skipped) unkeyed(stream string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keyless == nil {
		k.keyless = map[string]int{}
	}
	k.keyless[stream]++
}

// lines returns one message per stream with refused ids or key-less
// objects and one per list cut short, sorted.
func (k *skipped) lines() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := slices.Clone(k.cut)
	for name, n := range k.keyless {
		noun := "objects"
		if n == 1 {
			noun = "object"
		}
		out = append(out, fmt.Sprintf("%s: skipped %d %s Pinterest sent without their key properties (each named in a warning)", name, n, noun))
	}
	for name, r := range k.ids {
		if len(r.invalid) > 0 {
			out = append(out, fmt.Sprintf("%s: Pinterest refused %d ids as invalid (%s); their rows were skipped, every other id was synced: %s",
				name, len(r.invalid), r.reason, strings.Join(r.invalid, ", ")))
		}
		if len(r.other) > 0 {
			out = append(out, fmt.Sprintf("%s: Pinterest refused %d ids without calling them invalid (%s); their rows are missing and the bookmark stays: %s",
				name, len(r.other), r.reason, strings.Join(r.other, ", ")))
		}
	}
	sort.Strings(out)
	return out
}

// Skipped lists what the run read around (refused ids, lists cut short,
// key-less objects), one line each, for the summary.
func (s *Syncer) Skipped() []string { return s.skipped.lines() }

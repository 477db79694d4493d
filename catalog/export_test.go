package catalog

import (
	"io/fs"
	"sort"
	"strings"
)

// This file is compiled only with the tests: it gives the catalog_test
// package what only tests need.

// SchemaStreams returns the names of the streams that have a schema, sorted.
func SchemaStreams() []string {
	entries, err := fs.ReadDir(schemaFS, "schemas")
	if err != nil { // cannot happen: the directory is embedded
		panic(err)
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

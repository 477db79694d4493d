package catalog

import (
	"embed"
	"fmt"
	"path"
	"strings"
)

// schemaFS holds the JSON Schema of every stream, generated from the OpenAPI
// description by `go run ./cmd/gen-schemas` (do not edit the files by hand).
//
//go:embed schemas/*.json
var schemaFS embed.FS

// Schema returns the JSON Schema of stream, as stored in schemas/<stream>.json.
// The caller owns the returned slice.
func Schema(stream string) ([]byte, error) {
	if stream == "" || strings.ContainsAny(stream, `/\.`) {
		return nil, fmt.Errorf("catalog: no schema for stream %q", stream)
	}
	b, err := schemaFS.ReadFile(path.Join("schemas", stream+".json"))
	if err != nil {
		return nil, fmt.Errorf("catalog: no schema for stream %q: %w", stream, err)
	}
	return b, nil
}

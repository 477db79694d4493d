// Command gen-schemas writes catalog/schemas/<stream>.json, the Singer schema
// of every stream, from Pinterest's OpenAPI v5 description. The rules it
// applies are documented in package schemagen. Run it from the repository
// root:
//
//	go run ./cmd/gen-schemas [-spec fixtures/openapi/openapi-v5.json] [-out catalog/schemas]
//
// Without -spec it reads fixtures/openapi/openapi-v5.json, or, if that file is
// missing, ../shared/pinterest-api/openapi-v5.json.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/tap-pinterest/tap-pinterest/catalog"
	"github.com/tap-pinterest/tap-pinterest/cmd/gen-schemas/schemagen"
)

func main() {
	spec := flag.String("spec", schemagen.SpecCandidates[0], "OpenAPI v5 description (JSON)")
	out := flag.String("out", "catalog/schemas", "output directory")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gen-schemas: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	specSet := false
	flag.Visit(func(f *flag.Flag) { specSet = specSet || f.Name == "spec" })
	path := *spec
	if !specSet {
		p, err := schemagen.FindSpec(".")
		if err != nil {
			fmt.Fprintf(os.Stderr, "gen-schemas: %v\n", err)
			os.Exit(1)
		}
		path = p
	}
	files, err := schemagen.Run(path, *out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen-schemas: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gen-schemas: spec %s\n", path)
	for _, st := range catalog.Streams {
		var s struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(files[st.Name+".json"], &s); err != nil {
			fmt.Fprintf(os.Stderr, "gen-schemas: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "  %s/%s.json: %d properties\n", *out, st.Name, len(s.Properties))
	}
}

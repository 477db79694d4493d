// Command wheel packs a tap-pinterest binary into a Python wheel, the way
// ruff and other native tools ship on PyPI: `pip install tap-pinterest` (or a
// Meltano pip_url) then puts the binary on PATH, with no Go toolchain.
//
//	go run ./cmd/wheel --binary bin/release/linux_amd64/tap-pinterest \
//	    --platform linux/amd64 --version 0.2.0 --out dist
//
// prints the path of the wheel it wrote. `make wheel` and `make release` call
// it; --pep440 VERSION only prints the wheel version of a tap version.
//
// A short writer instead of a packaging tool: the wheel format for one
// executable is a zip of four small files, so this keeps `make wheel` free of
// Python and of anything that would rebuild the binary with other flags.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "wheel:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("wheel", flag.ContinueOnError)
	binary := fs.String("binary", "", "the tap-pinterest `executable` to pack")
	platform := fs.String("platform", "", "its GOOS/GOARCH: linux/amd64, linux/arm64, darwin/amd64 or darwin/arm64")
	version := fs.String("version", tap.Version, "tap `version` (git describe without the v); mapped to PEP 440")
	readme := fs.String("readme", "README.md", "README whose introduction and Install section become the description")
	license := fs.String("license", "LICENSE", "license `file`")
	out := fs.String("out", "dist", "output `directory`")
	date := fs.String("date", "", "RFC 3339 time stamped on the zip entries (default: 1980-01-01, for reproducible wheels)")
	toPEP440 := fs.String("pep440", "", "only print the PEP 440 form of this tap `version`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *toPEP440 != "" {
		v, err := pep440(*toPEP440)
		if err != nil {
			return err
		}
		fmt.Println(v)
		return nil
	}
	if *binary == "" || *platform == "" {
		return fmt.Errorf("--binary and --platform are required")
	}
	spec := wheelSpec{Platform: *platform, Version: *version, Summary: tap.Description,
		ModTime: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	if *date != "" {
		t, err := time.Parse(time.RFC3339, *date)
		if err != nil {
			return fmt.Errorf("--date: %v", err)
		}
		spec.ModTime = t.UTC()
	}
	var err error
	if spec.Binary, err = os.ReadFile(*binary); err != nil {
		return err
	}
	if spec.License, err = os.ReadFile(*license); err != nil {
		return err
	}
	md, err := os.ReadFile(*readme)
	if err != nil {
		return err
	}
	spec.Readme = readmeExcerpt(string(md))
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	path, err := spec.write(*out)
	if err != nil {
		return err
	}
	fmt.Println(path)
	return nil
}

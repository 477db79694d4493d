package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tap-pinterest/tap-pinterest/tap/atomicfile"
)

// Project facts that go into the wheel's METADATA.
const (
	distName = "tap-pinterest" // the name on PyPI and in `pip install`
	homepage = "https://github.com/tap-pinterest/tap-pinterest"
)

// platformTags are the wheel platform tags of each GOOS/GOARCH target. The
// Linux binary is static (CGO off), so it runs on any glibc or musl system:
// the oldest manylinux and musllinux tags pip knows say so. Go 1.25 and later
// need macOS 12 Monterey (the binary's LC_BUILD_VERSION says the same; the
// release test checks it), hence macosx_12_0.
var platformTags = map[string][]string{
	"linux/amd64":  {"manylinux_2_17_x86_64", "manylinux2014_x86_64", "musllinux_1_1_x86_64"},
	"linux/arm64":  {"manylinux_2_17_aarch64", "manylinux2014_aarch64", "musllinux_1_1_aarch64"},
	"darwin/amd64": {"macosx_12_0_x86_64"},
	"darwin/arm64": {"macosx_12_0_arm64"},
}

// wheelSpec is everything one wheel is made of.
type wheelSpec struct {
	Binary   []byte // the static tap-pinterest executable
	Platform string // GOOS/GOARCH
	Version  string // tap version (see pep440)
	Summary  string
	Readme   string // the long description (Markdown)
	License  []byte
	ModTime  time.Time // of every zip entry, for reproducible wheels
}

// fileName returns the wheel's file name, e.g.
// tap_pinterest-0.2.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64.whl.
func (s wheelSpec) fileName() (string, error) {
	v, err := pep440(s.Version)
	if err != nil {
		return "", err
	}
	tags, ok := platformTags[s.Platform]
	if !ok {
		return "", fmt.Errorf("platform %q: no wheel tag (have linux/amd64, linux/arm64, darwin/amd64, darwin/arm64)", s.Platform)
	}
	return fmt.Sprintf("%s-%s-py3-none-%s.whl", distDir(), v, strings.Join(tags, ".")), nil
}

// distDir is the distribution name as it appears in file names (PEP 427).
func distDir() string { return strings.ReplaceAll(distName, "-", "_") }

// metadata returns the METADATA file (core metadata 2.4).
func (s wheelSpec) metadata(version string) string {
	var b strings.Builder
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, v) }
	h("Metadata-Version", "2.4")
	h("Name", distName)
	h("Version", version)
	h("Summary", strings.Join(strings.Fields(s.Summary), " "))
	h("Keywords", "singer,singer-tap,meltano,elt,pinterest")
	h("License-Expression", "MIT")
	h("License-File", "LICENSE")
	h("Project-URL", "Homepage, "+homepage)
	h("Project-URL", "Source, "+homepage)
	h("Project-URL", "Changelog, "+homepage+"/blob/main/CHANGELOG.md")
	for _, c := range []string{
		"Development Status :: 4 - Beta",
		"Environment :: Console",
		"Intended Audience :: Developers",
		"Operating System :: MacOS",
		"Operating System :: POSIX :: Linux",
		"Programming Language :: Go",
		"Topic :: Database",
	} {
		h("Classifier", c)
	}
	h("Description-Content-Type", "text/markdown; charset=UTF-8")
	b.WriteString("\n")
	b.WriteString(s.Readme)
	return b.String()
}

// write writes the wheel into dir and returns its path. Its only payload is
// the binary, as <name>-<version>.data/scripts/tap-pinterest: pip and uv copy
// it into the environment's bin/ and mark it executable.
func (s wheelSpec) write(dir string) (string, error) {
	name, err := s.fileName()
	if err != nil {
		return "", err
	}
	version, _ := pep440(s.Version)
	tags := platformTags[s.Platform]
	data := fmt.Sprintf("%s-%s.data", distDir(), version)
	info := fmt.Sprintf("%s-%s.dist-info", distDir(), version)

	var wheelFile strings.Builder
	wheelFile.WriteString("Wheel-Version: 1.0\nGenerator: tap-pinterest cmd/wheel\nRoot-Is-Purelib: false\n")
	for _, t := range tags {
		fmt.Fprintf(&wheelFile, "Tag: py3-none-%s\n", t)
	}
	files := []struct {
		path string
		mode os.FileMode
		body []byte
	}{
		{data + "/scripts/tap-pinterest", 0o755, s.Binary},
		{info + "/METADATA", 0o644, []byte(s.metadata(version))},
		{info + "/WHEEL", 0o644, []byte(wheelFile.String())},
		{info + "/licenses/LICENSE", 0o644, s.License},
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var record strings.Builder
	add := func(path string, mode os.FileMode, body []byte) error {
		fh := &zip.FileHeader{Name: path, Method: zip.Deflate, Modified: s.ModTime}
		fh.SetMode(mode)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			return err
		}
		_, err = w.Write(body)
		return err
	}
	for _, f := range files {
		if err := add(f.path, f.mode, f.body); err != nil {
			return "", err
		}
		sum := sha256.Sum256(f.body)
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.path, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.body))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", info)
	if err := add(info+"/RECORD", 0o644, []byte(record.String())); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, atomicfile.Write(path, buf.Bytes(), 0o644)
}

// readmeExcerpt returns the long description: the README's title and
// introduction (up to its first "## " heading) and its "## Install" section,
// then a link to the whole README.
func readmeExcerpt(readme string) string {
	sections := splitSections(readme)
	var b strings.Builder
	if len(sections) > 0 && !strings.HasPrefix(sections[0], "## ") {
		b.WriteString(strings.TrimRight(sections[0], "\n") + "\n\n")
	}
	for _, s := range sections {
		if strings.HasPrefix(s, "## Install") {
			b.WriteString(strings.TrimRight(s, "\n") + "\n\n")
		}
	}
	fmt.Fprintf(&b, "Settings, streams, Meltano and cron set-ups, failure modes: see the full README at %s#readme.\n", homepage)
	return b.String()
}

// splitSections splits Markdown at its level-2 headings (outside code fences).
func splitSections(md string) []string {
	var out []string
	var cur strings.Builder
	fence := false
	for _, line := range strings.SplitAfter(md, "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(line, "## ") && cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

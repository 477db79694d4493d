package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A tap version is what `make` stamps into the binary: the output of
// `git describe --tags --match 'v[0-9]*' --dirty` without the leading "v"
// (0.2.0, 0.2.0-rc.1, 0.2.0-3-gabc1234, 0.2.0-3-gabc1234-dirty), or, before the
// first tag, <default>-dev.<commits>+g<hash>[.dirty]. A wheel needs a PEP 440
// version instead; pep440 maps one to the other.
var tapVersionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)` + // release
	`(?:-(alpha|a|beta|b|rc|dev)\.?(\d+)?)?` + // pre-release (semver style)
	`(?:-(\d+)-g([0-9a-f]{4,40}))?` + // git describe: commits since the tag, hash
	`(-dirty)?` + // git describe --dirty
	`(?:\+([0-9A-Za-z.-]+))?$`) // semver build metadata

// pep440 maps a tap version to a normalised PEP 440 version.
//
// Commits after a tag follow setuptools-scm's default ("guess-next-dev"): N
// commits after v0.2.0 is 0.2.1.devN+g<hash>, which sorts after 0.2.0 and
// before 0.2.1. (0.2.0.devN would sort before the release it follows.)
// A dirty tree adds the local segment "dirty".
func pep440(v string) (string, error) {
	m := tapVersionRE.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("version %q: want MAJOR.MINOR.PATCH[-(alpha|beta|rc|dev).N][-N-gHASH][-dirty][+META]", v)
	}
	num := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	major, minor, patch := num(m[1]), num(m[2]), num(m[3])
	preKind, preNum := map[string]string{"alpha": "a", "a": "a", "beta": "b", "b": "b", "rc": "rc", "dev": "dev"}[m[4]], num(m[5])
	distance, hash, dirty, meta := num(m[6]), m[7], m[8] != "", m[9]

	if distance > 0 {
		switch preKind {
		case "":
			patch++ // the next release, in development
		case "dev":
			return "", fmt.Errorf("version %q: commits after a dev tag are not supported; tag a release or a pre-release", v)
		default:
			preNum++ // rc1 + commits is on its way to rc2
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d.%d.%d", major, minor, patch)
	switch preKind {
	case "":
	case "dev":
		fmt.Fprintf(&b, ".dev%d", preNum)
	default:
		fmt.Fprintf(&b, "%s%d", preKind, preNum)
	}
	if distance > 0 {
		fmt.Fprintf(&b, ".dev%d", distance)
	}
	var local []string
	if hash != "" {
		local = append(local, "g"+hash)
	}
	local = append(local, strings.FieldsFunc(strings.ToLower(meta), func(r rune) bool { return r == '.' || r == '-' })...)
	if dirty {
		local = append(local, "dirty")
	}
	if len(local) > 0 {
		b.WriteString("+" + strings.Join(local, "."))
	}
	return b.String(), nil
}

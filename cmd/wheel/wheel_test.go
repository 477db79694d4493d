package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPEP440(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"0.2.0", "0.2.0"},
		{"v0.2.0", "0.2.0"},
		{"1.10.3", "1.10.3"},
		// git describe: commits after a tag are a development release of the next patch.
		{"0.2.0-3-gabc1234", "0.2.1.dev3+gabc1234"},
		{"v0.2.0-3-gabc1234-dirty", "0.2.1.dev3+gabc1234.dirty"},
		{"0.2.0-dirty", "0.2.0+dirty"},
		// semver pre-releases, with and without a dot, and after them.
		{"1.0.0-rc.1", "1.0.0rc1"},
		{"1.0.0-rc1", "1.0.0rc1"},
		{"1.0.0-beta.2", "1.0.0b2"},
		{"1.0.0-alpha", "1.0.0a0"},
		{"1.0.0-rc.1-4-gdeadbeef", "1.0.0rc2.dev4+gdeadbeef"},
		// before the first tag (the Makefile's fallback).
		{"0.1.0-dev.57+gb34928b", "0.1.0.dev57+gb34928b"},
		{"0.1.0-dev.57+gb34928b.dirty", "0.1.0.dev57+gb34928b.dirty"},
		{"0.1.0+Build-7", "0.1.0+build.7"},
	} {
		got, err := pep440(c.in)
		if err != nil || got != c.want {
			t.Errorf("pep440(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		// PEP 440's canonical form (public[+local]), from its appendix.
		if !regexp.MustCompile(`^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-z0-9]+(\.[a-z0-9]+)*)?$`).MatchString(got) {
			t.Errorf("pep440(%q) = %q is not a canonical PEP 440 version", c.in, got)
		}
	}
	for _, bad := range []string{"", "dev", "b34928b", "1.2", "1.2.3-4-gxyz", "0.1.0-dev.1-2-gabcd", "1.2.3 "} {
		if got, err := pep440(bad); err == nil {
			t.Errorf("pep440(%q) = %q, want an error", bad, got)
		}
	}
}

func TestReadmeExcerpt(t *testing.T) {
	t.Parallel()
	md := "# tap\n\nIntro.\n\n## Quick start\n\nx\n\n## Install\n\n```sh\n## not a heading\npip install tap-pinterest\n```\n\n### From source\n\ny\n\n## Usage\n\nz\n"
	got := readmeExcerpt(md)
	for _, want := range []string{"# tap\n\nIntro.\n\n## Install\n", "## not a heading\npip install", "### From source\n\ny\n\n", homepage + "#readme"} {
		if !strings.Contains(got, want) {
			t.Errorf("excerpt lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"Quick start", "## Usage"} {
		if strings.Contains(got, not) {
			t.Errorf("excerpt has %q:\n%s", not, got)
		}
	}
	// The real README has an Install section for PyPI's page.
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readmeExcerpt(string(b)), "## Install") {
		t.Error("README.md has no \"## Install\" section for the wheel's description")
	}
}

func testSpec(binary []byte, platform, version string) wheelSpec {
	return wheelSpec{Binary: binary, Platform: platform, Version: version, Summary: "A tap.\n",
		Readme: "# tap-pinterest\n", License: []byte("MIT License\n"), ModTime: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// TestWheelLayout checks the zip against the wheel spec: names, tags, RECORD
// hashes and sizes, the executable bit, and that writing is reproducible.
func TestWheelLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := []byte("\x7fELF not really a binary")
	path, err := testSpec(bin, "linux/arm64", "0.2.0-3-gabc1234").write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "tap_pinterest-0.2.1.dev3+gabc1234-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl"; filepath.Base(path) != want {
		t.Errorf("file name %s, want %s", filepath.Base(path), want)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zr.Close() }()
	const info = "tap_pinterest-0.2.1.dev3+gabc1234.dist-info/"
	const script = "tap_pinterest-0.2.1.dev3+gabc1234.data/scripts/tap-pinterest"
	bodies := map[string]string{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		bodies[f.Name] = string(b)
		names = append(names, f.Name)
		if f.Name == script && f.Mode().Perm() != 0o755 {
			t.Errorf("%s mode %v, want 0755", f.Name, f.Mode())
		}
	}
	if want := []string{script, info + "METADATA", info + "WHEEL", info + "licenses/LICENSE", info + "RECORD"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("entries %v, want %v (RECORD last)", names, want)
	}
	if bodies[script] != string(bin) {
		t.Error("the script is not the binary")
	}
	for _, want := range []string{"Metadata-Version: 2.4\n", "Name: tap-pinterest\n", "Version: 0.2.1.dev3+gabc1234\n", "Summary: A tap.\n",
		"License-Expression: MIT\n", "License-File: LICENSE\n", "Project-URL: Homepage, " + homepage + "\n",
		"Description-Content-Type: text/markdown; charset=UTF-8\n\n# tap-pinterest\n"} {
		if !strings.Contains(bodies[info+"METADATA"], want) {
			t.Errorf("METADATA lacks %q:\n%s", want, bodies[info+"METADATA"])
		}
	}
	if want := "Wheel-Version: 1.0\nGenerator: tap-pinterest cmd/wheel\nRoot-Is-Purelib: false\nTag: py3-none-manylinux_2_17_aarch64\nTag: py3-none-manylinux2014_aarch64\nTag: py3-none-musllinux_1_1_aarch64\n"; bodies[info+"WHEEL"] != want {
		t.Errorf("WHEEL:\n%s\nwant:\n%s", bodies[info+"WHEEL"], want)
	}
	// Every entry but RECORD is in RECORD with its sha256 and size.
	lines := strings.Split(strings.TrimSuffix(bodies[info+"RECORD"], "\n"), "\n")
	if len(lines) != len(names) {
		t.Fatalf("RECORD has %d lines for %d entries:\n%s", len(lines), len(names), bodies[info+"RECORD"])
	}
	for i, line := range lines {
		f := strings.Split(line, ",")
		if len(f) != 3 || f[0] != names[i] {
			t.Errorf("RECORD line %q for %s", line, names[i])
			continue
		}
		if f[0] == info+"RECORD" {
			if f[1] != "" || f[2] != "" {
				t.Errorf("RECORD's own line %q", line)
			}
			continue
		}
		sum := sha256.Sum256([]byte(bodies[f[0]]))
		if want := "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]); f[1] != want {
			t.Errorf("RECORD hash of %s: %s, want %s", f[0], f[1], want)
		}
		if want := len(bodies[f[0]]); f[2] != strconv.Itoa(want) {
			t.Errorf("RECORD size of %s: %s, want %d", f[0], f[2], want)
		}
	}
	// The same input gives the same bytes.
	again, err := testSpec(bin, "linux/arm64", "0.2.0-3-gabc1234").write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(again)
	if string(a) != string(b) {
		t.Error("two writes of the same wheel differ")
	}
}

func TestPlatformTags(t *testing.T) {
	t.Parallel()
	for p, tags := range map[string]string{
		"linux/amd64":  "manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64",
		"darwin/amd64": "macosx_12_0_x86_64",
		"darwin/arm64": "macosx_12_0_arm64",
	} {
		name, err := testSpec(nil, p, "0.2.0").fileName()
		if err != nil || name != "tap_pinterest-0.2.0-py3-none-"+tags+".whl" {
			t.Errorf("%s: %s, %v", p, name, err)
		}
	}
	if _, err := testSpec(nil, "windows/amd64", "0.2.0").fileName(); err == nil {
		t.Error("windows/amd64: no error")
	}
	if _, err := testSpec(nil, "linux/amd64", "b34928b").fileName(); err == nil {
		t.Error("a bare hash as the version: no error")
	}
}

// TestPipInstall installs a wheel of a stand-in executable into a fresh venv
// with pip, offline, and runs it from the venv's bin/. Skipped without a
// Python that has venv and pip, and with -short.
func TestPipInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import venv, ensurepip").Run() != nil {
		t.Skip("no python3 with venv and ensurepip")
	}
	plat := runtime.GOOS + "/" + runtime.GOARCH
	if _, ok := platformTags[plat]; !ok {
		t.Skipf("no wheel tag for %s", plat)
	}
	t.Parallel()
	dir := t.TempDir()
	whl, err := testSpec([]byte("#!/bin/sh\necho stand-in \"$@\"\n"), plat, "0.2.0-3-gabc1234").write(dir)
	if err != nil {
		t.Fatal(err)
	}
	venv := filepath.Join(dir, "venv")
	if out, err := exec.Command(py, "-m", "venv", venv).CombinedOutput(); err != nil {
		t.Fatalf("venv: %v\n%s", err, out)
	}
	pip := exec.Command(filepath.Join(venv, "bin", "python"), "-m", "pip", "install", "--no-index", "--disable-pip-version-check", whl)
	pip.Env = append(os.Environ(), "PIP_NO_INPUT=1")
	if out, err := pip.CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(venv, "bin", "tap-pinterest"), "--version").CombinedOutput()
	if err != nil || string(out) != "stand-in --version\n" {
		t.Fatalf("installed tap-pinterest: %v %q", err, out)
	}
	out, err = exec.Command(filepath.Join(venv, "bin", "python"), "-m", "pip", "show", "tap-pinterest").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Name: tap-pinterest\nVersion: 0.2.1.dev3+gabc1234\n") {
		t.Errorf("pip show: %v\n%s", err, out)
	}
}

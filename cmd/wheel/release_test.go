package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRelease checks what `make release` wrote (it runs this test with
// TAP_PINTEREST_RELEASE_DIR set; skipped otherwise): one archive and one wheel
// per platform, SHA256SUMS over all of them, and in each a binary that is
// static, built with CGO off and -trimpath for its GOOS/GOARCH, and stamped
// with the release version. The native binary is run; the others are read
// with debug/elf and debug/macho.
func TestRelease(t *testing.T) {
	dir := os.Getenv("TAP_PINTEREST_RELEASE_DIR")
	if dir == "" {
		t.Skip("TAP_PINTEREST_RELEASE_DIR not set (make release sets it)")
	}
	version := os.Getenv("TAP_PINTEREST_RELEASE_VERSION")
	platforms := strings.Fields(os.Getenv("TAP_PINTEREST_RELEASE_PLATFORMS"))
	if version == "" || len(platforms) == 0 {
		t.Fatal("TAP_PINTEREST_RELEASE_VERSION and TAP_PINTEREST_RELEASE_PLATFORMS must be set too")
	}

	sums := map[string]string{}
	b, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", line)
		}
		sums[name] = sum
	}
	if len(sums) != 2*len(platforms) {
		t.Errorf("SHA256SUMS has %d files, want an archive and a wheel for each of %d platforms", len(sums), len(platforms))
	}
	for name, sum := range sums {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 differs from SHA256SUMS", name)
		}
	}

	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		t.Run(goos+"_"+goarch, func(t *testing.T) {
			stem := fmt.Sprintf("tap-pinterest_%s_%s_%s", version, goos, goarch)
			files := readTarGz(t, filepath.Join(dir, stem+".tar.gz"))
			for _, f := range []string{"tap-pinterest", "LICENSE", "README.md", "CHANGELOG.md"} {
				if _, ok := files[stem+"/"+f]; !ok {
					t.Errorf("%s.tar.gz lacks %s/%s", stem, stem, f)
				}
			}
			bin := files[stem+"/tap-pinterest"]
			checkBinary(t, bin, goos, goarch, version)

			// The wheel carries the very same binary.
			whl, err := testSpec(nil, p, version).fileName()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := sums[whl]; !ok {
				t.Errorf("SHA256SUMS lacks %s", whl)
			}
			zr, err := zip.OpenReader(filepath.Join(dir, whl))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = zr.Close() }()
			found := false
			for _, f := range zr.File {
				if strings.HasSuffix(f.Name, ".data/scripts/tap-pinterest") {
					rc, _ := f.Open()
					got, _ := io.ReadAll(rc)
					rc.Close()
					found = bytes.Equal(got, bin)
				}
			}
			if !found {
				t.Errorf("%s does not carry the archive's binary", whl)
			}

			if goos == runtime.GOOS && goarch == runtime.GOARCH {
				exe := filepath.Join(t.TempDir(), "tap-pinterest")
				if err := os.WriteFile(exe, bin, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, args := range [][]string{{"--version"}, {"--about"}} {
					out, err := exec.Command(exe, args...).CombinedOutput()
					if err != nil {
						t.Fatalf("%s %v: %v\n%s", stem, args, err, out)
					}
					want := "tap-pinterest version " + version + " (commit "
					if args[0] == "--about" {
						want = "Version: " + version + "\n"
					}
					if !strings.Contains(string(out), want) {
						t.Errorf("%s %v: %q lacks %q", stem, args, out, want)
					}
				}
			}
		})
	}
}

func readTarGz(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "tap-pinterest" || strings.HasSuffix(h.Name, "/tap-pinterest") {
			if h.Mode&0o111 == 0 {
				t.Errorf("%s: %s is not executable (mode %o)", path, h.Name, h.Mode)
			}
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

// checkBinary: the headers say static for this GOOS/GOARCH; the build info
// says CGO off, -trimpath and the stamped version.
func checkBinary(t *testing.T, bin []byte, goos, goarch, version string) {
	t.Helper()
	if len(bin) == 0 {
		t.Fatal("no binary")
	}
	r := bytes.NewReader(bin)
	switch goos {
	case "linux":
		f, err := elf.NewFile(r)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if f.Machine != want || f.Class != elf.ELFCLASS64 {
			t.Errorf("ELF machine %v class %v, want %v 64-bit", f.Machine, f.Class, want)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("ELF has a %v program header: dynamically linked", p.Type)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("ELF needs shared libraries %v", libs)
		}
	case "darwin":
		f, err := macho.NewFile(r)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if f.Cpu != want || f.Type != macho.TypeExec {
			t.Errorf("Mach-O cpu %v type %v, want %v executable", f.Cpu, f.Type, want)
		}
		// macOS has no static executables: every program links libSystem.
		// Go with CGO off links only libraries that ship with macOS
		// (libSystem, libresolv, CoreFoundation, Security), no third-party one.
		libs, err := f.ImportedLibraries()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range libs {
			if !strings.HasPrefix(l, "/usr/lib/") && !strings.HasPrefix(l, "/System/Library/Frameworks/") {
				t.Errorf("Mach-O links %s, not a part of macOS", l)
			}
		}
		// The wheel's macosx_12_0 tag must not promise an older macOS than
		// the binary's LC_BUILD_VERSION minimum.
		if minos := machoMinOS(f); minos == "" || versionLess("12.0", minos) {
			t.Errorf("Mach-O minimum macOS %q: newer than the wheel tag's 12.0", minos)
		}
	default:
		t.Fatalf("no check for %s", goos)
	}
	bi, err := buildinfo.Read(r)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": goos, "GOARCH": goarch} {
		if settings[k] != v {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], v)
		}
	}
	// -trimpath leaves -ldflags out of the build info: look for the stamped string.
	if !bytes.Contains(bin, []byte(version)) {
		t.Errorf("the binary does not contain the version string %q", version)
	}
}

// machoMinOS returns the minimum macOS of LC_BUILD_VERSION, e.g. "12.0".
func machoMinOS(f *macho.File) string {
	const lcBuildVersion = 0x32
	for _, l := range f.Loads {
		raw := l.Raw()
		if len(raw) >= 16 && f.ByteOrder.Uint32(raw) == lcBuildVersion {
			v := f.ByteOrder.Uint32(raw[12:16]) // xxxx.yy.zz nibbles
			return fmt.Sprintf("%d.%d", v>>16, (v>>8)&0xff)
		}
	}
	return ""
}

func versionLess(a, b string) bool {
	var a1, a2, b1, b2 int
	_, _ = fmt.Sscanf(a, "%d.%d", &a1, &a2) // an unparsable part stays 0
	_, _ = fmt.Sscanf(b, "%d.%d", &b1, &b2)
	return a1 < b1 || a1 == b1 && a2 < b2
}

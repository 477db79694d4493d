# tap-pinterest — every command a developer or CI needs.
SHELL := /bin/bash
GO ?= go
MODULE := github.com/tap-pinterest/tap-pinterest
# Versions are semantic and tagged vX.Y.Z; the binary reports them without the v.
# A tagged tree: 0.2.0; N commits after it: 0.2.0-N-g<hash>[-dirty] (git describe).
# Before the first tag: the default in tap/ (var Version), as <it>-dev.<commits>+g<hash>[.dirty].
BASE_VERSION := $(shell sed -n 's/^var Version = "\([^"]*\)".*/\1/p' tap/*.go | head -n 1)
VERSION ?= $(patsubst v%,%,$(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || \
	{ c=$$(git rev-parse --short=7 HEAD) && n=$$(git rev-list --count HEAD) && \
	  d=$$(git diff --quiet HEAD 2>/dev/null || echo .dirty) && echo "$(BASE_VERSION)-dev.$$n+g$$c$$d"; } 2>/dev/null || \
	echo $(BASE_VERSION)))
override VERSION := $(VERSION)
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# The commit's date, not the build's: the same commit builds the same bytes.
DATE := $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X $(MODULE)/tap.Version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
export CGO_ENABLED ?= 0
# Targets of `make release` and `make wheel` (GOOS/GOARCH); e.g. make wheel PLATFORMS=linux/amd64
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST ?= dist

.PHONY: all build demo test vet fmt-check lint lint-tool generate fuzz chaos bench bench-smoke e2e clean cross wheel wheel-smoke release version

all: build

## build: the static binaries bin/tap-pinterest and bin/fake-pinterest
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/tap-pinterest ./cmd/tap-pinterest
	$(GO) build -trimpath -o bin/fake-pinterest ./cmd/fake-pinterest

## demo: a full sync of all 13 streams against the fake Pinterest API (no credentials)
demo: build
	$(GO) run ./cmd/demo --tap bin/tap-pinterest $(DEMO_FLAGS)

## test: formatting, vet, and every test with the race detector (includes the short fault run)
test: fmt-check vet
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 280s ./...
	@cat bin/fault-report.txt 2>/dev/null || true

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi

## lint: golangci-lint (version pinned below, config in .golangci.yml)
lint: lint-tool
	bin/golangci-lint run ./...

# One exact golangci-lint, built from the Go module proxy into bin/; it is
# (re)installed only when bin/golangci-lint is missing or another version.
GOLANGCI_LINT_VERSION := v2.15.0
lint-tool:
	@if [ "$$(bin/golangci-lint version --short 2>/dev/null)" != "$(GOLANGCI_LINT_VERSION:v%=%)" ]; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into bin/"; \
		rm -f bin/golangci-lint; \
		GOBIN="$(CURDIR)/bin" $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi

## generate: regenerate catalog/schemas from the OpenAPI spec, the Meltano Hub definition from the config schema, and the README's tables
generate:
	$(GO) run ./cmd/gen-schemas
	$(GO) run ./cmd/gen-meltano
	$(GO) test ./cmd/tap-pinterest -run '^TestReadmeTables$$' -count=1 -args -update-readme

## fuzz: fuzz the config, catalog, state and JSON parsers (FUZZTIME each)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzScan -fuzztime $(FUZZTIME) ./tap/jsonscan/
	$(GO) test -run '^$$' -fuzz FuzzValid -fuzztime $(FUZZTIME) ./tap/jsonscan/
	$(GO) test -run '^$$' -fuzz FuzzParseState -fuzztime $(FUZZTIME) ./tap/
	$(GO) test -run '^$$' -fuzz FuzzLoadConfig -fuzztime $(FUZZTIME) ./tap/
	$(GO) test -run '^$$' -fuzz FuzzParseCatalog -fuzztime $(FUZZTIME) ./catalog/

## chaos: the long fault-injection run (every fault class alone and together, larger data)
chaos:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m -run 'TestFaultSuite' ./cmd/tap-pinterest/ -args -chaos
	@cat bin/fault-report.txt

## bench: the side-by-side benchmark against the incumbent (see README, Performance)
bench: build
	$(GO) run ./cmd/bench --tap bin/tap-pinterest

## bench-smoke: a short run of the benchmark, for CI
bench-smoke: build
	$(GO) run ./cmd/bench --tap bin/tap-pinterest --smoke

## e2e: real targets (two target-postgres, target-jsonl, a CSV target) and Meltano, set up from scratch
e2e: build
	bash fixtures/e2e/run.sh

## version: the version make stamps into the binary, and its PEP 440 form for the wheel
version:
	@echo "$(VERSION) (wheel: $$($(GO) run ./cmd/wheel --pep440 '$(VERSION)'))"

# cross: the static binaries bin/release/<os>_<arch>/tap-pinterest for PLATFORMS
cross:
	@set -e; for p in $(PLATFORMS); do \
		echo "go build $$p $(VERSION)"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags "$(LDFLAGS)" \
			-o bin/release/$${p%/*}_$${p#*/}/tap-pinterest ./cmd/tap-pinterest; \
	done

## wheel: Python wheels dist/tap_pinterest-*.whl carrying the binary, one per PLATFORMS entry
wheel: cross
	@mkdir -p $(DIST) && rm -f $(DIST)/tap_pinterest-*.whl
	@set -e; for p in $(PLATFORMS); do \
		$(GO) run ./cmd/wheel --binary bin/release/$${p%/*}_$${p#*/}/tap-pinterest --platform $$p \
			--version '$(VERSION)' --date '$(DATE)' --out $(DIST); \
	done

## wheel-smoke: pip install the native wheel into a fresh venv and run it (offline)
wheel-smoke: wheel
	bash fixtures/wheel-smoke.sh $(DIST)

## release: static binaries for PLATFORMS, tar.gz archives with LICENSE/README/CHANGELOG, wheels, SHA256SUMS; then checks them
release: wheel
	@set -e; rm -f $(DIST)/tap-pinterest_*.tar.gz $(DIST)/SHA256SUMS; \
	for p in $(PLATFORMS); do \
		name=tap-pinterest_$(VERSION)_$${p%/*}_$${p#*/}; stage=bin/release/stage/$$name; \
		rm -rf $$stage && mkdir -p $$stage; \
		cp bin/release/$${p%/*}_$${p#*/}/tap-pinterest LICENSE README.md CHANGELOG.md $$stage/; \
		tar -C bin/release/stage --sort=name --owner=0 --group=0 --numeric-owner --mtime='$(DATE)' -cf - $$name | gzip -9n > $(DIST)/$$name.tar.gz; \
		echo $(DIST)/$$name.tar.gz; \
	done; \
	cd $(DIST) && sha256sum tap-pinterest_*.tar.gz tap_pinterest-*.whl > SHA256SUMS && cat SHA256SUMS
	TAP_PINTEREST_RELEASE_DIR=$(CURDIR)/$(DIST) TAP_PINTEREST_RELEASE_VERSION='$(VERSION)' TAP_PINTEREST_RELEASE_PLATFORMS='$(PLATFORMS)' \
		$(GO) test -count=1 -run 'TestRelease' ./cmd/wheel/

clean:
	rm -rf bin $(DIST)

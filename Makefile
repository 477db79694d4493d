# tap-pinterest — every command a developer or CI needs.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/tap-pinterest/tap-pinterest/tap.Version=$(VERSION)
export CGO_ENABLED ?= 0

.PHONY: all build demo test vet fmt-check lint lint-tool generate fuzz chaos bench bench-smoke e2e clean

all: build

## build: the static binaries bin/tap-pinterest and bin/fake-pinterest
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/tap-pinterest ./cmd/tap-pinterest
	$(GO) build -trimpath -o bin/fake-pinterest ./cmd/fake-pinterest

## demo: a full sync of all 13 streams against the fake Pinterest API (no credentials)
demo: build
	$(GO) run ./cmd/demo --tap bin/tap-pinterest

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

## generate: regenerate catalog/schemas from the OpenAPI spec
generate:
	$(GO) run ./cmd/gen-schemas

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

clean:
	rm -rf bin

# cognito-migrate: see README.md. Every target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

COGNITO_LOCAL := e2e/cognito-local/node_modules/.bin/cognito-local
GO_TEST_FLAGS ?=

.PHONY: help demo test build vet tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# The pinned emulator (e2e/cognito-local/package-lock.json), installed once.
$(COGNITO_LOCAL): e2e/cognito-local/package.json e2e/cognito-local/package-lock.json
	npm ci --prefix e2e/cognito-local --no-audit --no-fund --loglevel=error
	@touch $@

# The pinned AWS Lambda Runtime Interface Emulator (tools/rie/go.mod), built
# once; e2e/rie_test.go runs the function under it.
RIE := tools/rie/bin/aws-lambda-rie
$(RIE): tools/rie/go.mod tools/rie/go.sum
	go -C tools/rie build -trimpath -o bin/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

tools: $(COGNITO_LOCAL) $(RIE) ## install the pinned cognito-local, the Lambda runtime emulator and the Go modules
	go mod download

demo: tools ## rehearse a migration locally: two local pools, the function between them
	go run ./e2e/demo

test: tools vet ## every test, end-to-end included, with the race detector
	go test -race -count=1 $(GO_TEST_FLAGS) ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go mod tidy -diff

build: ## build ./bootstrap for this machine
	go build -trimpath -o bootstrap ./cmd/migrate-trigger

# ARCH is the function's GOARCH: arm64 (default, as the templates) or amd64.
ARCH ?= arm64
.PHONY: package
package: ## build dist/function.zip for Lambda (ARCH=arm64|amd64), reproducibly
	go run ./tools/package -arch $(ARCH) -out dist

# BENCH_FLAGS go to tools/bench, e.g. BENCH_FLAGS='-users 500 -cold-runs 20'.
BENCH_FLAGS ?=
.PHONY: bench
bench: tools ## measure the built function: latency, cold start, memory, size (docs/performance.md)
	go run ./tools/bench $(BENCH_FLAGS)

# make release writes what a release carries into RELEASE_DIR, reproducibly
# (same commit, VERSION and Go toolchain: same bytes, same SHA256SUMS):
#   cognito-migrate_<VERSION>_<os>_<arch>[.exe]  the CLI, one per RELEASE_PLATFORMS entry
#   function_<arch>.zip                          the Lambda package, one per RELEASE_ARCHES entry
#   SHA256SUMS                                   `sha256sum -c SHA256SUMS` checks them
# VERSION is stamped into the CLI (internal/version, shown by cognito-migrate --version); set it: make release VERSION=v1.2.3.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
RELEASE_DIR ?= dist/release
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
RELEASE_ARCHES ?= arm64 amd64
RELEASE_PACKAGER := go run ./tools/package
RELEASE_LDFLAGS = -s -w -buildid= -X github.com/cognito-migrate/cognito-migrate/internal/version.Version=$(VERSION)
.PHONY: release
release: ## build dist/release: the CLI for linux, darwin, windows (amd64, arm64), function_<arch>.zip, SHA256SUMS
	@[[ "$(VERSION)" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$$ ]] || { echo "make release: VERSION='$(VERSION)' is not a file-name-safe version; set one, e.g. make release VERSION=v1.2.3" >&2; exit 2; }
	rm -rf $(RELEASE_DIR) && mkdir -p $(RELEASE_DIR)
	@set -e; for p in $(RELEASE_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [[ $$os != windows ]] || ext=.exe; \
	  out=$(RELEASE_DIR)/cognito-migrate_$(VERSION)_$${os}_$${arch}$$ext; echo "go build $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -buildvcs=false -ldflags '$(RELEASE_LDFLAGS)' -o $$out ./cmd/cognito-migrate; \
	done
	@set -e; for a in $(RELEASE_ARCHES); do \
	  $(RELEASE_PACKAGER) -arch $$a -out $(RELEASE_DIR)/function-$$a; \
	  mv $(RELEASE_DIR)/function-$$a/function.zip $(RELEASE_DIR)/function_$$a.zip; rm -r $(RELEASE_DIR)/function-$$a; \
	done
	@export LC_ALL=C; cd $(RELEASE_DIR) && \
	  if command -v sha256sum >/dev/null; then sha256sum -- cognito-migrate_* function_*.zip; else shasum -a 256 -- cognito-migrate_* function_*.zip; fi > SHA256SUMS
	@echo "$(RELEASE_DIR):"; cat $(RELEASE_DIR)/SHA256SUMS

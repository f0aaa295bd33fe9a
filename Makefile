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

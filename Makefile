# torq-integrations: run `make help` for the targets.

GO        ?= go
TOOLS     := $(GO) tool -modfile=internal/tools/go.mod
OAPI      := $(TOOLS) oapi-codegen
CACHE     := $(CURDIR)/.cache
# An independent OpenAPI validator, pinned, installed into .cache on first use.
REDOCLY_VERSION := 2.77.0
REDOCLY   := $(CACHE)/redocly-$(REDOCLY_VERSION)/node_modules/.bin/redocly
GOFILES    = $(shell find . -name '*.go' -not -path './.cache/*')
# oasdiff has a module of its own: it needs another kin-openapi than the generator.
OASDIFF   := $(GO) tool -modfile=internal/tools/oasdiff/go.mod oasdiff
# The last released contract, a committed copy (a fresh clone has it; tags it
# may not have). make release-contract updates it when a release ships.
RELEASED  := internal/tools/oasdiff/released.yaml
# Which oasdiff checks count as breaking beyond its defaults: a removed (or
# renamed) optional response property breaks clients that read it.
SEVERITY  := internal/tools/oasdiff/severity-levels.txt

.PHONY: help generate check-generated check-breaking changelog release-contract lint lint-spec test bench bench-tools run

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

generate: ## regenerate generated/ from openapi.yaml
	$(GO) generate ./...

check-generated: ## fail when generated/ is not what openapi.yaml and the config produce
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	sed "s|^output:.*|output: $$tmp/integrations.gen.go|" generated/oapi-codegen.yaml > "$$tmp/config.yaml"; \
	$(OAPI) -config "$$tmp/config.yaml" openapi.yaml || exit 1; \
	if ! cmp -s "$$tmp/integrations.gen.go" generated/integrations.gen.go; then \
		diff -u generated/integrations.gen.go "$$tmp/integrations.gen.go" | head -40; \
		echo "generated/ is stale: openapi.yaml or generated/oapi-codegen.yaml changed. Run 'make generate' and commit the result." >&2; \
		exit 1; \
	fi; \
	sed "s|^output:.*|output: $$tmp/control.gen.go|" generated/control/oapi-codegen.yaml > "$$tmp/control-config.yaml"; \
	(cd internal/control && $(GO) tool -modfile=../tools/go.mod oapi-codegen -config "$$tmp/control-config.yaml" control.yaml) || exit 1; \
	if ! cmp -s "$$tmp/control.gen.go" generated/control/control.gen.go; then \
		diff -u generated/control/control.gen.go "$$tmp/control.gen.go" | head -40; \
		echo "generated/control is stale: internal/control/control.yaml or its config changed. Run 'make generate' and commit the result." >&2; \
		exit 1; \
	fi; \
	echo "generated/ is up to date"

check-breaking: ## fail when openapi.yaml breaks clients of the released contract (oasdiff)
	$(OASDIFF) breaking --fail-on ERR --severity-levels $(SEVERITY) --color never $(RELEASED) openapi.yaml

changelog: ## print what changed in openapi.yaml since the released contract, as markdown for CHANGELOG.md
	$(OASDIFF) changelog --severity-levels $(SEVERITY) --format markdown $(RELEASED) openapi.yaml

release-contract: ## record openapi.yaml as the released contract (run when a release ships)
	cp openapi.yaml $(RELEASED)

lint: ## gofmt, go vet, staticcheck, go mod tidy
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed on:" >&2; echo "$$out" >&2; exit 1; fi
	$(GO) vet ./...
	$(TOOLS) staticcheck ./...
	$(GO) mod tidy -diff

$(REDOCLY):
	npm install --silent --no-audit --no-fund --prefix $(CACHE)/redocly-$(REDOCLY_VERSION) @redocly/cli@$(REDOCLY_VERSION)

lint-spec: $(REDOCLY) ## validate openapi.yaml with an independent validator (needs Node.js and npm)
	$(REDOCLY) lint --skip-rule info-license openapi.yaml

# The race detector needs cgo and a C compiler; without one (a machine with
# only Go) the tests still run, without -race, and say so. CI always has it.
RACE := $(shell $(GO) env CC >/dev/null 2>&1 && command -v $$($(GO) env CC) >/dev/null 2>&1 && echo -race)

test: check-generated check-breaking lint ## go test -race plus the checks above
	@[ -n "$(RACE)" ] || echo "no C compiler found: running the tests without -race" >&2
	$(GO) test $(RACE) -count=1 ./...

# Soak length of `make bench`; BENCH_SOAK=10s shortens the run.
BENCH_SOAK ?= 60s
# The bench's tools: wrk from apt-get, Prism pinned under .cache (npm), and
# the benchstat pinned in internal/tools built into .cache/bin.
PRISM_VERSION := 5.16.0
PRISM     := $(CACHE)/prism-$(PRISM_VERSION)/node_modules/.bin/prism
BENCHSTAT := $(CACHE)/bin/benchstat

$(PRISM):
	command -v npm >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm; }
	npm install --silent --no-audit --no-fund --prefix $(CACHE)/prism-$(PRISM_VERSION) @stoplight/prism-cli@$(PRISM_VERSION)

$(BENCHSTAT): internal/tools/go.mod internal/tools/go.sum
	$(GO) build -modfile=internal/tools/go.mod -o $@ golang.org/x/perf/cmd/benchstat

bench-tools: $(PRISM) $(BENCHSTAT) ## install what make bench needs: wrk and taskset (apt-get), Prism (npm, into .cache), the pinned benchstat
	@command -v wrk >/dev/null && command -v taskset >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk util-linux; }

bench: bench-tools ## Go benchmarks (benchstat), per-test pair, load vs the limit and Prism, scale rows; writes internal/bench/RESULTS.md
	$(GO) run ./internal/bench/cmd/loadcompare -soak $(BENCH_SOAK) -prism $(PRISM) -benchstat $(BENCHSTAT) -out internal/bench/RESULTS.md

# run builds, then execs the binary: `go run` exits 1 after a Ctrl-C the
# stub answers with a clean exit 0.
run: ## run the stub server on 127.0.0.1:8080 (flags via ARGS="--addr 127.0.0.1:0 --rate-limit 50")
	@$(GO) build -o $(CACHE)/torq-stub ./cmd/torq-stub
	exec $(CACHE)/torq-stub $(ARGS)

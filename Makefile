# Plinth — two commands matter: `make dev` and `make test`.
GO        ?= go
GOFLAGS   ?=
PKGS      ?= ./...
# Fuzz budgets are execution counts, not durations: Go 1.26's fuzz coordinator
# can report its own -fuzztime deadline as a failure (golang/go#75804).
FUZZTIME  ?= 2000000x
# staticcheck runs at a pinned version through `go run` (built once into the
# Go build cache; go.mod is untouched).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: dev test test-go test-long deps vet lint fuzz fuzz-short bench build clean dashboard

## dev: run a development server with a private Postgres in ./.plinth
dev:
	$(GO) run ./cmd/plinth dev

## build: build the plinth binary into ./bin
build:
	$(GO) build -o bin/plinth ./cmd/plinth

## dashboard: rebuild the embedded admin UI into dashboard/dist (committed, so
## `go build` alone needs no node)
dashboard:
	cd dashboard && npm ci --no-audit --no-fund && npm run build

## test: install what is missing, then vet, lint, run every test and fuzz each
## target briefly (short forms; the long ones are test-long and fuzz)
test: deps vet lint test-go fuzz-short

test-go:
	$(GO) test $(GOFLAGS) -race -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

## lint: staticcheck over every package (tests included)
lint:
	$(STATICCHECK) $(PKGS)

## deps: install system packages the tests need (Postgres, Redis) when absent,
## and fetch every Go module (staticcheck's too) up front, so vet and lint print
## only findings
deps:
	@sh scripts/deps.sh
	@$(GO) mod download
	@$(STATICCHECK) -version >/dev/null 2>&1 || true

## test-long: the long forms of the load, fault and fuzz suites
test-long: deps
	PLINTH_TEST_LONG=1 $(GO) test -race -timeout 60m $(PKGS)

## fuzz: run each fuzz target for FUZZTIME executions (`make test` runs 30000);
## a target is "package:FuzzName"
FUZZ_TARGETS ?= ./tenants/query/:FuzzParse ./tenants/query/:FuzzCSVBody ./tenants/schema/:FuzzParseDefault \
	./tenants/sqlgen/:FuzzWriteBody ./tenants/sqlgen/:FuzzPayload ./tenants/provision/:FuzzValidRef \
	./platform/authz/:FuzzRuleCondition ./tenants/auth/:FuzzAuthInput
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

## fuzz-short: every fuzz target for a few seconds' worth of inputs (part of `make test`)
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=30000x

## bench: micro-benchmarks, then a short plinth-bench run against the floors
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./tenants/query/ ./tenants/sqlgen/ ./platform/authz/ ./platform/ratelimit/
	$(GO) test -run '^$$' -bench DataAPI -benchmem ./platform/server/
	$(GO) run ./cmd/plinth-bench --rounds 6 --concurrency 16 --json bench.json --svg bench.svg

clean:
	rm -rf bin .plinth

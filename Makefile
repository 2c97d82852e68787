# isms — the two commands:
#   make run    install what is missing, build, and start isms on a demo
#   make test   install what is missing, build, and run every test
# Other targets: build, debug-test (ASan+UBSan), fuzz, bench, format, clean.

SHELL := /bin/bash
PRESET ?= release
BUILD_DIR := build/$(PRESET)
ISMS := $(BUILD_DIR)/src/cli/isms
FUZZ_SECONDS ?= 60

# ccache hits across clones at different paths, and stays in a cache that outlives the clone.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
export CCACHE_DIR ?= $(HOME)/.cache/ccache

.PHONY: run test build deps debug-test fuzz bench format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET)

test: build
	@bash scripts/run-tests.sh $(BUILD_DIR)

run: build
	@bash scripts/demo.sh $(ISMS)

debug-test:
	@$(MAKE) --no-print-directory test PRESET=debug

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz
	@bash scripts/run-fuzzers.sh build/fuzz $(FUZZ_SECONDS)

bench: build
	@bash scripts/run-bench.sh $(BUILD_DIR)

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build

# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake. Every target first runs scripts/setup, which
# installs what is missing (a few seconds when all is present).
#   make run    build (release) and start `medverse demo` on http://127.0.0.1:8080
#   make test   build with ASan+UBSan, run the fuzzers briefly (clang), then
#               every test through ctest
#   make build  release build into build/release
#   make bench  release build, then run bench/run
#   make fuzz   libFuzzer targets with clang into build/fuzz (short runs)
#   make clean  remove build/
JOBS ?= $(shell nproc)
RUN_ARGS ?=
CMAKE_GEN := -G "Unix Makefiles"

.PHONY: all setup build run test bench fuzz clean format

all: build

setup:
	@scripts/setup

build: setup
	@cmake -S . -B build/release $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMV_TESTS=OFF >/dev/null
	@cmake --build build/release -j $(JOBS)

run: build
	./build/release/medverse demo $(RUN_ARGS)

test: setup
	@cmake -S . -B build/asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DMV_SANITIZE=ON >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@# libFuzzer smoke run with clang when available (before ctest, whose
	@# summary stays the last thing printed); the corpus replay runs in ctest.
	@if command -v clang >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-10}; \
	else echo "fuzz: clang not found, libFuzzer run skipped"; fi
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: build
	bench/run build/release/medverse

fuzz:
	@scripts/setup >/dev/null
	@cmake -S . -B build/fuzz $(CMAKE_GEN) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DMV_SANITIZE=ON -DMV_FUZZ=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
	@cmake --build build/fuzz -j $(JOBS) >/dev/null
	scripts/fuzz-run build/fuzz $${FUZZ_SECONDS:-30}

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

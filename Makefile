# cnn-steps: the two commands of the README, and a few more.
#   make demo   install what is missing, build, run every chapter, build the textbook site
#   make test   install what is missing, build, run every test (CTest)
#   make check  make test, then the unit tests again under sanitizers (make sanitize) and a
#               bounded fuzz run (make fuzz): what CI runs (.ci/run)
#   make docs   the textbook site alone (runs the chapters it shows first)
#   make sanitize  the unit tests under AddressSanitizer and UndefinedBehaviorSanitizer
#   make fuzz   build the libFuzzer targets with clang and run each for FUZZ_SECONDS
#   make bench  measure speed and memory beside PyTorch (installs python3-torch): chapter 07's
#               program at full length, then chapter 08's layers (ch08_layer_bench) and
#               chapter 11's upsampling layers (ch11_layer_bench)
#   make clean  remove the build folders
# Everything is incremental: a second run redoes only what changed.

BUILD      ?= build
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
# The sanitizer build: the library and the unit tests only, in a folder of their own, at -O0:
# it compiles about a fifth faster than -O1 and the unit tests still run in a minute or so.
# Compiling the library, the support code and the unit tests a second time with the
# sanitizers' checks took about 9 minutes on a 2-core AMD EPYC without AVX-512, which is why it
# is part of `make check` and CI, not of `make test`, which is to stay within 15 minutes on 2
# cores.
# -Wno-maybe-uninitialized: with -fsanitize, g++ 12 reports false "may be used
# uninitialized" warnings inside libstdc++'s <regex>; the Release build keeps the warning.
ASAN_BUILD ?= build-asan
SANITIZE   := -O0 -g1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# A sanitizer report is a failure: ASan and LeakSanitizer exit non-zero, and
# -fno-sanitize-recover=all makes every UBSan finding abort the run.
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
                 UBSAN_OPTIONS=print_stacktrace=1
# The fuzz targets (tests/fuzz), built with clang's libFuzzer, each run for FUZZ_SECONDS.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 10
FUZZ_CXX     ?= clang++-14
FUZZERS      := idx weights checkpoint

.PHONY: all demo test check docs build deps deps-bench bench clean sanitize fuzz

all: build

# The Debian packages are listed in .ci/packages.txt; only missing ones are installed.
deps:
	@.ci/install-packages
	@command -v npm >/dev/null || .ci/install-packages .ci/npm-packages.txt

# What only the benchmarks need (PyTorch, to compare with), listed in .ci/bench-packages.txt.
deps-bench:
	@.ci/install-packages .ci/bench-packages.txt

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCNN_WERROR=ON $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

docs: build
	cmake --build $(BUILD) --target docs -j $(JOBS)

demo: docs
	@echo
	@echo "Chapter outputs (plots, tables, captured output): $(abspath $(BUILD))/out/chNN/"
	@echo "The textbook:  file://$(abspath $(BUILD))/docs/html/index.html"

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check: test
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory fuzz

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Sanitize -DCNN_WERROR=ON -DCNN_BUILD_DOCS=OFF \
	  "-DCMAKE_CXX_FLAGS_SANITIZE=$(SANITIZE) -Wno-maybe-uninitialized" \
	  "-DCMAKE_EXE_LINKER_FLAGS_SANITIZE=-fsanitize=address,undefined" $(CMAKE_ARGS)

# The unit tests run in ASAN_SHARDS processes, JOBS at a time (tests/run_in_shards.sh): on
# one core they take about two minutes here.
ASAN_SHARDS ?= 16
sanitize: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) --target cnn_tests -j $(JOBS)
	cd $(ASAN_BUILD)/tests && $(SANITIZER_ENV) $(CURDIR)/tests/run_in_shards.sh ./cnn_tests $(JOBS) $(ASAN_SHARDS)

$(FUZZ_BUILD)/CMakeCache.txt:
	cmake -S tests/fuzz -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=$(FUZZ_CXX)

# Each target starts from its committed seeds (tests/fuzz/corpus/NAME) plus what earlier runs
# found ($(FUZZ_BUILD)/corpus/NAME, where new finds go); a crash is saved under
# $(FUZZ_BUILD)/crashes/NAME/ and fails the run, with the end of the fuzzer's log.
fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@for name in $(FUZZERS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$name $(FUZZ_BUILD)/crashes/$$name; \
	  log=$(FUZZ_BUILD)/fuzz_$$name.log; \
	  echo "fuzz_$$name: $(FUZZ_SECONDS) s (log: $$log)"; \
	  if ! $(FUZZ_BUILD)/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 \
	      -timeout=10 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$name/ \
	      $(FUZZ_BUILD)/corpus/$$name tests/fuzz/corpus/$$name > $$log 2>&1; then \
	    tail -n 60 $$log; echo "fuzz_$$name FAILED: see $(FUZZ_BUILD)/crashes/$$name/"; exit 1; \
	  fi; \
	  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|Done )' $$log; \
	  echo "corpus: $$(ls $(FUZZ_BUILD)/corpus/$$name | wc -l) inputs found, $$(ls tests/fuzz/corpus/$$name | wc -l) seeds"; \
	done

bench: deps-bench build
	$(BUILD)/chapters/ch07_fast_convolution --out $(BUILD)/bench --repeats 7
	GLIBC_TUNABLES=glibc.malloc.hugetlb=1 $(BUILD)/chapters/ch08_layer_bench --out $(BUILD)/bench
	GLIBC_TUNABLES=glibc.malloc.hugetlb=1 $(BUILD)/chapters/ch11_layer_bench --out $(BUILD)/bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

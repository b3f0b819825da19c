# cnn-steps: the two commands of the README, and a few more.
#   make demo   install what is missing, build, run every chapter, build the textbook site
#   make test   install what is missing, build, run every test (CTest)
#   make docs   the textbook site alone (runs the chapters it shows first)
#   make bench  measure speed and memory (chapter 07's program, full length; PyTorch if installed)
#   make clean  remove the build folder
# Everything is incremental: a second run redoes only what changed.

BUILD      ?= build
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all demo test docs build deps bench clean

all: build

# The Debian packages are listed in .ci/packages.txt; only missing ones are installed.
deps:
	@.ci/install-packages

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

bench: build
	$(BUILD)/chapters/ch07_fast_convolution --out $(BUILD)/bench --repeats 7

clean:
	rm -rf $(BUILD)

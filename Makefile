# Photon's developer entry points. `make demo` and `make test` work from a
# clean clone on a fresh Debian 12/13 machine: both install what is missing.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSA_DIR ?= build-tsa
PYTHON ?= python3
JOBS ?= $(shell nproc)
CMAKE ?= cmake
# ccache: hash paths relative to the checkout so fresh clones share the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: bench-profile all setup configure build test test-cpp test-python demo asan tsa format check-format install clean fuzz chaos dashboard-screenshots bench bench-compare bench-data bench-tune bench-serve bench-rllib

all: build

setup:
	@PYTHON=$(PYTHON) bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	@$(MAKE) --no-print-directory setup
	$(CMAKE) -S . -B $(BUILD_DIR) -G Ninja -DPHOTON_BUILD_PYTHON=ON \
	  -DPython_EXECUTABLE=$$(command -v $(PYTHON))

configure: $(BUILD_DIR)/build.ninja

build: setup configure
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

# Every C++ test through ctest, every Python test through pytest; fails if either fails.
test: build
	@status=0; \
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) || status=1; \
	cd $(CURDIR) && PYTHONPATH=$(CURDIR)/python:$(CURDIR)/$(BUILD_DIR)/python \
	  $(PYTHON) -m pytest -q python/tests || status=1; \
	exit $$status

test-cpp: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-python: build
	PYTHONPATH=$(CURDIR)/python:$(CURDIR)/$(BUILD_DIR)/python $(PYTHON) -m pytest -q python/tests

# Chaos for DURATION seconds (default 600): tests/chaos/chaos.py. A bounded run
# (CHAOS_DURATION, 90 s) is part of `make test` (python/tests/test_chaos.py).
DURATION ?= 600
chaos: build
	PYTHONPATH=$(CURDIR)/python:$(CURDIR)/$(BUILD_DIR)/python $(PYTHON) tests/chaos/chaos.py \
	  --duration $(DURATION)

# Refreshes docs/images/dashboard-*.png: the dashboard's pages in headless
# Chromium against a live cluster (python/tests/test_dashboard_ui.py).
dashboard-screenshots: build
	DASHBOARD_SCREENSHOTS_DIR=$(CURDIR)/docs/images \
	  PYTHONPATH=$(CURDIR)/python:$(CURDIR)/$(BUILD_DIR)/python \
	  $(PYTHON) -m pytest -q python/tests/test_dashboard_ui.py

# Photon's benchmark suite (bench/compare.py; results in bench/results/).
# `make bench-compare` (or `make bench COMPARE=ray`) also runs the same code on
# Ray, installed into .venv-ray, and rewrites docs/benchmarks.md's table.
# QUICK=1: shorter rounds, for development only.
# SCALABILITY=small|none: a smaller envelope (or none) than the full one.
BENCH_FLAGS = $(if $(filter ray,$(COMPARE)),--compare-ray) $(if $(QUICK),--quick) \
	$(if $(SCALABILITY),--scalability $(SCALABILITY))
bench: build
	$(PYTHON) bench/compare.py $(BENCH_FLAGS)
	$(PYTHON) bench/data_compare.py $(if $(filter ray,$(COMPARE)),--compare-ray) \
	  $(if $(QUICK),--size quick)

bench-compare: build
	$(PYTHON) bench/compare.py --compare-ray $(if $(QUICK),--quick) \
	  $(if $(SCALABILITY),--scalability $(SCALABILITY))
	$(PYTHON) bench/data_compare.py --compare-ray $(if $(QUICK),--size quick)
	$(PYTHON) bench/tune_train_compare.py --compare-ray $(if $(QUICK),--quick)
	$(PYTHON) bench/serve_compare.py --compare-ray $(if $(QUICK),--quick)
	$(PYTHON) bench/rllib_compare.py --compare-ray $(if $(QUICK),--quick)

# photon.data against Ray Data alone (bench/data_compare.py; ~15 min at full size).
bench-data: build
	$(PYTHON) bench/data_compare.py --compare-ray $(if $(QUICK),--size quick)

# photon.tune / photon.train against Ray Tune / Ray Train (docs/benchmarks.md's Tune section).
bench-tune: build
	$(PYTHON) bench/tune_train_compare.py --compare-ray $(if $(QUICK),--quick)

# photon.serve against Ray Serve 2.60 on the same code (bench/serve_benchmark.py).
bench-serve: build
	$(PYTHON) bench/serve_compare.py --compare-ray $(if $(QUICK),--quick)

# photon.rllib against RLlib 2.60 on the same code (bench/rllib_benchmark.py).
bench-rllib: build
	$(PYTHON) bench/rllib_compare.py --compare-ray $(if $(QUICK),--quick)

# Flame graphs (perf, every process of the cluster) of the metrics where
# Photon's lead over Ray is smallest, into docs/images/ (docs/benchmarks.md).
PROFILE_METRICS ?= 1_1_async_actor_calls 1_1_actor_calls single_client_wait_1k_refs
bench-profile: build
	for m in $(PROFILE_METRICS); do $(PYTHON) bench/flamegraph.py --metric $$m --out docs/images/flame-$$m.svg || exit 1; done

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

# C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer (not part of `make test`).
asan: setup
	$(CMAKE) -S . -B $(ASAN_DIR) -G Ninja -DPHOTON_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
	  -DPHOTON_BUILD_BENCHMARKS=OFF -DPHOTON_BUILD_EXAMPLES=OFF
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -E install_find_package

# The libraries and daemons built with clang and -Wthread-safety -Werror, so
# that the locking annotations (ABSL_GUARDED_BY, ...) are checked. CI runs it.
tsa: setup
	CC=clang CXX=clang++ $(CMAKE) -S . -B $(TSA_DIR) -G Ninja -DPHOTON_THREAD_SAFETY_ANALYSIS=ON \
	  -DPHOTON_BUILD_TESTS=OFF -DPHOTON_BUILD_BENCHMARKS=OFF -DPHOTON_BUILD_EXAMPLES=OFF
	$(CMAKE) --build $(TSA_DIR) -j $(JOBS)

# The protocol fuzzer with more cases than make test runs (FUZZ_CASES per method).
CASES ?= 200
fuzz: build
	cd $(BUILD_DIR) && FUZZ_CASES=$(CASES) ./bin/fuzz_test

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

check-format:
	git ls-files '*.h' '*.cc' | xargs clang-format --dry-run --Werror

install: build
	$(CMAKE) --install $(BUILD_DIR) --prefix $(or $(PREFIX),/usr/local)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSA_DIR)

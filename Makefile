# Thin wrapper over CMake. `make run` starts a node; `make test` runs every test.
# Both install what is missing first (Debian packages, libwebsockets with libevent).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
# make test runs each fuzz target this long after replaying its corpus
FUZZ_SMOKE_SECONDS ?= 3
PYTHON     ?= /usr/bin/python3
JOBS       ?= $(shell nproc)
LWS_PREFIX := $(abspath $(BUILD))/deps/lws
HIREDIS_PREFIX := $(abspath $(BUILD))/deps/hiredis

.PHONY: all deps build asan run cluster test unit integration integration-asan format clean \
        k8s-tools deploy-check sio-client fuzz-build fuzz fuzz-smoke slot-check

all: build

deps:
	@tools/install-deps.sh $(BUILD)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSR_SANITIZE=ON \
	    -DSR_LWS_PREFIX=$(LWS_PREFIX) -DSR_HIREDIS_PREFIX=$(HIREDIS_PREFIX) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

# libFuzzer targets (tests/fuzz) with ASan + UBSan, built by clang in their own tree.
fuzz-build: deps
	@CC=clang-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSR_FUZZ=ON \
	    -DSR_HIREDIS_PREFIX=$(HIREDIS_PREFIX) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) >/dev/null

# Each target for FUZZ_SECONDS: executions, coverage and crashes per target.
fuzz: fuzz-build
	@tools/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# What make test runs: every seed corpus replayed, then a few seconds per target.
fuzz-smoke: fuzz-build
	@tools/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS)

run: build
	$(BUILD)/syncrelay

cluster: build
	tools/dev-cluster

unit: build
	ctest --test-dir $(BUILD) --output-on-failure

# The stock socket.io-client (npm, pinned by tests/sio-client/package-lock.json)
# the device-sync tests drive, in $(BUILD)/deps/sio-client.
sio-client:
	@tools/install-sio-client.sh $(BUILD)

# Redis runs in cluster mode (one master, every slot), so a call touching keys
# of two hash slots fails the test that made it (docs/design.md); the ASan run
# below keeps a plain standalone Redis.
integration: build sio-client
	SYNCRELAY_BIN=$(abspath $(BUILD))/syncrelay SYNCRELAY_SIO_CLIENT=$(abspath $(BUILD))/deps/sio-client \
	    SYNCRELAY_REDIS_SLOT_CHECK=core $(PYTHON) -m pytest tests/integration -q

# The whole suite against a cluster-mode Redis (one master owning every slot):
# a script or command whose keys span two slots fails the test that sent it.
slot-check: build sio-client
	SYNCRELAY_BIN=$(abspath $(BUILD))/syncrelay SYNCRELAY_SIO_CLIENT=$(abspath $(BUILD))/deps/sio-client \
	    SYNCRELAY_REDIS_SLOT_CHECK=1 $(PYTHON) -m pytest tests/integration -q

# The same suite against the AddressSanitizer + UBSan build; a sanitizer report
# in any node's log fails the test that ran it.
integration-asan: asan sio-client
	SYNCRELAY_BIN=$(abspath $(ASAN_BUILD))/syncrelay SYNCRELAY_TIMEOUT_SCALE=3 \
	    SYNCRELAY_SIO_CLIENT=$(abspath $(BUILD))/deps/sio-client \
	    $(PYTHON) -m pytest tests/integration -q -m "not slow and not browser"

# Offline checks of Dockerfile, k8s/ and the Helm chart: helm lint, helm template,
# Kubernetes schema validation (tools/install-k8s-tools.sh installs helm and the
# validator into $(BUILD)/deps/k8s-tools once).
k8s-tools:
	@tools/install-k8s-tools.sh $(BUILD)

deploy-check: build k8s-tools
	cd tests/deploy && SYNCRELAY_BIN=$(abspath $(BUILD))/syncrelay \
	    SYNCRELAY_K8S_TOOLS=$(abspath $(BUILD))/deps/k8s-tools $(PYTHON) -m pytest -q

test: unit fuzz-smoke deploy-check integration integration-asan

format:
	clang-format -i shared/*.[ch] node/*.[ch] node/*/*.[ch] node/*/*/*.[ch] tests/unit/*.[ch] \
	    tests/unit/layers/*.c tests/fuzz/*.c tests/fuzz/support/*.[ch]

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

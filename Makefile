# o2ims-replay: `make serve` and `make test` work on a fresh machine that has only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 30205
PYTEST_ARGS ?=
# pti-o2 (the O-RAN SC O2IMS the reference tests run): a .tar.gz, a folder or URL@COMMIT; default: its pinned
# commit on GitHub. CI has a copy of that commit beside the clone.
PTIO2_SOURCE ?= $(abspath $(wildcard ../shared/reference/pti-o2/pti-o2-32eb967.tar.gz))
ifneq ($(strip $(PTIO2_SOURCE)),)
export PTIO2_SOURCE
endif

.PHONY: serve test bench fuzz cassettes compat typecheck clean system-deps reference-deps reference-o2ims test-deps \
	image-deps image image-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

# What `make serve` serves: the bundled recordings of the synthetic O2IMS. cassettes/reference/o-ran-sc/ records
# another O2IMS (pti-o2): serve it on its own, `make serve CASSETTES=cassettes/reference/o-ran-sc`.
CASSETTES ?= $(wildcard cassettes/reference/*.yaml)

## serve: start the replay server on the bundled cassettes (127.0.0.1:30205; CASSETTES= picks others)
serve: $(STAMP)
	$(BIN)/o2replay serve $(CASSETTES) --host $(HOST) --port $(PORT)

## test: mypy --strict on the package, then the whole test suite (bounded fuzz, soak and load tests included)
test: $(STAMP) reference-deps test-deps
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-deps: Debian packages the tests need (curl, for HTTPS and mutual TLS); installed only when missing
test-deps:
	@command -v curl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq curl >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq curl >/dev/null; fi; }

## system-deps: Debian packages the benchmarks need (wrk); installed only when missing
system-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi; }

## image-deps: Debian packages `make image` needs (podman, runc, debootstrap); installed only when missing
IMAGE_DEBS := podman runc debootstrap
image-deps:
	@missing=$$(for p in $(IMAGE_DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make image-deps: installing" $$missing; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## image: the serve and record images (localhost/o2ims-replay-{serve,record}), see docs/deploy.md
IMAGE_PREFIX ?= localhost/o2ims-replay
image: $(STAMP) image-deps
	IMAGE_PREFIX=$(IMAGE_PREFIX) PYTHON=$(BIN)/python bash deploy/container/images.sh build

## image-test: build both images, then run them: serve answers from a mounted folder, record writes to one
image-test: image
	O2REPLAY_IMAGE_PREFIX=$(IMAGE_PREFIX) $(BIN)/python -m pytest tests/images $(PYTEST_ARGS)

## reference-deps: Debian packages the reference O2IMS (pti-o2) needs: PostgreSQL, Redis; installed only when missing
reference-deps:
	@{ ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql redis-server >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq postgresql redis-server >/dev/null; fi; }

## reference-o2ims: run the O-RAN SC reference O2IMS (pti-o2) seeded with edge1-4 on loopback until Ctrl-C
reference-o2ims: $(STAMP) reference-deps
	$(BIN)/python -m tests.ptio2 $(REFERENCE_ARGS)

## bench: full benchmarks; results go to bench/results/ and are summarised in docs/performance.md
bench: $(STAMP) system-deps
	$(BIN)/python -m bench

## fuzz: long runs of the schemathesis (synthetic O2IMS) and fast-YAML-reader property tests
fuzz: $(STAMP)
	O2REPLAY_FUZZ_EXAMPLES=500 $(BIN)/python -m pytest tests/synthetic/test_schemathesis.py tests/cassettes/test_fastyaml.py $(PYTEST_ARGS)

## cassettes: regenerate cassettes/reference/ (the synthetic server) and cassettes/reference/o-ran-sc/ (pti-o2) through the recorder
cassettes: $(STAMP) reference-deps
	$(BIN)/python scripts/make_reference_cassettes.py cassettes/reference
	$(BIN)/python scripts/make_ptio2_cassettes.py cassettes/reference/o-ran-sc

## compat: recording and cassette tests on Python 3.12 with mitmproxy 12 (needs python3.12 on PATH)
PY312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	  $$p -c '' 2>/dev/null && { echo $$p; break; }; done)
compat:
	@test -n "$(PY312)" || { echo "make compat: no working python3.12 found"; exit 2; }
	test -x .venv312/bin/python || $(PY312) -m venv .venv312
	.venv312/bin/python -m pip install -q -e '.[test]'
	.venv312/bin/python -c "import mitmproxy.version as v; print('mitmproxy', v.VERSION)"
	.venv312/bin/python -m pytest tests/record tests/cassettes $(PYTEST_ARGS)

## typecheck: mypy --strict on replayer/ (also the first step of `make test`)
typecheck: $(STAMP)
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) .venv312 build *.egg-info
	find . -name .o2replay-cache -type d -prune -exec rm -rf {} +

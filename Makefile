# Overlap Clip: `make demo` and `make test` set up everything they need on Debian 12.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# PyQGIS exists only for Debian's system Python; the venv sees it through --system-site-packages.
SYSTEM_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
# QGIS and GDAL, a virtual screen for the desktop tests, chattr (e2fsprogs) for the read-only-folder test.
# The service's rasterio and shapely come from Debian too: one GDAL (and GEOS) in a process, never a wheel's;
# the page's tests drive Debian's chromium (no browser can be downloaded); README's curl example is tested.
DEBIAN_PACKAGES := qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-venv xvfb xauth e2fsprogs python3-pyproj \
	python3-rasterio python3-shapely chromium chromium-driver curl
# Test tools, the same on every QGIS but pytest-qgis: 2.1.0 is the last release made for QGIS < 3.34.
# Dask's distributed runs the cluster tests; it goes into .venv only, never into QGIS's own Python.
TEST_PACKAGES := pytest==8.3.5 hypothesis==6.131.0 ruff==0.11.8 mypy==1.15.0 flake8==7.2.0 flake8-qgis==2.1.0 \
	qgis-manage==0.15.0 distributed==2026.8.0
PYTEST_QGIS_BEFORE_334 := pytest-qgis==2.1.0
PYTEST_QGIS := pytest-qgis==5.0.2
# The web service (pygeoapi: 0.21.0 is the last release for Python 3.11, 0.22 and later need 3.12) and the
# OGC API client, the browser driver and the OpenAPI fuzzer its tests use (selenium needs urllib3 2, which
# requests 2.32 supports; schemathesis 4.1.4 runs on the hypothesis above).
SERVICE_PACKAGES := OWSLib==0.35.0 selenium==4.38.0 requests==2.32.5 schemathesis==4.1.4
PYGEOAPI_BEFORE_312 := pygeoapi==0.21.0
PYGEOAPI := pygeoapi==0.24.0
# `make serve`: where the service listens, and where it keeps uploads and jobs.
HOST ?= 127.0.0.1
PORT ?= 5000
SERVICE_FOLDER ?= build/service

# Nothing below is decided when make reads this file: `deps` may install QGIS in the same run, so
# every look at the machine is a shell expression that the recipe evaluates when it runs.
# Debian's /usr/bin/qgis_process wrapper passes --noversioncheck, which the binary rejects.
QGIS_PROCESS = $$(command -v qgis_process.bin || command -v qgis_process || echo qgis_process)
export QT_QPA_PLATFORM ?= offscreen

# The QGIS profile root: QGIS_CUSTOM_CONFIG_PATH when set (as qgis_process reads it), else the user's.
# `make demo`, `make test`, `make bench` and `make screenshot` use a profile of their own in build/;
# only `make install` run by itself touches the user's.
PROFILE_ROOT = $(or $(QGIS_CUSTOM_CONFIG_PATH),$(HOME)/.local/share/QGIS/QGIS3)
PLUGIN_DIR = $(PROFILE_ROOT)/profiles/default/python/plugins/overlap_clip_plugin
demo test bench screenshot: export QGIS_CUSTOM_CONFIG_PATH = $(CURDIR)/build/qgis-profile
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

.PHONY: demo test install stage deps venv lint bench zip screenshot translations matrix clean serve container \
	container-test

demo: install venv
	$(PY) tests/demo.py --qgis-process "$(QGIS_PROCESS)" --out build/demo

test: install venv
	$(PY) -m pytest tests

# Installs the Debian packages that are missing, and only those.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: Makefile | deps
	$(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)
	version=$$($(SYSTEM_PYTHON) -c "from qgis.core import Qgis; print(Qgis.QGIS_VERSION_INT)"); \
	  pytest_qgis=$$([ "$$version" -lt 33400 ] && echo "$(PYTEST_QGIS_BEFORE_334)" || echo "$(PYTEST_QGIS)"); \
	  pygeoapi=$$($(PY) -c "import sys; print('$(PYGEOAPI)' if sys.version_info >= (3, 12) else '$(PYGEOAPI_BEFORE_312)')"); \
	  echo "QGIS $$version: test tools $(TEST_PACKAGES) $$pytest_qgis; service $$pygeoapi $(SERVICE_PACKAGES)"; \
	  $(PY) -m pip install -q --disable-pip-version-check $(TEST_PACKAGES) "$$pytest_qgis" "$$pygeoapi" $(SERVICE_PACKAGES)
	@$(PY) -c "import qgis.core, osgeo.gdal, numpy, pytest_qgis, pygeoapi, owslib, selenium, schemathesis"
	@# One GDAL in a process: the service's rasterio must be Debian's, built on the GDAL of osgeo.
	@$(PY) -c "import rasterio, osgeo.gdal; assert rasterio.__gdal_version__ == osgeo.gdal.__version__, \
	  (rasterio.__gdal_version__, osgeo.gdal.__version__)" && touch $@

# The web service for people without QGIS (README, "Without QGIS"): the page and OGC API - Processes.
serve: venv
	$(PY) -m overlap_clip_plugin.service --host $(HOST) --port $(PORT) --folder $(SERVICE_FOLDER)

# The plugin folder as QGIS wants it: the package, metadata.txt and LICENSE, nothing compiled.
stage:
	rm -rf build/plugin
	mkdir -p build/plugin/overlap_clip_plugin
	cp -r overlap_clip_plugin/. build/plugin/overlap_clip_plugin/
	cp metadata.txt LICENSE build/plugin/overlap_clip_plugin/
	find build/plugin \( -name __pycache__ -o -name '*.pyc' \) -prune -exec rm -rf {} +

# Copies the plugin into the QGIS profile and enables it for qgis_process and the desktop.
install: deps stage
	rm -rf "$(PLUGIN_DIR)"
	mkdir -p "$(dir $(PLUGIN_DIR))"
	cp -r build/plugin/overlap_clip_plugin "$(PLUGIN_DIR)"
	@out=$$("$(QGIS_PROCESS)" plugins enable overlap_clip_plugin 2>&1) && echo "Enabled overlap_clip_plugin in $(PROFILE_ROOT)" \
	  || { echo "$$out" | grep -q "already enabled" && echo "overlap_clip_plugin is enabled in $(PROFILE_ROOT)"; } \
	  || { echo "$$out"; exit 1; }

# Style, types, and Qt6 readiness: flake8-qgis's Qt6 rules (QGS4xx: removed Qt names, QVariant types,
# compiled resources) and tests/qt6_check.py, which finds the unscoped Qt and QGIS enums those rules miss.
lint: venv
	$(VENV)/bin/ruff check overlap_clip_plugin tests
	$(VENV)/bin/ruff format --check overlap_clip_plugin tests
	$(VENV)/bin/mypy
	$(VENV)/bin/flake8 --select QGS4 overlap_clip_plugin tests
	$(PY) tests/qt6_check.py overlap_clip_plugin tests

# Refreshes the README's screenshots of the desktop (the GUI test under Xvfb) and of the service's page
# (with the CJK fonts that make its Chinese readable).
screenshot: install venv
	@dpkg-query -W -f='$${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" \
	  || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-noto-cjk
	OVERLAPCLIP_UPDATE_SCREENSHOT=1 $(PY) -m pytest tests/test_gui.py tests/test_page.py

# Refreshes the translation sources (overlap_clip_plugin/i18n/*.ts) from the code and compiles them.
translations: venv
	@lrelease -version >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q qttools5-dev-tools
	$(PY) tests/translations.py update
	$(PY) tests/translations.py compile

# Speed and memory against GDAL's own tools, measured in one run (see README, "Performance").
bench: install venv
	$(PY) tests/benchmark.py all

# README's two commands in brand-new Debian 12, 13 and unstable roots (QGIS 3.22, 3.40, 3.44); as root.
matrix:
	.ci/matrix

# The service as an image (Containerfile), built and run with podman, as root. No registry is reachable here:
# the base is Debian 12 made from Debian's archive, leaving out documentation, manual pages and translations as
# debian:bookworm-slim does. containers.conf: crun cannot set rlimits here and refuses hybrid cgroups, so runc,
# and no default ulimits. pip in the build reaches PyPI with this machine's pip.conf and certificate authorities,
# given as build secrets: the image keeps neither.
CONTAINER_IMAGE := localhost/overlap-clip:latest
CONTAINER_BASE := localhost/overlap-clip-base:bookworm
CONTAINER_DPKG := path-exclude=/usr/share/doc/* path-include=/usr/share/doc/*/copyright path-exclude=/usr/share/man/* \
	path-exclude=/usr/share/info/* path-exclude=/usr/share/locale/*
container container-test: export CONTAINERS_CONF = $(CURDIR)/build/containers.conf

container: build/containers.conf
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="podman runc mmdebstrap"
	@# Imported from a whole file only: a root cut short must not become the base.
	podman image exists $(CONTAINER_BASE) || { \
	  mmdebstrap --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' \
	    $(foreach option,$(CONTAINER_DPKG),--dpkgopt='$(option)') bookworm build/container-base.tar \
	  && podman import build/container-base.tar $(CONTAINER_BASE) && rm build/container-base.tar; }
	podman build --network=host --build-arg BASE=$(CONTAINER_BASE) \
	  $$([ -f /etc/pip.conf ] && echo --secret id=pipconf,src=/etc/pip.conf) \
	  $$([ -f /etc/ssl/certs/ca-certificates.crt ] && echo --secret id=cacert,src=/etc/ssl/certs/ca-certificates.crt) \
	  -t $(CONTAINER_IMAGE) .
	@# The images earlier builds left untagged, and no others.
	podman image prune --force --filter label=org.opencontainers.image.title=overlap-clip >/dev/null

build/containers.conf: Makefile
	mkdir -p $(@D)
	printf '# Written by make (see Makefile, "The service as an image").\n[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' >$@

# tests/test_container.py: the image runs a pair for OWSLib as the core does (skipped unless named here).
container-test: container venv
	OVERLAPCLIP_CONTAINER=$(CONTAINER_IMAGE) $(PY) -m pytest tests/test_container.py

# overlap_clip_plugin.VERSION.zip, named as the plugin repository names uploads, for Plugins > Install
# from ZIP and the repository; the tests check it with qgis-manage's artifact validator.
VERSION := $(shell sed -n 's/^version=//p' metadata.txt)
ZIP := overlap_clip_plugin.$(VERSION).zip
zip: stage
	rm -f overlap_clip_plugin.*zip
	cp README.md build/plugin/overlap_clip_plugin/
	cd build/plugin && $(SYSTEM_PYTHON) -m zipfile -c ../../$(ZIP) overlap_clip_plugin
	@echo "Wrote $(ZIP)"

clean:
	rm -rf build $(VENV) overlap_clip_plugin.*zip .pytest_cache .hypothesis .mypy_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

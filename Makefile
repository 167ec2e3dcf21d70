# Two commands for a newcomer: `make lab` and `make test`. Both create .venv
# and install the project on first use; later runs skip the install unless
# pyproject.toml or requirements.lock changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The offline guard: every Python process of a test run (pytest and the
# notebook kernels it starts) refuses network connections.
OFFLINE := PYTHONPATH=$(CURDIR)/tests/offline COURSE_OFFLINE=1
# Where two test workers each run notebooks with two torch threads on two
# cores (test-unit, test-grading), OpenMP threads that spin while they wait
# steal the cores from each other (one CNN epoch measured 25.8 s spinning vs
# 1.2 s passive), so they wait passively there. Where one notebook runs at a
# time (test-notebooks, test-seeds, test-portable) spinning is faster: notebook
# 21 takes 67.6 s spinning vs 87.8 s passive. Neither changes any result.
SHARE   := OMP_WAIT_POLICY=PASSIVE
NBVAL   := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup lab reset test test-unit test-notebooks test-seeds test-grading test-portable student notebooks clean lock

$(PY):
	$(PYTHON) -m venv $(VENV)

# Exact versions from requirements.lock, then the project itself on top.
$(STAMP): pyproject.toml requirements.lock | $(PY)
	$(PY) -m pip install -r requirements.lock
	$(PY) -m pip install --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Refresh requirements.lock: the newest versions pyproject.toml allows, for
# Python 3.11 on Linux x86-64; then `make notebooks` and `make test`.
# `make lock LOCK_ARGS=` keeps the current pins and only follows changes to
# pyproject.toml. pip-tools is installed into .venv.
LOCK_ARGS ?= --upgrade

lock: | $(PY)
	$(PY) -m pip install --quiet 'pip-tools>=7.4'
	CUSTOM_COMPILE_COMMAND='make lock' $(VENV)/bin/pip-compile --quiet $(LOCK_ARGS) \
	  --extra test --extra site --extra browser --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	  --output-file requirements.lock pyproject.toml

# JupyterLab refuses to run as root unless told; containers often run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# A learner works in student/ (solutions removed); `make student` refreshes the
# copies there without ever overwriting one the learner has edited. The
# instructor notebooks, solutions included, stay in notebooks/.
lab: student
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) student/00_start_here.ipynb

# Unit tests, exercise structure and the nbgrader round trip of Part 1 (two
# workers), then every notebook once under nbval in strict mode, one at a
# time so that the per-notebook wall times it prints are honest. During that
# one run, conftest.py also checks that every graded cell fails on the
# learner's stub. Both halves always run.
test: setup
	@status=0; \
	$(MAKE) --no-print-directory test-unit || status=1; \
	$(MAKE) --no-print-directory test-notebooks || status=1; \
	exit $$status

test-unit: setup
	$(OFFLINE) $(SHARE) $(PY) -m pytest tests -n 2 --dist loadfile --ignore=tests/browser

test-notebooks: setup
	$(OFFLINE) $(PY) -m pytest $(NBVAL) notebooks

# Every assert of every notebook under other seeds (COURSE_SEED, read by
# setup_notebook). Outputs are not compared: other seeds draw other data and
# train other weights; what must hold is every claim. Not part of `make test`
# (time); run it before resolving any change to an experiment.
SEEDS ?= 1 2
test-seeds: setup
	@status=0; for seed in $(SEEDS); do \
	  echo "== COURSE_SEED=$$seed"; \
	  COURSE_SEED=$$seed COURSE_CHECK_STUBS=0 $(OFFLINE) $(PY) -m pytest --nbval-lax \
	    --nbval-current-env -p no:cacheprovider notebooks || status=1; \
	done; exit $$status

# nbgrader's generate + autograde round trip for every part (make test does Part 1).
test-grading: setup
	COURSE_GRADING_PARTS=all $(OFFLINE) $(SHARE) $(PY) -m pytest tests/test_nbgrader_roundtrip.py -n 2

# The notebooks in strict mode as another x86 CPU computes them: torch's AVX2
# kernels instead of AVX-512, OpenBLAS's Haswell kernels, NumPy without its
# AVX-512 loops. A cell whose untagged output changes here is one that a
# learner's laptop would not reproduce.
FOREIGN_CPU := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 \
  OPENBLAS_CORETYPE=Haswell NPY_DISABLE_CPU_FEATURES="AVX512F AVX512CD AVX512VL AVX512BW AVX512DQ \
  AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"
test-portable: setup
	$(FOREIGN_CPU) $(OFFLINE) $(PY) -m pytest $(NBVAL) -p no:cacheprovider notebooks

# Learner copies (solutions removed) in student/; never overwrites your work.
student: setup
	$(PY) -m course_utils.exercises --source notebooks --target student

# A fresh student copy of one notebook: `make reset NB=10` (or NB=10_optimizers);
# the replaced copy is kept in student/.replaced/.
reset: setup
	@test -n "$(NB)" || { echo "say which notebook: make reset NB=10_optimizers"; exit 2; }
	$(PY) -m course_utils.exercises --reset "$(NB)"

# Re-run every notebook top to bottom and save its outputs (after editing one).
notebooks: setup
	$(PY) -m jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False notebooks/*.ipynb notebooks/*/*.ipynb

# The static site in build/site/ (home page build/site/index.html): every
# notebook as a page in course order, the learner's copy (solutions and hidden
# tests removed) with its committed outputs, nothing executed; MathJax served
# from the site (node_modules/mathjax), no CDN. docs/ holds the Sphinx set-up.
# Sphinx warnings (a broken reference, a page missing from the toc) fail it.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

.PHONY: site
site: setup $(NODE_STAMP)
	rm -rf build/site-src build/site
	$(PY) docs/prepare_site.py --out build/site-src
	$(VENV)/bin/sphinx-build -b html -q -W --keep-going -c docs build/site-src build/site
	@echo "site: build/site/index.html"

# Lecture decks in build/slides/, one NN_name.slides.html per notebook: the
# learner's copy (solutions and hidden tests removed) with its committed
# outputs, nothing executed, as reveal.js slides (nbconvert --to slides, the
# template in slides/templates); reveal.js and MathJax copied beside the decks
# from node_modules, no CDN: a deck opens offline from the file system. The
# slideshow metadata comes from slides/slideshow.py (run it after editing a
# notebook: `$(PY) slides/slideshow.py notebooks/<part>/<NN>_<name>.ipynb`).
.PHONY: slides
slides: setup $(NODE_STAMP)
	$(PY) slides/build.py --out build/slides

# tests/site builds the site (MathJax from node_modules) and the slides (reveal.js).
test-unit: $(NODE_STAMP)

# The course in a real browser (tests/browser; test-unit leaves it out, .ci/run
# runs it after `make test`): JupyterLab from .venv on a free local port with a
# random token, serving fresh learner copies in a temporary folder, driven by
# Playwright in Debian's headless Chromium (/usr/bin/chromium: apt-get install
# chromium chromium-driver; no browser is downloaded). A sample of notebooks is
# run as a learner would (course map, an explorer, training, animations), then
# the built site's home and a notebook page are opened and one lecture deck is
# stepped through. Screenshots in build/browser/.
.PHONY: test-browser
test-browser: setup site slides
	$(OFFLINE) $(PY) -m pytest tests/browser -p no:cacheprovider -v -s --durations=5

clean:
	rm -rf student release submitted autograded feedback gradebook.db .pytest_cache

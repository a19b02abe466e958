# The two commands of this project (see README.md):
#   make book [PROFILE=paper|ci] [RERUN=stale|all] [CHAPTER=name]
#                                  set up .venv and build the HTML book: the paper profile renders the recorded
#                                  paper book (book/record/paper/), executing only what RERUN or CHAPTER asks;
#                                  PROFILE=ci executes every chapter
#   make test                      set up .venv, style and types (make lint), unit tests + notebooks (ci profile)
#                                  + the built book
#   make lint                      ruff (lint and format) over the project, mypy over kaleido_lib
#   make bench [PROFILE=paper|ci]  set up .venv, run the benchmark suite (benchmarks/), write its page
#   make record [CHAPTER=name]     run chapters in the paper profile and record them in book/record/paper/
#   make units [CHAPTER=depth_study BUDGET=2h]  train and record a chapter's missing units (committed records)
PROFILE ?= paper
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test lint bench record units reference spread venv clean
BUDGET ?= 2h
RERUN ?= none

venv: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

book: $(STAMP)
	$(VPY) -m kaleido_lib.book.build book --profile $(PROFILE) --rerun $(RERUN) $(if $(CHAPTER),--only $(CHAPTER))

# Run chapters (CHAPTER, or all) in the paper profile and record them: notebook, results and manifest each.
record: $(STAMP)
	$(VPY) -m kaleido_lib.book.record chapters $(if $(CHAPTER),--only $(CHAPTER))

# Unit tests and nbval over every chapter in the ci profile (against the stored reference outputs), side by
# side with the ci-profile book built into _build/citest, whose pages are then checked in headless Chromium.
test: lint
	$(VPY) -m kaleido_lib.book.build test

# Style and types, configured in pyproject.toml: ruff's lint rules and formatting, mypy over kaleido_lib/.
lint: $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VPY) -m mypy

# The benchmark suite (benchmarks/README.md): the performance chapter in PROFILE, its page and results.
bench: $(STAMP)
	$(VPY) benchmarks/run.py --profile $(PROFILE)

# Train and record the paper profile's units of CHAPTER that have no record, for at most BUDGET (README: long work).
units: $(STAMP)
	$(VPY) -m kaleido_lib.book.record units --chapter $(or $(CHAPTER),depth_study) --budget $(BUDGET)

# Re-record the ci-profile numbers of the check cells in tests/reference/ (it prints what changed; review it).
reference: $(STAMP)
	$(VPY) -m kaleido_lib.book.build reference

# Re-measure the spread of every checked number under thread counts, vector kernels, MKL paths and oneDNN off
# (seven ci runs of every chapter, about 30 min on two cores); writes tests/reference/spread.json.
spread: $(STAMP)
	$(VPY) -m kaleido_lib.book.build spread --perturbations threads-1 threads-2 aten-default aten-avx2 mkl-avx2 mkl-sse4_2 no-mkldnn

clean:
	rm -rf _build book/*.ipynb book/results book/figures book/.staging book/timings.json book/command_timings.json

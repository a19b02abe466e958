# The two commands of this project (see README.md):
#   make book [PROFILE=paper|ci]   set up .venv, execute every chapter, build the HTML book
#   make test                      set up .venv, unit tests + notebooks (ci profile) + the built book
PROFILE ?= paper
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test reference venv clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

book: $(STAMP)
	$(VPY) -m kaleido_lib.build book --profile $(PROFILE)

# Unit tests, then nbval over every chapter in the ci profile against the stored reference outputs,
# then the ci-profile book built into _build/citest and checked in headless Chromium.
test: $(STAMP)
	@status=0; \
	$(VPY) -m kaleido_lib.build book --profile ci --root _build/citest || status=1; \
	$(VPY) -m kaleido_lib.build nbval-prepare --dest _build/nbval || status=1; \
	KALEIDO_TEST_BOOK=_build/citest/_build/html $(VPY) -m pytest tests _build/nbval --nbval-lax -p nbval || status=1; \
	exit $$status

# Re-record the ci-profile outputs of the check cells (review the diff before committing).
reference: $(STAMP)
	$(VPY) -m kaleido_lib.build reference

clean:
	rm -rf _build book/*.ipynb book/results book/figures book/.staging book/timings.json

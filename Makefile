# csmsim — see README.md. `make run` and `make test` are the two commands.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/csmsim
OUT   := out
REPORTS := reports
GINKGO := $(GO) tool ginkgo
# Tools the tests use as outside referees, and the Debian packages that
# bring them: Hercules' DASD utilities, real FTP clients and a real FTP server.
DEP_TOOLS := dasdinit:hercules dasdlist:hercules ckd2cckd:hercules cckd2ckd:hercules cckdcdsk:hercules \
	curl:curl lftp:lftp python3:python3 pure-ftpd:pure-ftpd pure-pw:pure-ftpd openssl:openssl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build run test bench fuzz deps vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/csmsim

# Installs what the tests need and is missing (as root, or with sudo).
deps:
	@missing=""; for tp in $(DEP_TOOLS); do t=$${tp%%:*}; p=$${tp##*:}; \
		command -v $$t >/dev/null || missing="$$missing $$p"; done; \
	missing=$$(echo $$missing | xargs -n1 | sort -u | xargs); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi; \
	for tp in $(DEP_TOOLS); do t=$${tp%%:*}; command -v $$t >/dev/null || { echo "$$t still missing after apt-get install" >&2; exit 1; }; done
	$(GO) mod download

# The sample scenario (scenarios/sample.yaml) arrives with the managed side;
# until then `make run` rehearses every principal-side step of the seed's
# sample scenario through the CLI on a fresh state directory, then the
# nucleus path on DASD: the level's CMS nucleus dump restored with DDR
# REORDER onto the recomp cylinders of a 0190 volume, checked by Hercules.
P   := $(OUT)/principal
SM  := $(BIN) servmgr --state $(P)
run: deps build
	@rm -rf $(OUT) && mkdir -p $(OUT)
	$(BIN) principal init --state $(P)
	$(BIN) cms --state $(P) ENROLL ADMIN MAINTCSM VMPSFS:
	$(BIN) fixtures sample --state $(P)
	$(SM) initialize 720
	$(SM) srvlvl add 720 vm010102_BLD1 basedon BASE nonesm desc Initial RSU Install
	$(SM) srvlvl service 720 vm010102_bld1 all rsu0801
	$(SM) 'system add 720 vm01 vm010102_bld1 nonesm hostname vm01.Washington.ibm.com commtype ftp (port 4535 norequire)'
	$(SM) srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1 nonesm desc August RSU Install
	$(SM) srvlvl service 720 vm010802_BLD2 all rsu0802
	$(SM) srvlvl package 720 vm010802_BLD2
	$(SM) srvlvl setlock 720 vm010802_BLD2 on
	$(SM) srvlvl query 720
	$(SM) system query 720
	-$(SM) 'srvlvl send 720 vm010802_BLD2 vm01 (test'
	$(BIN) dasd init $(OUT)/m01res.390 3390 --cyls 120 --volser M01RES
	$(BIN) ddr restore '$(P)/cms/sfs/VMPSFS/CSM720/VM010802_BLD2/TESTBLD/CMSNUC.DDRDUMP' $(OUT)/m01res.390 --reorder 110
	$(BIN) dasd list $(OUT)/m01res.390 110 0
	ckd2cckd -q -r $(OUT)/m01res.390 $(OUT)/m01res.cckd && cckdcdsk -3 -ro $(OUT)/m01res.cckd && echo "cckdcdsk -3: $(OUT)/m01res.390 is clean after REORDER"
	@echo "run: the principal is in $(P); SEND needs the managed side (next issue), so it ends RC=8 above"

vet:
	$(GO) vet ./...

test: deps vet
	@mkdir -p $(REPORTS)
	@status=0; $(GINKGO) -r --keep-going --race --randomize-all --trace $(if $(CI),--no-color) \
		--junit-report=junit.xml --output-dir=$(REPORTS) ./... || status=$$?; \
	sed -n 's/.*<testsuites tests="\([0-9]*\)" disabled="\([0-9]*\)" errors="\([0-9]*\)" failures="\([0-9]*\)".*/\1 \2 \3 \4/p' $(REPORTS)/junit.xml | \
		{ read -r tests disabled errors failures && echo "specs: $$((tests - disabled - errors - failures)) passed, $$((errors + failures)) failed"; }; \
	exit $$status

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin $(OUT) $(REPORTS)

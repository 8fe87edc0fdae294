# csmsim — see README.md. `make run` and `make test` are the two commands.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/csmsim
OUT   := out
REPORTS := reports
GINKGO := $(GO) tool ginkgo
HERCULES_TOOLS := dasdinit dasdlist ckd2cckd cckd2ckd cckdcdsk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build run test bench fuzz deps vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/csmsim

# Installs what the tests need and is missing: Hercules' DASD utilities.
deps:
	@missing=""; for t in $(HERCULES_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian package hercules (missing:$$missing)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq hercules >/dev/null; \
	fi; \
	for t in $(HERCULES_TOOLS); do command -v $$t >/dev/null || { echo "$$t still missing after installing hercules" >&2; exit 1; }; done
	$(GO) mod download

# The sample scenario arrives with the engine; until then, the DASD + DDR
# demo: a nucleus-like range dumped and restored with REORDER, then checked
# by Hercules' own cckdcdsk.
run: deps build
	@rm -rf $(OUT) && mkdir -p $(OUT)
	$(BIN) dasd init $(OUT)/bldnuc.390 3390 --cyls 20 --volser BLDNUC
	$(BIN) dasd fill $(OUT)/bldnuc.390 --from 2 --to 4 --seed 720
	$(BIN) ddr dump $(OUT)/bldnuc.390 --from 2 --to 4 --out $(OUT)/cmsnuc.ddr
	$(BIN) dasd init $(OUT)/mnt190.390 3390 --cyls 120 --volser M01RES
	$(BIN) ddr restore $(OUT)/cmsnuc.ddr $(OUT)/mnt190.390 --reorder 100
	$(BIN) dasd list $(OUT)/mnt190.390 100 0
	@printf 'INPUT 0190 3390 M01RES\nOUTPUT 0191 3390 BLDNUC\nCOPY 100 TO 102 REORDER TO 10\n' > $(OUT)/copyback.ddr
	$(BIN) ddr run $(OUT)/copyback.ddr --unit 0190=$(OUT)/mnt190.390 --unit 0191=$(OUT)/bldnuc.390
	ckd2cckd -q -r $(OUT)/mnt190.390 $(OUT)/mnt190.cckd && cckdcdsk -3 -ro $(OUT)/mnt190.cckd && echo "cckdcdsk -3: $(OUT)/mnt190.390 is clean after REORDER"

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

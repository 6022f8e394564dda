# Single entry point for development. On a fresh clone `make test` installs everything it needs
# (pinned by the .lock files) into .venv and .venv-sdk, then runs every check CI runs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
DEV := .venv
SDK := .venv-sdk
UV_VERSION_FILE := requirements-bootstrap.txt
DEV_STAMP := $(DEV)/.installed-$(shell cat $(UV_VERSION_FILE) requirements-dev.lock | cksum | cut -d' ' -f1)
SDK_STAMP := $(SDK)/.installed-$(shell cat $(UV_VERSION_FILE) requirements-sdk.lock | cksum | cut -d' ' -f1)
SDK_ENV := DEMISTO_SDK_IGNORE_CONTENT_WARNING=1

.PHONY: install demo bench soak test test-real unit lint typecheck validate precommit lock clean

install: $(DEV_STAMP) $(SDK_STAMP)

# One recipe for both environments: a fresh venv, uv at the pinned version, then an exact sync.
define make_env
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(UV_VERSION_FILE)
	$(1)/bin/uv pip sync --quiet --python $(1)/bin/python --compile-bytecode $(2)
	touch $(3)
endef

$(DEV_STAMP): $(UV_VERSION_FILE) requirements-dev.lock
	$(call make_env,$(DEV),requirements-dev.lock,$@)

$(SDK_STAMP): $(UV_VERSION_FILE) requirements-sdk.lock
	$(call make_env,$(SDK),requirements-sdk.lock,$@)

## demo: the integration against the LivePerson simulator, ending with an exactly-once check
demo: $(DEV_STAMP)
	$(DEV)/bin/python -m devtools.demo $(ARGS)

## bench: API calls, client overhead, scaling and state size (not part of make test)
bench: $(DEV_STAMP)
	$(DEV)/bin/python -m devtools.bench

## soak: the property-based reading test with many more examples (PROPERTY_EXAMPLES, default 3000; about an hour)
soak: $(DEV_STAMP)
	HYPOTHESIS_PROFILE=soak $(DEV)/bin/python -m pytest tests/reading/test_properties.py -p no:cacheprovider --hypothesis-show-statistics

## test: every check CI runs, stopping at the first that fails
test: unit lint typecheck validate

## test-real: the same checks with the platform's own CommonServerPython/demistomock (see xsoar_runtime/README.md)
XSOAR_REAL ?= .xsoar-real
test-real:
	@for file in CommonServerPython.py demistomock.py DemistoClassApiModule.py CommonServerUserPython.py; do \
		if [ ! -f "$(XSOAR_REAL)/$$file" ]; then \
			echo "make test-real: $(XSOAR_REAL)/$$file is missing."; \
			echo "Assemble the platform's own modules in $(XSOAR_REAL)/ (never committed) as xsoar_runtime/README.md says:"; \
			echo "  CommonServerPython.py     from demisto/content Packs/Base/Scripts/CommonServerPython/"; \
			echo "  demistomock.py            from demisto/content Tests/demistomock/"; \
			echo "  DemistoClassApiModule.py  from demisto/content Packs/ApiModules/Scripts/DemistoClassApiModule/"; \
			echo "  CommonServerUserPython.py an empty file"; \
			echo "or point XSOAR_REAL=<folder> at a folder that holds them."; \
			exit 1; \
		fi; \
	done
	XSOAR_RUNTIME_PATH="$(abspath $(XSOAR_REAL))" $(MAKE) test

unit: install
	$(DEV)/bin/python -m pytest -n 2 --dist worksteal --cov --cov-report=term-missing:skip-covered

lint: install
	$(DEV)/bin/ruff check .
	$(DEV)/bin/ruff format --check .

typecheck: install
	$(DEV)/bin/mypy

validate: install
	$(DEV)/bin/python tools/check_content_layout.py
	$(SDK_ENV) $(SDK)/bin/demisto-sdk validate -a --config-path validation_config.toml

precommit: install
	$(SDK)/bin/pre-commit run --all-files

## lock: re-resolve the .in files into the .lock files (needs the package registry)
lock: install
	$(DEV)/bin/uv pip compile --quiet --python-version 3.11 requirements-dev.in -o requirements-dev.lock
	$(DEV)/bin/uv pip compile --quiet --python-version 3.11 requirements-sdk.in -o requirements-sdk.lock

clean:
	rm -rf $(DEV) $(SDK) .coverage htmlcov .mypy_cache .ruff_cache

# The two commands a newcomer needs. Both install what is missing first.
.PHONY: demo demo-kafka test lint bench clean

PYTEST_ARGS ?= -n 2 --dist loadfile

demo: ## Serve all three services and the HR workspace (SQLite under var/) with the synthetic example.
	scripts/bootstrap.sh run
	POLKU_DEV_SIGNIN=1 .venv/bin/polku up --demo

demo-kafka: ## The demo through a local Kafka broker (cached jars); prints topics and the example consumer command.
	scripts/bootstrap.sh test
	.venv/bin/python scripts/demo_kafka.py

test: ## Install everything (incl. Kafka jars, PostgreSQL) and run the whole suite.
	scripts/bootstrap.sh test
	.venv/bin/pytest $(PYTEST_ARGS)

lint: ## ruff, mypy and the import contracts (also part of `make test`).
	scripts/bootstrap.sh test
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/lint-imports

clean: ## Remove local data (var/) and caches, keeping .venv and the Kafka jars.
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .hypothesis

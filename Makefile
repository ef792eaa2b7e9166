.PHONY: up test bench clean
up:
	@bash scripts/up.sh
test:
	@bash scripts/test.sh
bench:
	@bash scripts/bootstrap.sh && .venv/bin/python bench/ingest.py
clean:
	rm -rf var .venv

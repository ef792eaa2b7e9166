.PHONY: up test bench clean
up:
	@bash scripts/up.sh
test:
	@bash scripts/test.sh
bench:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python bench/ingest.py
clean:
	rm -rf var .venv

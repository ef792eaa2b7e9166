.PHONY: up test lint bench bench-scale clean
up:
	@bash scripts/up.sh
test:
	@bash scripts/test.sh
lint:
	@bash scripts/bootstrap.sh && .venv/bin/ruff check .
bench:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python bench/ingest.py
clean:
	rm -rf var .venv
bench-scale:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python bench/scale.py $(SCALE_ARGS)

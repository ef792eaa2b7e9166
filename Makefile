.PHONY: up test lint bench bench-scale bench-answers bench-integrity faults fuzz fuzz-quick clean
up:
	@bash scripts/up.sh
test:
	@bash scripts/test.sh
lint:
	@bash scripts/bootstrap.sh && .venv/bin/ruff check .
bench:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python bench/ingest.py
bench-answers:
	@bash scripts/bootstrap.sh && .venv/bin/python bench/raw_answers.py
bench-integrity:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python bench/integrity.py
faults:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python bench/faults.py
fuzz:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python scripts/fuzz.py --max-examples 25
fuzz-quick:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python scripts/fuzz.py --max-examples 2
clean:
	rm -rf var .venv
bench-scale:
	@bash scripts/bootstrap.sh && bash -c "source scripts/services.sh && ensure_rabbitmq" && .venv/bin/python bench/scale.py $(SCALE_ARGS)

# Shortcuts for developers; README's two commands need no make.
.PHONY: setup demo test bench train schemas
setup: ; bash scripts/setup.sh
demo: ; bash scripts/demo.sh
test: ; bash scripts/test.sh
bench: setup ; .venv/bin/parcel-edge bench && for b in decode quality classify packaging_scale delivery; do .venv/bin/python -m bench.bench_$$b || exit 1; done
train: ; EXTRAS=dev,train bash scripts/setup.sh && .venv/bin/python -m models.train --out models/current && .venv/bin/python -m models.train_packaging --model models/current
schemas: ; .venv/bin/python -m edge.schemas config/schemas

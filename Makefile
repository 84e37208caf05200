# The two README commands, and the rest of the developer loop.
.PHONY: setup demo test bench train clean

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/parcel-edge demo

test: setup
	.venv/bin/python -m pytest -q -p no:cacheprovider tests

bench: setup
	.venv/bin/parcel-edge bench

train:
	EXTRAS=dev,train bash scripts/setup.sh && .venv/bin/python models/train.py

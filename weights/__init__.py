"""Shipped weights, one folder per preset (config.json, model.safetensors, README.md).

pyproject.toml installs this folder as the data package `deblur_cli.weights_data`, found at run time with
importlib.resources (deblur_cli/weights/bundle.py). This file makes the folder a regular package: setuptools'
editable installs cannot import a folder mapped by `package-dir` without one.
"""

# Shared recipe of the Makefile builds (`BuildMethod: makefile`) of the shared layer and the stream function.
#
# Why not SAM's own python3.13 builder: it ships sources only (it drops every .pyc), and a Lambda code
# directory is read-only, so each cold start would compile every module it imports from source (about
# 0.6 s of a 1 s cold start; see README "Cold starts"). These builds install the same wheels and then
# compile them, with hash-based pycs that Python trusts without comparing source timestamps (zip files
# and Lambda's extraction do not keep those reliably).
#
# Needs python3.13 on PATH (the same interpreter `sam build` needs), with pip.
# LAMBDA_ARCH picks the wheels: arm64 (the template's architecture, the default) or x86_64 (the test
# suite's host-architecture build, tests/packaged/).

PYTHON ?= python3.13
LAMBDA_ARCH ?= arm64
WHEEL_ARCH := $(if $(filter x86_64,$(LAMBDA_ARCH)),x86_64,aarch64)

# Lambda's python3.13 runs on Amazon Linux 2023 (glibc 2.34): any manylinux wheel up to 2_34 fits.
PIP_INSTALL = $(PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile \
	--only-binary=:all: --implementation cp --python-version 3.13 \
	--platform manylinux2014_$(WHEEL_ARCH) --platform manylinux_2_28_$(WHEEL_ARCH) --platform manylinux_2_34_$(WHEEL_ARCH)

# compile(dir): bytecode for every module under dir; fails on a syntax error.
COMPILE = $(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash

"""Builds the probe in place (needs Cython and a C compiler; lxml's headers come with lxml).

cd bench/probe_compiled_scan && ../../.venv/bin/python setup.py build_ext --inplace
"""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("cscan", ["cscan.pyx"], include_dirs=lxml.get_include())],
        quiet=True,
    )
)
